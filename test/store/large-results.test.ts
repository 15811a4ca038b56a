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
