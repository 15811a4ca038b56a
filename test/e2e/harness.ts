// Shared e2e plumbing: start `deberta-lab serve` as a real child process, drive Debian's Chromium.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { chromium, type Browser, type Page, type Request } from 'playwright-core'
import { afterAll, beforeAll, expect } from 'vitest'
import type { SyntheticArch } from '../../src/common/api'
import type { SessionSnapshot, WorkspaceId } from '../../src/common/sessions'

export const e2eSkipped = process.env.E2E === 'skip'

/**
 * Where the e2e run saves its screenshots: test-results/screenshots (git-ignored) by default, so `npm test`
 * leaves the work tree clean; `UPDATE_SCREENSHOTS=1` writes the README's docs/screenshots instead.
 */
export const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? join('docs', 'screenshots') : join('test-results', 'screenshots')

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  return candidates.find((path): path is string => !!path && existsSync(path))
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** Labs and browsers started by this file and not yet stopped: what a failed test's report looks at. */
export const live = { labs: new Set<ServedLab>(), browsers: new Set<Browser>(), messages: new WeakMap<Page, string[]>() }

export interface ServedLab {
  url: string
  origin: string
  token: string
  storeDir: string
  process: ChildProcessWithoutNullStreams
  stderr: string[]
  stop(): Promise<void>
}

