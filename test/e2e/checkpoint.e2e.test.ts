// A checkpoint folder chosen in the model picker (browser mode: the path field), a result computed from it and
// saved in the session — then the folder changes on disk. Reopening the session shows the stored result with a
// notice that the weights file no longer has the SHA-256 the run recorded; a removed folder says it cannot be
// opened. (Issue "store": runs keep the model reference with the weights' SHA-256.)
import { closeSync, copyFileSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SessionSnapshot } from '../../src/common/sessions'
import { callApi, e2eSkipped, launchBrowser, startServe, type ServedLab } from './harness'

let lab: ServedLab
let browser: Browser
let page: Page
let folder: string

/** test/fixtures/deberta-v3-tiny weights + the SentencePiece tokenizer fixture, as a user's folder would hold them. */
function makeCheckpointFolder(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'deberta-lab-ckpt-')), 'deberta-v3-tiny')
  mkdirSync(dir)
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join('test/fixtures/deberta-v3-tiny', f), join(dir, f))
  for (const f of readdirSync('test/fixtures/tokenizer-spm').filter((n) => n !== 'tokenization_golden.json')) copyFileSync(join('test/fixtures/tokenizer-spm', f), join(dir, f))
  return dir
}

/** Changes the last float of the weights file (a valid float32 either way), so its SHA-256 changes. */
function editLastWeight(path: string): void {
  const fd = openSync(path, 'r+')
  try {
    const bytes = fstatSync(fd).size
    const last = Buffer.alloc(4)
    readSync(fd, last, 0, 4, bytes - 4)
    const value = last.readFloatLE(0)
    const changed = Buffer.alloc(4)
    changed.writeFloatLE(value === 0.25 ? 0.5 : 0.25)
    writeSync(fd, changed, 0, 4, bytes - 4)
  } finally {
    closeSync(fd)
  }
}

describe.skipIf(e2eSkipped)('a result computed from a checkpoint folder that later changes', () => {
  beforeAll(async () => {
    folder = makeCheckpointFolder()
    lab = await startServe()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
    rmSync(join(folder, '..'), { recursive: true, force: true })
  })

  it('reopens with the stored result and says the weights changed, then that the folder is gone', async () => {
    // a folder that cannot be loaded: the error is shown in the picker and the current model stays
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain('toy DeBERTa')
    await page.getByTestId('model-change').click()
    await page.getByTestId('model-kind-checkpoint').check()
    await page.getByTestId('model-path').fill(join(folder, '..', 'does-not-exist'))
    await page.getByTestId('model-apply').click()
    await page.getByTestId('model-error').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('model-error').textContent()).toContain('does-not-exist')
    expect(await page.getByTestId('status-model').textContent()).toContain('toy DeBERTa')
    expect(await page.getByTestId('model-form').count()).toBe(1) // still open, to fix the path
    await page.getByTestId('model-path').fill(folder)
    await page.getByTestId('model-apply').click()
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain('deberta-v3-tiny')

    await page.getByTestId('tab-attention').click()
    const sessionId = (await page.locator('[data-testid="session-item"][aria-current="true"]').getAttribute('data-session-id'))!
    await page.getByTestId('attention-text').fill('the cat sat on the mat')
    await page.getByTestId('attention-run').click()
    await page.locator('[data-testid="chart-attention-main"][data-chart-rendered="true"]').waitFor({ timeout: 30_000 })
    // the run recorded the folder with the SHA-256 of its weights file
    await expect
      .poll(async () => (await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)).workspaces?.attention?.lastResult?.runId ?? null, { timeout: 20_000 })
      .not.toBeNull()
    await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved')
    const snapshot = await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)
    const run = snapshot.runs.find((r) => r.id === snapshot.workspaces?.attention?.lastResult?.runId)
    expect(run?.model).toMatchObject({ kind: 'checkpoint', path: folder, weightsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
    // unchanged folder: no notice
    expect(await page.getByTestId('attention-weights-changed').count()).toBe(0)

    editLastWeight(join(folder, 'model.safetensors'))
    await page.reload()
    await page.getByTestId('app').waitFor()
    // the model chosen for this session comes back with it
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain('deberta-v3-tiny')
    await page.getByTestId('tab-attention').click()
    await page.locator('[data-testid="chart-attention-main"][data-chart-rendered="true"]').waitFor({ timeout: 30_000 })
    await expect.poll(() => page.getByTestId('attention-weights-changed').textContent(), { timeout: 30_000 }).toMatch(/has changed since this result was computed/)
    expect(await page.getByTestId('attention-weights-changed').textContent()).toContain(folder)

    rmSync(folder, { recursive: true, force: true })
    await page.reload()
    await page.getByTestId('app').waitFor()
    await page.getByTestId('tab-attention').click()
    await expect.poll(() => page.getByTestId('attention-weights-changed').textContent(), { timeout: 30_000 }).toMatch(/cannot be opened here/)
    // the stored result is still drawn
    expect(await page.locator('[data-testid="chart-attention-main"][data-chart-rendered="true"]').count()).toBe(1)
  })
})
