// The five workspaces end to end ("five workspaces", item 7): browser mode with the default model (the bundled toy DeBERTa),
// driven in a real Chromium. For each workspace: run it with its defaults, check that every chart draws exactly
// what the lab computes for the same request (asked again through the API), export the main chart as PNG
// (2×, non-blank, decoded with node:zlib) and SVG, let the session autosave, reload the page and check the
// same charts come back with the same data, and save a screenshot of each (UPDATE_SCREENSHOTS=1: into docs/screenshots).
// Benchmarks also cancel a long run. A last test drives session management in the sidebar.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import type { Browser, Page, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type {
  AttentionResult,
  BenchmarkCase,
  BenchmarkResult,
  DecodingResult,
  ExperimentResult,
  Matrix,
  ProblemDemoResult,
  RelativePositionsResult,
  TokenPrediction,
} from '../../src/common/api'
import type { RunRecord, SessionSnapshot, SessionSummary, WorkspaceId } from '../../src/common/sessions'
import { TOY_EMD_PRESET_TEXT, TOY_PROBLEM_TEXT } from '../../src/common/toy-texts'
import { TOY_WORD_CLASSES } from '../../src/core/train/toy-language'
import { callApi, e2eSkipped, launchBrowser, startServe, type ServedLab, SCREENSHOT_DIR } from './harness'

const SCREENSHOTS = SCREENSHOT_DIR
const TOLERANCE = 1e-6
const APP_NAME = 'DeBERTa Lab'

let lab: ServedLab
let browser: Browser
let page: Page
/** The last request body each lab method received from the page */
const lastSent: Record<string, SentRequest> = {}

// ---------------------------------------------------------------------------------------------
// Chart registry (window.__debertaLabCharts) and waiting

interface HeatmapData {
  kind: 'heatmap'
  rowLabels: string[]
  colLabels: string[]
  values: Array<Array<number | null>>
}
interface SeriesData {
  kind: 'series'
  series: Array<{ name: string; type: string; points: Array<{ x: string | number; y: number | null }> }>
}
type ChartData = HeatmapData | SeriesData
interface ChartState {
  version: number
  rendered: boolean
  workspace: string
  data: ChartData
}

async function chartState(chartId: string): Promise<ChartState | null> {
  return page.evaluate((id) => {
    const charts = (globalThis as unknown as { __debertaLabCharts?: Record<string, ChartState> }).__debertaLabCharts
    const entry = charts?.[id]
    // `data` is a getter on the entry: copy it explicitly
    return entry ? { version: entry.version, rendered: entry.rendered, workspace: entry.workspace, data: entry.data } : null
  }, chartId)
}

/** Waits until the chart shows an option newer than `afterVersion` and ECharts has drawn it. */
async function waitForChart(chartId: string, afterVersion = 0): Promise<ChartState> {
  await page.waitForFunction(
    ([id, after]) => {
      const charts = (globalThis as unknown as { __debertaLabCharts?: Record<string, ChartState> }).__debertaLabCharts
      const entry = charts?.[id as string]
      return !!entry && entry.rendered && entry.version > (after as number)
    },
    [chartId, afterVersion] as const,
    { timeout: 60_000 },
  )
  const root = page.getByTestId(`chart-${chartId}`)
  expect(await root.getAttribute('data-chart-rendered')).toBe('true')
  return (await chartState(chartId))!
}

async function chartData(chartIds: string[]): Promise<Record<string, ChartData>> {
  const out: Record<string, ChartData> = {}
  for (const id of chartIds) out[id] = (await waitForChart(id)).data
  return out
}

// ---------------------------------------------------------------------------------------------
// Comparisons

function maxAbsDiff(actual: Array<number | null>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length)
  let max = 0
  actual.forEach((value, index) => {
    expect(value, `value ${index}`).not.toBeNull()
    max = Math.max(max, Math.abs((value as number) - expected[index]))
  })
  return max
}

function expectHeatmap(data: ChartData, matrix: Matrix, rowLabels: string[], colLabels: string[]): void {
  expect(data.kind).toBe('heatmap')
  const heat = data as HeatmapData
  expect(heat.rowLabels).toEqual(rowLabels)
  expect(heat.colLabels).toEqual(colLabels)
  expect(heat.values.length).toBe(matrix.rows)
  expect(matrix.data.length).toBe(matrix.rows * matrix.cols)
  expect(maxAbsDiff(heat.values.flat(), matrix.data)).toBeLessThanOrEqual(TOLERANCE)
}

function seriesNamed(data: ChartData, name: string): SeriesData['series'][number] {
  expect(data.kind).toBe('series')
  const found = (data as SeriesData).series.find((s) => s.name === name)
  expect(found, `series "${name}" in ${(data as SeriesData).series.map((s) => s.name).join(', ')}`).toBeDefined()
  return found!
}

function expectPoints(points: Array<{ x: string | number; y: number | null }>, xs: Array<string | number>, ys: number[]): void {
  expect(points.map((p) => p.x)).toEqual(xs)
  expect(maxAbsDiff(points.map((p) => p.y), ys)).toBeLessThanOrEqual(TOLERANCE)
}

/** Same structure, strings equal, numbers within TOLERANCE (chart data before and after a reload). */
function expectSameData(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expect(Math.abs(actual - expected), path).toBeLessThanOrEqual(TOLERANCE)
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true)
    expect((actual as unknown[]).length, path).toBe(expected.length)
    expected.forEach((item, index) => expectSameData((actual as unknown[])[index], item, `${path}[${index}]`))
  } else if (expected && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort())
    for (const [key, value] of Object.entries(expected)) expectSameData((actual as Record<string, unknown>)[key], value, `${path}.${key}`)
  } else {
    expect(actual, path).toEqual(expected)
  }
}

// ---------------------------------------------------------------------------------------------
// Runs: the request the workspace sent, asked again through the API

interface SentRequest {
  jobId: string
  sessionId?: string
  [key: string]: unknown
}

