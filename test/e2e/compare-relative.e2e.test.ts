// "Compare with…" of the Relative positions workspace end to end, in a real Chromium against browser mode: the
// bundled toy DeBERTa (A: log buckets, a word-level tokenizer) beside a synthetic DeBERTa v1 (B: clipping,
// SentencePiece). A | B | B − A of the ids at span level and both distance → id curves equal the lab's answers to
// the same two requests aligned as documented; the CSV export names both models and both runs; a reload brings the
// comparison back from the session without recomputing; a BERT as B is said instead of run; Remove returns to one model.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RelativePositionsResult } from '../../src/common/api'
import type { SessionSnapshot } from '../../src/common/sessions'
import { alignedCurves, compareRelative, curveLimit } from '../../src/renderer/workspaces/relative-comparison'
import { callApi, capture, currentSessionId, e2eSkipped, expectMatrix, openLabInBrowser, reloadWhenSaved, SCREENSHOT_DIR, waitForChart, waitForToyModel, withoutJob, type OpenedLab } from './harness'

let opened: OpenedLab
let page: Page

describe.skipIf(e2eSkipped)('relative positions of two models in a browser', () => {
  beforeAll(async () => {
    opened = await openLabInBrowser({ width: 1400, height: 1000 })
    page = opened.page
    await waitForToyModel(page)
  })
  afterAll(async () => {
    await opened?.close()
  })

  it('A | B | B − A and both curves equal the API, CSV names both models, a reload restores, BERT is said, Remove returns to one model', async () => {
    const { lab } = opened
    const sessionId = await currentSessionId(page)
    await page.getByTestId('tab-relative').click()
    const [sentA] = await capture(page, 'runRelativePositions', 1, () => page.getByTestId('relative-run').click())
    await waitForChart(page, 'relative-matrix')

    await page.getByTestId('relative-compare-open').click()
    await page.getByTestId('relative-compare-kind-synthetic').check()
    await page.getByTestId('relative-compare-arch').selectOption('deberta-v1')
    const [sentB] = await capture(page, 'runRelativePositions', 1, () => page.getByTestId('relative-compare-apply').click())
    expect(sentB.model).toMatchObject({ kind: 'synthetic', arch: 'deberta-v1' })
    expect(withoutJob({ ...sentB, model: undefined })).toEqual(withoutJob({ ...sentA, model: undefined }))
    const text = String(sentA.text)
    const a = await callApi<RelativePositionsResult>(page, lab.token, 'runRelativePositions', withoutJob(sentA))
    const b = await callApi<RelativePositionsResult>(page, lab.token, 'runRelativePositions', withoutJob(sentB))
    const expected = compareRelative(text, a, b, 'buckets')
    expect(expected.level).toBe('word')
    expect(a.curve.kind).toBe('log-bucket')
    expect(b.curve.kind).toBe('clipped')

    const chartA = await waitForChart(page, 'relative-compare-a')
    expect(chartA.data.rowLabels).toEqual(['[CLS]', ...text.split(' '), '[SEP]'])
    expectMatrix(chartA.data.values!, expected.a.matrix)
    expectMatrix((await waitForChart(page, 'relative-compare-b')).data.values!, expected.b.matrix)
    const diff = await waitForChart(page, 'relative-compare-diff')
    expectMatrix(diff.data.values!, expected.difference!)
    // the words after "sees" (▁see s in B) are one token further apart in B
    expect(diff.data.values!.some((row) => row.some((v) => v !== 0))).toBe(true)
    const curves = alignedCurves(a.curve, b.curve, curveLimit(a, b))
    const curve = await waitForChart(page, 'relative-compare-curve')
    expect(curve.data.series!.map((s) => s.points.map((p) => p.x))).toEqual([curves.distances, curves.distances])
    expect(curve.data.series!.map((s) => s.points.map((p) => p.y))).toEqual([curves.a, curves.b])
    const alignment = page.getByTestId('relative-compare-alignment')
    const column = (row: number) => alignment.locator('tr').nth(row).locator('td').nth(4).textContent()
    expect([await column(0), await column(1), await column(2)]).toEqual(['sees', 'sees', '▁see s'])

    // δ instead of the ids: the same comparison of δ
    await page.getByTestId('relative-matrix-delta').check()
    const deltas = compareRelative(text, a, b, 'delta')
    const { rows, cols, data } = deltas.difference!
    const deltaRows = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => data[i * cols + j]))
    await expect.poll(async () => (await waitForChart(page, 'relative-compare-diff')).data.values).toEqual(deltaRows)
    await page.getByTestId('relative-matrix-buckets').check()

    // CSV of B − A names both models and both runs
    const runs = await callApi<Array<{ id: string; config: { jobId?: string } }>>(page, lab.token, 'listRuns', sessionId)
    const runA = runs.find((r) => r.config.jobId === sentA.jobId)!.id
    const runB = runs.find((r) => r.config.jobId === sentB.jobId)!.id
    await page.getByTestId('chart-relative-compare-diff').scrollIntoViewIfNeeded()
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-relative-compare-diff-export-csv').click()])
    const lines = readFileSync((await csv.path())!, 'utf8').split('\n')
    expect(lines.find((l) => l.startsWith('# model_a: '))).toMatch(/toy DeBERTa/)
    expect(lines.find((l) => l.startsWith('# model_b: '))).toMatch(/synthetic deberta-v1/)
    expect(lines).toContain(`# run_a: ${runA}`)
    expect(lines).toContain(`# run_b: ${runB}`)
    expect(lines).toContain('# matrix: relative id used')
    expect(lines.find((l) => l.startsWith('# level: '))).toBe(`# level: ${expected.alignment.units.length} aligned spans, each read at its first token`)
    const [curveCsv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-relative-compare-curve-export-csv').click()])
    const curveLines = readFileSync((await curveCsv.path())!, 'utf8').split('\n')
    expect(curveLines).toContain(`# run_b: ${runB}`)

    await page.setViewportSize({ width: 1400, height: 1700 })
    await page.getByTestId('relative-compare-section').scrollIntoViewIfNeeded()
    await page.getByTestId('relative-compare-section').screenshot({ path: join(SCREENSHOT_DIR, 'compare-relative.png') })
    await page.setViewportSize({ width: 1400, height: 1000 })

    // saved in the session: reload, and the same charts come back from the stored runs (nothing recomputed)
    await expect
      .poll(async () => {
        const saved = (await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)).workspaces?.relative?.view as { compare?: { runId?: string; model?: { arch?: string } } } | undefined
        return [saved?.compare?.runId, saved?.compare?.model?.arch]
      }, { timeout: 20_000 })
      .toEqual([runB, 'deberta-v1'])
    const recomputed = await reloadWhenSaved(page, ['runRelativePositions'])
    expect(await currentSessionId(page)).toBe(sessionId)
    await page.getByTestId('tab-relative').click()
    expectMatrix((await waitForChart(page, 'relative-compare-a')).data.values!, expected.a.matrix)
    expectMatrix((await waitForChart(page, 'relative-compare-b')).data.values!, expected.b.matrix)
    expectMatrix((await waitForChart(page, 'relative-compare-diff')).data.values!, expected.difference!)
    expect((await waitForChart(page, 'relative-compare-curve')).data.series!.map((s) => s.points.map((p) => p.y))).toEqual([curves.a, curves.b])
    expect(recomputed()).toBe(0)

    // a BERT as B: no relative ids, said instead of a chart, and nothing is run
    await page.getByTestId('relative-compare-change').click()
    await page.getByTestId('relative-compare-kind-synthetic').check()
    await page.getByTestId('relative-compare-arch').selectOption('bert')
    await page.getByTestId('relative-compare-apply').click()
    await expect.poll(() => page.getByTestId('relative-compare-unavailable').textContent(), { timeout: 30_000 }).toMatch(/^B \(synthetic bert.*\) has no relative positions: BERT adds an absolute position embedding/)
    expect(await page.getByTestId('chart-relative-compare-a').count()).toBe(0)
    expect(recomputed()).toBe(0)

    // Remove B: the single view again, and the session forgets B
    await page.getByTestId('relative-compare-remove').click()
    await expect.poll(() => page.getByTestId('relative-compare-open').isVisible()).toBe(true)
    await expect
      .poll(async () => ((await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)).workspaces?.relative?.view as { compare?: { model?: unknown } }).compare?.model, { timeout: 20_000 })
      .toBeNull()
  })
})
