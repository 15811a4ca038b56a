// Jobs in a real Chromium against browser mode: an experiment keeps running across a page reload and the page
// follows it again (the job tray and the Experiments section show it, with Pause and Cancel, Run disabled); while
// it is paused an attention run still draws its chart; the tray cancels it. Screenshots of the tray in both themes
// go to test-results/screenshots/.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobInfo } from '../../src/common/api'
import { callApi, e2eSkipped, launchBrowser, startServe, type ServedLab } from './harness'

const SCREENSHOTS = join('test-results', 'screenshots')

let lab: ServedLab
let browser: Browser
let page: Page

async function currentSessionId(): Promise<string> {
  const current = page.locator('[data-testid="session-item"][aria-current="true"]')
  await current.waitFor({ timeout: 30_000 })
  return (await current.getAttribute('data-session-id'))!
}

async function openTab(workspace: string): Promise<void> {
  await page.getByTestId(`tab-${workspace}`).click()
  await page.getByTestId(`panel-${workspace}`).waitFor({ state: 'visible' })
}

async function job(jobId: string): Promise<JobInfo | undefined> {
  return (await callApi<JobInfo[]>(page, lab.token, 'listJobs')).find((j) => j.jobId === jobId)
}

const trayJob = (jobId: string) => page.locator(`[data-testid="job-tray-job"][data-job-id="${jobId}"]`)

async function openTray(): Promise<void> {
  if ((await page.getByTestId('job-tray-panel').count()) === 0) await page.getByTestId('job-tray-toggle').click()
  await page.getByTestId('job-tray-panel').waitFor()
}

async function setTheme(theme: 'light' | 'dark'): Promise<void> {
  const toggle = page.getByTestId('theme-toggle')
  if ((await toggle.getAttribute('data-theme-current')) !== theme) await toggle.click()
  await expect.poll(() => toggle.getAttribute('data-theme-current')).toBe(theme)
}

