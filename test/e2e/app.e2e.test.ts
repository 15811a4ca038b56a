// The foundation end to end: browser mode started as a user would (`deberta-lab serve`), driven in a real
// Chromium. The app loads, every tab renders, the status bar names the backend, a chart exports a valid PNG
// (2× pixel ratio) and SVG, and requests without the token are refused.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { e2eSkipped, launchBrowser, startServe, type ServedLab, SCREENSHOT_DIR } from './harness'

const TABS = ['problem', 'attention', 'relative', 'decoding', 'benchmarks'] as const
const SCREENSHOTS = SCREENSHOT_DIR

let lab: ServedLab
let browser: Browser
let page: Page

function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR')
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

describe.skipIf(e2eSkipped)('DeBERTa Lab in a browser', () => {
  beforeAll(async () => {
    lab = await startServe()
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true })
    await page.goto(lab.url)
    mkdirSync(SCREENSHOTS, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
  })

  it('loads and names the compute backend in the status bar', async () => {
    await page.getByTestId('app').waitFor()
    await expect.poll(() => page.getByTestId('status-backend').textContent(), { timeout: 30_000 }).toMatch(/^(tensorflow|wasm \((threaded SIMD, )?\d+ threads?[^)]*\)|cpu)$/)
    expect(await page.getByTestId('status-store').textContent()).toBe(join(lab.storeDir, 'lab.sqlite'))
  })

  it('renders each of the five tabs', async () => {
    for (const tab of TABS) {
      await page.getByTestId(`tab-${tab}`).click()
      await page.getByTestId(`panel-${tab}`).waitFor({ state: 'visible' })
      expect(await page.getByTestId(`tab-${tab}`).getAttribute('aria-selected')).toBe('true')
      expect((await page.getByTestId(`panel-${tab}`).innerText()).length).toBeGreaterThan(40)
    }
  })

  it('switches tabs from the keyboard', async () => {
    await page.keyboard.press('Control+2')
    await page.getByTestId('panel-attention').waitFor({ state: 'visible' })
    await page.keyboard.press('Control+5')
    await page.getByTestId('panel-benchmarks').waitFor({ state: 'visible' })
  })

  it('exports a chart as a 2× PNG and as SVG', async () => {
    await page.getByTestId('tab-benchmarks').click()
    const chart = page.locator('[data-testid^="chart-"][data-chart-rendered="true"]').first()
    await chart.waitFor({ state: 'visible', timeout: 30_000 })
    const chartId = await chart.getAttribute('data-chart-id')
    const box = await page.locator(`[data-chart-id="${chartId}"] .chart-box`).boundingBox()
    expect(box).not.toBeNull()

    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-png`).click()])
    const pngBytes = readFileSync((await png.path())!)
    const size = pngSize(pngBytes)
    // 2× pixel ratio: twice the chart's CSS size (±2 px for fractional layout sizes)
    expect(Math.abs(size.width - box!.width * 2)).toBeLessThanOrEqual(2)
    expect(Math.abs(size.height - box!.height * 2)).toBeLessThanOrEqual(2)
    expect(png.suggestedFilename()).toMatch(/\.png$/)

    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`chart-${chartId}-export-svg`).click()])
    const svgText = readFileSync((await svg.path())!, 'utf8')
    expect(svgText).toMatch(/<svg[\s>]/)
    expect(svgText).toMatch(/<\/svg>\s*$/)
    expect(svgText.length).toBeGreaterThan(1000)
    await page.screenshot({ path: join(SCREENSHOTS, 'benchmarks-published.png') })
  })

  it('refuses API requests without the token, and from other origins', async () => {
    const bare = await fetch(`${lab.origin}/api/listSessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"args":[]}' })
    expect(bare.status).toBe(401)
    const foreign = await fetch(`${lab.origin}/api/listSessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-deberta-lab-token': lab.token, origin: 'http://attacker.example' },
      body: '{"args":[]}',
    })
    expect(foreign.status).toBe(403)
    const page2 = await browser.newPage()
    const response = await page2.goto(lab.origin + '/')
    expect(response?.status()).toBe(401)
    await page2.close()
  })
})
