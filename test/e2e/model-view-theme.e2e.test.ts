// The model view follows the theme, end to end in a real Chromium against browser mode with the bundled toy
// DeBERTa: its head thumbnails fade into the chart background, so the drawn canvas is dark in the dark theme and
// light in the light one (the mean luminance of the canvas pixels). Screenshot: the model view in the dark theme.
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { e2eSkipped, openLabInBrowser, type OpenedLab, SCREENSHOT_DIR } from './harness'

let opened: OpenedLab
let page: Page

/** Mean luminance (0–255) of the model view's canvas, and its version in the chart registry. */
async function canvasLuminance(): Promise<number> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document
    const canvas = doc.querySelector('[data-testid="chart-attention-model-view"] canvas') as { width: number; height: number; getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height)
    let sum = 0
    let n = 0
    for (let k = 0; k < data.length; k += 4) {
      if (data[k + 3] === 0) continue // transparent: the page shows through
      sum += 0.2126 * data[k] + 0.7152 * data[k + 1] + 0.0722 * data[k + 2]
      n++
    }
    return n ? sum / n : -1
  })
}

async function waitRendered(): Promise<void> {
  await page.waitForFunction(() => !!(globalThis as unknown as { __debertaLabCharts?: Record<string, { rendered: boolean }> }).__debertaLabCharts?.['attention-model-view']?.rendered, undefined, { timeout: 60_000 })
  await page.waitForTimeout(300)
}

describe.skipIf(e2eSkipped)('model view and the theme, in a browser', () => {
  beforeAll(async () => {
    opened = await openLabInBrowser({ width: 1400, height: 1000 })
    page = opened.page
    await page.getByTestId('app').waitFor()
    await page.waitForFunction(() => {
      const text = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-testid="status-model"]')?.textContent ?? ''
      return text.includes('toy DeBERTa') && !text.includes('loading')
    }, undefined, { timeout: 30_000 })
  })
  afterAll(async () => {
    await opened?.close()
  })

  it('draws dark thumbnails in the dark theme and light ones in the light theme', async () => {
    const toggle = page.getByTestId('theme-toggle')
    if ((await toggle.getAttribute('data-theme-current')) !== 'light') await toggle.click()
    await page.getByTestId('tab-attention').click()
    await page.getByTestId('model-view-run').click()
    await waitRendered()
    const light = await canvasLuminance()
    await toggle.click()
    expect(await toggle.getAttribute('data-theme-current')).toBe('dark')
    await waitRendered()
    const dark = await canvasLuminance()
    expect(light).toBeGreaterThan(170)
    expect(dark).toBeLessThan(90)
    await page.getByTestId('model-view').scrollIntoViewIfNeeded()
    await page.getByTestId('model-view').screenshot({ path: join(SCREENSHOT_DIR, 'model-view-dark.png') })
  }, 120_000)
})