describe.skipIf(e2eSkipped)('jobs in a browser', () => {
  beforeAll(async () => {
    lab = await startServe()
    browser = await launchBrowser()
    page = await (await browser.newContext({ viewport: { width: 1300, height: 820 } })).newPage()
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
    await currentSessionId()
    mkdirSync(SCREENSHOTS, { recursive: true })
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
  })

  it('an experiment survives a reload: tray and Experiments follow it, pause, attention while paused, cancel from the tray', async () => {
    const sessionId = await currentSessionId()
    await openTab('benchmarks')
    await page.getByTestId('experiments-experiment').selectOption('terms')
    await page.getByTestId('experiments-budget').selectOption('default')
    await page.getByTestId('experiments-seeds').fill('3')
    const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/api/runExperiment')), page.getByTestId('experiments-run').click()])
    const jobId = (request.postDataJSON() as { args: [{ jobId: string }] }).args[0].jobId
    await expect.poll(async () => (await job(jobId))?.fraction ?? 0, { timeout: 60_000 }).toBeGreaterThan(0.005)

    // Reload: the page forgets its promise, the lab still runs the job.
    await page.reload()
    await page.getByTestId('app').waitFor()
    expect(await currentSessionId()).toBe(sessionId)
    await openTab('benchmarks')
    await page.getByTestId('experiments-progress').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('experiments-run').isDisabled()).toBe(true)
    expect(await page.getByTestId('experiments-experiment').inputValue()).toBe('terms')
    expect(await page.getByTestId('experiments-budget').inputValue()).toBe('default')
    await expect.poll(() => page.getByTestId('experiments-pause').textContent()).toContain('Pause')
    expect(await page.getByTestId('experiments-cancel').isVisible()).toBe(true)
    // the curves so far come back and keep growing
    await page.getByTestId('chart-experiments-loss').waitFor({ timeout: 20_000 })
    await page.getByTestId('experiments-progress').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(SCREENSHOTS, 'jobs-experiments-after-reload.png') })
    const fractionBefore = (await job(jobId))!.fraction
    await expect.poll(async () => (await job(jobId))!.fraction, { timeout: 30_000 }).toBeGreaterThan(fractionBefore)
    await expect.poll(() => page.getByTestId('experiments-progress-message').textContent()).toMatch(/\(\d+%\)$/)

    // The tray lists it as running with Pause and Cancel.
    await expect.poll(() => page.getByTestId('job-tray-lead').textContent()).toBe('experiment terms (default, 3 seeds)')
    await openTray()
    await expect.poll(() => trayJob(jobId).getAttribute('data-job-state')).toBe('running')
    expect(await trayJob(jobId).getByTestId('job-tray-pause').textContent()).toContain('Pause')
    expect(await trayJob(jobId).getByTestId('job-tray-cancel').isVisible()).toBe(true)
    await setTheme('light')
    await page.screenshot({ path: join(SCREENSHOTS, 'jobs-tray-light.png') })

    // Pause from the Experiments section: the lab and the tray agree.
    await page.getByTestId('experiments-pause').click()
    await expect.poll(async () => (await job(jobId))?.state).toBe('paused')
    await expect.poll(() => trayJob(jobId).getAttribute('data-job-state')).toBe('paused')
    await expect.poll(() => trayJob(jobId).getByTestId('job-tray-pause').textContent()).toContain('Resume')
    await expect.poll(() => page.getByTestId('experiments-progress-message').textContent()).toMatch(/^paused/)

    // While it is paused, an attention run gets its chart.
    await openTab('attention')
    const t0 = Date.now()
    await page.getByTestId('attention-run').click()
    await page.waitForFunction(
      () => {
        const charts = (globalThis as unknown as { __debertaLabCharts?: Record<string, { rendered: boolean; version: number }> }).__debertaLabCharts
        return !!charts?.['attention-main']?.rendered
      },
      undefined,
      { timeout: 30_000 },
    )
    const attentionMs = Date.now() - t0
    expect(attentionMs).toBeLessThan(15_000)
    expect((await job(jobId))?.state).toBe('paused')
    await setTheme('dark')
    await openTray()
    await page.screenshot({ path: join(SCREENSHOTS, 'jobs-tray-dark-paused.png') })

    // Cancel from the tray: the job ends as cancelled, the Experiments section says so and Run is back.
    await trayJob(jobId).getByTestId('job-tray-cancel').click()
    await expect.poll(async () => (await job(jobId))?.state, { timeout: 10_000 }).toBe('cancelled')
    await expect.poll(() => page.locator(`[data-testid="job-tray-finished"][data-job-id="${jobId}"]`).getAttribute('data-job-state')).toBe('cancelled')
    expect(await trayJob(jobId).count()).toBe(0)
    await openTab('benchmarks')
    await page.getByTestId('experiments-cancelled').waitFor({ timeout: 10_000 })
    expect(await page.getByTestId('experiments-run').isDisabled()).toBe(false)
    await page.getByTestId('job-tray-close').click()
    await expect.poll(() => page.getByTestId('job-tray-lead').count(), { timeout: 5_000 }).toBe(0) // the tray closes on the next render
    expect(await page.getByTestId('job-tray-toggle').textContent()).toContain('Jobs: idle')
  }, 240_000)

  it('a queued run says what it waits for, in the workspace and in the tray; a second page follows it', async () => {
    const sessionId = await currentSessionId()
    // a long job holds the long worker (paused), and a benchmark queues behind it
    const blocker = callApi(page, lab.token, 'runExperiment', { jobId: 'e2e-blocker', sessionId, experiment: 'terms', budget: 'default', seeds: 1 }).catch(() => undefined)
    await expect.poll(async () => (await job('e2e-blocker'))?.state, { timeout: 30_000 }).toBe('running')
    await callApi(page, lab.token, 'pauseJob', { jobId: 'e2e-blocker', paused: true })
    await openTab('benchmarks')
    await page.getByTestId('bench-run').click()
    await expect.poll(() => page.getByTestId('bench-progress-message').textContent(), { timeout: 10_000 }).toBe(
      'waiting for experiment terms (default, 1 seed) (paused)',
    )
    await openTray()
    const waits = page.locator('[data-testid="job-tray-job"][data-job-state="queued"] [data-testid="job-tray-waits"]')
    await expect.poll(() => waits.textContent()).toBe('waiting for experiment terms (default, 1 seed) (paused)')
    await page.screenshot({ path: join(SCREENSHOTS, 'jobs-tray-dark-queued.png') })

    // A second page of the same lab sees the same jobs and follows the session's experiment.
    const second = await page.context().newPage()
    await second.setViewportSize({ width: 1100, height: 760 })
    await second.goto(lab.origin + '/')
    await second.getByTestId('app').waitFor()
    await second.getByTestId('tab-benchmarks').click()
    await second.getByTestId('experiments-progress').waitFor({ timeout: 20_000 })
    await expect.poll(() => second.getByTestId('experiments-progress-message').textContent()).toMatch(/^paused/)
    await second.getByTestId('job-tray-toggle').click()
    await expect.poll(() => second.locator('[data-testid="job-tray-job"]').count()).toBe(2)
    await second.screenshot({ path: join(SCREENSHOTS, 'jobs-second-page.png') })
    // cancel the paused experiment from the second page: the benchmark in the first page starts
    await second.locator('[data-testid="job-tray-job"][data-job-id="e2e-blocker"] [data-testid="job-tray-cancel"]').click()
    await blocker
    const benchmark = async (): Promise<JobInfo | undefined> => (await callApi<JobInfo[]>(page, lab.token, 'listJobs')).find((j) => j.method === 'runBenchmark')
    await expect.poll(async () => (await benchmark())?.state, { timeout: 20_000 }).not.toBe('queued')
    await second.close()
    // and the benchmark can be cancelled from the tray of the first page (unless it already finished)
    const bench = (await benchmark())!
    if (bench.state === 'running') {
      await trayJob(bench.jobId).getByTestId('job-tray-cancel').click()
      await expect.poll(async () => (await benchmark())?.state, { timeout: 20_000 }).toBe('cancelled')
    } else {
      expect(bench.state).toBe('done')
    }
  }, 180_000)

  it('an experiment started by another client of this session is followed, and its result is shown when it ends', async () => {
    const sessionId = await currentSessionId()
    await openTab('benchmarks')
    await expect.poll(async () => (await callApi<JobInfo[]>(page, lab.token, 'listJobs')).filter((j) => ['queued', 'running', 'paused'].includes(j.state)).length, { timeout: 30_000 }).toBe(0)
    expect(await page.getByTestId('experiments-run').isDisabled()).toBe(false)
    const other = callApi<{ runId: string }>(page, lab.token, 'runExperiment', { jobId: 'e2e-other-client', sessionId, experiment: 'length', budget: 'smoke', seeds: 1 })
    // the section notices the lab's announcement and follows the run
    await expect.poll(() => page.getByTestId('experiments-run').isDisabled(), { timeout: 10_000 }).toBe(true)
    expect(await page.getByTestId('experiments-experiment').inputValue()).toBe('length')
    const { runId } = await other
    await expect.poll(() => page.getByTestId('experiments-run').isDisabled(), { timeout: 10_000 }).toBe(false)
    await page.getByTestId('experiments-description').waitFor({ timeout: 10_000 })
    await page.getByTestId('chart-experiments-summary').waitFor({ timeout: 10_000 })
    // the section now shows that run, and saves it as the session's experiment result
    type Saved = { workspaces?: Record<string, { view?: { resultJobId?: string }; lastResult?: { runId?: string } | null }> }
    await expect
      .poll(async () => (await callApi<Saved>(page, lab.token, 'openSession', sessionId)).workspaces?.experiments, { timeout: 20_000 })
      .toMatchObject({ view: { resultJobId: 'e2e-other-client' }, lastResult: { runId } })
    expect(await page.getByTestId('experiments-error').count()).toBe(0)
  }, 120_000)
})
