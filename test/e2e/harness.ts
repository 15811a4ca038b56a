// Shared e2e plumbing: start `deberta-lab serve` as a real child process, drive Debian's Chromium.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { chromium, type Browser, type Page } from 'playwright-core'

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
  return {
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
      if (!options.storeDir) rmSync(storeDir, { recursive: true, force: true })
    },
  }
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium()
  if (!executablePath) throw new Error('no Chromium: set CHROMIUM_PATH or install chromium')
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true })
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
