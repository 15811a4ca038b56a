// "Not saved" end to end: while another process holds the store's write lock, an edit in the page is kept by
// the lab and the status bar says "not saved — <reason>"; once the lock is gone the edit lands and the status
// bar says all changes are saved.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store'
import { finished, spawnTs } from '../store/helpers/fixtures'
import { e2eSkipped, launchBrowser, startServe, type ServedLab } from './harness'

let storeDir: string
let lab: ServedLab
let browser: Browser
let page: Page
let sessionId: string

describe.skipIf(e2eSkipped)('saving while the store is locked by another process', () => {
  beforeAll(async () => {
    storeDir = mkdtempSync(join(tmpdir(), 'deberta-lab-e2e-locked-'))
    const store = openStore(join(storeDir, 'lab.sqlite'))
    sessionId = store.createSession({ name: 'locked out' }).id
    store.close()
    lab = await startServe({ storeDir })
    browser = await launchBrowser()
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    await page.goto(lab.url)
    await page.getByTestId('app').waitFor()
  })

  afterAll(async () => {
    await browser?.close()
    await lab?.stop()
    rmSync(storeDir, { recursive: true, force: true })
  })

  it('says "not saved — <reason>" while the lock is held, then saves the edit once it is released', async () => {
    await expect.poll(() => page.getByTestId('status-save').getAttribute('data-state'), { timeout: 30_000 }).toBe('saved')
    const locker = spawnTs('test/store/helpers/locker.ts', [join(storeDir, 'lab.sqlite')])
    const done = finished(locker)
    try {
      await new Promise<void>((resolve, reject) => {
        locker.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve())
        locker.once('exit', (code) => reject(new Error(`locker exited ${code}`)))
      })
      await page.getByTestId('tab-problem').click()
      await page.getByTestId('problem-text').fill('written while the store was locked')
      await expect.poll(() => page.getByTestId('status-save').textContent(), { timeout: 20_000 }).toMatch(/^not saved — .*busy/)
      expect(await page.getByTestId('status-save').getAttribute('data-state')).toBe('error')

      locker.stdin!.end()
      expect((await done).code).toBe(0)
      await expect.poll(() => page.getByTestId('status-save').textContent(), { timeout: 20_000 }).toBe('All changes saved')
      const store = openStore(join(storeDir, 'lab.sqlite'))
      try {
        expect(store.getWorkspaceState(sessionId, 'problem')?.inputs).toMatchObject({ text: 'written while the store was locked' })
      } finally {
        store.close()
      }
    } finally {
      locker.kill()
    }
  })
})
