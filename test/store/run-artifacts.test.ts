// A run can be recorded together with artifacts (a corpus run and its text): one transaction, so there is never a
// run without them — an artifact that cannot be stored leaves no run behind, and other sessions are untouched.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type ExperimentStore } from '../../src/store'

describe('startRun with artifacts', () => {
  let store: ExperimentStore
  beforeEach(() => {
    store = openStore(':memory:')
  })
  afterEach(() => store.close())

  const text = new TextEncoder().encode('the small dog\nsees the ball\n')

  it('records the run and links its artifacts to it', () => {
    const session = store.createSession({ name: 's' })
    const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runCorpus', config: { corpus: { name: 'c.txt' } } }, [
      { name: 'corpus.txt', kind: 'json', mime: 'text/plain; charset=utf-8', data: text },
    ])
    const [artifact] = store.listArtifacts(session.id)
    expect(artifact).toMatchObject({ runId: run.id, name: 'corpus.txt', mime: 'text/plain; charset=utf-8', size: text.byteLength })
    expect(new TextDecoder().decode(store.getArtifactData(artifact.sha256))).toBe('the small dog\nsees the ball\n')
    expect(store.listRuns(session.id).map((r) => r.id)).toEqual([run.id])
  })

  it('an artifact that cannot be stored leaves no run', () => {
    const session = store.createSession({ name: 's' })
    expect(() =>
      store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runCorpus', config: {} }, [
        { name: 'corpus.txt', kind: 'json', data: text },
        { name: 'broken', kind: 'tensor', data: text }, // a tensor needs a dtype and a shape
      ]),
    ).toThrow(/dtype and a shape/)
    expect(store.listRuns(session.id)).toEqual([])
    expect(store.listArtifacts(session.id)).toEqual([])
  })

  it('a run for a deleted session records neither the run nor its artifacts', () => {
    const session = store.createSession({ name: 's' })
    store.deleteSession(session.id)
    expect(() => store.startRun({ sessionId: session.id, kind: 'workspace', name: 'runCorpus', config: {} }, [{ name: 'corpus.txt', kind: 'json', data: text }])).toThrow()
    expect(store.listArtifacts(session.id)).toEqual([])
  })
})
