// Ablation scope in the Attention workspace (issue 13, item 9): a term can be removed in every layer and head, in the
// layer shown only, or in the head shown only; the request says so and the result states it.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { e2eSkipped, openLabInBrowser, SCREENSHOT_DIR, type OpenedLab } from './harness'

let opened: OpenedLab
let page: Page

describe.skipIf(e2eSkipped)('ablation scope in the Attention workspace', () => {
  beforeAll(async () => {
    opened = await openLabInBrowser()
    page = opened.page
  })

  afterAll(async () => {
    await opened?.close()
  })

  it('removes c2p in the head shown only: the request carries the scope and the result names it', async () => {
    await page.getByTestId('app').waitFor()
    await page.getByTestId('tab-attention').click()
    await page.getByTestId('attention-term-c2p').uncheck()
    await page.getByTestId('attention-ablation-scope').selectOption('head')
    expect(await page.getByTestId('attention-ablation').locator('legend').textContent()).toMatch(/ablate in head 0 of layer 0 only/)
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/runAttention'), { timeout: 60_000 }),
      page.getByTestId('attention-run').click(),
    ])
    const sent = (response.request().postDataJSON() as { args: [{ disabledTerms: string[]; ablationScope?: string; head: number }] }).args[0]
    expect(sent).toMatchObject({ disabledTerms: ['c2p'], ablationScope: 'head', head: 0 })
    expect(response.status()).toBe(200) // the page asks for the binary result form
    await expect.poll(() => page.getByTestId('attention-result-inputs').textContent(), { timeout: 30_000 }).toMatch(/removed in head 0 of layer 0 only/)
    // with the mean over heads, one head cannot be chosen
    await page.getByTestId('attention-ablation-scope').selectOption('layer')
    await page.getByTestId('attention-ablation').screenshot({ path: join(SCREENSHOT_DIR, 'attention-ablation-scope.png') })
  })
})
