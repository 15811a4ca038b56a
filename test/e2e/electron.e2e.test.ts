// Electron smoke test: the real desktop window (Playwright's Electron launcher) opens, runs one workspace and
// the run lands in the session store. It needs Electron's own binary, which `npm install` downloads lazily
// from Electron's release servers; where that binary is absent (machines without access to those servers)
// the test is reported as NOT RUN with the reason, in the output and in the test name.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { _electron as electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'

/** The Electron binary, or why there is none. */
function electronBinary(): { path?: string; why?: string } {
  try {
    const pkg = createRequire(import.meta.url).resolve('electron/package.json')
    const pathFile = join(pkg, '..', 'path.txt')
    if (!existsSync(pathFile)) return { why: 'the Electron binary was never downloaded (node_modules/electron/path.txt is missing; the download needs Electron\'s release servers)' }
    const binary = join(pkg, '..', 'dist', readFileSync(pathFile, 'utf8').trim())
    return existsSync(binary) ? { path: binary } : { why: `the Electron binary ${binary} is missing` }
  } catch (error) {
    return { why: `electron is not installed: ${(error as Error).message}` }
  }
}

const binary = electronBinary()
if (!binary.path) console.warn(`Electron smoke test NOT RUN: ${binary.why}`)

describe.skipIf(!binary.path)(`Electron window${binary.path ? '' : ` (NOT RUN: ${binary.why})`}`, () => {
  it('opens the window, runs the attention workspace and records the run in the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deberta-lab-electron-'))
    const storePath = join(dir, 'lab.sqlite')
    const app = await electron.launch({
      executablePath: binary.path,
      args: ['out/main/index.js', '--no-sandbox'],
      env: { ...process.env, DEBERTA_LAB_STORE: storePath },
    })
    try {
      const page = await app.firstWindow()
      await page.getByTestId('tab-attention').click()
      await page.getByTestId('attention-run').click()
      await page.locator('[data-testid="chart-attention-main"][data-chart-rendered="true"]').waitFor({ timeout: 60_000 })
      // the preload bridge is the only way in: no Node in the page
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined')
    } finally {
      await app.close()
    }
    const db = new Database(storePath, { readonly: true })
    try {
      const runs = db.prepare("SELECT workspace FROM runs WHERE status = 'done'").all() as Array<{ workspace: string | null }>
      expect(runs.map((r) => r.workspace)).toContain('attention')
    } finally {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
