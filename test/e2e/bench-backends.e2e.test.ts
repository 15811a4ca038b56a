// The speed benchmark on each backend that loads here, side by side, with a reference line the user pastes
// (e.g. the JSON lines of the team's PyTorch reference script, pytorch-reference.sh): real Chromium against browser mode.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppStatus, BenchmarkResult } from '../../src/common/api'
import type { RunRecord } from '../../src/common/sessions'
import { callApi, e2eSkipped, openLabInBrowser, SCREENSHOT_DIR, type OpenedLab, type ServedLab } from './harness'

let opened: OpenedLab
let lab: ServedLab
let page: Page

interface ChartSeries {
  name: string
  points: Array<{ x: number; y: number | null }>
}

async function chartSeries(chartId: string): Promise<ChartSeries[]> {
  await page.waitForFunction(
    (id) => !!(globalThis as unknown as { __debertaLabCharts?: Record<string, { rendered: boolean }> }).__debertaLabCharts?.[id]?.rendered,
    chartId,
    { timeout: 60_000 },
  )
  return page.evaluate((id) => {
    const entry = (globalThis as unknown as { __debertaLabCharts: Record<string, { data: { kind: string; series: ChartSeries[] } }> }).__debertaLabCharts[id]
    return entry.data.series
  }, chartId)
}

describe.skipIf(e2eSkipped)('benchmarks on every backend, side by side', () => {
  beforeAll(async () => {
    opened = await openLabInBrowser()
    ;({ lab, page } = opened)
  })

  afterAll(async () => {
    await opened?.close()
  })

  it('times each chosen backend as its own run, compares them, and draws a pasted reference dashed', async () => {
    await page.getByTestId('app').waitFor()
    const status = await callApi<AppStatus>(page, lab.token, 'getStatus')
    expect(status.backends.length).toBeGreaterThanOrEqual(2) // wasm and cpu always load
    const chosen = status.backends.slice(-2) // the two slowest that load: wasm and cpu, or tensorflow and wasm
    await page.getByTestId('tab-benchmarks').click()
    await page.getByTestId('bench-preset').selectOption('tiny')
    await page.getByTestId('bench-seq-32').check()
    for (const seq of [64, 128, 256, 512, 1024]) await page.getByTestId(`bench-seq-${seq}`).uncheck()
    await page.getByTestId('bench-part-layer').uncheck()
    await page.getByTestId('bench-variant-standard').uncheck()
    await page.getByTestId('bench-repeats').fill('1')
    for (const backend of chosen) await page.getByTestId(`bench-backend-${backend}`).check()
    await page.getByTestId('bench-run').click()

    // one recorded run per backend, each naming its backend
    const sessionId = await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage.getItem('deberta-lab.lastSession'))
    await expect
      .poll(async () => (await callApi<RunRecord[]>(page, lab.token, 'listRuns', sessionId)).filter((r) => r.workspace === 'benchmarks' && r.status === 'done').length, { timeout: 90_000 })
      .toBe(2)
    const runs = (await callApi<RunRecord[]>(page, lab.token, 'listRuns', sessionId)).filter((r) => r.workspace === 'benchmarks')
    expect(runs.map((r) => (r.result as BenchmarkResult).backend).sort()).toEqual([...chosen].sort())
    expect(runs.map((r) => r.backend).sort()).toEqual([...chosen].sort())

    // both runs are compared at once, each a curve named by its backend
    await expect.poll(() => page.locator('[data-testid="bench-run-item"]:checked').count(), { timeout: 10_000 }).toBe(2)
    await page.getByTestId('bench-reference').locator('summary').click()
    // a line without a part stands for any part; a line timed for another part (model) is not drawn on attention
    await page
      .getByTestId('bench-reference-text')
      .fill(
        [
          '{"impl": "pytorch-hf", "preset": "tiny", "seq": 32, "median_ms": 1.5}',
          '{"impl": "pytorch-hf", "preset": "tiny", "seq": 32, "part": "model", "median_ms": 9}',
          '{"impl": "pytorch-hf", "preset": "tiny", "seq": 64, "part": "attention", "median_ms": 3}',
        ].join('\n'),
      )
    const names = async (): Promise<string[]> =>
      (await chartSeries('benchmarks-runs'))
        .map((s) => s.name)
        .filter((n) => !n.includes('min–max'))
        .map((n) => n.split(' · ')[0])
        .sort()
    await expect.poll(names, { timeout: 10_000 }).toEqual(['HF PyTorch (same machine)', ...chosen].sort())
    const series = await chartSeries('benchmarks-runs')
    for (const run of runs) {
      const result = run.result as BenchmarkResult
      const curve = series.find((s) => s.name.startsWith(`${result.backend} · tiny`))!
      expect(curve.points.map((p) => [p.x, p.y])).toEqual(result.cases.filter((c) => c.part === 'attention').map((c) => [c.seq, c.medianMs]))
    }
    expect(series.find((s) => s.name === 'HF PyTorch (same machine)')!.points.map((p) => [p.x, p.y])).toEqual([
      [32, 1.5],
      [64, 3],
    ])
    await page.getByTestId('chart-benchmarks-runs').screenshot({ path: join(SCREENSHOT_DIR, 'benchmarks-backends.png') })

    // the same timings imported from a file (what pytorch-reference.sh printed, saved): it replaces the text
    const saved = '{"impl": "pytorch-hf", "preset": "tiny", "seq": 32, "part": "attention", "median_ms": 2.25}\n'
    await page.getByTestId('bench-reference-file').setInputFiles({ name: 'pytorch.jsonl', mimeType: 'text/plain', buffer: Buffer.from(saved) })
    await expect.poll(() => page.getByTestId('bench-reference-text').inputValue(), { timeout: 10_000 }).toBe(saved.trim())
    await expect
      .poll(async () => (await chartSeries('benchmarks-runs')).find((s) => s.name === 'HF PyTorch (same machine)')?.points.map((p) => [p.x, p.y]), { timeout: 10_000 })
      .toEqual([[32, 2.25]])
    // a file over the limit is refused and changes nothing
    await page.getByTestId('bench-reference-file').setInputFiles({ name: 'huge.jsonl', mimeType: 'text/plain', buffer: Buffer.alloc(1024 * 1024 + 1, 0x20) })
    await expect.poll(() => page.getByTestId('bench-reference-file-problem').textContent(), { timeout: 10_000 }).toContain('huge.jsonl is 1048577 bytes')
    expect(await page.getByTestId('bench-reference-text').inputValue()).toBe(saved.trim())
  })
})
