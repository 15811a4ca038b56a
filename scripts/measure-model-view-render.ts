// The model view in a real Chromium at T = 512 on a base-size synthetic DeBERTa-v3 (README, "Model view"):
// the lab job's time (job start to result), the render time (result on the page to ECharts' "finished"), the
// longest main-thread task while drawing, and the time a hover read-out takes. Needs `npx electron-vite build`.
//   npx tsx scripts/measure-model-view-render.ts
import type { SyntheticModelRef } from '../src/common/api'
import { launchBrowser, startServe } from '../test/e2e/harness'

const BASE: SyntheticModelRef = {
  kind: 'synthetic',
  arch: 'deberta-v3',
  layers: 12,
  hidden: 768,
  heads: 12,
  intermediate: 3072,
  positionBuckets: 256,
  maxRelativePositions: 512,
  maxPositions: 512,
  seed: 1,
}

async function main(): Promise<void> {
  const lab = await startServe()
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
    const current = page.locator('[data-testid="session-item"][aria-current="true"]')
    await current.waitFor({ timeout: 30_000 })
    const sessionId = await current.getAttribute('data-session-id')
    await page.evaluate(`localStorage.setItem(${JSON.stringify(`deberta-lab.model.${sessionId}`)}, ${JSON.stringify(JSON.stringify(BASE))})`)
    await page.reload()
    await page.getByTestId('app').waitFor()
    await page.waitForFunction(`/768/.test(document.querySelector('[data-testid="status-model"]')?.textContent ?? '')`, undefined, { timeout: 120_000 })
    await page.getByTestId('tab-attention').click()
    const words = 'the quick brown fox jumps over the lazy dog near the river bank while birds sing'.split(' ')
    const text = Array.from({ length: 600 }, (_, k) => words[k % words.length]).join(' ')
    const T = (await (await page.request.post(`${lab.origin}/api/tokenize`, { headers: { 'x-deberta-lab-token': lab.token }, data: { args: [{ model: BASE, text }] } })).json()).value.inputIds.length
    // cut the text to 512 tokens
    let cut = text.split(' ')
    cut = cut.slice(0, Math.floor((cut.length * 510) / T))
    await page.getByTestId('attention-text').fill(cut.join(' '))
    // a string, not a function: tsx's name helper (__name) does not exist in the page
    await page.evaluate(`(() => {
      window.__longest = 0
      new PerformanceObserver((list) => list.getEntries().forEach((e) => (window.__longest = Math.max(window.__longest, e.duration)))).observe({ type: 'longtask', buffered: false })
      const poll = () => {
        const entry = window.__debertaLabCharts?.['attention-model-view']
        if (entry && !window.__published) window.__published = Date.now()
        if (entry?.rendered) window.__rendered = Date.now()
        else requestAnimationFrame(poll)
      }
      requestAnimationFrame(poll)
    })()`)
    const t0 = Date.now()
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/api/runModelView'), { timeout: 300_000 }), page.getByTestId('model-view-run').click()])
    const responded = Date.now()
    const job = responded - t0
    const body = await response.text()
    await page.waitForFunction('window.__rendered', undefined, { timeout: 60_000 })
    const times = (await page.evaluate('({ rendered: window.__rendered, longest: window.__longest })')) as { rendered: number; longest: number }
    const summary = await page.getByTestId('model-view-summary').textContent()
    // hover a head: the tooltip appears
    console.log(`T = ${T} before the cut; ${summary}`)
    console.log(`lab job (click → response): ${job} ms; response ${(body.length / 1024 / 1024).toFixed(2)} MB`)
    console.log(`render (response received → ECharts finished, JSON parse included): ${times.rendered - responded} ms; longest main-thread task ${times.longest.toFixed(0)} ms`)
    await page.getByTestId('chart-attention-model-view').scrollIntoViewIfNeeded()
    const box = (await page.getByTestId('chart-attention-model-view').locator('.chart-box').boundingBox())!
    const h0 = Date.now()
    await page.mouse.move(box.x + box.width / 2 + 3, box.y + box.height / 2 + 3)
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await page.waitForSelector('.chart-tip', { timeout: 10_000 })
    const hover = Date.now() - h0
    await page.getByTestId('model-view').screenshot({ path: 'test-results/model-view-base-512.png' })
    console.log(`hover read-out: ${hover} ms`)
  } finally {
    await browser.close()
    await lab.stop()
  }
}

void main()
