// Autosaves are durable or reported: while another process holds the store's write lock they wait in the
// queue (retried on timers, the event loop never blocked) and the lab says "not saved" with the reason; a
// read-only store says so from the start.
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LabEvent, StoreSaveStatus } from '../../src/common/api'
import type { WorkspaceId, WorkspaceState } from '../../src/common/sessions'
import { EventHub } from '../../src/lab/events'
import { LabSessions } from '../../src/lab/sessions'
import { openStore } from '../../src/store'
import { finished, makeReadOnly, spawnTs, tempDir } from '../store/helpers/fixtures'

const state = (version: number): WorkspaceState => ({ version, inputs: { text: `v${version}` }, model: null, selections: {}, view: {}, lastResult: null })

let dir: string
let cleanup: () => void
let path: string
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('dlab-save-status-'))
  path = join(dir, 'lab.sqlite')
})
afterEach(() => cleanup())

/** The longest the event loop went without running a 5 ms timer, from now until stop() is called. */
function watchEventLoop(): { stop: () => number } {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 5)
  return {
    stop: () => {
      clearInterval(timer)
      return Math.max(worst, performance.now() - last)
    },
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now()
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

describe('saving while another process holds the store’s write lock', () => {
  it('keeps every save, never blocks the event loop, says "not saved" with the reason, and writes all once the lock is gone', async () => {
    const seed = openStore(path)
    const sessionId = seed.createSession({ name: 'contended' }).id
    seed.close()

    const events = new EventHub()
    const statuses: StoreSaveStatus[] = []
    events.on((event: LabEvent) => {
      if (event.type === 'save-status') statuses.push(event.status)
    })
    const sessions = LabSessions.open({ storePath: path, events, autosave: { retryDelayMs: 50, maxRetryDelayMs: 400 } })
    const locker = spawnTs('test/store/helpers/locker.ts', [path])
    const lockerDone = finished(locker)
    try {
      await new Promise<void>((resolve, reject) => {
        locker.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve())
        locker.once('exit', (code) => reject(new Error(`locker exited ${code}`)))
      })
      expect(sessions.saveStatus).toEqual({ saved: true, pending: 0 })

      const loop = watchEventLoop()
      // Three saves a second apart (each past the autosave's max wait), as a user editing three workspaces.
      const workspaces: WorkspaceId[] = ['attention', 'relative', 'decoding']
      for (const [i, workspace] of workspaces.entries()) {
        sessions.saveWorkspace(sessionId, workspace, state(i + 1))
        await sleep(900)
      }
      expect(sessions.saveStatus.saved).toBe(false)
      expect(sessions.saveStatus.reason).toMatch(/busy/)
      expect(sessions.saveStatus.pending).toBe(3)
      expect(statuses[0]).toMatchObject({ saved: false, reason: expect.stringMatching(/busy/) })
      // Reopening the session meanwhile shows the states not yet written.
      expect(sessions.open(sessionId).workspaces.relative).toEqual(state(2))
      expect(loop.stop()).toBeLessThan(200)

      const loopAfter = watchEventLoop()
      locker.stdin!.end()
      expect((await lockerDone).code).toBe(0)
      await until('the queued saves to land', () => sessions.saveStatus.saved && sessions.saveStatus.pending === 0)
      expect(loopAfter.stop()).toBeLessThan(200)
      expect(statuses[statuses.length - 1]).toEqual({ saved: true, pending: 0 })

      const check = openStore(path)
      for (const [i, workspace] of workspaces.entries()) expect(check.getWorkspaceState(sessionId, workspace)).toEqual(state(i + 1))
      check.close()
    } finally {
      locker.kill()
      sessions.close()
    }
  }, 60_000)
})

describe('a read-only store', () => {
  it('is reported at open and after every save: "not saved" with the reason, nothing silently accepted', async () => {
    const seed = openStore(path)
    const sessionId = seed.createSession({ name: 'on a read-only disk' }).id
    seed.saveWorkspaceState(sessionId, 'attention', state(1))
    seed.close()
    const undo = makeReadOnly(dir)
    try {
      const events = new EventHub()
      const statuses: StoreSaveStatus[] = []
      events.on((event) => event.type === 'save-status' && statuses.push(event.status))
      const sessions = LabSessions.open({ storePath: path, events, autosave: { retryDelayMs: 50, maxRetryDelayMs: 100 } })
      try {
        expect(sessions.saveStatus).toMatchObject({ saved: false, reason: expect.stringContaining(`the folder ${dir} is read-only`) })
        expect(sessions.open(sessionId).workspaces.attention).toEqual(state(1))
        sessions.saveWorkspace(sessionId, 'attention', state(2))
        await until('a failed save', () => statuses.length > 0)
        expect(sessions.saveStatus).toMatchObject({ saved: false, reason: expect.stringMatching(/read-only/), pending: 1 })
        expect(statuses[0]).toMatchObject({ saved: false, reason: expect.stringMatching(/read-only/) })
      } finally {
        sessions.close()
      }
    } finally {
      undo()
    }
    const check = openStore(path)
    expect(check.getWorkspaceState(sessionId, 'attention')).toEqual(state(1))
    check.close()
  })
})