/** Clicks `<ws>-run` (or `button`) and returns the request body the workspace sent to `method`. */
async function clickAndCapture(method: string, click: () => Promise<void>): Promise<SentRequest> {
  const [request] = await Promise.all([page.waitForRequest((r: Request) => r.url().endsWith(`/api/${method}`), { timeout: 30_000 }), click()])
  return (request.postDataJSON() as { args: [SentRequest] }).args[0]
}

/** The same request without the job id and session (so the API call records no run in the session). */
function sameRequest(sent: SentRequest): Record<string, unknown> {
  const { jobId: _jobId, sessionId: _sessionId, ...rest } = sent
  return rest
}

async function currentSessionId(): Promise<string> {
  const current = page.locator('[data-testid="session-item"][aria-current="true"]')
  await current.waitFor({ timeout: 30_000 })
  return (await current.getAttribute('data-session-id'))!
}

// ---------------------------------------------------------------------------------------------
// Export checks

interface DecodedPng {
  width: number
  height: number
  channels: number
  pixels: Buffer
}

/** Minimal PNG decoder (8-bit, non-interlaced): chunks → IDAT → inflate → unfilter. */
function decodePng(bytes: Buffer): DecodedPng {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR')
  const width = bytes.readUInt32BE(16)
  const height = bytes.readUInt32BE(20)
  const bitDepth = bytes[24]
  const colorType = bytes[25]
  const interlace = bytes[28]
  expect(bitDepth).toBe(8)
  expect(interlace).toBe(0)
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType]
  expect(channels, `colour type ${colorType}`).toBeDefined()
  const idat: Buffer[] = []
  let offset = 8
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset)
    const type = bytes.subarray(offset + 4, offset + 8).toString('ascii')
    if (type === 'IDAT') idat.push(bytes.subarray(offset + 8, offset + 8 + length))
    if (type === 'IEND') break
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  expect(raw.length).toBe(height * (stride + 1))
  const pixels = Buffer.alloc(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = y * (stride + 1) + 1
    const row = y * stride
    const prev = row - stride
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[row + x - channels] : 0
      const b = y > 0 ? pixels[prev + x] : 0
      const c = x >= channels && y > 0 ? pixels[prev + x - channels] : 0
      let predictor = 0
      if (filter === 1) predictor = a
      else if (filter === 2) predictor = b
      else if (filter === 3) predictor = (a + b) >> 1
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      } else expect(filter, `filter type of row ${y}`).toBe(0)
      pixels[row + x] = (raw[line + x] + predictor) & 0xff
    }
  }
  return { width, height, channels, pixels }
}

/** Share of pixels that differ from the top-left (background) pixel, and the number of distinct colours. */
function pixelStats(png: DecodedPng): { inked: number; colours: number } {
  const { pixels, channels } = png
  const background = pixels.subarray(0, channels)
  const colours = new Set<string>()
  let inked = 0
  const count = png.width * png.height
  for (let p = 0; p < count; p++) {
    const px = pixels.subarray(p * channels, p * channels + channels)
    if (!px.equals(background)) inked++
    if (colours.size < 5000) colours.add(px.toString('hex'))
  }
  return { inked: inked / count, colours: colours.size }
}

/** Exports PNG and SVG of a chart and checks both are valid, non-blank images of the chart's size. */
async function expectExports(chartId: string, minInked: number): Promise<void> {
  const chart = page.getByTestId(`chart-${chartId}`)
  await chart.scrollIntoViewIfNeeded()
  const box = await chart.locator('.chart-box').boundingBox()
  expect(box).not.toBeNull()

  const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-png`).click()])
  expect(png.suggestedFilename()).toMatch(new RegExp(`^${chartId}-.*\\.png$`))
  const pngBytes = readFileSync((await png.path())!)
  expect(pngBytes.length).toBeGreaterThan(5_000)
  const decoded = decodePng(pngBytes)
  expect(Math.abs(decoded.width - box!.width * 2)).toBeLessThanOrEqual(2)
  expect(Math.abs(decoded.height - box!.height * 2)).toBeLessThanOrEqual(2)
  const stats = pixelStats(decoded)
  expect(stats.inked, `${chartId}: share of non-background pixels`).toBeGreaterThan(minInked)
  expect(stats.colours, `${chartId}: distinct colours`).toBeGreaterThan(10)
  await expect.poll(() => page.getByTestId(`chart-${chartId}-export-status`).textContent()).toMatch(/kept in session/)

  const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-svg`).click()])
  expect(svg.suggestedFilename()).toMatch(new RegExp(`^${chartId}-.*\\.svg$`))
  const svgText = readFileSync((await svg.path())!, 'utf8')
  expect(svgText.trimStart()).toMatch(/^<svg[\s>]/)
  expect(svgText).toMatch(/<\/svg>\s*$/)
  const size = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svgText)
  expect(size, 'svg width/height attributes').not.toBeNull()
  expect(Math.abs(Number(size![1]) - box!.width)).toBeLessThanOrEqual(1)
  expect(Math.abs(Number(size![2]) - box!.height)).toBeLessThanOrEqual(1)
  const shapes = (svgText.match(/<(path|rect|image)[\s/>]/g) ?? []).length
  expect(shapes, `${chartId}: shapes in the SVG`).toBeGreaterThan(5)
  await expect.poll(() => page.getByTestId(`chart-${chartId}-export-status`).textContent()).toMatch(/SVG saved · kept in session/)
}

// ---------------------------------------------------------------------------------------------
// Session persistence

/** Waits until the workspace's state (with the run on screen) is stored in the session. */
async function waitSaved(sessionId: string, workspace: WorkspaceId, jobId: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const snapshot = await callApi<SessionSnapshot>(page, lab.token, 'openSession', sessionId)
        return snapshot.workspaces?.[workspace]?.view?.resultJobId
      },
      { timeout: 20_000 },
    )
    .toBe(jobId)
  await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved')
}

