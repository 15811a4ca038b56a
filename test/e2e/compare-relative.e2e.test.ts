// "Compare with…" of the Relative positions workspace end to end, in a real Chromium against browser mode: the
// bundled toy DeBERTa (A: log buckets, a word-level tokenizer) beside a synthetic DeBERTa v1 (B: clipping,
// SentencePiece). A | B | B − A of the ids at span level and both distance → id curves equal the lab's answers to
// the same two requests aligned as documented; the CSV export names both models and both runs; a reload brings the
// comparison back from the session without recomputing; a BERT as B is said instead of run; Remove returns to one model.
import { describe, expect, it } from 'vitest'
import type { RelativePositionsResult } from '../../src/common/api'
import { alignedCurves, compareRelative, curveLimit } from '../../src/renderer/workspaces/relative-comparison'
import { currentSessionId, downloadLines, e2eSkipped, expectCsvOfAAndB, expectMatrix, expectSavedB, reloadWhenSaved, removeB, runAThenSyntheticB, runIdsOf, screenshotOf, toyLabPerSuite, waitForChart } from './harness'

describe.skipIf(e2eSkipped)('relative positions of two models in a browser', () => {
  const suite = toyLabPerSuite()

  it('A | B | B − A and both curves equal the API, CSV names both models, a reload restores, BERT is said, Remove returns to one model', async () => {
    const { lab, page } = suite
    const sessionId = await currentSessionId(page)
    await page.getByTestId('tab-relative').click()
    const { sentA, sentB, a, b } = await runAThenSyntheticB<RelativePositionsResult>(page, lab.token, 'relative', 'runRelativePositions', 'relative-matrix', 'deberta-v1')
    const text = String(sentA.text)
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
    const [runA, runB] = await runIdsOf(page, lab.token, sessionId, sentA, sentB)
    await page.getByTestId('chart-relative-compare-diff').scrollIntoViewIfNeeded()
    const lines = await downloadLines(page, 'chart-relative-compare-diff-export-csv')
    expectCsvOfAAndB(lines, 'deberta-v1', runA, runB)
    expect(lines).toContain('# matrix: relative id used')
    expect(lines.find((l) => l.startsWith('# level: '))).toBe(`# level: ${expected.alignment.units.length} aligned spans, each read at its first token`)
    const curveLines = await downloadLines(page, 'chart-relative-compare-curve-export-csv')
    expect(curveLines).toContain(`# run_b: ${runB}`)

    await screenshotOf(page, 'relative-compare-section', 'compare-relative.png', 1700)

    // saved in the session: reload, and the same charts come back from the stored runs (nothing recomputed)
    await expectSavedB(page, lab.token, sessionId, 'relative', runB, 'deberta-v1')
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
    await removeB(page, lab.token, sessionId, 'relative')
  })
})
