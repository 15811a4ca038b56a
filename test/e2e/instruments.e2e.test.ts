// The Attention workspace's two instruments end to end, in a real Chromium against browser mode with the
// bundled toy DeBERTa: the model view (every layer × head; a click opens the head above) and attention by
// relative distance. Each chart's numbers equal what the lab returns for the same request through the API;
// PNG, SVG and CSV (with provenance) export; both come back from the session after a reload; screenshots
// (UPDATE_SCREENSHOTS=1: into docs/screenshots).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DistanceProfileResult, ModelViewResult } from '../../src/common/api'
import type { SessionSnapshot } from '../../src/common/sessions'
import { callApi, clickAndCapture, currentSessionId, e2eSkipped, openLabInBrowser, reloadWhenSaved, SCREENSHOT_DIR, waitForChart, waitForToyModel, withoutJob, type DrawnTable, type OpenedLab, type ServedLab } from './harness'

const TOLERANCE = 1e-9
// 31 tokens with [CLS] and [SEP]: distances up to 30, beyond the toy model's exact buckets (|δ| ≤ 8)
const TEXT = 'the old farmer watches the red ball near the river and the small dog sees the big cat near the house while the young girl finds the green box'

let browserLab: OpenedLab
let lab: ServedLab
let page: Page

function expectRows(actual: DrawnTable['rows'], expected: number[][]): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((row, r) => {
    expect(row.length, `row ${r}`).toBe(expected[r].length)
    row.forEach((value, c) => expect(Math.abs((value as number) - expected[r][c]), `row ${r} column ${c}`).toBeLessThanOrEqual(TOLERANCE))
  })
}

function modelViewRows(result: ModelViewResult): number[][] {
  const rows: number[][] = []
  const n = result.terms.length
  for (let l = 0; l < result.layers; l++) {
    for (let h = 0; h < result.heads; h++) {
      const k = l * result.heads + h
      rows.push([l, h, ...result.shares.slice(k * n, (k + 1) * n), result.entropy[k], result.distance[k]])
    }
  }
  return rows
}

function distanceRows(result: DistanceProfileResult, head: number): number[][] {
  return result.distances.map((d, k) => [d, result.pairs[k], result.buckets.ids[k], result.probability[head][k], ...result.terms.map((t) => result.scores[t]![head][k]), result.probability[result.heads][k]])
}

/** PNG (non-blank, 2×), SVG and CSV (provenance lines, then the table) of a chart. */
async function expectExports(chartId: string, header: string): Promise<void> {
  const chart = page.getByTestId(`chart-${chartId}`)
  await chart.scrollIntoViewIfNeeded()
  const box = (await chart.locator('.chart-box').boundingBox())!
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-png`).click()])
  const pngBytes = readFileSync((await png.path())!)
  expect(pngBytes.subarray(1, 4).toString('ascii')).toBe('PNG')
  expect(Math.abs(pngBytes.readUInt32BE(16) - box.width * 2)).toBeLessThanOrEqual(2)
  expect(pngBytes.length).toBeGreaterThan(20_000)
  await expect.poll(() => page.getByTestId(`chart-${chartId}-export-status`).textContent()).toMatch(/kept in session/)
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-svg`).click()])
  const svgText = readFileSync((await svg.path())!, 'utf8')
  expect(svgText.trimStart()).toMatch(/^<svg[\s>]/)
  expect((svgText.match(/<(path|rect|image)[\s/>]/g) ?? []).length).toBeGreaterThan(20)
  expect(svgText).toContain('DeBERTa Lab') // the provenance subtitle
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-csv`).click()])
  const lines = readFileSync((await csv.path())!, 'utf8').split('\n')
  expect(lines[0]).toMatch(/^# model: .*toy/i)
  expect(lines).toContain(`# text: ${TEXT.slice(0, 117)}…`)
  expect(lines.some((line) => line.startsWith('# run: ') && !line.includes('not recorded'))).toBe(true)
  expect(lines.find((line) => !line.startsWith('#'))).toBe(header)
}

