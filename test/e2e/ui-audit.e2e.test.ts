// The new-user audit (issue 13) in a real Chromium against browser mode: a result states its inputs and marks
// changed controls after a reopen (3); a large stored result shows "loading", never "Press Run" (4); the SVG
// export of a raster heat map renders like the PNG (5); sessions get names from their content, a search box,
// dates, a skip link and one Tab stop for the list; an attention cell's read-out has every term, δ and the
// buckets (12). Screenshots of each state at 900×700 and 1920×1080 in both themes go to the screenshot folder.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { topKChartHeight, topKLabelInterval } from '../../src/renderer/charts/topk'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SessionSummary } from '../../src/common/sessions'
import { callApi, e2eSkipped, launchBrowser, startServe, type ServedLab, SCREENSHOT_DIR } from './harness'

let lab: ServedLab
let browser: Browser
let page: Page

const SENTENCE = 'the small dog sees the small ball near the house'
/** ~180 tokens: a raster heat map (T > 128) and a result stored apart from the run list (> 1 MiB of JSON) */
const LONG_TEXT = Array.from({ length: 18 }, () => SENTENCE).join(' ')
/** over the 1024-token limit of the workspaces, within the field's 4000 characters: 1500 one-letter words */
const TOO_LONG_TEXT = Array.from({ length: 1500 }, () => 'a').join(' ')

async function openTab(workspace: string): Promise<void> {
  await page.getByTestId(`tab-${workspace}`).click()
  await page.getByTestId(`panel-${workspace}`).waitFor({ state: 'visible' })
}

async function waitForChart(chartId: string, afterVersion = 0): Promise<number> {
  const handle = await page.waitForFunction(
    ([id, after]) => {
      const charts = (globalThis as unknown as { __debertaLabCharts?: Record<string, { rendered: boolean; version: number }> }).__debertaLabCharts
      const entry = charts?.[id as string]
      return entry && entry.rendered && entry.version > (after as number) ? entry.version : 0
    },
    [chartId, afterVersion] as const,
    { timeout: 60_000 },
  )
  return (await handle.jsonValue()) as number
}

async function saved(): Promise<void> {
  await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved')
}

async function currentSession(): Promise<{ id: string; name: string }> {
  const current = page.locator('[data-testid="session-item"][aria-current="true"]')
  await current.waitFor({ timeout: 30_000 })
  return { id: (await current.getAttribute('data-session-id'))!, name: (await current.getAttribute('data-session-name'))! }
}

/** Screenshots of the page at the two sizes in both themes, named `ui-audit-<name>-<size>-<theme>.png`. */
async function screenshots(name: string, scrollTo?: string): Promise<void> {
  const original = page.viewportSize()!
  for (const [width, height] of [
    [900, 700],
    [1920, 1080],
  ]) {
    await page.setViewportSize({ width, height })
    for (const theme of ['light', 'dark']) {
      const toggle = page.getByTestId('theme-toggle')
      if ((await toggle.getAttribute('data-theme-current')) !== theme) await toggle.click()
      await expect.poll(() => toggle.getAttribute('data-theme-current')).toBe(theme)
      if (scrollTo) await page.getByTestId(scrollTo).scrollIntoViewIfNeeded()
      await page.waitForTimeout(300)
      await page.screenshot({ path: join(SCREENSHOT_DIR, `ui-audit-${name}-${width}x${height}-${theme}.png`) })
    }
  }
  const toggle = page.getByTestId('theme-toggle')
  if ((await toggle.getAttribute('data-theme-current')) !== 'light') await toggle.click()
  await page.setViewportSize(original)
}

/**
 * Renders a PNG and an SVG export in Chromium at the same small size and compares them pixel by pixel:
 * mean absolute difference per channel and the share of pixels that differ by more than 64 in some channel.
 */
