// Repositories through the public store API, on ':memory:' and on a real file.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_SYNTHETIC_MODEL } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import { APP_VERSION } from '../../src/common/version'
import { openStore, type ExperimentStore } from '../../src/store'
import { richState, tempDir } from './helpers/fixtures'

/** The store's connection, for assertions on raw tables only. */
const rawDb = (store: ExperimentStore): Database.Database => (store as unknown as { ctx: { db: Database.Database } }).ctx.db
const count = (store: ExperimentStore, table: string): number => rawDb(store).prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    if (error instanceof LabError) return error.code
    throw error
  }
  return undefined
}

/** A clock that advances 1 ms per reading, so orderings by time are deterministic. */
function steppingClock(start = Date.parse('2026-03-01T10:00:00.000Z')): () => Date {
  let t = start
  return () => new Date(t++)
}

describe.each([
  ['memory', false],
  ['file', true],
])('experiment store on %s', (_label, onFile) => {
  let store: ExperimentStore
  let cleanup = (): void => undefined
  let path = ':memory:'

  beforeEach(() => {
    if (onFile) {
      const temp = tempDir()
      cleanup = temp.cleanup
      path = join(temp.dir, 'nested', 'folder', 'lab.sqlite')
    }
    store = openStore(path, { now: steppingClock() })
  })
  afterEach(() => {
    if (store.isOpen) store.close()
    cleanup()
  })

  describe('sessions', () => {
    it('creates a session with a UUID, timestamps and this app version', () => {
      const s = store.createSession({ name: 'Attention study', notes: 'why c2p?', tags: ['v3', 'attention', 'v3'] })
      expect(s.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(s).toEqual({
        id: s.id,
        name: 'Attention study',
        notes: 'why c2p?',
        tags: ['attention', 'v3'],
        createdAt: '2026-03-01T10:00:00.000Z',
        updatedAt: '2026-03-01T10:00:00.000Z',
        appVersion: APP_VERSION,
        deletedAt: null,
        runCount: 0,
      })
      expect(store.getSession(s.id)).toEqual(s)
    })

    it('lists the most recently updated first and renames, edits notes and tags', () => {
      const a = store.createSession({ name: 'a' })
      const b = store.createSession({ name: 'b' })
      expect(store.listSessions().map((s) => s.name)).toEqual(['b', 'a'])
      const renamed = store.updateSession(a.id, { name: 'a2', notes: 'n', tags: ['x'] })
      expect(renamed).toMatchObject({ name: 'a2', notes: 'n', tags: ['x'] })
      expect(renamed.updatedAt > b.updatedAt).toBe(true)
      expect(store.listSessions().map((s) => s.name)).toEqual(['a2', 'b'])
    })

    it('refuses blank, too long and malformed names', () => {
      expect(codeOf(() => store.createSession({ name: '   ' }))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.createSession({ name: 'x'.repeat(201) }))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.createSession({ name: 'lone \ud800 surrogate' }))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.createSession({ name: 'ok', tags: [''] }))).toBe('INPUT_INVALID')
      expect(store.createSession({ name: 'x'.repeat(200) }).name).toHaveLength(200)
    })

    it('soft-deletes and restores (undo), purges for good', () => {
      const s = store.createSession({ name: 'doomed' })
      const run = store.startRun({ sessionId: s.id, kind: 'experiment', name: 'r', config: {} })
      const deleted = store.deleteSession(s.id)
      expect(deleted.deletedAt).not.toBeNull()
      expect(store.listSessions()).toEqual([])
      expect(store.listSessions({ includeDeleted: true }).map((x) => x.id)).toEqual([s.id])
      expect(codeOf(() => store.getSession(s.id))).toBe('SESSION_NOT_FOUND')
      expect(codeOf(() => store.getSessionSnapshot(s.id))).toBe('SESSION_NOT_FOUND')
      expect(codeOf(() => store.saveWorkspaceState(s.id, 'attention', richState()))).toBe('SESSION_NOT_FOUND')
      expect(codeOf(() => store.deleteSession(s.id))).toBe('SESSION_NOT_FOUND')

      const restored = store.restoreSession(s.id)
      expect(restored.deletedAt).toBeNull()
      expect(restored.runCount).toBe(1)
      expect(store.getRun(run.id).sessionId).toBe(s.id)

      store.purgeSession(s.id)
      expect(codeOf(() => store.getSession(s.id, { includeDeleted: true }))).toBe('SESSION_NOT_FOUND')
      expect(codeOf(() => store.getRun(run.id))).toBe('RUN_NOT_FOUND')
      expect(count(store, 'runs')).toBe(0)
    })

    it('purges sessions deleted before a cutoff (with their artifacts), keeps recent deletions and live sessions', () => {
      const old = store.createSession({ name: 'old' })
      store.putArtifact({ sessionId: old.id, name: 'only-here', kind: 'json', data: new TextEncoder().encode('{"a":1}') })
      const recent = store.createSession({ name: 'recent' })
      const live = store.createSession({ name: 'live' })
      const deletedOld = store.deleteSession(old.id).deletedAt!
      const deletedRecent = store.deleteSession(recent.id).deletedAt!
      expect(deletedOld < deletedRecent).toBe(true)
      // a cutoff between the two deletions
      expect(store.purgeDeletedBefore(new Date(deletedRecent))).toEqual([old.id])
      expect(store.listSessions({ includeDeleted: true }).map((x) => x.id).sort()).toEqual([recent.id, live.id].sort())
      expect(count(store, 'artifacts')).toBe(0)
      expect(store.purgeDeletedBefore(new Date(deletedRecent))).toEqual([])
      expect(store.restoreSession(recent.id).deletedAt).toBeNull()
    })

    it('reports unknown sessions as SESSION_NOT_FOUND with the id in details', () => {
      let error: unknown
      try {
        store.getSession('nope')
      } catch (e) {
        error = e
      }
      expect(error).toMatchObject({ code: 'SESSION_NOT_FOUND', details: { sessionId: 'nope' } })
      expect(codeOf(() => store.restoreSession('nope'))).toBe('SESSION_NOT_FOUND')
      expect(codeOf(() => store.purgeSession('nope'))).toBe('SESSION_NOT_FOUND')
    })

    it('duplicates a session with new ids and rewrites run references in workspace states', () => {
      const s = store.createSession({ name: 'original', tags: ['t'] })
      const run = store.startRun({ sessionId: s.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: { layer: 1 } })
      store.logMetrics(run.id, [{ key: 'loss', step: 1, value: 0.5 }])
      store.finishRun(run.id, { status: 'done', result: { ok: 1 } })
      store.putArtifact({ sessionId: s.id, runId: run.id, name: 'probs', kind: 'json', data: new TextEncoder().encode('[1]') })
      store.saveWorkspaceState(s.id, 'experiments', richState({ lastResult: { runId: run.id }, selections: { compared: [run.id], [run.id]: true } }))

      const copy = store.duplicateSession(s.id)
      expect(copy.id).not.toBe(s.id)
      expect(copy).toMatchObject({ name: 'original (copy)', tags: ['t'], runCount: 1 })
      const snap = store.getSessionSnapshot(copy.id)
      const newRun = snap.runs[0]
      expect(newRun.id).not.toBe(run.id)
      expect(newRun).toMatchObject({ sessionId: copy.id, status: 'done', result: { ok: 1 }, config: { layer: 1 } })
      expect(snap.metrics).toEqual([{ runId: newRun.id, key: 'loss', step: 1, value: 0.5 }])
      expect(snap.artifacts).toMatchObject([{ runId: newRun.id, sessionId: copy.id, name: 'probs' }])
      expect(snap.workspaces.experiments?.lastResult).toEqual({ runId: newRun.id })
      expect(snap.workspaces.experiments?.selections).toEqual({ compared: [newRun.id], [newRun.id]: true })
      // The original is untouched; the blob is shared, not copied.
      expect(store.getSessionSnapshot(s.id).runs[0].id).toBe(run.id)
      expect(count(store, 'artifacts')).toBe(1)
      expect(count(store, 'artifact_links')).toBe(2)
    })
  })

  describe('workspace states', () => {
    it('saves and reads back each workspace exactly, replacing on save', () => {
      const s = store.createSession({ name: 'ws' })
      const first = richState()
      store.saveWorkspaceState(s.id, 'attention', first)
      expect(store.getWorkspaceState(s.id, 'attention')).toEqual(first)
      expect(store.getWorkspaceState(s.id, 'decoding')).toBeNull()
      const second = richState({ version: 4, lastResult: { runId: 'run-1', artifactSha256: 'a'.repeat(64) } })
      store.saveWorkspaceState(s.id, 'attention', second)
      expect(store.getWorkspaceState(s.id, 'attention')).toEqual(second)
      expect(count(store, 'workspace_states')).toBe(1)
      expect(store.getSession(s.id).updatedAt > s.updatedAt).toBe(true)
    })

    it('keeps NaN and ±Infinity inside JSON and refuses what JSON would mangle', () => {
      const s = store.createSession({ name: 'ws' })
      const odd = richState({ inputs: { scores: [NaN, Infinity, -Infinity, 1], nested: { x: NaN } } })
      store.saveWorkspaceState(s.id, 'relative', odd)
      expect(store.getWorkspaceState(s.id, 'relative')).toEqual(odd)

      const bad: Array<[string, unknown]> = [
        ['typed array', richState({ inputs: { data: new Float32Array(2) as unknown as number[] } })],
        ['Map', richState({ inputs: { m: new Map() } })],
        ['undefined in an array', richState({ inputs: { list: [1, undefined] } })],
        ['function', richState({ view: { f: () => 1 } })],
        ['a forged NaN tag', richState({ inputs: { v: { $num: 'NaN' } } })],
        ['an unknown key', { ...richState(), extra: 1 }],
        ['version 0', richState({ version: 0 })],
        ['a bad model', richState({ model: { kind: 'mystery' } as never })],
        ['inputs that are an array', richState({ inputs: [] as never })],
        ['a nested "__proto__" key (dropped by a copy)', richState({ inputs: JSON.parse('{"a":{"__proto__":{"x":1}}}') })],
        ['a top-level "__proto__" key', JSON.parse(`{"__proto__":{"x":1},${JSON.stringify(richState()).slice(1)}`)],
        ['nested 65 levels', richState({ inputs: JSON.parse(`${'{"x":'.repeat(64)}1${'}'.repeat(64)}`) })],
        ['nested 9000 levels', richState({ inputs: JSON.parse(`${'{"x":'.repeat(9000)}1${'}'.repeat(9000)}`) })],
      ]
      for (const [what, state] of bad) {
        expect(codeOf(() => store.saveWorkspaceState(s.id, 'relative', state as never)), what).toBe('INPUT_INVALID')
      }
      expect(codeOf(() => store.saveWorkspaceState(s.id, 'nowhere' as never, richState()))).toBe('INPUT_INVALID')
      expect(store.getWorkspaceState(s.id, 'relative')).toEqual(odd)
      expect(() => store.saveWorkspaceState(s.id, 'relative', richState({ inputs: JSON.parse('{"a":[{"__proto__":1}]}') }))).toThrow(/"__proto__" key at inputs\.a\.0/)
      // 64 levels in all (the state itself is the first) are fine
      const deepest = richState({ inputs: JSON.parse(`${'{"x":'.repeat(62)}1${'}'.repeat(62)}`) })
      store.saveWorkspaceState(s.id, 'relative', deepest)
      expect(store.getWorkspaceState(s.id, 'relative')).toEqual(deepest)
    })

    it('writes a batch all or nothing', () => {
      const s = store.createSession({ name: 'ws' })
      expect(
        codeOf(() =>
          store.saveWorkspaceStates([
            { sessionId: s.id, workspace: 'problem', state: richState() },
            { sessionId: 'missing', workspace: 'problem', state: richState() },
          ]),
        ),
      ).toBe('SESSION_NOT_FOUND')
      expect(store.getWorkspaceState(s.id, 'problem')).toBeNull()
    })
  })

  describe('runs and metrics', () => {
    it('records a run when it starts and again when it ends', () => {
      const s = store.createSession({ name: 'runs' })
      const model = { ...DEFAULT_SYNTHETIC_MODEL, weightsSha256: 'f'.repeat(64) }
      const run = store.startRun({ sessionId: s.id, kind: 'workspace', workspace: 'decoding', name: 'runDecoding', config: { text: 'a [MASK]', topK: 5 }, seed: 7, backend: 'cpu', model })
      expect(run).toMatchObject({ status: 'running', sessionId: s.id, kind: 'workspace', workspace: 'decoding', seed: 7, backend: 'cpu', model, endedAt: null, error: null, result: null })
      expect(run.startedAt).toBe(run.createdAt)
      expect(store.getSession(s.id).runCount).toBe(1)

      const done = store.finishRun(run.id, { status: 'done', result: { predictions: [{ token: 'é', p: 0.25 }], nan: NaN } })
      expect(done).toMatchObject({ status: 'done', error: null, result: { predictions: [{ token: 'é', p: 0.25 }], nan: NaN } })
      expect(done.endedAt! > done.startedAt!).toBe(true)
      expect(codeOf(() => store.finishRun(run.id, { status: 'failed' }))).toBe('INPUT_INVALID')
      expect(store.getRun(run.id)).toEqual(done)
    })

    it('moves queued runs to running, and records failures and cancellations', () => {
      const s = store.createSession({ name: 'runs' })
      const queued = store.startRun({ sessionId: s.id, kind: 'benchmark', name: 'bench', config: {}, status: 'queued' })
      expect(queued).toMatchObject({ status: 'queued', startedAt: null })
      const running = store.markRunStarted(queued.id)
      expect(running.status).toBe('running')
      expect(running.startedAt).not.toBeNull()
      expect(codeOf(() => store.markRunStarted(queued.id))).toBe('INPUT_INVALID')
      const failed = store.finishRun(queued.id, { status: 'failed', error: 'CHECKPOINT_SHAPE: bad' })
      expect(failed).toMatchObject({ status: 'failed', error: 'CHECKPOINT_SHAPE: bad', result: null })
      const other = store.startRun({ sessionId: s.id, kind: 'experiment', name: 'x', config: [1, 2] })
      expect(store.finishRun(other.id, { status: 'cancelled' }).status).toBe('cancelled')
      expect(store.listRuns(s.id).map((r) => r.id)).toEqual([queued.id, other.id])
    })

    it('refuses runs in unknown sessions and unknown runs', () => {
      expect(codeOf(() => store.startRun({ sessionId: 'nope', kind: 'experiment', name: 'x', config: {} }))).toBe('SESSION_NOT_FOUND')
      expect(codeOf(() => store.getRun('nope'))).toBe('RUN_NOT_FOUND')
      expect(codeOf(() => store.finishRun('nope', { status: 'done' }))).toBe('RUN_NOT_FOUND')
      expect(codeOf(() => store.logMetrics('nope', [{ key: 'k', value: 1 }]))).toBe('RUN_NOT_FOUND')
      const s = store.createSession({ name: 'x' })
      expect(codeOf(() => store.startRun({ sessionId: s.id, kind: 'nonsense' as never, name: 'x', config: {} }))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.startRun({ sessionId: s.id, kind: 'experiment', name: 'x', config: {}, seed: 1.5 }))).toBe('INPUT_INVALID')
    })

    it('logs metrics, replaces a (key, step) logged twice, keeps NaN and ±Infinity', () => {
      const s = store.createSession({ name: 'm' })
      const run = store.startRun({ sessionId: s.id, kind: 'experiment', name: 'r', config: {} })
      store.logMetrics(run.id, [
        { key: 'loss', step: 0, value: 2 },
        { key: 'loss', step: 10, value: 1 },
        { key: 'loss', step: 5, value: 1.5 },
        { key: 'ppl', value: Infinity },
        { key: 'odd', step: 1, value: NaN },
        { key: 'neg', step: -1, value: -Infinity },
      ])
      store.logMetrics(run.id, [{ key: 'loss', step: 10, value: 0.75 }])
      expect(store.getMetrics(run.id)).toEqual([
        { runId: run.id, key: 'loss', step: 0, value: 2 },
        { runId: run.id, key: 'loss', step: 5, value: 1.5 },
        { runId: run.id, key: 'loss', step: 10, value: 0.75 },
        { runId: run.id, key: 'neg', step: -1, value: -Infinity },
        { runId: run.id, key: 'odd', step: 1, value: NaN },
        { runId: run.id, key: 'ppl', step: 0, value: Infinity },
      ])
      expect(codeOf(() => store.logMetrics(run.id, [{ key: 'k', step: 0.5, value: 1 }]))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.logMetrics(run.id, [{ key: '', value: 1 }]))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.logMetrics(run.id, [{ key: 'k', value: '1' as never }]))).toBe('INPUT_INVALID')
    })

    it('gives the latest value per key and run for comparison tables (run_metrics_latest)', () => {
      const s = store.createSession({ name: 'cmp' })
      const a = store.startRun({ sessionId: s.id, kind: 'experiment', name: 'a', config: {} })
      const b = store.startRun({ sessionId: s.id, kind: 'experiment', name: 'b', config: {} })
      store.logMetrics(a.id, [
        { key: 'acc', step: 1, value: 0.5 },
        { key: 'acc', step: 3, value: 0.9 },
        { key: 'loss', step: 2, value: 0.3 },
      ])
      store.logMetrics(b.id, [{ key: 'acc', step: 7, value: 0.7 }])
      expect(store.getLatestMetrics([a.id, b.id])).toEqual([
        { runId: a.id, key: 'acc', step: 3, value: 0.9 },
        { runId: a.id, key: 'loss', step: 2, value: 0.3 },
        { runId: b.id, key: 'acc', step: 7, value: 0.7 },
      ])
      expect(store.getLatestMetrics([])).toEqual([])
    })

    it('a run left running by this store is marked interrupted when the store closes', () => {
      if (!onFile) return
      const s = store.createSession({ name: 'r' })
      const run = store.startRun({ sessionId: s.id, kind: 'experiment', name: 'r', config: {} })
      // A second store in the same process sees a live owner and leaves the run alone.
      const second = openStore(path)
      expect(second.interruptedAtOpen).toEqual([])
      expect(second.getRun(run.id).status).toBe('running')
      second.close()
      store.close()
      const reopened = openStore(path)
      expect(reopened.getRun(run.id)).toMatchObject({ status: 'interrupted', error: 'the store was closed before it finished' })
      reopened.close()
    })
  })

  describe('artifacts', () => {
    const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

    it('stores identical bytes once and gives each use its own descriptor', () => {
      const s = store.createSession({ name: 'a' })
      const run = store.startRun({ sessionId: s.id, kind: 'experiment', name: 'r', config: {} })
      const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer)
      const t1 = store.putArtifact({ sessionId: s.id, runId: run.id, name: 'scores', kind: 'tensor', dtype: 'float32', shape: [2, 4], data })
      const t2 = store.putArtifact({ sessionId: s.id, name: 'scores-T', kind: 'tensor', dtype: 'float32', shape: [4, 2], data })
      expect(t1.sha256).toBe(t2.sha256)
      expect(t1.sha256).toBe(createHash('sha256').update(data).digest('hex'))
      expect(t1).toMatchObject({ runId: run.id, shape: [2, 4], dtype: 'float32', mime: 'application/octet-stream', size: 32, kind: 'tensor' })
      expect(t2).toMatchObject({ runId: null, shape: [4, 2] })
      expect(count(store, 'artifacts')).toBe(1)
      expect(Buffer.from(store.getArtifactData(t1.sha256))).toEqual(Buffer.from(data))
      expect(store.listArtifacts(s.id).map((a) => a.name)).toEqual(['scores', 'scores-T'])
    })

    it('checks the sha256 against node:crypto and the tensor size against dtype × shape', () => {
      const s = store.createSession({ name: 'a' })
      const png = store.putArtifact({ sessionId: s.id, name: 'chart.png', kind: 'chart-png', data: new TextEncoder().encode('abc') })
      expect(png.sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
      expect(png.mime).toBe('image/png')
      expect(codeOf(() => store.putArtifact({ sessionId: s.id, name: 't', kind: 'tensor', dtype: 'float32', shape: [3], data: bytes(8, 0) }))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.putArtifact({ sessionId: s.id, name: 't', kind: 'tensor', data: bytes(8, 0) }))).toBe('INPUT_INVALID')
      expect(codeOf(() => store.getArtifactData('0'.repeat(64)))).toBe('NOT_FOUND')
      expect(codeOf(() => store.getArtifactData('../etc/passwd'))).toBe('INPUT_INVALID')
    })

    it('replaces a link by name and collects bytes nothing links to', () => {
      const s = store.createSession({ name: 'a' })
      const other = store.createSession({ name: 'b' })
      const first = store.putArtifact({ sessionId: s.id, name: 'chart.svg', kind: 'chart-svg', data: bytes(10, 1) })
      store.putArtifact({ sessionId: other.id, name: 'shared', kind: 'json', data: bytes(20, 2) })
      store.putArtifact({ sessionId: s.id, name: 'shared', kind: 'json', data: bytes(20, 2) })
      const second = store.putArtifact({ sessionId: s.id, name: 'chart.svg', kind: 'chart-svg', data: bytes(10, 3) })
      expect(second.sha256).not.toBe(first.sha256)
      expect(codeOf(() => store.getArtifactData(first.sha256))).toBe('NOT_FOUND')
      expect(count(store, 'artifacts')).toBe(2)
      store.purgeSession(s.id)
      // The blob shared with the other session stays; the one only s used goes.
      expect(count(store, 'artifacts')).toBe(1)
      expect(store.listArtifacts(other.id)).toHaveLength(1)
    })

    it('refuses a run of another session', () => {
      const s = store.createSession({ name: 'a' })
      const t = store.createSession({ name: 'b' })
      const run = store.startRun({ sessionId: t.id, kind: 'experiment', name: 'r', config: {} })
      expect(codeOf(() => store.putArtifact({ sessionId: s.id, runId: run.id, name: 'x', kind: 'json', data: bytes(1, 1) }))).toBe('INPUT_INVALID')
    })
  })

  it('is closed after close() and runs its close hooks first', () => {
    const calls: string[] = []
    store.onClose(() => calls.push('hook'))
    store.close()
    expect(calls).toEqual(['hook'])
    expect(store.isOpen).toBe(false)
    expect(() => store.listSessions()).toThrow(/closed/)
    store.close()
  })

  it('opens with WAL, synchronous NORMAL, foreign keys and a 5 s busy timeout', () => {
    const db = rawDb(store)
    expect(db.pragma('journal_mode', { simple: true })).toBe(onFile ? 'wal' : 'memory')
    expect(db.pragma('synchronous', { simple: true })).toBe(1)
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000)
  })
})