describe.skipIf(e2eSkipped)('attention instruments in a browser', () => {
  beforeAll(async () => {
    browserLab = await openLabInBrowser({ width: 1400, height: 900 })
    lab = browserLab.lab
    page = browserLab.page
    await waitForToyModel(page)
  })

  afterAll(async () => {
    await browserLab?.close()
  })

  it('model view and distance profile equal the API, a head click opens it, export with provenance, survive a reload', async () => {
    const sessionId = await currentSessionId(page)
    await page.getByTestId('tab-attention').click()
    await page.getByTestId('attention-text').fill(TEXT)

    // model view: the table behind the cells is the API's answer to the same request
    const sent = await clickAndCapture(page, 'runModelView', () => page.getByTestId('model-view-run').click())
    const view = await callApi<ModelViewResult>(page, lab.token, 'runModelView', withoutJob(sent))
    expect([view.layers, view.heads, view.tokens.tokens.length]).toEqual([2, 4, 31])
    const shown = await waitForChart<DrawnTable>(page, 'attention-model-view')
    expect(shown.data.columns).toEqual(['layer', 'head', 'share_c2c', 'share_c2p', 'share_p2c', 'entropy_nats', 'mean_distance'])
    expectRows(shown.data.rows, modelViewRows(view))
    const runId = (await callApi<Array<{ id: string; config: { jobId?: string } }>>(page, lab.token, 'listRuns', sessionId)).find((r) => r.config.jobId === sent.jobId)?.id
    const subtitle = await page.evaluate(() => {
      const charts = (globalThis as unknown as { __debertaLabCharts: Record<string, { option: { title: { subtext: string } } }> }).__debertaLabCharts
      return charts['attention-model-view'].option.title.subtext
    })
    expect(subtitle).toContain(`run: ${runId}`)

    // a click on layer 1, head 2 opens it in the workspace's charts above
    await page.getByTestId('chart-attention-model-view').scrollIntoViewIfNeeded()
    const box = (await page.getByTestId('chart-attention-model-view').locator('.chart-box').boundingBox())!
    const grid = await page.evaluate(() => {
      const charts = (globalThis as unknown as { __debertaLabCharts: Record<string, { option: { grid: { left: number; right: number; top: number; bottom: number } } }> }).__debertaLabCharts
      return charts['attention-model-view'].option.grid
    })
    const x = box.x + grid.left + ((box.width - grid.left - grid.right) * (2 + 0.5)) / 4
    const y = box.y + grid.top + ((box.height - grid.top - grid.bottom) * (1 + 0.5)) / 2
    const opened = await clickAndCapture(page, 'runAttention', () => page.mouse.click(x, y))
    expect([opened.layer, opened.head]).toEqual([1, 2])
    expect(await page.getByTestId('attention-layer').inputValue()).toBe('1')
    expect(await page.getByTestId('attention-head').inputValue()).toBe('2')
    await waitForChart(page, 'attention-main')
    await expectExports('attention-model-view', 'layer,head,share_c2c,share_c2p,share_p2c,entropy_nats,mean_distance')
    await page.getByTestId('model-view').scrollIntoViewIfNeeded()
    await page.getByTestId('model-view').screenshot({ path: join(SCREENSHOT_DIR, 'model-view.png') })

    // distance profile of layer 1 (set by the click), head 2, then the mean over heads
    expect(await page.getByTestId('distance-layer').inputValue()).toBe('1')
    expect(await page.getByTestId('distance-head').inputValue()).toBe('2')
    const sentProfile = await clickAndCapture(page, 'runDistanceProfile', () => page.getByTestId('distance-run').click())
    const profile = await callApi<DistanceProfileResult>(page, lab.token, 'runDistanceProfile', withoutJob(sentProfile))
    expect(profile.layer).toBe(1)
    expect(profile.buckets.kind).toBe('log-bucket')
    let chart = await waitForChart<DrawnTable>(page, 'attention-distance')
    expect(chart.data.columns).toEqual(['delta', 'pairs', 'relative_id', 'probability_h2', 'c2c_h2', 'c2p_h2', 'p2c_h2', 'probability_mean'])
    expectRows(chart.data.rows, distanceRows(profile, 2))
    // the toy model merges distances beyond |δ| = 8: some relative ids stand for several δ
    const ids = profile.buckets.ids.filter((_, k) => Math.abs(profile.distances[k]) > 8)
    expect(new Set(ids).size).toBeLessThan(ids.length)
    await page.getByTestId('distance-head').selectOption('mean')
    chart = await waitForChart<DrawnTable>(page, 'attention-distance', chart.version)
    expectRows(chart.data.rows, distanceRows(profile, 4).map((row) => row.slice(0, -1)))
    await page.getByTestId('distance-head').selectOption('2')
    chart = await waitForChart<DrawnTable>(page, 'attention-distance', chart.version)
    await expectExports('attention-distance', 'delta,pairs,relative_id,probability_h2,c2c_h2,c2p_h2,p2c_h2,probability_mean')
    await page.getByTestId('distance-profile').scrollIntoViewIfNeeded()
    await page.getByTestId('distance-profile').screenshot({ path: join(SCREENSHOT_DIR, 'distance-profile.png') })

    // both are in the session: reload, and the same numbers come back from the stored runs (nothing recomputed)
    await expect
      .poll(async () => {
        const saved = (await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)).workspaces?.attention?.view as Record<string, { runId?: string; head?: string }> | undefined
        return [saved?.modelView?.runId !== '', saved?.distance?.runId !== '', saved?.distance?.head]
      }, { timeout: 20_000 })
      .toEqual([true, true, '2'])
    const before = { view: shown.data.rows, profile: chart.data.rows }
    const recomputed = await reloadWhenSaved(page, ['runModelView', 'runDistanceProfile'])
    expect(await currentSessionId(page)).toBe(sessionId)
    await page.getByTestId('tab-attention').click()
    expect((await waitForChart<DrawnTable>(page, 'attention-model-view')).data.rows).toEqual(before.view)
    expect((await waitForChart<DrawnTable>(page, 'attention-distance')).data.rows).toEqual(before.profile)
    expect(await page.getByTestId('distance-head').inputValue()).toBe('2')
    expect(recomputed()).toBe(0)
  })
})
