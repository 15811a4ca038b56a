// "Compare with…" end to end, in a real Chromium against browser mode: the bundled toy DeBERTa (A, a word-level
// tokenizer) beside a synthetic BERT (B, SentencePiece). Attention: A | B | B − A at word level, each chart's
// numbers equal to the lab's answers to the same two requests aligned and pooled as documented; PNG and CSV
// exports name both models and both runs; a reload brings the comparison back from the session without
// recomputing; removing B returns to the single view. Decoding: both models' top-k per [MASK], equal to the API.
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { AttentionResult, DecodingResult } from '../../src/common/api'
import { compareAttention } from '../../src/renderer/workspaces/attention-comparison'
import { compareDecoding } from '../../src/renderer/workspaces/decoding-comparison'
import { callApi, capture, currentSessionId, downloadLines, e2eSkipped, expectCsvOfAAndB, expectMatrix, expectSavedB, reloadWhenSaved, removeB, runAThenSyntheticB, runIdsOf, screenshotOf, toyLabPerSuite, waitForChart, withoutJob } from './harness'

const TOLERANCE = 1e-9
const TEXT = 'the small dog sees the small ball near the house'

/** Waits until chart `chartId` draws `matrix` (a chart that is re-created starts its version again). */
async function waitForMatrix(page: Page, chartId: string, matrix: { rows: number; cols: number; data: ArrayLike<number> }): Promise<void> {
  await expect
    .poll(async () => {
      const state = await waitForChart(page, chartId)
      try {
        expectMatrix(state.data.values!, matrix, TOLERANCE)
        return true
      } catch {
        return false
      }
    }, { timeout: 60_000 })
    .toBe(true)
}

