// "Compare with…" of the Problem demo end to end, in a real Chromium against browser mode: the bundled toy DeBERTa
// (A: a word-level tokenizer, 32 wide) beside a synthetic BERT (B: SentencePiece, 128 wide). The embedding rows, BERT's
// layer-0 baseline and DeBERTa's c2c term of A and B at span level, and B − A where the shapes match, equal the lab's
// answers to the same two requests aligned as documented; the rows of different widths and the c2p term B lacks have
// no difference, with the reason; the R² table is A | B | B − A; the CSV export names both models and both runs; a
// reload brings the comparison back from the session without a runProblemDemo request; Remove returns to one model.
import { describe, expect, it } from 'vitest'
import type { ProblemDemoResult } from '../../src/common/api'
import { compareProblem } from '../../src/renderer/workspaces/problem-comparison'
import { currentSessionId, downloadLines, e2eSkipped, expectCsvOfAAndB, expectMatrix, expectSavedB, reloadWhenSaved, removeB, runAThenSyntheticB, runIdsOf, screenshotOf, toyLabPerSuite, waitForChart } from './harness'

const TOLERANCE = 1e-9

describe.skipIf(e2eSkipped)('the Problem demo of two models in a browser', () => {
  const suite = toyLabPerSuite()

  it('A | B | B − A equal the API, R² A | B | B − A, CSV names both models, a reload restores without a request, Remove returns to one model', async () => {
    const { lab, page } = suite
    const sessionId = await currentSessionId(page)
    await page.getByTestId('tab-problem').click()
    const { sentA, sentB, a, b } = await runAThenSyntheticB<ProblemDemoResult>(page, lab.token, 'problem', 'runProblemDemo', 'problem-embedding', 'bert')
    const text = String(sentA.text)
    // the workspace shows the sum rows and the c2p term by default
    const expected = compareProblem(text, a, b, 'sum', 'c2p')
    expect(expected.level).toBe('word')
    expect(expected.widths).toEqual({ a: 32, b: 128 })

    const rowsA = await waitForChart(page, 'problem-compare-embedding-a')
    expect(rowsA.data.rowLabels).toEqual(['[CLS]', ...text.split(' '), '[SEP]'])
    expectMatrix(rowsA.data.values!, expected.embedding.a!, TOLERANCE)
    expectMatrix((await waitForChart(page, 'problem-compare-embedding-b')).data.values!, expected.embedding.b!, TOLERANCE)
    expect(await page.getByTestId('problem-compare-embedding-no-diff').textContent()).toBe("No difference view: A's embedding rows are 32 wide, B's 128: a difference needs the same width.")
    expectMatrix((await waitForChart(page, 'problem-compare-bert-a')).data.values!, expected.bert.a!, TOLERANCE)
    expectMatrix((await waitForChart(page, 'problem-compare-bert-b')).data.values!, expected.bert.b!, TOLERANCE)
    const bertDiff = await waitForChart(page, 'problem-compare-bert-diff')
    expectMatrix(bertDiff.data.values!, expected.bert.difference!, TOLERANCE)
    expect(bertDiff.data.values!.some((row) => row.some((v) => v !== 0))).toBe(true)
    expectMatrix((await waitForChart(page, 'problem-compare-term-a')).data.values!, expected.term.a!, TOLERANCE)
    expect(await page.getByTestId('problem-compare-term-b-missing').textContent()).toMatch(/^B \(synthetic bert.*\) has no c2p term\.$/)
    // c2c, which both have: A | B | B − A
    await page.getByTestId('problem-term-c2c').check()
    const c2c = compareProblem(text, a, b, 'sum', 'c2c')
    const termDiff = c2c.term.difference!
    // (c2p had no B − A chart: this one is drawn for c2c)
    expectMatrix((await waitForChart(page, 'problem-compare-term-diff')).data.values!, termDiff, TOLERANCE)
    expectMatrix((await waitForChart(page, 'problem-compare-term-b')).data.values!, c2c.term.b!, TOLERANCE)
    // the R² table
    const r2 = page.getByTestId('problem-compare-scalar-r2-content')
    expect([Number(await r2.getAttribute('data-a')), Number(await r2.getAttribute('data-b'))]).toEqual([a.interference.contentRecoveryR2, b.interference.contentRecoveryR2])
    expect(Number(await r2.getAttribute('data-difference'))).toBeCloseTo(b.interference.contentRecoveryR2 - a.interference.contentRecoveryR2, 12)
    const cells = await r2.locator('td').allTextContents()
    expect(cells.slice(0, 2)).toEqual([a.interference.contentRecoveryR2.toFixed(4), b.interference.contentRecoveryR2.toFixed(4)])
    const position = page.getByTestId('problem-compare-scalar-r2-position')
    expect(Number(await position.getAttribute('data-b'))).toBe(b.interference.positionRecoveryR2)
    // the alignment: "sees" is one token of A and ▁see s of B
    const alignment = page.getByTestId('problem-compare-alignment')
    const column = (row: number) => alignment.locator('tr').nth(row).locator('td').nth(4).textContent()
    expect([await column(0), await column(1), await column(2)]).toEqual(['sees', 'sees', '▁see s'])

    // CSV of a B − A names both models and both runs; no Python export
    const [runA, runB] = await runIdsOf(page, lab.token, sessionId, sentA, sentB)
    await page.getByTestId('chart-problem-compare-bert-diff').scrollIntoViewIfNeeded()
    const lines = await downloadLines(page, 'chart-problem-compare-bert-diff-export-csv')
    expectCsvOfAAndB(lines, 'bert', runA, runB)
    expect(lines).toContain(`# text: ${text}`)
    expect(lines).toContain(`# level: ${expected.alignment.units.length} aligned spans (mean over tokens; probabilities: sum over keys)`)
    expect(await page.getByTestId('chart-problem-compare-bert-diff-export-py').count()).toBe(0)

    await screenshotOf(page, 'problem-compare-section', 'compare-problem.png', 2400)

    // saved in the session: reload, and the same charts come back from the stored runs (nothing recomputed)
    await expectSavedB(page, lab.token, sessionId, 'problem', runB, 'bert')
    const recomputed = await reloadWhenSaved(page, ['runProblemDemo'])
    expect(await currentSessionId(page)).toBe(sessionId)
    await page.getByTestId('tab-problem').click()
    expectMatrix((await waitForChart(page, 'problem-compare-embedding-a')).data.values!, expected.embedding.a!, TOLERANCE)
    expectMatrix((await waitForChart(page, 'problem-compare-embedding-b')).data.values!, expected.embedding.b!, TOLERANCE)
    expectMatrix((await waitForChart(page, 'problem-compare-bert-diff')).data.values!, expected.bert.difference!, TOLERANCE)
    expectMatrix((await waitForChart(page, 'problem-compare-term-diff')).data.values!, termDiff, TOLERANCE)
    expect(await page.getByTestId('problem-compare-scalar-r2-content').getAttribute('data-b')).toBe(String(b.interference.contentRecoveryR2))
    expect(recomputed()).toBe(0)

    // Remove B: the single view again, and the session forgets B
    await removeB(page, lab.token, sessionId, 'problem')
    expect(await page.getByTestId('chart-problem-compare-bert-a').count()).toBe(0)
    expect(recomputed()).toBe(0)
  })
})
