// Models in two clicks (browser mode): a Hugging Face cache populated from the fake Hub (test/lab/fake-hub.ts)
// is listed in the model picker with its facts, the v3 fixture is picked and the attention chart computed from
// it; a broken cache entry is greyed with its reason; a download started in the picker shows progress and lands
// in the list; the folder dialog lists the home folder (HOME of the served lab) and fills the path.
import { mkdirSync, mkdtempSync, copyFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadModel } from '../../src/lab/hub'
import { startFakeHub, V1_COMMIT, V3_COMMIT, type FakeHub } from '../lab/fake-hub'
import { e2eSkipped, launchBrowser, SCREENSHOT_DIR, startServe, type ServedLab } from './harness'

/** Screenshots looked at while testing; only the picker's is a README picture (SCREENSHOT_DIR). */
const CHECK_DIR = join('test-results', 'screenshots')

let hub: FakeHub
let lab: ServedLab
let browser: Browser
let page: Page
let tmp: string

describe.skipIf(e2eSkipped)('models found on this computer and downloaded from the Hub', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'deberta-lab-hub-e2e-'))
    const cache = join(tmp, 'hub')
    const home = join(tmp, 'home')
    hub = await startFakeHub()
    await downloadModel({ repoId: 'fixtures/deberta-v3-tiny', env: { HF_HUB_CACHE: cache, HF_ENDPOINT: hub.endpoint } })
    await downloadModel({ repoId: 'fixtures/deberta-v3-tiny-headless', env: { HF_HUB_CACHE: cache, HF_ENDPOINT: hub.endpoint } })
    // a broken entry: a snapshot whose weights blob was cleaned away
    const broken = join(cache, 'models--acme--half-gone', 'snapshots', 'c'.repeat(40))
    mkdirSync(broken, { recursive: true })
    writeFileSync(join(broken, 'config.json'), JSON.stringify({ model_type: 'deberta-v2', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 1008 }))
    symlinkSync('../../blobs/missing', join(broken, 'model.safetensors'))
    // a model folder in the home folder, for the folder dialog
    const folder = join(home, 'models', 'my-deberta')
    mkdirSync(folder, { recursive: true })
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join('test/fixtures/deberta-v3-tiny', f), join(folder, f))
    for (const f of readdirSync('test/fixtures/tokenizer-spm').filter((n) => n !== 'tokenization_golden.json')) copyFileSync(join('test/fixtures/tokenizer-spm', f), join(folder, f))
    lab = await startServe({ env: { HF_HUB_CACHE: cache, HF_ENDPOINT: hub.endpoint, HOME: home } })
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
    await hub?.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('lists the cache with facts, greys the broken entry, and computes attention with the picked v3 model', async () => {
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain('toy DeBERTa')
    await page.getByTestId('model-change').click()
    await page.getByTestId('model-kind-found').check()
    const v3 = page.locator('[data-testid^="model-found-"][data-name="fixtures/deberta-v3-tiny"]')
    await v3.waitFor({ timeout: 30_000 })
    expect(await v3.textContent()).toMatch(/HF cache @ main.*DeBERTa v2\/v3 · \d+\.\d kB · 56\.7k parameters · MLM head \+ EMD · tokenizer: sentencepiece/s)
    const broken = page.locator('[data-testid^="model-found-"][data-name="acme/half-gone"]')
    expect(await broken.getAttribute('aria-disabled')).toBe('true')
    expect(await broken.textContent()).toContain('model.safetensors: the file it links to is missing')
    expect(await page.locator('[data-testid^="model-found-"][data-name="toy-deberta"]').textContent()).toContain('bundled')
    await v3.click()
    expect(await v3.getAttribute('aria-selected')).toBe('true')
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'model-picker-found.png') })
    await page.getByTestId('model-apply').click()
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain(`fixtures/deberta-v3-tiny @ ${V3_COMMIT.slice(0, 10)}`)

    await page.getByTestId('tab-attention').click()
    await page.getByTestId('attention-text').fill('the cat sat on the mat')
    await page.getByTestId('attention-run').click()
    await page.locator('[data-testid="chart-attention-main"][data-chart-rendered="true"]').waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(CHECK_DIR, 'model-from-cache-attention.png') })
  })

  it('downloads from the Hub in the picker, with the result listed and English presets in Decoding', async () => {
    hub.controls.chunkDelayMs = 80
    await page.getByTestId('model-change').click()
    await page.getByTestId('model-kind-hub').check()
    await page.getByTestId('model-download-suggest-microsoft/deberta-base').waitFor()
    await page.getByTestId('model-download-repo').fill('fixtures/deberta-v1-tiny')
    await page.getByTestId('model-download-start').click()
    // progress with the file, bytes and rate while it runs (the fake Hub sends 16 KiB every 80 ms)
    const progress = page.getByTestId('model-download-progress-message')
    await expect.poll(() => progress.textContent(), { timeout: 20_000 }).toMatch(/pytorch_model\.bin \(2\/4\) · [\d.]+ kB of [\d.]+ kB · [\d.]+ kB\/s/)
    await page.screenshot({ path: join(CHECK_DIR, 'model-download-progress.png') })
    hub.controls.chunkDelayMs = undefined
    // done: the list of found models opens with the download selected
    const v1 = page.locator('[data-testid^="model-found-"][data-name="fixtures/deberta-v1-tiny"]')
    await v1.waitFor({ timeout: 30_000 })
    await expect.poll(() => v1.getAttribute('aria-selected'), { timeout: 10_000 }).toBe('true')
    expect(await v1.textContent()).toContain('DeBERTa v1')
    expect(await v1.textContent()).toContain('MLM head + EMD')
    await page.getByTestId('model-apply').click()
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain(`fixtures/deberta-v1-tiny @ ${V1_COMMIT.slice(0, 10)}`)
    await page.getByTestId('tab-decoding').click()
    expect(await page.getByTestId('decoding-preset-0').textContent()).toContain('a new [MASK] opened beside the new mall')
    // the toy-language default sentence gave way to the paper's English example
    expect(await page.getByTestId('decoding-text').inputValue()).toBe('a new [MASK] opened beside the new mall')
    expect(await page.getByTestId('decoding-model-without-head').count()).toBe(0)
  })

  it('says what a v3 checkpoint without its MLM head lacks in Decoding, and offers the workspaces that need none', async () => {
    await page.getByTestId('model-change').click()
    await page.getByTestId('model-kind-found').check()
    const headless = page.locator('[data-testid^="model-found-"][data-name="fixtures/deberta-v3-tiny-headless"]')
    await headless.waitFor({ timeout: 30_000 })
    expect(await headless.textContent()).toContain('no MLM head')
    await headless.click()
    await page.getByTestId('model-apply').click()
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain('fixtures/deberta-v3-tiny-headless')
    await page.getByTestId('tab-decoding').click()
    const notice = page.getByTestId('decoding-model-without-head')
    await notice.waitFor({ timeout: 10_000 })
    expect(await notice.textContent()).toContain('has no masked-language-model head')
    expect(await notice.textContent()).toContain('lm_predictions')
    await page.screenshot({ path: join(CHECK_DIR, 'decoding-model-without-head.png') })
    await page.getByTestId('decoding-open-attention').click()
    expect(await page.getByTestId('tab-attention').getAttribute('aria-selected')).toBe('true')
  })

  it('picks a folder of the home folder in the browser-mode folder dialog', async () => {
    await page.getByTestId('model-change').click()
    await page.getByTestId('model-kind-checkpoint').check()
    await page.getByTestId('model-pick-folder').click()
    await page.getByTestId('folder-dialog').waitFor()
    await expect.poll(() => page.getByTestId('folder-path').textContent(), { timeout: 10_000 }).toBe('~')
    await page.getByTestId('folder-entry-models').click()
    await expect.poll(() => page.getByTestId('folder-path').textContent()).toBe('~/models')
    expect(await page.getByTestId('folder-entry-my-deberta').textContent()).toContain('model (config.json)')
    await page.getByTestId('folder-entry-my-deberta').click()
    await expect.poll(() => page.getByTestId('folder-path').textContent()).toBe('~/models/my-deberta')
    expect(await page.getByTestId('folder-is-model').count()).toBe(1)
    expect(await page.getByTestId('folder-entries').textContent()).toContain('model.safetensors')
    await page.screenshot({ path: join(CHECK_DIR, 'model-folder-dialog.png') })
    await page.getByTestId('folder-choose').click()
    expect(await page.getByTestId('model-path').inputValue()).toBe(join(tmp, 'home', 'models', 'my-deberta'))
    await page.getByTestId('model-apply').click()
    await expect.poll(() => page.getByTestId('status-model').textContent(), { timeout: 30_000 }).toContain('my-deberta')
  })
})
