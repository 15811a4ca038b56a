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

  it('while the session opens, the workspaces take no input (its saved state is about to replace it)', async () => {
    // a second window of the same lab whose session takes long to open
    const other = await opened.browser.newPage()
    try {
      let release: () => void = () => undefined
      const held = new Promise<void>((resolve) => (release = resolve))
      await other.route('**/api/openSession', async (route) => {
        await held
        await route.continue()
      })
      await other.goto(opened.lab.url)
      await other.getByTestId('app').waitFor()
      await other.getByTestId('tab-attention').click()
      await other.getByTestId('attention-term-c2p').waitFor()
      expect(await other.getByTestId('panels').getAttribute('aria-busy')).toBe('true')
      expect(await other.getByTestId('panels').getAttribute('inert')).not.toBeNull()
      // a click does not reach the checkbox while the session opens
      await expect(other.getByTestId('attention-term-c2p').uncheck({ timeout: 1500 })).rejects.toThrow()
      expect(await other.getByTestId('attention-term-c2p').isChecked()).toBe(true)
      release()
      await expect.poll(() => other.getByTestId('panels').getAttribute('inert')).toBeNull()
      expect(await other.getByTestId('panels').getAttribute('aria-busy')).toBe('false')
      // then it does, and the restore does not undo it
      await other.getByTestId('attention-term-c2p').uncheck()
      await other.waitForTimeout(300)
      expect(await other.getByTestId('attention-term-c2p').isChecked()).toBe(false)
    } finally {
      await other.close()
    }
  })

  it('removes c2p in the head shown only: the request carries the scope and the result names it', async () => {
    await page.getByTestId('app').waitFor()
    // the session is open (its restored state would otherwise undo the edits below)
    await page.locator('[data-testid="session-item"][aria-current="true"]').waitFor({ timeout: 30_000 })
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