/** Starts browser mode on a free port with a fresh store; resolves on the "DeBERTa Lab: URL" line. */
export async function startServe(options: { storeDir?: string; env?: Record<string, string> } = {}): Promise<ServedLab> {
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'deberta-lab-e2e-'))
  const child = spawn(process.execPath, ['bin/deberta-lab.js', 'serve', '--port', '0', '--store', join(storeDir, 'lab.sqlite')], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const stderr: string[] = []
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()))
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its URL in time; stderr: ${stderr.join('')}`)), 60_000)
    lines.once('line', (line) => {
      clearTimeout(timer)
      const match = /^DeBERTa Lab: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)$/.exec(line)
      if (match) resolve(match[1])
      else reject(new Error(`unexpected first line from serve: ${line}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}; stderr: ${stderr.join('')}`))
    })
  })
  const parsed = new URL(url)
  const served: ServedLab = {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    storeDir,
    process: child,
    stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      live.labs.delete(served)
      if (!options.storeDir) rmSync(storeDir, { recursive: true, force: true })
    },
  }
  live.labs.add(served)
  return served
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium()
  if (!executablePath) throw new Error('no Chromium: set CHROMIUM_PATH or install chromium')
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true })
  live.browsers.add(browser)
  browser.once('disconnected', () => live.browsers.delete(browser))
  // every page's console errors and failed requests, for a failed test's report (failure-report.ts)
  const newPage = browser.newPage.bind(browser)
  browser.newPage = async (...args) => {
    const page = await newPage(...args)
    const messages: string[] = []
    live.messages.set(page, messages)
    const keep = (line: string): void => {
      messages.push(line)
      if (messages.length > 30) messages.shift()
    }
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') keep(`console.${message.type()}: ${message.text().slice(0, 300)}`)
    })
    page.on('pageerror', (error) => keep(`pageerror: ${error.message.slice(0, 300)}`))
    page.on('requestfailed', (request) => keep(`request failed: ${request.url().slice(0, 120)} ${request.failure()?.errorText ?? ''}`))
    page.on('response', (response) => {
      if (response.status() >= 400) keep(`http ${response.status()}: ${response.url().slice(0, 120)}`)
    })
    return page
  }
  return browser
}

export interface OpenedLab {
  lab: ServedLab
  browser: Browser
  page: Page
  close(): Promise<void>
}

/** Browser mode with a fresh store, a Chromium page on its tokenised URL, and the screenshot folder ready. */
export async function openLabInBrowser(viewport = { width: 1400, height: 1000 }): Promise<OpenedLab> {
  const lab = await startServe()
  const browser = await launchBrowser()
  const page = await browser.newPage({ viewport })
  await page.goto(lab.url)
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  return {
    lab,
    browser,
    page,
    async close() {
      await browser.close()
      await lab.stop()
    },
  }
}

/**
 * For the describe block it is called in: before its tests, openLabInBrowser(viewport) with the bundled toy DeBERTa
 * loaded; after them, closed. Its fields are read inside the tests.
 */
export function toyLabPerSuite(viewport?: { width: number; height: number }): { readonly lab: ServedLab; readonly page: Page } {
  let opened: OpenedLab | undefined
  beforeAll(async () => {
    opened = await openLabInBrowser(viewport)
    await waitForToyModel(opened.page)
  })
  afterAll(async () => {
    await opened?.close()
  })
  const current = (): OpenedLab => {
    if (!opened) throw new Error('the lab is opened before the tests of the describe block')
    return opened
  }
  return {
    get lab() {
      return current().lab
    },
    get page() {
      return current().page
    },
  }
}

/**
 * Saves a screenshot of element `testId` as SCREENSHOT_DIR/`file`; with `height`, the window is that tall for it
 * (so that a long section is not under the status bar), and as it was afterwards.
 */
export async function screenshotOf(page: Page, testId: string, file: string, height?: number): Promise<void> {
  const viewport = page.viewportSize()
  if (height !== undefined && viewport) await page.setViewportSize({ width: viewport.width, height })
  await page.getByTestId(testId).scrollIntoViewIfNeeded()
  await page.getByTestId(testId).screenshot({ path: join(SCREENSHOT_DIR, file) })
  if (height !== undefined && viewport) await page.setViewportSize(viewport)
}

/** Calls the LabApi from inside the page (same origin, same token), returning the Result. */
export async function callApi<T = unknown>(page: Page, token: string, method: string, ...args: unknown[]): Promise<T> {
  const result = await page.evaluate(
    async ({ method, args, token }) => {
      const response = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-deberta-lab-token': token },
        body: JSON.stringify({ args }),
      })
      return response.json()
    },
    { method, args, token },
  )
  const typed = result as { ok: boolean; value?: T; error?: { code: string; message: string } }
  if (!typed.ok) throw new Error(`${method} failed: ${typed.error?.code} ${typed.error?.message}`)
  return typed.value as T
}

/**
 * What a chart on the page published for the tests (window.__debertaLabCharts[chartId], see
 * src/renderer/charts/registry.ts): `version` grows with every new option, `rendered` once ECharts drew it.
 */
export interface ChartState<D = DrawnData> {
  version: number
  rendered: boolean
  data: D
}

/** A chart's drawn data, whatever its kind (src/renderer/charts/data.ts): heat map and series fields, each when the chart has them. */
export interface DrawnData {
  kind: string
  rowLabels?: string[]
  colLabels?: string[]
  values?: Array<Array<number | null>>
  series?: Array<{ name: string; points: Array<{ x: string | number; y: number }> }>
}

/** The drawn data of a chart whose numbers are a table (model view, distance profile, ablation). */
export interface DrawnTable {
  kind: 'table'
  columns: string[]
  rows: Array<Array<string | number | null>>
}

/** A chart's state as it is now; null when the chart is not on the page. */
export async function chartState<D = DrawnData>(page: Page, chartId: string): Promise<ChartState<D> | null> {
  return page.evaluate((id) => {
    const entry = (globalThis as unknown as { __debertaLabCharts?: Record<string, ChartState<D>> }).__debertaLabCharts?.[id]
    return entry ? { version: entry.version, rendered: entry.rendered, data: entry.data } : null
  }, chartId)
}

/**
 * Waits (up to 60 s) until chart `chartId` has drawn an option newer than `afterVersion` (0: any option; a chart
 * that is re-created starts its versions again), and returns its state.
 */
export async function waitForChart<D = DrawnData>(page: Page, chartId: string, afterVersion = 0): Promise<ChartState<D>> {
  await page.waitForFunction(
    ([id, after]) => {
      const entry = (globalThis as unknown as { __debertaLabCharts?: Record<string, ChartState<unknown>> }).__debertaLabCharts?.[id as string]
      return !!entry && entry.rendered && entry.version > (after as number)
    },
    [chartId, afterVersion] as const,
    { timeout: 60_000 },
  )
  return (await chartState<D>(page, chartId))!
}

/** The id of the session the page has open (waits up to 30 s for the session list). */
export async function currentSessionId(page: Page): Promise<string> {
  const current = page.locator('[data-testid="session-item"][aria-current="true"]')
  await current.waitFor({ timeout: 30_000 })
  return (await current.getAttribute('data-session-id'))!
}

/** Waits until the page shows the app with its session open and the bundled toy DeBERTa loaded. */
export async function waitForToyModel(page: Page): Promise<void> {
  await page.getByTestId('app').waitFor()
  await currentSessionId(page)
  await page.waitForFunction(
    () => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document
      const text = doc.querySelector('[data-testid="status-model"]')?.textContent ?? ''
      return text.includes('toy DeBERTa') && !text.includes('loading')
    },
    undefined,
    { timeout: 30_000 },
  )
}

/** A request body sent by the page without its job and session ids: what a test sends through callApi again. */
export const withoutJob = ({ jobId: _jobId, sessionId: _sessionId, ...rest }: Record<string, unknown>): Record<string, unknown> => rest

/** The request body of the first `method` call the page sends while `click` runs (waits up to 30 s). */
export async function clickAndCapture(page: Page, method: string, click: () => Promise<void>): Promise<Record<string, unknown>> {
  const [request] = await Promise.all([page.waitForRequest((r: Request) => r.url().endsWith(`/api/${method}`), { timeout: 30_000 }), click()])
  return (request.postDataJSON() as { args: [Record<string, unknown>] }).args[0]
}

/** The request bodies of `method` the page sends while `action` runs, once `count` were sent (waits up to 60 s). */
export async function capture(page: Page, method: string, count: number, action: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const sent: Array<Record<string, unknown>> = []
  const listener = (r: Request): void => {
    if (r.url().endsWith(`/api/${method}`)) sent.push((r.postDataJSON() as { args: [Record<string, unknown>] }).args[0])
  }
  page.on('request', listener)
  await action()
  await expect.poll(() => sent.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(count)
  page.off('request', listener)
  return sent
}

/**
 * Reloads the page once the status bar says the workspace states are saved, and waits for the app. Returns how many
 * requests to the API `methods` the page has sent since just before the reload (a reopened session should send none).
 */
export async function reloadWhenSaved(page: Page, methods: string[]): Promise<() => number> {
  await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved')
  let sent = 0
  page.on('request', (r) => {
    if (methods.some((method) => r.url().endsWith(`/api/${method}`))) sent++
  })
  await page.reload()
  await page.getByTestId('app').waitFor()
  return () => sent
}

/**
 * A heat map's drawn values against a row-major matrix, cell by cell: within `tolerance` (a NaN cell must be drawn
 * as null), or, without a tolerance, exactly equal.
 */
export function expectMatrix(values: Array<Array<number | null>>, matrix: { rows: number; cols: number; data: ArrayLike<number> }, tolerance?: number): void {
  expect(values.length).toBe(matrix.rows)
  values.forEach((row, i) =>
    row.forEach((value, j) => {
      const expected = matrix.data[i * matrix.cols + j]
      if (tolerance === undefined) expect(value, `cell ${i}, ${j}`).toBe(expected)
      else if (Number.isNaN(expected)) expect(value, `cell ${i}, ${j}`).toBeNull()
      else expect(Math.abs((value as number) - expected), `cell ${i}, ${j}`).toBeLessThanOrEqual(tolerance)
    }),
  )
}

/** A's and B's requests as the page sent them, and the lab's answers to the same requests sent again through the API. */
export interface RunsOfAAndB<R> {
  sentA: Record<string, unknown>
  sentB: Record<string, unknown>
  a: R
  b: R
}

/**
 * In the open workspace `workspace` (test ids `${workspace}-run`, `${workspace}-compare-…`): runs A from the Run
 * button and waits for chart `chartA`; then "Compare with…" chooses a synthetic `arch` as B, which runs B on A's
 * inputs: B's request is checked to be A's but for the model. Both requests are sent again for the lab's answers.
 */
export async function runAThenSyntheticB<R>(page: Page, token: string, workspace: WorkspaceId, method: string, chartA: string, arch: SyntheticArch): Promise<RunsOfAAndB<R>> {
  const [sentA] = await capture(page, method, 1, () => page.getByTestId(`${workspace}-run`).click())
  await waitForChart(page, chartA)
  await page.getByTestId(`${workspace}-compare-open`).click()
  await page.getByTestId(`${workspace}-compare-kind-synthetic`).check()
  await page.getByTestId(`${workspace}-compare-arch`).selectOption(arch)
  const [sentB] = await capture(page, method, 1, () => page.getByTestId(`${workspace}-compare-apply`).click())
  expect(sentB.model).toMatchObject({ kind: 'synthetic', arch })
  expect(withoutJob({ ...sentB, model: undefined })).toEqual(withoutJob({ ...sentA, model: undefined }))
  const a = await callApi<R>(page, token, method, withoutJob(sentA))
  const b = await callApi<R>(page, token, method, withoutJob(sentB))
  return { sentA, sentB, a, b }
}

/** The ids of the runs the session recorded for the requests `sent` (matched by job id), in their order. */
export async function runIdsOf(page: Page, token: string, sessionId: string, ...sent: Array<Record<string, unknown>>): Promise<string[]> {
  const runs = await callApi<Array<{ id: string; config: { jobId?: string } }>>(page, token, 'listRuns', sessionId)
  return sent.map((request) => runs.find((r) => r.config.jobId === request.jobId)!.id)
}

/** The lines of the file the page downloads when `testId` is clicked. */
export async function downloadLines(page: Page, testId: string): Promise<string[]> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()])
  return readFileSync((await download.path())!, 'utf8').split('\n')
}

/** A comparison's CSV export names A (the toy DeBERTa) and a synthetic `archB` as B, and both runs. */
export function expectCsvOfAAndB(lines: string[], archB: SyntheticArch, runA: string, runB: string): void {
  expect(lines.find((l) => l.startsWith('# model_a: '))).toMatch(/toy DeBERTa/)
  expect(lines.find((l) => l.startsWith('# model_b: '))).toMatch(`synthetic ${archB}`)
  expect(lines).toContain(`# run_a: ${runA}`)
  expect(lines).toContain(`# run_b: ${runB}`)
}

