// Large run results (e.g. attention maps at T = 512, tens of MB of JSON) live in the run's "result.json"
// artifact; the row keeps a small reference, so listing runs and opening sessions stay cheap, and the result
// comes back exactly (NaN included) through getRunResult — also after duplicate, export and import.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isStoredResultRef, STORED_RESULT_ARTIFACT } from '../../src/common/sessions'
import { openStore, type ExperimentStore } from '../../src/store'

describe('large run results', () => {
  let store: ExperimentStore
  beforeEach(() => {
    store = openStore(':memory:', { largeResultBytes: 2000 })
  })
  afterEach(() => store.close())

  const big = { matrix: { rows: 20, cols: 20, data: Array.from({ length: 400 }, (_, k) => (k === 7 ? Number.NaN : k / 3)) }, tokens: ['a', 'b'] }

  it('keeps a small result in the row and a large one as the run’s result.json artifact', () => {
    const session = store.createSession({ name: 's' })
    const small = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
    const large = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
    store.finishRun(small.id, { status: 'done', result: { x: 1 } })
    const finished = store.finishRun(large.id, { status: 'done', result: big })

    expect(store.getRun(small.id).result).toEqual({ x: 1 })
    expect(isStoredResultRef(finished.result)).toBe(true)
    expect(JSON.stringify(store.listRuns(session.id)).length).toBeLessThan(2000)
    expect(store.getRunResult(large.id)).toEqual(big) // NaN revived
    expect(store.getRunResult(small.id)).toEqual({ x: 1 })
    const [artifact] = store.listArtifacts(session.id)
    expect(artifact).toMatchObject({ runId: large.id, name: STORED_RESULT_ARTIFACT, kind: 'json', mime: 'application/json' })
    expect(artifact.sha256).toBe((finished.result as { $storedResult: string }).$storedResult)
  })

  it('comes back through duplicate, export and import (keep both)', () => {
    const session = store.createSession({ name: 's' })
    const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
    store.finishRun(run.id, { status: 'done', result: big })
    const copy = store.duplicateSession(session.id)
    const [copied] = store.listRuns(copy.id)
    expect(copied.id).not.toBe(run.id)
    expect(store.getRunResult(copied.id)).toEqual(big)

    const file = store.exportSession(session.id)
    const other = openStore(':memory:')
    try {
      const outcome = other.importSession(file)
      const [imported] = other.listRuns(outcome.session.id)
      expect(other.getRunResult(imported.id)).toEqual(big)
      const again = other.importSession(file, { mode: 'keep-both' })
      const [second] = other.listRuns(again.session.id)
      expect(second.id).not.toBe(imported.id)
      expect(other.getRunResult(second.id)).toEqual(big)
    } finally {
      other.close()
    }
  })

  it('a tampered reference to a missing artifact is a typed NOT_FOUND', () => {
    const session = store.createSession({ name: 's' })
    const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
    store.finishRun(run.id, { status: 'done', result: { $storedResult: 'f'.repeat(64), bytes: 10 } })
    expect(() => store.getRunResult(run.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }))
  })
})

describe('a run reaches only its own stored result', () => {
  const secret = new TextEncoder().encode('SECRET-WEIGHTS-0123456789 "not json"')
  function storeWithVictim(): { store: ExperimentStore; secretSha: string } {
    const store = openStore(':memory:', { largeResultBytes: 2000 })
    const victim = store.createSession({ name: 'victim' })
    const run = store.startRun({ sessionId: victim.id, kind: 'experiment', name: 'train', config: {} })
    const artifact = store.putArtifact({ sessionId: victim.id, runId: run.id, name: 'weights.safetensors', kind: 'weights', data: secret })
    return { store, secretSha: artifact.sha256 }
  }

  it("a reference to another session's blob is NOT_FOUND and quotes none of its bytes", () => {
    const { store, secretSha } = storeWithVictim()
    try {
      const attacker = store.createSession({ name: 'attacker' })
      const run = store.startRun({ sessionId: attacker.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
      store.finishRun(run.id, { status: 'done', result: { $storedResult: secretSha, bytes: secret.byteLength } })
      let error: unknown
      try {
        store.getRunResult(run.id)
      } catch (e) {
        error = e
      }
      expect(error).toMatchObject({ code: 'NOT_FOUND' })
      expect(JSON.stringify({ message: (error as Error).message, details: (error as { details?: unknown }).details })).not.toMatch(/SECRET|0123456789/)
    } finally {
      store.close()
    }
  })

  it("an imported run pointing its result at another session's blob is refused (IMPORT_INVALID), the store unchanged", () => {
    const { store, secretSha } = storeWithVictim()
    const source = openStore(':memory:', { largeResultBytes: 2000 })
    try {
      const session = source.createSession({ name: 'forged' })
      const run = source.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
      source.finishRun(run.id, { status: 'done', result: { $storedResult: secretSha, bytes: secret.byteLength } })
      const sessionsBefore = store.listSessions().length
      expect(() => store.importSession(source.exportSession(session.id))).toThrow(expect.objectContaining({ code: 'IMPORT_INVALID', message: expect.stringMatching(/result/) }))
      expect(store.listSessions().length).toBe(sessionsBefore)
    } finally {
      source.close()
      store.close()
    }
  })

  it('a stored result that is not JSON is a typed error that quotes none of its bytes', () => {
    const store = openStore(':memory:', { largeResultBytes: 2000 })
    try {
      const session = store.createSession({ name: 's' })
      const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
      // The run's own result.json, holding bytes that are not JSON (a forged file could ship them).
      const own = store.putArtifact({ sessionId: session.id, runId: run.id, name: STORED_RESULT_ARTIFACT, kind: 'json', data: secret })
      store.finishRun(run.id, { status: 'done', result: { $storedResult: own.sha256, bytes: secret.byteLength } })
      let error: unknown
      try {
        store.getRunResult(run.id)
      } catch (e) {
        error = e
      }
      expect(error).toMatchObject({ code: 'STORE_CORRUPT' })
      expect((error as Error).message).not.toMatch(/SECRET|0123456789|not json/)
      expect((error as Error).message).toContain(run.id)
    } finally {
      store.close()
    }
  })
})