/** Reloads the page (token from sessionStorage) and checks the session, tab and charts come back the same. */
async function reloadAndCompare(workspace: WorkspaceId, sessionId: string, before: Record<string, ChartData>): Promise<void> {
  await page.reload()
  await page.getByTestId('app').waitFor()
  expect(page.url()).not.toContain('token=')
  if ((await currentSessionId()) !== sessionId) {
    await page.locator(`[data-testid="session-item"][data-session-id="${sessionId}"] [data-testid="session-open"]`).click()
  }
  expect(await currentSessionId()).toBe(sessionId)
  await page.getByTestId(`tab-${workspace}`).click()
  await page.getByTestId(`panel-${workspace}`).waitFor({ state: 'visible' })
  const after = await chartData(Object.keys(before))
  for (const id of Object.keys(before)) expectSameData(after[id], before[id], id)
  expect(await page.getByTestId(`${workspace === 'benchmarks' ? 'bench' : workspace}-error`).count()).toBe(0)
}

/** Scrolls the workspace so that `selector` (its controls) is at the top, then saves the screenshot. */
async function screenshot(workspace: WorkspaceId, selector: string): Promise<void> {
  await page.locator(selector).first().evaluate((el) => {
    type Scrollable = { scrollIntoView(options: unknown): void; closest(s: string): { scrollTop: number } | null }
    const node = el as unknown as Scrollable
    node.scrollIntoView({ block: 'start' })
    const panels = node.closest('.panels')
    if (panels) panels.scrollTop = Math.max(0, panels.scrollTop - 12)
  })
  await page.waitForTimeout(150)
  await page.screenshot({ path: join(SCREENSHOTS, `${workspace}.png`) })
}