/** What the session saved of workspace `workspace`'s comparison (its view's `compare`). */
export async function savedComparison(page: Page, token: string, sessionId: string, workspace: WorkspaceId): Promise<{ runId?: string; model?: { arch?: string } | null } | undefined> {
  const view = (await callApi<SessionSnapshot>(page, token, 'openSession', sessionId)).workspaces?.[workspace]?.view as { compare?: { runId?: string; model?: { arch?: string } | null } } | undefined
  return view?.compare
}

/** Waits (up to 20 s) until the session has saved B's run `runB` of a synthetic `arch` as workspace `workspace`'s comparison. */
export async function expectSavedB(page: Page, token: string, sessionId: string, workspace: WorkspaceId, runB: string, arch: SyntheticArch): Promise<void> {
  await expect
    .poll(async () => {
      const saved = await savedComparison(page, token, sessionId, workspace)
      return [saved?.runId, saved?.model?.arch]
    }, { timeout: 20_000 })
    .toEqual([runB, arch])
}

/** Removes B of workspace `workspace`: "Compare with…" is offered again and the session forgets B (waits up to 20 s). */
export async function removeB(page: Page, token: string, sessionId: string, workspace: WorkspaceId): Promise<void> {
  await page.getByTestId(`${workspace}-compare-remove`).click()
  await expect.poll(() => page.getByTestId(`${workspace}-compare-open`).isVisible()).toBe(true)
  await expect.poll(async () => (await savedComparison(page, token, sessionId, workspace))?.model, { timeout: 20_000 }).toBeNull()
}
