// Ablate and measure (Decoding workspace) end to end, in a real Chromium against browser mode with the bundled toy
// DeBERTa: a head removed and a term removed in one head; the head-importance job. Each chart's numbers equal what
// the lab returns for the same request through the API; PNG, SVG and CSV (with provenance) export; both come back
// from the session after a reload without recomputing; the importance job is cancelled on a larger synthetic model
// (recorded as a cancelled run without a result; the previous map stays); screenshots (UPDATE_SCREENSHOTS=1: into docs/screenshots).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AblationResult, HeadImportanceResult, JobInfo } from '../../src/common/api'
import type { SessionSnapshot } from '../../src/common/sessions'
import { callApi, clickAndCapture, currentSessionId, e2eSkipped, openLabInBrowser, reloadWhenSaved, SCREENSHOT_DIR, waitForChart, waitForToyModel, withoutJob, type DrawnTable, type OpenedLab } from './harness'

const TEXT = 'the small [MASK] sees the small [MASK] near the house'
const TOLERANCE = 1e-9

let opened: OpenedLab
let page: Page

function expectRows(actual: DrawnTable['rows'], expected: Array<Array<string | number>>): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((row, r) => {
    expect(row.length, `row ${r}`).toBe(expected[r].length)
    row.forEach((value, c) => {
      const want = expected[r][c]
      if (typeof want === 'number') expect(Math.abs((value as number) - want), `row ${r} column ${c}`).toBeLessThanOrEqual(TOLERANCE)
      else expect(value, `row ${r} column ${c}`).toBe(want)
    })
  })
}

/** PNG (2×, non-blank), SVG (with the provenance subtitle) and CSV (provenance lines, then the table header). */
async function expectExports(chartId: string, header: string): Promise<void> {
  const chart = page.getByTestId(`chart-${chartId}`)
  await chart.scrollIntoViewIfNeeded()
  const box = (await chart.locator('.chart-box').boundingBox())!
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-png`).click()])
  const pngBytes = readFileSync((await png.path())!)
  expect(pngBytes.subarray(1, 4).toString('ascii')).toBe('PNG')
  expect(Math.abs(pngBytes.readUInt32BE(16) - box.width * 2)).toBeLessThanOrEqual(2)
  expect(pngBytes.length).toBeGreaterThan(10_000)
  await expect.poll(() => page.getByTestId(`chart-${chartId}-export-status`).textContent()).toMatch(/kept in session/)
  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-svg`).click()])
  const svgText = readFileSync((await svg.path())!, 'utf8')
  expect(svgText.trimStart()).toMatch(/^<svg[\s>]/)
  expect(svgText).toContain('DeBERTa Lab')
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-csv`).click()])
  const lines = readFileSync((await csv.path())!, 'utf8').split('\n')
  expect(lines[0]).toMatch(/^# model: .*toy/i)
  expect(lines).toContain(`# text: ${TEXT}`)
  expect(lines.some((line) => line.startsWith('# run: ') && !line.includes('not recorded'))).toBe(true)
  expect(lines.find((line) => !line.startsWith('#'))).toBe(header)
}

/** Scrolls a section to the top of the page, clear of the sticky bars, before its screenshot. */
async function showBelowHeader(testid: string): Promise<void> {
  await page.getByTestId(testid).evaluate((el) => el.scrollIntoView({ block: 'start' }))
  await page.evaluate(() => (globalThis as unknown as { scrollBy(x: number, y: number): void }).scrollBy(0, -90))
}

function slotRows(result: AblationResult): Array<Array<string | number>> {
  return result.slots.flatMap((slot) =>
    (['plain', 'emd'] as const).map((d) => {
      const s = slot[d]
      return [slot.position, d, s.reference.token, s.logProbBefore, s.logProbAfter, s.delta, s.rankAfter, s.kl, s.entered.map((p) => p.token).join(' '), s.left.map((p) => p.token).join(' ')]
    }),
  )
}