async function openTab(workspace: WorkspaceId): Promise<void> {
  await page.getByTestId(`tab-${workspace}`).click()
  await page.getByTestId(`panel-${workspace}`).waitFor({ state: 'visible' })
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(e2eSkipped)('the five workspaces in a browser', () => {
  beforeAll(async () => {
    lab = await startServe()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true })
    page.on('request', (request) => {
      const method = /\/api\/(run\w+)$/.exec(request.url())?.[1]
      if (method) lastSent[method] = (request.postDataJSON() as { args: [SentRequest] }).args[0]
    })
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
    await currentSessionId()
    // the model is described (not "loading…") before the first run
    await page.waitForFunction(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document
      const text = doc.querySelector('[data-testid="status-model"]')?.textContent ?? ''
      return text.includes('toy DeBERTa') && !text.includes('loading')
    }, undefined, { timeout: 30_000 })
    mkdirSync(SCREENSHOTS, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
  })

  it('problem: R² and the four charts equal runProblemDemo, export, survive a reload', async () => {
    await openTab('problem')
    const sessionId = await currentSessionId()
    const sent = await clickAndCapture('runProblemDemo', () => page.getByTestId('problem-run').click())
    expect(sent.sessionId).toBe(sessionId)
    expect(sent.text).toBe(TOY_PROBLEM_TEXT)
    const result = await callApi<ProblemDemoResult>(page, lab.token, 'runProblemDemo', sameRequest(sent))
    const tokens = result.tokens.tokens

    const bert = await waitForChart('problem-bert-attention')
    expectHeatmap(bert.data, result.bertAttention, tokens, tokens)
    const term = await waitForChart('problem-deberta-term')
    expectHeatmap(term.data, result.debertaTerms.c2p!, tokens, tokens)
    const embedding = await waitForChart('problem-embedding')
    expectHeatmap(embedding.data, result.sum, tokens, Array.from({ length: result.sum.cols }, (_, k) => String(k)))
    expect(result.interference.sameWord.length).toBeGreaterThan(0)
    const sameWord = await waitForChart('problem-same-word')
    const categories = result.interference.sameWord.map((e) => `${e.token} @${e.positions[0]},${e.positions[1]}`)
    expectPoints(seriesNamed(sameWord.data, 'content only').points, categories, result.interference.sameWord.map((e) => e.cosineContent))
    expectPoints(seriesNamed(sameWord.data, 'content + position').points, categories, result.interference.sameWord.map((e) => e.cosineSum))

    const r2Content = Number(await page.getByTestId('problem-r2-content').getAttribute('data-value'))
    const r2Position = Number(await page.getByTestId('problem-r2-position').getAttribute('data-value'))
    expect(Math.abs(r2Content - result.interference.contentRecoveryR2)).toBeLessThanOrEqual(TOLERANCE)
    expect(Math.abs(r2Position - result.interference.positionRecoveryR2)).toBeLessThanOrEqual(TOLERANCE)
    expect(await page.getByTestId('problem-r2-content').textContent()).toBe(result.interference.contentRecoveryR2.toFixed(4))

    // switching the term re-draws the same chart with another matrix of the same result
    const v = term.version
    await page.getByTestId('problem-term-p2c').check()
    expectHeatmap((await waitForChart('problem-deberta-term', v)).data, result.debertaTerms.p2c!, tokens, tokens)
    await page.getByTestId('problem-term-c2p').check()
    await waitForChart('problem-deberta-term', v + 1)

    await expectExports('problem-bert-attention', 0.2)
    await screenshot('problem', '[data-testid="ws-problem"] form')

    await waitSaved(sessionId, 'problem', sent.jobId)
    const before = await chartData(['problem-bert-attention', 'problem-deberta-term', 'problem-embedding', 'problem-same-word'])
    await reloadAndCompare('problem', sessionId, before)
    expect(Number(await page.getByTestId('problem-r2-content').getAttribute('data-value'))).toBeCloseTo(result.interference.contentRecoveryR2, 6)
    expect(await page.getByTestId('problem-text').inputValue()).toBe(sent.text)
  })

  it('attention: probabilities, terms and shares equal runAttention (also after a layer/head change), export, reload', async () => {
    await openTab('attention')
    const sessionId = await currentSessionId()
    const sent = await clickAndCapture('runAttention', () => page.getByTestId('attention-run').click())
    expect(sent).toMatchObject({ text: 'the small dog sees the small ball near the house', layer: 0, head: 0, disabledTerms: [], p2p: false, sessionId })
    const result = await callApi<AttentionResult>(page, lab.token, 'runAttention', sameRequest(sent))
    const tokens = result.tokens.tokens
    expect(tokens.length).toBeGreaterThan(5)

    const main = await waitForChart('attention-main')
    expectHeatmap(main.data, result.probabilities, tokens, tokens)
    // each term, then the summed scores, on the same chart
    let version = main.version
    for (const view of ['c2c', 'c2p', 'p2c', 'scores'] as const) {
      await page.getByTestId(`attention-view-${view}`).check()
      const shown = await waitForChart('attention-main', version)
      version = shown.version
      expectHeatmap(shown.data, view === 'scores' ? result.scores : result.terms[view]!, tokens, tokens)
    }
    await page.getByTestId('attention-view-probabilities').check()
    version = (await waitForChart('attention-main', version)).version

    const shares = await waitForChart('attention-shares')
    const { layers, heads, terms, values } = result.shares
    const labels = Array.from({ length: layers * heads }, (_, k) => `L${Math.floor(k / heads)} H${k % heads}`)
    terms.forEach((t, index) => {
      const expected = labels.map((_, k) => values[k * terms.length + index])
      expectPoints(seriesNamed(shares.data, t).points, labels, expected)
    })

    // another layer and head: the workspace re-runs by itself (after a short pause); the chart follows
    // (the default toy model has 2 layers of 4 heads)
    await page.getByTestId('attention-layer').selectOption('1')
    await page.getByTestId('attention-head').selectOption('3')
    await expect.poll(() => lastSent.runAttention && [lastSent.runAttention.layer, lastSent.runAttention.head], { timeout: 10_000 }).toEqual([1, 3])
    const resent = lastSent.runAttention
    expect(resent.jobId).not.toBe(sent.jobId)
    const result2 = await callApi<AttentionResult>(page, lab.token, 'runAttention', sameRequest(resent))
    expect([result2.layer, result2.head]).toEqual([1, 3])
    await expect
      .poll(async () => {
        const state = await chartState('attention-main')
        if (!state?.rendered || state.version <= version || state.data.kind !== 'heatmap') return false
        return maxAbsDiff(state.data.values.flat(), result2.probabilities.data) <= TOLERANCE
      }, { timeout: 20_000 })
      .toBe(true)
    expectHeatmap((await waitForChart('attention-main')).data, result2.probabilities, tokens, tokens)

    await expectExports('attention-main', 0.2)
    await screenshot('attention', '[data-testid="ws-attention"] form')

    await waitSaved(sessionId, 'attention', resent.jobId)
    const before = await chartData(['attention-main', 'attention-shares'])
    await reloadAndCompare('attention', sessionId, before)
    expect(await page.getByTestId('attention-layer').inputValue()).toBe('1')
    expect(await page.getByTestId('attention-head').inputValue()).toBe('3')
  })

  it('attention on a 300-word text: the large result is stored apart from the run list and comes back after a reload', async () => {
    await openTab('attention')
    const sessionId = await currentSessionId()
    const words = ['the', 'small', 'dog', 'sees', 'a', 'red', 'ball', 'near', 'the', 'house']
    await page.getByTestId('attention-text').fill(Array.from({ length: 300 }, (_, k) => words[k % words.length]).join(' '))
    const sent = await clickAndCapture('runAttention', () => page.getByTestId('attention-run').click())
    const result = await callApi<AttentionResult>(page, lab.token, 'runAttention', sameRequest(sent))
    expect(result.tokens.tokens.length).toBe(302)
    await expect
      .poll(async () => {
        const state = await chartState('attention-main')
        return !!state?.rendered && state.data.kind === 'heatmap' && state.data.rowLabels.length === 302
      }, { timeout: 60_000 })
      .toBe(true)
    expectHeatmap((await waitForChart('attention-main')).data, result.probabilities, result.tokens.tokens, result.tokens.tokens)
    await waitSaved(sessionId, 'attention', sent.jobId)
    // the run list holds a reference, not the ~8 MB of matrices; getRunResult returns them
    const runs = await callApi<RunRecord[]>(page, lab.token, 'listRuns', sessionId)
    const stored = runs.find((r) => (r.config as { jobId?: string } | null)?.jobId === sent.jobId)!
    expect(stored.result).toMatchObject({ $storedResult: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number) })
    expect((stored.result as { bytes: number }).bytes).toBeGreaterThan(1 << 20)
    const full = await callApi<AttentionResult>(page, lab.token, 'getRunResult', stored.id)
    expect(full.probabilities.data.length).toBe(302 * 302)
    const before = await chartData(['attention-main', 'attention-shares'])
    await reloadAndCompare('attention', sessionId, before)
    // back to the default sentence for the tests that follow
    await page.getByTestId('attention-text').fill('the small dog sees the small ball near the house')
  })

  it('relative positions: buckets, δ, curve and pair comparison equal runRelativePositions, export, reload', async () => {
    await openTab('relative')
    const sessionId = await currentSessionId()
    const sent = await clickAndCapture('runRelativePositions', () => page.getByTestId('relative-run').click())
    expect(sent).toMatchObject({ text: 'the small dog sees the small ball near the house', compareText: 'quietly the small dog sees the small ball near the house', clipK: 4 })
    const result = await callApi<RelativePositionsResult>(page, lab.token, 'runRelativePositions', sameRequest(sent))
    const tokens = result.tokens.tokens

    const matrix = await waitForChart('relative-matrix')
    expectHeatmap(matrix.data, result.buckets, tokens, tokens)
    await page.getByTestId('relative-matrix-delta').check()
    const delta = await waitForChart('relative-matrix', matrix.version)
    expectHeatmap(delta.data, result.delta, tokens, tokens)
    // δ(i, j) = i − j
    expect(result.delta.data).toEqual(Array.from({ length: tokens.length ** 2 }, (_, k) => Math.floor(k / tokens.length) - (k % tokens.length)))
    await page.getByTestId('relative-matrix-buckets').check()
    await waitForChart('relative-matrix', delta.version)

    const curve = await waitForChart('relative-curve')
    expect(curve.data.kind).toBe('series')
    const [main, clipped] = (curve.data as SeriesData).series
    expectPoints(main.points, result.curve.distances, result.curve.buckets)
    expect(result.clipping?.k).toBe(4)
    expect(clipped.name).toBe('clipped at k = 4')
    expectPoints(clipped.points, result.clipping!.distances, result.clipping!.ids)

    expect(result.comparison?.pairs.length).toBeGreaterThan(0)
    const comparison = await waitForChart('relative-comparison')
    const pairs = result.comparison!.pairs
    const pick: Record<string, (p: (typeof pairs)[number]) => number> = {
      'c2p in A': (p) => p.c2pA,
      'c2p in B': (p) => p.c2pB,
      'p2c in A': (p) => p.p2cA,
      'p2c in B': (p) => p.p2cB,
    }
    for (const [name, get] of Object.entries(pick)) {
      const series = seriesNamed(comparison.data, name)
      expect(maxAbsDiff(series.points.map((p) => p.y), pairs.map(get))).toBeLessThanOrEqual(TOLERANCE)
    }

    await expectExports('relative-matrix', 0.2)
    await screenshot('relative', '[data-testid="ws-relative"] form')

    await waitSaved(sessionId, 'relative', sent.jobId)
    const before = await chartData(['relative-matrix', 'relative-curve', 'relative-comparison'])
    await reloadAndCompare('relative', sessionId, before)
  })

  it('decoding: plain and EMD top-k equal runDecoding (the default two-slot preset, a short two-mask preset), export, reload', async () => {
    await openTab('decoding')
    const sessionId = await currentSessionId()
    const sent = await clickAndCapture('runDecoding', () => page.getByTestId('decoding-run').click())
    expect(sent).toMatchObject({ text: TOY_EMD_PRESET_TEXT, topK: 10 })
    const result = await callApi<DecodingResult>(page, lab.token, 'runDecoding', sameRequest(sent))
    expect(result.predictions.length).toBe(2)
    // the default preset: two slots with the same words within ±4 tokens whose class only absolute position
    // decides — the EMD (absolute positions) puts an animal or person first and a thing second; the plain head
    // (relative positions only) cannot decide: its top 10 mixes both classes at both slots
    const ANIMATE: readonly string[] = TOY_WORD_CLASSES.animate
    const THINGS: readonly string[] = TOY_WORD_CLASSES.thing
    expect(ANIMATE).toContain(result.predictions[0].emd[0].token)
    expect(THINGS).toContain(result.predictions[1].emd[0].token)
    for (const entry of result.predictions) {
      expect(entry.plain.some((p) => ANIMATE.includes(p.token))).toBe(true)
      expect(entry.plain.some((p) => THINGS.includes(p.token))).toBe(true)
    }

    const expectTopK = (data: ChartData, predictions: TokenPrediction[]): void => {
      expect(predictions.length).toBe(10)
      expect(data.kind).toBe('series')
      const [bars] = (data as SeriesData).series
      expectPoints(bars.points, predictions.map((p) => p.token), predictions.map((p) => p.probability))
    }
    const checkAll = async (res: DecodingResult, afterVersion = 0): Promise<void> => {
      for (const [index, entry] of res.predictions.entries()) {
        expectTopK((await waitForChart(`decoding-plain-${index}`, afterVersion)).data, entry.plain)
        expectTopK((await waitForChart(`decoding-emd-${index}`, afterVersion)).data, entry.emd)
        // the table under the charts shows the same ranking
        const firstRow = page.getByTestId(`decoding-table-${index}`).locator('tbody tr').first()
        expect(await firstRow.locator('td').nth(1).textContent()).toBe(entry.plain[0].token)
        expect(await firstRow.locator('td').nth(3).textContent()).toBe(entry.emd[0].token)
      }
      expect(await page.locator('[data-testid^="decoding-mask-"]').count()).toBe(res.predictions.length)
    }
    await page.getByTestId('decoding-mask-1').waitFor({ timeout: 30_000 })
    await checkAll(result)
    expect(result.predictions.map((p) => p.position)).toEqual(result.tokens.tokens.flatMap((t, k) => (t === '[MASK]' ? [k] : [])))

    // the two-mask preset: one pair of charts per mask
    await page.getByTestId('decoding-preset-5').click()
    expect(await page.getByTestId('decoding-text').inputValue()).toBe('the small [MASK] sees the small [MASK] near the house')
    const sent2 = await clickAndCapture('runDecoding', () => page.getByTestId('decoding-run').click())
    const result2 = await callApi<DecodingResult>(page, lab.token, 'runDecoding', sameRequest(sent2))
    expect(result2.predictions.length).toBe(2)
    // same left context, subject and object: the roles follow from the verb's side, so both heads get them
    for (const head of ['plain', 'emd'] as const) {
      expect(ANIMATE).toContain(result2.predictions[0][head][0].token)
      expect(THINGS).toContain(result2.predictions[1][head][0].token)
    }
    // the sections are keyed by mask position, so the charts are new components: wait for the new positions
    for (const [index, entry] of result2.predictions.entries()) {
      await expect.poll(() => page.getByTestId(`decoding-mask-${index}`).locator('h3').textContent(), { timeout: 30_000 }).toBe(`[MASK] at position ${entry.position}`)
    }
    await checkAll(result2)

    await expectExports('decoding-emd-0', 0.01)
    await screenshot('decoding', '[data-testid="ws-decoding"] .presets')

    await waitSaved(sessionId, 'decoding', sent2.jobId)
    const before = await chartData(['decoding-plain-0', 'decoding-emd-0', 'decoding-plain-1', 'decoding-emd-1'])
    await reloadAndCompare('decoding', sessionId, before)
    expect(await page.getByTestId('decoding-text').inputValue()).toBe(sent2.text)
  })

  it('benchmarks: a tiny speed run draws the stored result, exports, survives a reload', async () => {
    await openTab('benchmarks')
    const sessionId = await currentSessionId()
    await page.getByTestId('bench-preset').selectOption('tiny')
    await page.getByTestId('bench-seq-32').check()
    for (const seq of [64, 128, 256, 512, 1024]) await page.getByTestId(`bench-seq-${seq}`).uncheck()
    await page.getByTestId('bench-repeats').fill('1')
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/runBenchmark'), { timeout: 60_000 }),
      page.getByTestId('bench-run').click(),
      // the progress bar (runs over 300 ms) or the result
      page.locator('[data-testid="bench-progress"], [data-testid="chart-benchmarks-speed"][data-chart-rendered="true"]').first().waitFor({ timeout: 60_000 }),
    ])
    const sent = (response.request().postDataJSON() as { args: [SentRequest] }).args[0]
    expect(sent).toMatchObject({ preset: 'tiny', seqs: [32], repeats: 1, parts: ['attention', 'layer'], variants: ['disentangled', 'standard'], sessionId })
    const answer = (await response.json()) as { ok: boolean; value: BenchmarkResult }
    expect(answer.ok).toBe(true)
    const result = answer.value
    expect(result.preset).toBe('tiny')
    expect(result.cases.length).toBe(4)

    // what the lab stored for this run is what the chart draws (timings cannot be recomputed)
    const runs = await callApi<RunRecord[]>(page, lab.token, 'listRuns', sessionId)
    const stored = runs.find((r) => r.id === result.runId)
    expect(stored?.status).toBe('done')
    expectSameData(stored!.result, { ...result, runId: undefined, ...(stored!.result as object) })
    expectSameData((stored!.result as BenchmarkResult).cases, result.cases)

    const speed = await waitForChart('benchmarks-speed')
    const rows = (variant: BenchmarkCase['variant']) => result.cases.filter((c) => c.part === 'attention' && c.variant === variant)
    for (const [variant, label] of [['disentangled', 'disentangled (DeBERTa)'], ['standard', 'standard (BERT)']] as const) {
      expectPoints(seriesNamed(speed.data, `${label} measured`).points, rows(variant).map((c) => c.seq), rows(variant).map((c) => c.medianMs))
      expectPoints(seriesNamed(speed.data, `${label} predicted`).points, rows(variant).map((c) => c.seq), rows(variant).map((c) => c.predictedMs))
    }
    expect(await page.getByTestId('bench-run-item').count()).toBe(1)
    expect(await page.getByTestId('bench-error').count()).toBe(0)

    // a one-point line chart is sparse: few inked pixels are expected
    await expectExports('benchmarks-speed', 0.002)

    await waitSaved(sessionId, 'benchmarks', sent.jobId)
    const before = await chartData(['benchmarks-speed'])
    await reloadAndCompare('benchmarks', sessionId, before)
    expect(await page.getByTestId('bench-preset').inputValue()).toBe('tiny')
    expect(await page.getByTestId('bench-repeats').inputValue()).toBe('1')
  })

  it('benchmarks: Cancel stops a long run, shows the cancelled state and keeps the previous result', async () => {
    await openTab('benchmarks')
    const speed = await waitForChart('benchmarks-speed')
    await page.getByTestId('bench-preset').selectOption('small')
    for (const seq of [64, 128, 256, 512, 1024]) await page.getByTestId(`bench-seq-${seq}`).check()
    await page.getByTestId('bench-repeats').fill('20')
    const sent = await clickAndCapture('runBenchmark', () => page.getByTestId('bench-run').click())
    await page.getByTestId('bench-progress').waitFor({ timeout: 10_000 })
    expect(await page.getByTestId('bench-run').isDisabled()).toBe(true)
    const began = Date.now()
    await page.getByTestId('bench-cancel').click()
    await page.getByTestId('bench-cancelled').waitFor({ timeout: 60_000 })
    const cancelMs = Date.now() - began
    expect(await page.getByTestId('bench-progress').count()).toBe(0)
    expect(await page.getByTestId('bench-error').count()).toBe(0)
    expect(await page.getByTestId('bench-run').isEnabled()).toBe(true)
    // the previous result is still on screen, unchanged
    const after = await chartState('benchmarks-speed')
    expect(after?.version).toBe(speed.version)
    expectSameData(after?.data, speed.data)
    // the lab recorded the run as cancelled, not failed
    const runs = await callApi<RunRecord[]>(page, lab.token, 'listRuns', await currentSessionId())
    const cancelled = runs.find((r) => (r.config as { jobId?: string } | null)?.jobId === sent.jobId)
    expect(cancelled?.status).toBe('cancelled')
    expect(cancelMs).toBeLessThan(60_000)

    // after a cancel the next run works: tiny, T = 32…256, one repeat
    await page.getByTestId('bench-preset').selectOption('tiny')
    for (const seq of [512, 1024]) await page.getByTestId(`bench-seq-${seq}`).uncheck()
    await page.getByTestId('bench-repeats').fill('1')
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/runBenchmark'), { timeout: 60_000 }), page.getByTestId('bench-run').click()])
    const result = ((await response.json()) as { value: BenchmarkResult }).value
    expect(result.cases.length).toBe(4 * 4)
    const drawn = await waitForChart('benchmarks-speed', speed.version)
    const rows = result.cases.filter((c) => c.part === 'attention' && c.variant === 'disentangled')
    expectPoints(seriesNamed(drawn.data, 'disentangled (DeBERTa) measured').points, [32, 64, 128, 256], rows.map((c) => c.medianMs))
    expect(await page.getByTestId('bench-cancelled').count()).toBe(0)
    await expect.poll(() => page.getByTestId('bench-run-item').count()).toBe(2)
    await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved')
    await screenshot('benchmarks', '[data-testid="benchmarks-run"]')
  })

  it('experiments: pause, resume and cancel a training run; a smoke run draws the recorded result and survives a reload', async () => {
    await openTab('benchmarks')
    const sessionId = await currentSessionId()
    const live = 'experiments-loss'

    // a long run (default budget): Pause stops the training, Resume continues it, Cancel ends it
    await page.getByTestId('experiments-experiment').selectOption('terms')
    await page.getByTestId('experiments-budget').selectOption('default')
    await page.getByTestId('experiments-seeds').fill('3')
    const long = await clickAndCapture('runExperiment', () => page.getByTestId('experiments-run').click())
    expect(long).toMatchObject({ experiment: 'terms', budget: 'default', seeds: 3, sessionId })
    await page.getByTestId('experiments-progress').waitFor({ timeout: 30_000 })
    await waitForChart(live) // the live loss curve is drawing
    await page.getByTestId('experiments-pause').click()
    await expect.poll(() => page.getByTestId('experiments-pause').textContent()).toContain('Resume')
    await expect.poll(() => page.getByTestId('experiments-progress-message').textContent()).toMatch(/^paused/)
    await page.waitForTimeout(500) // the step under way finishes and its loss arrives
    const pausedAt = (await chartState(live))!.version
    await page.waitForTimeout(1500)
    expect((await chartState(live))!.version, 'no training step while paused').toBe(pausedAt)
    await page.getByTestId('experiments-pause').click()
    await expect.poll(() => page.getByTestId('experiments-pause').textContent()).toContain('Pause')
    await waitForChart(live, pausedAt) // training goes on after Resume
    await page.getByTestId('experiments-cancel').click()
    await page.getByTestId('experiments-cancelled').waitFor({ timeout: 30_000 })
    const afterCancel = await callApi<RunRecord[]>(page, lab.token, 'listRuns', sessionId)
    expect(afterCancel.find((r) => (r.config as { jobId?: string } | null)?.jobId === long.jobId)?.status).toBe('cancelled')

    // a smoke run to completion: the summary chart draws the means the lab recorded for the run
    await page.getByTestId('experiments-experiment').selectOption('length')
    await page.getByTestId('experiments-budget').selectOption('smoke')
    await page.getByTestId('experiments-seeds').fill('2')
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/runExperiment'), { timeout: 120_000 }),
      page.getByTestId('experiments-run').click(),
    ])
    const sent = (response.request().postDataJSON() as { args: [SentRequest] }).args[0]
    const result = ((await response.json()) as { ok: boolean; value: ExperimentResult }).value
    expect(result.seeds).toEqual([1, 2])
    const runs = await callApi<RunRecord[]>(page, lab.token, 'listRuns', sessionId)
    const stored = runs.find((r) => r.id === result.runId)
    expect(stored).toMatchObject({ kind: 'experiment', workspace: 'experiments', status: 'done' })
    expectSameData((stored!.result as ExperimentResult).variants, result.variants)
    const metric = await page.getByTestId('experiments-metric').inputValue()
    const summary = await waitForChart('experiments-summary')
    const bars = (summary.data as SeriesData).series[0]
    expectPoints(bars.points, result.variantOrder, result.variantOrder.map((v) => result.variants[v].metrics[metric].mean))
    const loss = await waitForChart(live)
    for (const curve of result.curves) expectPoints(seriesNamed(loss.data, `${curve.variant} · seed ${curve.seed}`).points, curve.losses.map((_, k) => k + 1), curve.losses)

    // the section's inputs and result are part of the session: reload, reopen, same charts, nothing retrained
    await waitSaved(sessionId, 'experiments', sent.jobId)
    const before = await chartData(['experiments-summary', live])
    let retrained = false
    const watchRetrain = (request: Request): void => {
      if (request.url().endsWith('/api/runExperiment')) retrained = true
    }
    page.on('request', watchRetrain)
    await reloadAndCompare('benchmarks', sessionId, before)
    page.off('request', watchRetrain)
    expect(retrained).toBe(false)
    expect(await page.getByTestId('experiments-experiment').inputValue()).toBe('length')
    expect(await page.getByTestId('experiments-seeds').inputValue()).toBe('2')
    expect(await page.getByTestId('experiments-metric').inputValue()).toBe(metric)
    // the per-step training accuracy of the same runs, on the same chart
    const lossVersion = (await chartState(live))!.version
    await page.getByTestId('experiments-curve-accuracy').check()
    const accuracy = await waitForChart(live, lossVersion)
    for (const curve of result.curves) {
      expect(curve.accuracies).toHaveLength(curve.losses.length)
      expectPoints(seriesNamed(accuracy.data, `${curve.variant} · seed ${curve.seed}`).points, curve.accuracies!.map((_, k) => k + 1), curve.accuracies!)
    }
    await page.getByTestId('experiments-curve-loss').check()

    // a second run; the first one can be put back on the charts from the session's list, without retraining
    await page.getByTestId('experiments-seeds').fill('1')
    const [second] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/runExperiment'), { timeout: 120_000 }),
      page.getByTestId('experiments-run').click(),
    ])
    const secondResult = ((await second.json()) as { value: ExperimentResult }).value
    expect(secondResult.seeds).toEqual([1])
    await expect.poll(() => page.getByTestId('experiments-history').locator('option').count(), { timeout: 10_000 }).toBe(2)
    expect(await page.getByTestId('experiments-history').inputValue()).toBe(secondResult.runId)
    const shownVersion = (await chartState('experiments-summary'))!.version
    await page.getByTestId('experiments-history').selectOption(result.runId!)
    const earlier = await waitForChart('experiments-summary', shownVersion)
    expectPoints((earlier.data as SeriesData).series[0].points, result.variantOrder, result.variantOrder.map((v) => result.variants[v].metrics[metric].mean))
    expect((earlier.data as SeriesData).series[0].name).toMatch(/2 seeds/)
    expect(await page.getByTestId('experiments-seeds').inputValue()).toBe('2')
    await screenshot('experiments', '[data-testid="experiments-description"]')
  })

  it('an empty text says why Run is disabled; a text at the field limit says it was cut', async () => {
    await openTab('problem')
    const field = page.getByTestId('problem-text')
    const before = await field.inputValue()
    await field.fill('   ')
    expect(await page.getByTestId('problem-run').isDisabled()).toBe(true)
    expect(await page.getByTestId('problem-empty-hint').textContent()).toMatch(/Type a sentence/)
    await field.fill('dog '.repeat(600)) // 2400 characters into a 2000-character field
    expect((await field.inputValue()).length).toBe(2000)
    expect(await page.getByTestId('problem-text-limit').textContent()).toMatch(/2,000 characters/)
    await field.fill(before)
    expect(await page.getByTestId('problem-text-limit').count()).toBe(0)
    expect(await page.getByTestId('problem-empty-hint').count()).toBe(0)
  })

  it('an experiment running for one session does not take over another session’s Experiments section', async () => {
    await openTab('benchmarks')
    const first = await currentSessionId()
    await page.getByTestId('experiments-experiment').selectOption('terms')
    await page.getByTestId('experiments-budget').selectOption('default')
    await page.getByTestId('experiments-seeds').fill('3')
    const sent = await clickAndCapture('runExperiment', () => page.getByTestId('experiments-run').click())
    await page.getByTestId('experiments-progress').waitFor({ timeout: 30_000 })
    await page.getByTestId('session-new').click()
    await expect.poll(currentSessionId).not.toBe(first)
    await openTab('benchmarks')
    // the new session: no result of its own, a note about the other session's run, no live curve of it
    await page.getByTestId('experiments-foreign').waitFor({ timeout: 10_000 })
    expect(await page.getByTestId('chart-experiments-loss').count()).toBe(0)
    await page.getByTestId('experiments-cancel').click()
    await page.getByTestId('experiments-cancelled').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('experiments-foreign').count()).toBe(0)
    const runs = await callApi<RunRecord[]>(page, lab.token, 'listRuns', first)
    expect(runs.find((r) => (r.config as { jobId?: string } | null)?.jobId === sent.jobId)?.status).toBe('cancelled')
    // back to the first session for the tests that follow
    await page.locator(`[data-testid="session-item"][data-session-id="${first}"] [data-testid="session-open"]`).click()
    await expect.poll(currentSessionId).toBe(first)
  })

  it('a reload right after a change keeps it (pending saves are sent when the page unloads)', async () => {
    await openTab('decoding')
    const sessionId = await currentSessionId()
    await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved')
    const text = 'the tired horse [MASK] the box toward the door'
    await page.getByTestId('decoding-text').fill(text)
    // no wait for the debounced autosave: reload at once
    await page.reload()
    await page.getByTestId('app').waitFor()
    expect(await currentSessionId()).toBe(sessionId)
    await openTab('decoding')
    await expect.poll(() => page.getByTestId('decoding-text').inputValue(), { timeout: 20_000 }).toBe(text)
  })

  it('manages sessions from the sidebar: new, rename, duplicate, delete and Undo; the title follows', async () => {
    const items = page.getByTestId('session-item')
    const current = page.locator('[data-testid="session-item"][aria-current="true"]')
    const count = await items.count()
    const first = await currentSessionId()

    await page.getByTestId('session-new').click()
    await expect.poll(() => items.count()).toBe(count + 1)
    await expect.poll(currentSessionId).not.toBe(first)
    const created = await currentSessionId()
    // a new session is named by its date (and renamed after the text of its first run)
    const createdName = (await current.getAttribute('data-session-name'))!
    expect(createdName).toMatch(/^Session \d{4}-\d{2}-\d{2} \d{2}:\d{2}( \(\d+\))?$/)
    await expect.poll(() => page.title()).toBe(`${createdName} — ${APP_NAME}`)
    expect(await page.getByTestId('current-session-name').textContent()).toBe(createdName)
    // a new session starts with empty workspaces
    await openTab('attention')
    await page.getByTestId('attention-empty').waitFor()

    await current.getByTestId('session-rename').click()
    const input = page.getByTestId('session-rename-input')
    await input.fill('QA rename check')
    await input.press('Enter')
    await expect.poll(() => current.getAttribute('data-session-name')).toBe('QA rename check')
    await expect.poll(() => page.title()).toBe(`QA rename check — ${APP_NAME}`)
    expect(await page.getByTestId('current-session-name').textContent()).toBe('QA rename check')
    const renamed = (await callApi<SessionSummary[]>(page, lab.token, 'listSessions')).find((s) => s.id === created)
    expect(renamed?.name).toBe('QA rename check')

    await current.getByTestId('session-duplicate').click()
    await expect.poll(() => items.count()).toBe(count + 2)
    await expect.poll(currentSessionId).not.toBe(created)
    const copy = await currentSessionId()
    const copyName = (await current.getAttribute('data-session-name'))!
    expect(copyName).toContain('QA rename check')
    await expect.poll(() => page.title()).toBe(`${copyName} — ${APP_NAME}`)

    await current.getByTestId('session-delete').click()
    await expect.poll(() => items.count()).toBe(count + 1)
    expect(await page.locator(`[data-testid="session-item"][data-session-id="${copy}"]`).count()).toBe(0)
    await expect.poll(currentSessionId).not.toBe(copy)
    const toast = page.getByTestId('toast').filter({ hasText: copyName })
    await toast.waitFor()
    expect(await toast.getByTestId('toast-message').textContent()).toBe(`Deleted “${copyName}”.`)
    expect(await page.title()).not.toContain(copyName)

    await toast.getByTestId('toast-action').click()
    await expect.poll(() => items.count()).toBe(count + 2)
    await expect.poll(currentSessionId).toBe(copy)
    await expect.poll(() => page.title()).toBe(`${copyName} — ${APP_NAME}`)
    const restored = (await callApi<SessionSummary[]>(page, lab.token, 'listSessions')).find((s) => s.id === copy)
    expect(restored).toBeDefined()
    expect(restored?.deletedAt ?? null).toBeNull()

    // the first session (with the workspaces' results) is still there and opens again
    await page.locator(`[data-testid="session-item"][data-session-id="${first}"] [data-testid="session-open"]`).click()
    await expect.poll(currentSessionId).toBe(first)
    await waitForChart('attention-main')
  })
})
