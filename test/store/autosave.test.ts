// Autosave: debounced workspace-state writes within a second of a change, flushed on demand and on close.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ErrorData } from '../../src/common/errors'
import type { AutosaveStatus } from '../../src/store'
import { createAutosaver, openStore } from '../../src/store'
import { richState, tempDir } from './helpers/fixtures'

describe('createAutosaver', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('writes 500 ms after the last change, not before', () => {
    const store = openStore(':memory:')
    const s = store.createSession({ name: 'a' })
    const saver = createAutosaver(store, { delayMs: 500 })
    saver.save(s.id, 'attention', richState({ version: 1 }))
    expect(saver.pending).toBe(1)
    vi.advanceTimersByTime(499)
    expect(store.getWorkspaceState(s.id, 'attention')).toBeNull()
    vi.advanceTimersByTime(1)
    expect(store.getWorkspaceState(s.id, 'attention')).toEqual(richState({ version: 1 }))
    expect(saver.pending).toBe(0)
    store.close()
  })

  it('writes within a second even while changes keep coming, and the latest state wins', () => {
    const store = openStore(':memory:')
    const s = store.createSession({ name: 'a' })
    const saved: number[] = []
    const saver = createAutosaver(store, { delayMs: 500, onSaved: (writes) => saved.push(writes.length) })
    // A change every 200 ms: a plain debounce would never fire.
    for (let i = 1; i <= 5; i++) {
      saver.save(s.id, 'relative', richState({ version: i }))
      vi.advanceTimersByTime(200)
    }
    // t = 1000 ms after the first change: the state of t = 800 ms (version 5) is on disk.
    expect(store.getWorkspaceState(s.id, 'relative')?.version).toBe(5)
    expect(saved).toEqual([1])
    store.close()
  })

  it('batches several workspaces in one write and flushes on demand', () => {
    const store = openStore(':memory:')
    const s = store.createSession({ name: 'a' })
    const calls: Array<Array<{ sessionId: string; workspace: string }>> = []
    const saver = createAutosaver(store, { onSaved: (w) => calls.push(w) })
    saver.save(s.id, 'problem', richState({ version: 1 }))
    saver.save(s.id, 'decoding', richState({ version: 2 }))
    saver.save(s.id, 'problem', richState({ version: 3 }))
    expect(saver.pending).toBe(2)
    saver.flush()
    expect(calls).toEqual([[{ sessionId: s.id, workspace: 'problem' }, { sessionId: s.id, workspace: 'decoding' }]])
    expect(store.getWorkspaceState(s.id, 'problem')?.version).toBe(3)
    expect(store.getWorkspaceState(s.id, 'decoding')?.version).toBe(2)
    vi.advanceTimersByTime(5000)
    expect(calls).toHaveLength(1)
    store.close()
  })

  it('captures the state when save is called: later mutation does not leak in', () => {
    const store = openStore(':memory:')
    const s = store.createSession({ name: 'a' })
    const saver = createAutosaver(store)
    const state = richState()
    saver.save(s.id, 'attention', state)
    ;(state.inputs as { text: string }).text = 'mutated'
    saver.flush()
    expect(store.getWorkspaceState(s.id, 'attention')).toEqual(richState())
    store.close()
  })

  it('throws on an invalid state at save time and queues nothing', () => {
    const store = openStore(':memory:')
    const s = store.createSession({ name: 'a' })
    const saver = createAutosaver(store)
    expect(() => saver.save(s.id, 'attention', { ...richState(), version: -1 })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }))
    expect(saver.pending).toBe(0)
    store.close()
  })

  it('reports a write to a deleted session and still writes the others', () => {
    const store = openStore(':memory:')
    const keep = store.createSession({ name: 'keep' })
    const gone = store.createSession({ name: 'gone' })
    const errors: Array<[ErrorData, string]> = []
    const saver = createAutosaver(store, { onError: (e, w) => errors.push([e, w.sessionId]) })
    saver.save(gone.id, 'attention', richState())
    saver.save(keep.id, 'attention', richState())
    store.deleteSession(gone.id)
    vi.advanceTimersByTime(600)
    expect(store.getWorkspaceState(keep.id, 'attention')).toEqual(richState())
    expect(errors.map(([e, id]) => [e.code, id])).toEqual([['SESSION_NOT_FOUND', gone.id]])
    store.close()
  })

  it('flushes pending states when the store closes', () => {
    vi.useRealTimers()
    const { dir, cleanup } = tempDir()
    try {
      const path = join(dir, 'lab.sqlite')
      const store = openStore(path)
      const s = store.createSession({ name: 'a' })
      const saver = createAutosaver(store, { delayMs: 60_000 })
      saver.save(s.id, 'benchmarks', richState({ version: 9 }))
      store.close()
      expect(saver.pending).toBe(0)
      const reopened = openStore(path)
      expect(reopened.getWorkspaceState(s.id, 'benchmarks')).toEqual(richState({ version: 9 }))
      reopened.close()
    } finally {
      cleanup()
    }
  })
})

describe('autosave while the store is locked by another connection', () => {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

  it('keeps the write queued without waiting, retries on a timer, lets a newer state win, and reports until it lands', async () => {
    const { dir, cleanup } = tempDir()
    const path = join(dir, 'lab.sqlite')
    const store = openStore(path)
    const other = new Database(path)
    try {
      const s = store.createSession({ name: 'a' })
      const statuses: AutosaveStatus[] = []
      const saved: string[] = []
      const saver = createAutosaver(store, {
        delayMs: 10,
        retryDelayMs: 20,
        maxRetryDelayMs: 40,
        onStatus: (status) => statuses.push(status),
        onSaved: (writes) => saved.push(...writes.map((w) => w.workspace)),
      })
      other.exec('BEGIN IMMEDIATE')
      saver.save(s.id, 'attention', richState({ version: 1 }))
      await sleep(120)
      expect(saver.status).toMatchObject({ saved: false, code: 'STORE_BUSY', pending: 1 })
      expect(statuses).toHaveLength(1)

      const started = performance.now()
      saver.flush({ wait: false })
      expect(performance.now() - started).toBeLessThan(100) // the store's own busy timeout is 5 s
      saver.save(s.id, 'attention', richState({ version: 2 }))
      saver.save(s.id, 'decoding', richState({ version: 3 }))
      await sleep(100)
      expect(saver.pending).toBe(2)
      expect(saved).toEqual([])

      other.exec('COMMIT')
      await sleep(200)
      expect(saver.status).toEqual({ saved: true, pending: 0 })
      expect(statuses[statuses.length - 1]).toEqual({ saved: true, pending: 0 })
      expect(store.getWorkspaceState(s.id, 'attention')?.version).toBe(2)
      expect(store.getWorkspaceState(s.id, 'decoding')?.version).toBe(3)
      expect(saved.sort()).toEqual(['attention', 'decoding'])
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
      store.close()
      cleanup()
    }
  })

  it('says which states are lost when the store closes with them still unwritten', () => {
    const { dir, cleanup } = tempDir()
    const path = join(dir, 'lab.sqlite')
    const store = openStore(path, { busyTimeoutMs: 50 })
    const other = new Database(path)
    try {
      const s = store.createSession({ name: 'a' })
      const errors: Array<[string, string]> = []
      const saver = createAutosaver(store, { delayMs: 60_000, onError: (e, w) => errors.push([e.code, w.workspace]) })
      saver.save(s.id, 'relative', richState())
      other.exec('BEGIN IMMEDIATE')
      store.close()
      expect(errors).toEqual([['STORE_BUSY', 'relative']])
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK')
      other.close()
      cleanup()
    }
  })
})