async function compareRenders(png: Buffer, svg: string, width: number, height: number): Promise<{ mean: number; far: number; inkedSvg: number }> {
  const blank = await browser.newPage()
  try {
    // DOM code as text: this file is type-checked without the DOM library
    const source = `async ({ png, svg, width, height }) => {
      const load = (src) => new Promise((resolve, reject) => {
        const image = new Image()
        image.onload = () => resolve(image)
        image.onerror = () => reject(new Error('cannot load ' + src.slice(0, 30)))
        image.src = src
      })
      const pixels = (image) => {
        const canvas = document.createElement('canvas')
        canvas.width = width
        canvas.height = height
        const context = canvas.getContext('2d')
        context.drawImage(image, 0, 0, width, height)
        return context.getImageData(0, 0, width, height).data
      }
      const a = pixels(await load('data:image/png;base64,' + png))
      const b = pixels(await load('data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(svg)))))
      let total = 0, far = 0, inked = 0
      for (let p = 0; p < width * height; p++) {
        let worst = 0
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(a[p * 4 + c] - b[p * 4 + c])
          total += d
          worst = Math.max(worst, d)
        }
        if (worst > 64) far++
        if (Math.abs(b[p * 4] - b[0]) + Math.abs(b[p * 4 + 1] - b[1]) + Math.abs(b[p * 4 + 2] - b[2]) > 30) inked++
      }
      return { mean: total / (width * height * 3), far: far / (width * height), inkedSvg: inked / (width * height) }
    }`
    return (await blank.evaluate(`(${source})(${JSON.stringify({ png: png.toString('base64'), svg, width, height })})`)) as { mean: number; far: number; inkedSvg: number }
  } finally {
    await blank.close()
  }
}

/** An attribute of the focused element. */
async function focused(attribute: string): Promise<string | null> {
  return (await page.evaluate(`document.activeElement?.getAttribute(${JSON.stringify(attribute)}) ?? null`)) as string | null
}

