// "Python" export end to end, in a real Chromium against browser mode with the bundled toy DeBERTa: the button
// of the attention heat map and of a Decoding chart downloads a script whose embedded numbers are the API's
// answer to the same request; with the PyTorch + transformers reference python (DEBERTA_LAB_PYTHON, else the
// venv .ci/run makes, $TMPDIR/deberta-ref-venv) the downloaded scripts are run on resources/toy-deberta and must pass —
// without one that part is reported NOT RUN. Screenshot: the heat map with its export buttons.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttentionResult, DecodingResult } from '../../src/common/api'
import { callApi, e2eSkipped, openLabInBrowser, type OpenedLab, SCREENSHOT_DIR } from './harness'

const TOY = resolve(__dirname, '../../resources/toy-deberta')

function referencePython(): { path?: string; why?: string } {
  const candidates = [process.env.DEBERTA_LAB_PYTHON, join(process.env.TMPDIR || tmpdir(), 'deberta-ref-venv', 'bin', 'python')].filter((p): p is string => !!p)
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue
    const probe = spawnSync(candidate, ['-c', 'import torch, transformers, safetensors'], { encoding: 'utf8', timeout: 120_000 })
    return probe.status === 0 ? { path: candidate } : { why: `${candidate} cannot import torch/transformers` }
  }
  return { why: `no python with torch and transformers (set DEBERTA_LAB_PYTHON; looked at ${candidates.join(', ')})` }
}
const python = referencePython()
if (!python.path) console.warn(`running the downloaded Python scripts NOT RUN: ${python.why}`)

let opened: OpenedLab
let page: Page

interface Lab {
  chartId: string
  text: string
  inputIds: number[]
  view: Record<string, unknown>
  expected: Record<string, number[]>
}
function labOf(script: string): Lab {
  return JSON.parse(/^LAB = __import__\("json"\)\.loads\(r"""(.*)"""\)$/m.exec(script)![1]) as Lab
}

async function downloadScript(chartId: string): Promise<{ path: string; text: string; name: string }> {
  const button = page.getByTestId(`chart-${chartId}-export-py`)
  await button.scrollIntoViewIfNeeded()
  expect(await button.textContent()).toContain('Python')
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()])
  const path = (await download.path())!
  return { path, text: readFileSync(path, 'utf8'), name: download.suggestedFilename() }
}

function runScript(path: string): { status: number | null; out: string } {
  const result = spawnSync(python.path!, [path, '--model', TOY], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, HF_HUB_OFFLINE: '1' } })
  return { status: result.status, out: `${result.stdout}\n${result.stderr}` }
}

async function clickAndCapture(method: string, click: () => Promise<void>): Promise<Record<string, unknown>> {
  const [request] = await Promise.all([page.waitForRequest((r: Request) => r.url().endsWith(`/api/${method}`), { timeout: 30_000 }), click()])
  const { jobId: _jobId, sessionId: _sessionId, ...rest } = (request.postDataJSON() as { args: [Record<string, unknown>] }).args[0]
  return rest
}

async function waitForChart(chartId: string): Promise<void> {
  await page.waitForFunction((id) => !!(globalThis as unknown as { __debertaLabCharts?: Record<string, { rendered: boolean }> }).__debertaLabCharts?.[id]?.rendered, chartId, { timeout: 60_000 })
}

describe.skipIf(e2eSkipped)('Python export in a browser', () => {
  beforeAll(async () => {
    opened = await openLabInBrowser({ width: 1400, height: 1000 })
    page = opened.page
    await page.getByTestId('app').waitFor()
    await page.waitForFunction(() => {
      const text = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-testid="status-model"]')?.textContent ?? ''
      return text.includes('toy DeBERTa') && !text.includes('loading')
    }, undefined, { timeout: 30_000 })
  })
  afterAll(async () => {
    await opened?.close()
  })

  it('the attention heat map and a decoding chart export scripts holding the API numbers, which transformers reproduces', async () => {
    await page.getByTestId('tab-attention').click()
    await page.getByTestId('attention-text').fill('the small dog sees the small ball near the house')
    await page.getByTestId('attention-layer').selectOption('1')
    const sent = await clickAndCapture('runAttention', () => page.getByTestId('attention-run').click())
    await waitForChart('attention-main')
    const api = await callApi<AttentionResult>(page, opened.lab.token, 'runAttention', sent)

    const attention = await downloadScript('attention-main')
    expect(attention.name).toMatch(/^attention-main-.*\.py$/)
    const lab = labOf(attention.text)
    expect(lab.chartId).toBe('attention-main')
    expect(lab.text).toBe(sent.text)
    expect(lab.inputIds).toEqual(api.tokens.inputIds)
    expect(lab.view).toMatchObject({ kind: 'attention', layer: 1, head: 0, matrix: 'probs' })
    expect(lab.expected.matrix).toEqual(Array.from(api.probabilities.data))
    await page.getByTestId('chart-attention-main').screenshot({ path: join(SCREENSHOT_DIR, 'python-export.png') })

    await page.getByTestId('tab-decoding').click()
    const decodingSent = await clickAndCapture('runDecoding', () => page.getByTestId('decoding-run').click())
    await waitForChart('decoding-emd-0')
    const decoded = await callApi<DecodingResult>(page, opened.lab.token, 'runDecoding', decodingSent)
    const decoding = await downloadScript('decoding-emd-0')
    const decodingLab = labOf(decoding.text)
    const first = decoded.predictions[0]
    expect(decodingLab.expected[`emd.${first.position}.ids`]).toEqual(first.emd.map((p) => p.id))
    expect(decodingLab.expected[`plain.${first.position}.probability`]).toEqual(first.plain.map((p) => p.probability))

    if (!python.path) return
    for (const script of [attention, decoding]) {
      const { status, out } = runScript(script.path)
      console.info(`${script.name}: ${/max abs diff over the view: .*/.exec(out)?.[0]}`)
      expect(out).toContain('OK: transformers reproduces')
      expect(status, out).toBe(0)
    }
  }, 600_000)
})