describe('a store shared with a busy writer', () => {
  it('opens and reads during another connection’s write, and gives STORE_BUSY after the busy timeout', () => {
    const { dir, cleanup } = tempDir()
    try {
      const path = join(dir, 'lab.sqlite')
      const setup = openStore(path)
      const s = setup.createSession({ name: 'shared' })
      setup.close()

      const blocker = new BetterSqlite3(path)
      blocker.pragma('journal_mode = WAL')
      blocker.exec('BEGIN IMMEDIATE')
      blocker.prepare(`UPDATE sessions SET notes = 'held' WHERE id = ?`).run(s.id)

      const started = performance.now()
      const store = openStore(path, { busyTimeoutMs: 200 })
      // Opening needed no write lock, and WAL readers see the last committed state.
      expect(performance.now() - started).toBeLessThan(150)
      expect(store.getSession(s.id).notes).toBe('')
      const waitFrom = performance.now()
      expect(codeOf(() => store.createSession({ name: 'blocked' }))).toBe('STORE_BUSY')
      expect(performance.now() - waitFrom).toBeGreaterThanOrEqual(150)

      blocker.exec('COMMIT')
      blocker.close()
      expect(store.createSession({ name: 'now fine' }).name).toBe('now fine')
      expect(store.getSession(s.id).notes).toBe('held')
      store.close()
    } finally {
      cleanup()
    }
  })
})