describe.skipIf(e2eSkipped)('new-user audit fixes in a browser', () => {
  beforeAll(async () => {
    lab = await startServe()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true })
    // Records, across the reloads, whether the attention workspace ever said "Press Run" and whether it said "loading".
    await page.addInitScript(`
      const seen = { empty: false, loading: false }
      globalThis.__restoreSeen = seen
      const check = () => {
        if (document.querySelector('[data-testid="attention-empty"]')) seen.empty = true
        if (document.querySelector('[data-testid="attention-loading"]')) seen.loading = true
      }
      new MutationObserver(check).observe(document, { childList: true, subtree: true })
    `)
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
    await currentSession()
    mkdirSync(SCREENSHOT_DIR, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
  })

  it('a result states its inputs; after a failed run and a reopen the changed controls are marked (3), and the stored result shows loading, not "Press Run" (4)', async () => {
    const first = await currentSession()
    // a new session is named by its date
    expect(first.name).toMatch(/^Session \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)
    await openTab('attention')
    await page.getByTestId('attention-text').fill(LONG_TEXT)
    await page.getByTestId('attention-run').click()
    await waitForChart('attention-main')
    expect(await page.getByTestId('attention-result-head').textContent()).toContain('0')
    expect(await page.getByTestId('attention-result-model').textContent()).toContain('toy DeBERTa')
    expect(await page.getByTestId('attention-changed').count()).toBe(0)
    // the session is now named after the text of its first run
    await expect.poll(async () => (await currentSession()).name).toMatch(/^Attention: the small dog sees the small ball near… \(\d{4}-/)

    // a text over the limit, then head → mean: the automatic re-run fails, the old result stays
    await page.getByTestId('attention-text').fill(TOO_LONG_TEXT)
    await page.getByTestId('attention-head').selectOption('mean')
    await page.getByTestId('attention-error').waitFor({ timeout: 30_000 })
    await page.getByTestId('attention-changed').waitFor()
    expect(await page.getByTestId('attention-changed').textContent()).toMatch(/Changed since this result: text, head — Run to update\./)
    await saved()

    // reopen: the controls come back as left (long text, mean), the chart is the head-0 result, and it says so
    await page.evaluate(() => {
      const seen = (globalThis as unknown as { __restoreSeen: { empty: boolean; loading: boolean } }).__restoreSeen
      seen.empty = false
      seen.loading = false
    })
    await page.reload()
    await page.getByTestId('app').waitFor()
    await openTab('attention')
    await waitForChart('attention-main')
    expect(await page.getByTestId('attention-text').inputValue()).toBe(TOO_LONG_TEXT)
    expect(await page.getByTestId('attention-head').inputValue()).toBe('mean')
    expect(await page.getByTestId('attention-result-head').textContent()).toMatch(/head\s+0/)
    expect(await page.getByTestId('attention-result-text').textContent()).toContain('“the small dog sees the small ball near')
    expect(await page.getByTestId('attention-changed').textContent()).toMatch(/Changed since this result: text, head — Run to update\./)
    // the changed controls are marked, the unchanged ones are not
    expect(await page.locator('label.changed [data-testid="attention-text"]').count()).toBe(1)
    expect(await page.locator('label.changed [data-testid="attention-head"]').count()).toBe(1)
    expect(await page.locator('label.changed [data-testid="attention-layer"]').count()).toBe(0)
    await screenshots('changed', 'attention-text')

    // the stored result (> 1 MiB, fetched after the session opened) never showed "Press Run"
    const runs = await callApi<Array<{ result: unknown }>>(page, lab.token, 'listRuns', first.id)
    expect(runs.some((r) => typeof r.result === 'object' && r.result !== null && '$storedResult' in r.result)).toBe(true)
    const seen = await page.evaluate(() => (globalThis as unknown as { __restoreSeen: { empty: boolean; loading: boolean } }).__restoreSeen)
    expect(seen.empty).toBe(false)
  })

  it('shows "loading" while a slow stored result arrives (4)', async () => {
    // hold getRunResult back until the loading state has been checked and photographed
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    await page.route('**/api/getRunResult', async (route) => {
      await held
      await route.continue()
    })
    try {
      await page.reload()
      await page.getByTestId('app').waitFor()
      await openTab('attention')
      await page.getByTestId('attention-loading').waitFor({ timeout: 10_000 })
      expect(await page.getByTestId('attention-empty').count()).toBe(0)
      await screenshots('loading', 'attention-loading')
      release()
      await waitForChart('attention-main')
      expect(await page.getByTestId('attention-loading').count()).toBe(0)
    } finally {
      // a failure here must not leave the route holding every later test's stored results
      release()
      await page.unroute('**/api/getRunResult')
    }
  })

  it('the hover read-out of an attention cell shows every term, δ and the buckets (12)', async () => {
    // the raster map (T > 128): the read-out BaseChart draws
    const box = (await page.getByTestId('chart-attention-main').locator('.chart-box').boundingBox())!
    await page.getByTestId('chart-attention-main').scrollIntoViewIfNeeded()
    const again = (await page.getByTestId('chart-attention-main').locator('.chart-box').boundingBox())!
    await page.mouse.move(again.x + again.width * 0.5, again.y + again.height * 0.5)
    const tip = page.getByTestId('chart-tooltip')
    await tip.waitFor({ timeout: 10_000 })
    const text = (await tip.textContent()) ?? ''
    expect(text).toMatch(/c2c -?\d/)
    expect(text).toMatch(/c2p -?\d/)
    expect(text).toMatch(/p2c -?\d/)
    expect(text).toMatch(/δ\(i, j\) = i − j = -?\d+ · c2p reads bucket -?\d+ · p2c reads bucket -?\d+/)
    expect(box.width).toBeGreaterThan(0)
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'ui-audit-cell-tooltip.png') })
    await page.mouse.move(0, 0)
  })

  it('the SVG export of a large heat map renders like the PNG: the raster spans the plot area (5)', async () => {
    // the result on screen is ~180 tokens: drawn as one image
    await page.getByTestId('attention-view-probabilities').check()
    const chart = page.getByTestId('chart-attention-main')
    await chart.scrollIntoViewIfNeeded()
    const box = (await chart.locator('.chart-box').boundingBox())!
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-attention-main-export-png').click()])
    const pngBytes = readFileSync((await png.path())!)
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-attention-main-export-svg').click()])
    const svgText = readFileSync((await svg.path())!, 'utf8')
    expect(svgText).toMatch(/<image preserveAspectRatio="none"/)
    // downscaled to a quarter: antialiased text differs a little, a misplaced map differs by whole regions
    const width = Math.round(box.width / 4)
    const height = Math.round(box.height / 4)
    const stats = await compareRenders(pngBytes, svgText, width, height)
    expect(stats.inkedSvg).toBeGreaterThan(0.3) // the map is drawn
    expect(stats.far).toBeLessThan(0.02)
    expect(stats.mean).toBeLessThan(6)
    // the CSV and JSON carry their provenance: app version, model and its weights hash, text, layer, head, terms
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-attention-main-export-csv').click()])
    const csvText = readFileSync((await csv.path())!, 'utf8')
    const header = csvText.split('\n').filter((line) => line.startsWith('#'))
    expect(header[0]).toMatch(/^# DeBERTa Lab \d+\.\d+\.\d+$/)
    expect(header).toContain('# model: toy DeBERTa (trained on the generated language)')
    expect(header.find((l) => l.startsWith('# weights_sha256: '))).toMatch(/^# weights_sha256: [0-9a-f]{64}$/)
    expect(header).toContain(`# text: ${LONG_TEXT}`)
    expect(header).toContain('# layer: 0')
    expect(header).toContain('# head: 0')
    expect(header).toContain('# terms: c2c + c2p + p2c')
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('chart-attention-main-export-json').click()])
    const parsed = JSON.parse(readFileSync((await json.path())!, 'utf8')) as { provenance: { appVersion: string; model: { weightsSha256: string }; inputs: Record<string, unknown> } }
    expect(parsed.provenance.inputs).toMatchObject({ text: LONG_TEXT, layer: 0, head: 0, terms: 'c2c + c2p + p2c' })
    expect(parsed.provenance.model.weightsSha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it('sessions: search, dates, a skip link and one Tab stop for the whole list (12)', async () => {
    // a few more sessions
    for (let k = 0; k < 3; k++) {
      const before = await page.getByTestId('session-item').count()
      await page.getByTestId('session-new').click()
      await expect.poll(() => page.getByTestId('session-item').count()).toBe(before + 1)
    }
    const items = page.getByTestId('session-item')
    const count = await items.count()
    expect(count).toBeGreaterThanOrEqual(4)
    // every session shows when it was last changed
    expect(await items.first().getByTestId('session-date').textContent()).toMatch(/^updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)
    // search by content
    await page.getByTestId('session-search').fill('small dog')
    await expect.poll(() => items.count()).toBe(1)
    expect(await items.first().getAttribute('data-session-name')).toMatch(/^Attention: the small dog/)
    await page.getByTestId('session-search').fill('no such session')
    await page.getByTestId('session-search-none').waitFor()
    await page.getByTestId('session-search').fill('')
    await expect.poll(() => items.count()).toBe(count)
    const names = (await callApi<SessionSummary[]>(page, lab.token, 'listSessions')).map((s) => s.name)
    expect(names.filter((n) => n === 'Untitled session')).toHaveLength(0)

    // keyboard: the first Tab lands on the skip link, which goes to the active workspace tab
    await page.reload()
    await page.getByTestId('app').waitFor()
    await page.keyboard.press('Tab')
    expect(await focused('data-testid')).toBe('skip-to-tabs')
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'ui-audit-skip-link.png') })
    await page.keyboard.press('Enter')
    expect(await focused('role')).toBe('tab')

    // without the skip link the whole list is one stop: the Tabs to the tab bar do not grow with the sessions
    await page.reload()
    await page.getByTestId('app').waitFor()
    let presses = 0
    for (; presses < 40; presses++) {
      await page.keyboard.press('Tab')
      if ((await focused('role')) === 'tab') break
    }
    const openButtons = await page.locator('[data-testid="session-open"][tabindex="0"]').count()
    expect(openButtons).toBe(1)
    // skip link, New, Import, search, one session and its four actions, then the header's and model's controls
    expect(presses).toBeLessThan(15)
    // ↓ moves between sessions within the list
    await page.locator('[data-testid="session-open"][tabindex="0"]').focus()
    const from = await focused('data-session-id')
    await page.keyboard.press('ArrowDown')
    const to = await focused('data-session-id')
    expect(to).toBeTruthy()
    expect(to).not.toBe(from)
    expect(await page.locator('[data-testid="session-open"][tabindex="0"]').getAttribute('data-session-id')).toBe(to)
    await screenshots('sessions')
  })
})