function importanceRows(result: HeadImportanceResult): number[][] {
  const S = result.maskPositions.length
  const rows: number[][] = []
  for (let l = 0; l < result.layers; l++) {
    for (let h = 0; h < result.heads; h++) {
      const k = l * result.heads + h
      rows.push([l, h, result.importance[k], ...result.deltas.slice(k * S, (k + 1) * S)])
    }
  }
  return rows
}

describe.skipIf(e2eSkipped)('ablate and measure in a browser', () => {
  beforeAll(async () => {
    opened = await openLabInBrowser({ width: 1400, height: 1200 })
    page = opened.page
    await waitForToyModel(page)
  })

  afterAll(async () => {
    await opened?.close()
  })

  it('ablation and head importance equal the API, export with provenance, survive a reload; a cancelled job keeps no result', async () => {
    const { lab } = opened
    const sessionId = await currentSessionId(page)
    await page.getByTestId('tab-decoding').click()
    await page.getByTestId('decoding-text').fill(TEXT)

    // a whole head: 1.2 of the toy model (its last layer)
    await page.getByTestId('ablation-kind').selectOption('head')
    await page.getByTestId('ablation-layer').selectOption('1')
    await page.getByTestId('ablation-head').selectOption('2')
    const sent = await clickAndCapture(page, 'runAblation', () => page.getByTestId('ablation-run').click())
    expect(sent).toMatchObject({ text: TEXT, ablation: { kind: 'head', layer: 1, head: 2 }, topK: 10 })
    const api = await callApi<AblationResult>(page, lab.token, 'runAblation', withoutJob(sent))
    expect(api.maskPositions).toHaveLength(2)
    expect(api.layerChange.slice(0, 2)).toEqual([0, 0])
    expect(api.layerChange[2]).toBeGreaterThan(0)
    const slots = await waitForChart<DrawnTable>(page, 'decoding-ablation-slots')
    expect(slots.data.columns).toEqual(['position', 'decoder', 'reference', 'logp_before', 'logp_after', 'delta_logp', 'rank_after', 'kl_nats', 'entered_topk', 'left_topk'])
    expectRows(slots.data.rows, slotRows(api))
    const layers = await waitForChart<DrawnTable>(page, 'decoding-ablation-layers')
    expectRows(layers.data.rows, api.layerChange.map((v, k) => [k, k === 0 ? 'embeddings' : `layer ${k - 1}`, v, api.layerChangeMasked[k]]))
    expect(await page.getByTestId(`ablation-row-${api.maskPositions[0]}-plain`).textContent()).toContain(api.slots[0].plain.logProbAfter.toFixed(3))
    await expectExports('decoding-ablation-slots', 'position,decoder,reference,logp_before,logp_after,delta_logp,rank_after,kl_nats,entered_topk,left_topk')
    await showBelowHeader('ablation')
    await page.getByTestId('ablation').screenshot({ path: join(SCREENSHOT_DIR, 'ablation.png') })

    // a term in one head of one layer: the request names it
    await page.getByTestId('ablation-kind').selectOption('term')
    await page.getByTestId('ablation-term').selectOption('c2p')
    await page.getByTestId('ablation-where').selectOption('head')
    await page.getByTestId('ablation-layer').selectOption('0')
    await page.getByTestId('ablation-head').selectOption('1')
    const sentTerm = await clickAndCapture(page, 'runAblation', () => page.getByTestId('ablation-run').click())
    expect(sentTerm.ablation).toEqual({ kind: 'term', term: 'c2p', layer: 0, head: 1 })
    const termChart = await waitForChart<DrawnTable>(page, 'decoding-ablation-layers', layers.version)
    const termApi = await callApi<AblationResult>(page, lab.token, 'runAblation', withoutJob(sentTerm))
    expect(termChart.data.rows.map((r) => r[2])).toEqual(termApi.layerChange)
    expect(termApi.layerChange[0]).toBe(0)

    // head importance: the map's table is the API's answer; the table sorts by importance
    const sentImportance = await clickAndCapture(page, 'runHeadImportance', () => page.getByTestId('importance-run').click())
    expect(withoutJob(sentImportance)).toMatchObject({ text: TEXT, decoder: 'plain' })
    const importance = await callApi<HeadImportanceResult>(page, lab.token, 'runHeadImportance', withoutJob(sentImportance))
    expect([importance.layers, importance.heads, importance.forwards]).toEqual([2, 4, 9])
    const map = await waitForChart<DrawnTable>(page, 'decoding-head-importance')
    expect(map.data.columns).toEqual(['layer', 'head', 'mean_delta_logp', ...importance.maskPositions.map((p) => `delta_logp_pos${p}`)])
    expectRows(map.data.rows, importanceRows(importance))
    const most = importanceRows(importance).sort((a, b) => a[2] - b[2] || a[0] - b[0] || a[1] - b[1])[0]
    await page.getByTestId('importance-sort-importance').click()
    expect(await page.getByTestId('importance-table').locator('tbody tr').first().getAttribute('data-testid')).toBe(`importance-row-${most[0]}-${most[1]}`)
    await expectExports('decoding-head-importance', `layer,head,mean_delta_logp,${importance.maskPositions.map((p) => `delta_logp_pos${p}`).join(',')}`)
    await showBelowHeader('importance')
    await page.getByTestId('importance').screenshot({ path: join(SCREENSHOT_DIR, 'head-importance.png') })

    // both in the session: reload, the same numbers come back from the stored runs (nothing recomputed)
    await expect
      .poll(async () => {
        const saved = (await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)).workspaces?.decoding?.view as Record<string, { runId?: string; sort?: string }> | undefined
        return [!!saved?.ablate?.runId, !!saved?.importance?.runId, saved?.importance?.sort]
      }, { timeout: 20_000 })
      .toEqual([true, true, 'importance'])
    const recomputed = await reloadWhenSaved(page, ['runAblation', 'runHeadImportance'])
    expect(await currentSessionId(page)).toBe(sessionId)
    await page.getByTestId('tab-decoding').click()
    expect((await waitForChart<DrawnTable>(page, 'decoding-head-importance')).data.rows).toEqual(map.data.rows)
    expect((await waitForChart<DrawnTable>(page, 'decoding-ablation-layers')).data.rows).toEqual(termChart.data.rows)
    expect(await page.getByTestId('importance-table').locator('tbody tr').first().getAttribute('data-testid')).toBe(`importance-row-${most[0]}-${most[1]}`)
    expect(recomputed()).toBe(0)

    // cancel: a base-shaped synthetic model (12 × 12 heads); the job stops, no run is recorded, the toy model's map stays
    await page.getByTestId('model-change').click()
    await page.getByTestId('model-kind-synthetic').check()
    await page.getByTestId('model-layers').fill('12')
    await page.getByTestId('model-hidden').fill('768')
    await page.getByTestId('model-heads').fill('12')
    await page.getByTestId('model-apply').click()
    await expect.poll(() => page.getByTestId('model-info').textContent(), { timeout: 60_000 }).toMatch(/12 layers/)
    const sentCancel = await clickAndCapture(page, 'runHeadImportance', () => page.getByTestId('importance-run').click())
    await expect.poll(() => page.getByTestId('importance-progress-message').textContent(), { timeout: 60_000 }).toMatch(/head \d+\.\d+ \(\d+ of 144 heads done\)/)
    await page.getByTestId('importance-cancel').click()
    await page.getByTestId('importance-cancelled').waitFor({ timeout: 30_000 })
    const job = (await callApi<JobInfo[]>(page, lab.token, 'listJobs')).find((j) => j.jobId === sentCancel.jobId)
    expect(job?.state).toBe('cancelled')
    expect(job?.fraction).toBeLessThan(1)
    // the session records the attempt as a cancelled run without a result
    const runs = await callApi<Array<{ status: string; result: unknown; config: { jobId?: string } }>>(page, lab.token, 'listRuns', sessionId)
    const cancelled = runs.filter((r) => r.config.jobId === sentCancel.jobId)
    expect(cancelled.map((r) => [r.status, r.result ?? null])).toEqual([['cancelled', null]])
    expect((await waitForChart<DrawnTable>(page, 'decoding-head-importance')).data.rows).toEqual(map.data.rows)
    await expect.poll(() => page.getByTestId('importance-stale').textContent()).toMatch(/toy/i)
  })
})