describe.skipIf(e2eSkipped)('two models side by side in a browser', () => {
  const suite = toyLabPerSuite()

  it('attention: A | B | B − A at word level equal the API, export names both models, a reload restores it, Remove returns to one model', async () => {
    const { lab, page } = suite
    const sessionId = await currentSessionId(page)
    await page.getByTestId('tab-attention').click()
    await page.getByTestId('attention-text').fill(TEXT)
    // B: a synthetic BERT (its SentencePiece tokenizer cuts "sees" into ▁see + s)
    const { sentA, sentB, a, b } = await runAThenSyntheticB<AttentionResult>(page, lab.token, 'attention', 'runAttention', 'attention-main', 'bert')
    let expected = compareAttention(TEXT, a, b, 'probabilities')
    expect(expected.level).toBe('word')

    const chartA = await waitForChart(page, 'attention-compare-a')
    const chartB = await waitForChart(page, 'attention-compare-b')
    const chartDiff = await waitForChart(page, 'attention-compare-diff')
    expect(chartA.data.rowLabels).toEqual(['[CLS]', ...TEXT.split(' '), '[SEP]'])
    expectMatrix(chartA.data.values!, expected.a.matrix!, TOLERANCE)
    expectMatrix(chartB.data.values!, expected.b.matrix!, TOLERANCE)
    expectMatrix(chartDiff.data.values!, expected.difference!, TOLERANCE)
    await expect.poll(() => page.getByTestId('attention-compare-label').textContent()).toMatch(/B: synthetic bert/)
    const alignment = page.getByTestId('attention-compare-alignment')
    const column = (row: number) => alignment.locator('tr').nth(row).locator('td').nth(4).textContent()
    expect([await column(0), await column(1), await column(2)]).toEqual(['sees', 'sees', '▁see s'])

    // exports: PNG (non-blank) and CSV with both models and both runs
    const [runA, runB] = await runIdsOf(page, lab.token, sessionId, sentA, sentB)
    await page.getByTestId('chart-attention-compare-diff').scrollIntoViewIfNeeded()
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-attention-compare-diff-export-png').click()])
    const pngBytes = readFileSync((await png.path())!)
    expect(pngBytes.subarray(1, 4).toString('ascii')).toBe('PNG')
    expect(pngBytes.length).toBeGreaterThan(20_000)
    const subtitle = await page.evaluate(() => (globalThis as unknown as { __debertaLabCharts: Record<string, { option: { title: { subtext: string } } }> }).__debertaLabCharts['attention-compare-diff'].option.title.subtext)
    expect(subtitle).toContain('model_a: toy DeBERTa')
    expect(subtitle).toContain('model_b: synthetic bert')
    const lines = await downloadLines(page, 'chart-attention-compare-diff-export-csv')
    expectCsvOfAAndB(lines, 'bert', runA, runB)
    expect(lines.find((l) => l.startsWith('# level: '))).toBe('# level: 12 aligned spans, Σ over key sub-tokens, mean over query sub-tokens')
    expect(lines.find((l) => !l.startsWith('#'))).toBe('row,row_label,col,col_label,value')

    await screenshotOf(page, 'attention-compare-section', 'compare.png')
    expect((await page.getByTestId('attention-compare-section').boundingBox())!.height).toBeLessThan(1000) // one screen: A | B | B − A in a row

    // a view B does not have: no difference, and why
    await page.getByTestId('attention-view-c2p').check()
    await expect.poll(() => page.getByTestId('attention-compare-no-diff').textContent()).toMatch(/B \(synthetic bert.*\) has no c2p term/)
    await page.getByTestId('attention-view-probabilities').check()
    await waitForChart(page, 'attention-compare-diff')

    // every run of A is followed by B's on the same inputs: another layer re-runs both
    const [sentA1, sentB1] = await capture(page, 'runAttention', 2, async () => {
      await page.getByTestId('attention-layer').selectOption('1')
    })
    expect([sentA1.layer, sentB1.layer, (sentA1.model as { kind: string }).kind, (sentB1.model as { arch: string }).arch]).toEqual([1, 1, 'bundled', 'bert'])
    const b1 = await callApi<AttentionResult>(page, lab.token, 'runAttention', withoutJob(sentB1))
    const a1 = await callApi<AttentionResult>(page, lab.token, 'runAttention', withoutJob(sentA1))
    expected = compareAttention(TEXT, a1, b1, 'probabilities')
    await waitForMatrix(page, 'attention-compare-b', expected.b.matrix!)
    await waitForMatrix(page, 'attention-compare-diff', expected.difference!)
    expect(await page.getByTestId('chart-attention-compare-b').locator('.chart-box').getAttribute('aria-label')).toBe('Model B: 12 × 12')
    const [runB1] = await runIdsOf(page, lab.token, sessionId, sentB1)

    // saved in the session: reload, and the same charts come back from the stored runs (nothing recomputed)
    await expectSavedB(page, lab.token, sessionId, 'attention', runB1, 'bert')
    const recomputed = await reloadWhenSaved(page, ['runAttention'])
    expect(await currentSessionId(page)).toBe(sessionId)
    await page.getByTestId('tab-attention').click()
    expectMatrix((await waitForChart(page, 'attention-compare-a')).data.values!, expected.a.matrix!, TOLERANCE)
    expectMatrix((await waitForChart(page, 'attention-compare-b')).data.values!, expected.b.matrix!, TOLERANCE)
    expectMatrix((await waitForChart(page, 'attention-compare-diff')).data.values!, expected.difference!, TOLERANCE)
    expect(recomputed()).toBe(0)

    // Remove B: the single view again, and the session forgets B
    await removeB(page, lab.token, sessionId, 'attention')
    await expect.poll(() => page.getByTestId('chart-attention-compare-a').count()).toBe(0)
  })

  it('decoding: each [MASK] shows both models’ top-k, equal to the API', async () => {
    const { lab, page } = suite
    await page.getByTestId('tab-decoding').click()
    const { sentA, a, b } = await runAThenSyntheticB<DecodingResult>(page, lab.token, 'decoding', 'runDecoding', 'decoding-plain-0', 'deberta-v3')
    const slots = compareDecoding(String(sentA.text), a, b)
    expect(slots.length).toBe(a.maskPositions.length)
    for (const [index, slot] of slots.entries()) {
      for (const [chart, predictions] of [
        [`decoding-compare-plain-a-${index}`, slot.a!.plain],
        [`decoding-compare-plain-b-${index}`, slot.b!.plain],
        [`decoding-compare-emd-a-${index}`, slot.a!.emd],
        [`decoding-compare-emd-b-${index}`, slot.b!.emd],
      ] as const) {
        const drawn = await waitForChart(page, chart)
        expect(drawn.data.series![0].points.map((p) => p.x)).toEqual(predictions.map((p) => p.token))
        drawn.data.series![0].points.forEach((p, k) => expect(Math.abs(p.y - predictions[k].probability)).toBeLessThanOrEqual(TOLERANCE))
      }
    }
    // a taller window, so that the slot (four charts and the table) is not under the status bar
    await screenshotOf(page, 'decoding-compare-slot-0', 'compare-decoding.png', 1600)
  })
})