/** A chart's option as the page holds it (JSON-safe parts only). */
async function chartOption(chartId: string): Promise<Record<string, unknown>> {
  return (await page.evaluate(`JSON.parse(JSON.stringify(globalThis.__debertaLabCharts?.[${JSON.stringify(chartId)}]?.option ?? null))`)) as Record<string, unknown>
}

describe.skipIf(e2eSkipped)('charts and texts a new user reads, in a browser', () => {
  beforeAll(async () => {
    lab = await startServe()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
    await currentSession()
    mkdirSync(SCREENSHOT_DIR, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
  })

  it('published bars start at zero, the ablation is a dot plot on a named axis, quoted figures need no notebook (10, 11)', async () => {
    await openTab('benchmarks')
    await waitForChart('benchmarks-glue')
    await waitForChart('benchmarks-ablation')
    const glue = await chartOption('benchmarks-glue')
    expect((glue.yAxis as { min: number }).min).toBe(0)
    const ablation = await chartOption('benchmarks-ablation')
    expect((ablation.series as Array<{ type: string }>).every((s) => s.type === 'scatter')).toBe(true)
    expect((ablation.yAxis as { name: string }).name).toMatch(/^score \(axis from \d+, not 0\)$/)
    const notes = await page.getByTestId('benchmarks-note').allTextContents()
    expect(notes.length).toBeGreaterThan(5)
    for (const note of notes) {
      expect(note).not.toMatch(/notebook/i)
      expect(note).toMatch(/^Claim checked: /)
    }
    expect(notes).toContain(notes.find((n) => n.startsWith('Claim checked: BERT-Large scores 80.5 on GLUE')))
    expect((await page.getByTestId('ws-benchmarks').textContent()) ?? '').not.toMatch(/notebook/i)
    await screenshots('published', 'chart-benchmarks-ablation')
  })

  it('speed runs draw the min–max of their repeats (10)', async () => {
    await page.getByTestId('bench-preset').selectOption('tiny')
    for (const seq of [32, 64]) await page.getByTestId(`bench-seq-${seq}`).check()
    for (const seq of [128, 256, 512, 1024]) await page.getByTestId(`bench-seq-${seq}`).uncheck()
    await page.getByTestId('bench-repeats').fill('5')
    await page.getByTestId('bench-run').click()
    await waitForChart('benchmarks-speed')
    const speed = await chartOption('benchmarks-speed')
    const spreads = (speed.series as Array<{ type: string; name: string; data: number[][] }>).filter((s) => s.type === 'custom')
    expect(spreads.map((s) => s.name)).toContain('disentangled (DeBERTa) measured: min–max over the repeats')
    for (const s of spreads) for (const [, min, max] of s.data) expect(max).toBeGreaterThanOrEqual(min)
    await screenshots('speed', 'chart-benchmarks-speed')
  })

  it('a smoke-budget experiment beside the paper is marked "few steps, noisy"; labels do not collide (10)', async () => {
    await page.getByTestId('experiments-experiment').selectOption('terms')
    await page.getByTestId('experiments-budget').selectOption('smoke')
    await page.getByTestId('experiments-seeds').fill('2')
    await page.getByTestId('experiments-run').click()
    await waitForChart('experiments-summary')
    // the paper's column arrives with the published tables (loaded once per window)
    await expect.poll(async () => ((await chartOption('experiments-summary')).series as unknown[]).length, { timeout: 20_000 }).toBe(3)
    const summary = await chartOption('experiments-summary')
    const [lab0, , paper] = summary.series as Array<{ name: string; yAxisIndex?: number }>
    expect(lab0.name).toMatch(/few steps, noisy/)
    expect(paper.yAxisIndex).toBe(1)
    const axes = summary.yAxis as Array<{ min: number; max?: number }>
    expect([axes[1].min, axes[1].max]).toEqual([0, 100])
    // every label drawn (interval 0), none hidden as overlapping
    expect((summary.xAxis as { axisLabel: { interval: number; hideOverlap: boolean } }).axisLabel).toMatchObject({ interval: 0, hideOverlap: false })
    await screenshots('experiment', 'chart-experiments-summary')
  })

  it('decoding: top-k 100 stays readable; the unknown-word note names [UNK]; the EMD text says the last layer runs twice (8, 10)', async () => {
    await openTab('decoding')
    expect((await page.getByTestId('ws-decoding').locator('.ws-intro').textContent()) ?? '').toMatch(/the last layer runs twice more/)
    await page.getByTestId('decoding-text').fill('the purple elephant [MASK] the ball near the house')
    await page.getByTestId('decoding-topk').fill('100')
    await page.getByTestId('decoding-run').click()
    await waitForChart('decoding-plain-0')
    expect(await page.getByTestId('decoding-unknown').textContent()).toMatch(/read as its unknown token \[UNK\]: “purple”, “elephant”/)
    const plain = await chartOption('decoding-plain-0')
    // the toy model ranks 100 words: the chart grows to its 900 px cap, labels thin out to what fits, no per-bar numbers
    const axis = plain.yAxis as { data: string[]; axisLabel: { interval: number } }
    expect(axis.data.length).toBe(100)
    expect(axis.axisLabel.interval).toBe(topKLabelInterval(100, topKChartHeight(100)))
    expect(axis.axisLabel.interval).toBeGreaterThan(0)
    expect((plain.series as Array<{ label: { show: boolean } }>)[0].label.show).toBe(false)
    expect((await page.getByTestId('chart-decoding-plain-0').locator('.chart-box').boundingBox())!.height).toBe(topKChartHeight(100))
    expect(topKChartHeight(100)).toBe(900)
    await screenshots('topk', 'chart-decoding-plain-0')
  })

  it('with a BERT model, the model line has no k and the attention text divides by √d (8)', async () => {
    await openTab('attention')
    expect((await page.getByTestId('attention-intro').textContent()) ?? '').toMatch(/divided by\s+√\(3d\)/)
    await page.getByTestId('model-change').click()
    await page.getByTestId('model-kind-synthetic').check()
    await page.getByTestId('model-arch').selectOption('bert')
    await page.getByTestId('model-apply').click()
    await expect.poll(() => page.getByTestId('model-info').textContent(), { timeout: 30_000 }).toMatch(/^\s*bert · /)
    const info = (await page.getByTestId('model-info').textContent()) ?? ''
    expect(info).not.toMatch(/k =/)
    expect(info).toMatch(/absolute positions only \(no relative terms\)/)
    await page.getByTestId('attention-run').click()
    await waitForChart('attention-main')
    const intro = (await page.getByTestId('attention-intro').textContent()) ?? ''
    expect(intro).toMatch(/This model \(BERT\)/)
    expect(intro).toMatch(/divided by\s+√d,/)
    expect(intro).not.toMatch(/√\(3d\)/)
    await screenshots('bert', 'attention-intro')
  })
})
