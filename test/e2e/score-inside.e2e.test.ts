// Inside one score, end to end in a real Chromium against browser mode with the bundled toy DeBERTa (8 position
// buckets: exact for |δ| ≤ 4, log buckets beyond, and buckets past the 16-row table clipped): the cell read-out
// names the rel-embedding row c2p and p2c read, how δ reaches it and the cell's share of its row, as the API's
// result says; several query tokens picked as chips give the averaged rows of every term (= the API's matrices),
// export as CSV, and come back from the session after a reload. Screenshot: the combined rows and the read-out.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttentionResult } from '../../src/common/api'
import { callApi, clickAndCapture, e2eSkipped, openLabInBrowser, type OpenedLab, SCREENSHOT_DIR, waitForChart, waitForToyModel, withoutJob } from './harness'

// ~150 tokens: far cells read buckets beyond the toy model's 16 rows (clipped), near ones exact rows
const TEXT = Array.from({ length: 14 }, () => 'the small dog sees the red ball near the old house').join(' and ')
const TOLERANCE = 1e-6

let opened: OpenedLab
let page: Page

/** The tooltip at a fraction of the heat map's box, with the cell it names. */
async function hover(fx: number, fy: number): Promise<{ text: string; i: number; j: number }> {
  const box = (await page.getByTestId('chart-attention-main').locator('.chart-box').boundingBox())!
  await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy)
  const tip = page.getByTestId('chart-tooltip')
  await tip.waitFor({ timeout: 10_000 })
  const text = (await tip.textContent()) ?? ''
  const cell = /query i (\d+).*key j (\d+)/.exec(text)!
  return { text, i: Number(cell[1]), j: Number(cell[2]) }
}

function meanRow(data: Float32Array, T: number, rows: number[]): number[] {
  return Array.from({ length: T }, (_, j) => rows.reduce((a, i) => a + data[i * T + j], 0) / rows.length)
}

describe.skipIf(e2eSkipped)('inside one score, in a browser', () => {
  beforeAll(async () => {
    opened = await openLabInBrowser({ width: 1400, height: 1000 })
    page = opened.page
    await waitForToyModel(page)
  })
  afterAll(async () => {
    await opened?.close()
  })

  it('the read-out names the rel-embedding row and its kind; picked rows average every term; both survive a reload', async () => {
    await page.getByTestId('tab-attention').click()
    await page.getByTestId('attention-text').fill(TEXT)
    const sent = withoutJob(await clickAndCapture(page, 'runAttention', () => page.getByTestId('attention-run').click()))
    await waitForChart(page, 'attention-main')
    const api = await callApi<AttentionResult>(page, opened.lab.token, 'runAttention', sent)
    const T = api.tokens.tokens.length
    expect(T).toBeGreaterThan(128)
    expect(api.relativeRows!.tableRows).toBe(16)

    await page.getByTestId('chart-attention-main').scrollIntoViewIfNeeded()
    const kinds: Record<string, string> = { exact: 'exact', 'log-bucket': 'logarithmic bucket', clipped: 'clipped to the table’s end' }
    const seen = new Set<string>()
    for (const [fx, fy] of [[0.1, 0.9], [0.5, 0.5], [0.52, 0.5], [0.5, 0.6]]) {
      const { text, i, j } = await hover(fx, fy)
      const at = i - j + T - 1
      const kind = api.relativeRows!.kinds[at]
      seen.add(kind)
      expect(text).toContain(`rel-embedding row ${api.relativeRows!.rows[at]} of 16 (${kinds[kind]})`)
      const p = api.probabilities.data[i * T + j]
      expect(text).toContain(`${(p * 100).toFixed(p >= 0.1 ? 1 : 2)} % of row ${i}’s attention`)
    }
    expect(seen.has('clipped')).toBe(true)
    expect(seen.has('exact') || seen.has('log-bucket')).toBe(true)
    await page.mouse.move(0, 0)

    // several query tokens: rows 1, 4 and 6 averaged
    const rows = [1, 4, 6]
    for (const i of rows) await page.getByTestId(`attention-rows-token-${i}`).click()
    expect(await page.getByTestId('attention-rows-token-4').getAttribute('aria-pressed')).toBe('true')
    const { data } = await waitForChart(page, 'attention-rows')
    const byName = Object.fromEntries(data.series!.map((s) => [s.name, s.points.map((q) => q.y)]))
    expect(Object.keys(byName)).toEqual(['c2c', 'c2p', 'p2c', 'scores', 'probabilities'])
    const expected: Record<string, Float32Array> = { c2c: api.terms.c2c!.data, c2p: api.terms.c2p!.data, p2c: api.terms.p2c!.data, scores: api.scores.data, probabilities: api.probabilities.data }
    for (const [name, matrix] of Object.entries(expected)) {
      const want = meanRow(matrix, T, rows)
      byName[name].forEach((v, j) => expect(Math.abs(v - want[j]), `${name}[${j}]`).toBeLessThanOrEqual(TOLERANCE))
    }
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-attention-rows-export-csv').click()])
    const lines = readFileSync((await csv.path())!, 'utf8').split('\n')
    expect(lines).toContain('# rows: 1 4 6')
    expect(lines).toContain('# combine: mean')
    expect(lines.find((l) => !l.startsWith('#'))).toBe('series,x,y')
    expect(await page.getByTestId('chart-attention-rows-export-py').count()).toBe(1)
    await page.getByTestId('attention-rows').scrollIntoViewIfNeeded()
    await page.getByTestId('attention-rows').screenshot({ path: join(SCREENSHOT_DIR, 'attention-rows.png') })

    // the picks are saved with the workspace: a reload brings them and the chart back
    await page.waitForTimeout(1500) // the workspace autosave is debounced
    await page.reload()
    await page.getByTestId('app').waitFor()
    await page.getByTestId('tab-attention').click()
    await waitForChart(page, 'attention-rows')
    expect(await page.getByTestId('attention-rows-token-6').getAttribute('aria-pressed')).toBe('true')
    expect(await page.getByTestId('attention-rows-summary').textContent()).toBe(`3 of ${T} rows`)

    // the read-out of one cell, for the README
    await page.getByTestId('chart-attention-main').evaluate((el) => el.scrollIntoView({ block: 'start' }))
    const far = await hover(0.06, 0.94) // i − j ≈ 150: bucket 8 lies past the table's last row
    expect(far.text).toContain('clipped to the table’s end')
    const box = (await page.getByTestId('chart-attention-main').boundingBox())!
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'cell-readout.png'), clip: { x: box.x, y: box.y, width: box.width, height: Math.min(box.height + 160, 1000 - box.y) } })
  }, 300_000)
})
