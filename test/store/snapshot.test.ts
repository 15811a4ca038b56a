// Exact reopen: what a session saved is what getSessionSnapshot gives back, after closing and reopening the file.
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WORKSPACE_IDS } from '../../src/common/sessions'
import { openStore } from '../../src/store'
import { tempDir } from './helpers/fixtures'
import { fillSession } from './helpers/session'

let dir: string
let cleanup: () => void
beforeEach(() => ({ dir, cleanup } = tempDir()))
afterEach(() => cleanup())

describe('session snapshot (exact reopen)', () => {
  it('gives back every workspace state, run, metric and artifact as saved', () => {
    const store = openStore(':memory:')
    const saved = fillSession(store)
    const snap = saved.snapshot
    expect(snap.workspaces).toEqual(saved.states)
    expect(Object.keys(snap.workspaces).sort()).toEqual([...WORKSPACE_IDS].sort())
    expect((snap.workspaces.attention!.inputs.big as number[]).length).toBe(100_000)
    expect(snap.runs.map((r) => [r.name, r.status])).toEqual([
      ['runAttention', 'done'],
      ['runBenchmark', 'failed'],
      ['sweep', 'queued'],
    ])
    expect(snap.runs[0].result).toEqual({
      scores: { rows: 64, cols: 64, data: Array.from({ length: 4096 }, (_, i) => Math.cos(i) / 3) },
      tokens: ['[CLS]', '▁café', '▁🤖', '[SEP]'],
      nonFinite: [NaN, -Infinity, Infinity],
    })
    expect(snap.metrics).toHaveLength(502)
    expect(snap.metrics.slice(-2)).toEqual([
      { runId: snap.runs[1].id, key: 'gflops', step: 0, value: Infinity },
      { runId: snap.runs[1].id, key: 'ms', step: 0, value: NaN },
    ])
    expect(snap.artifacts.map((a) => [a.name, a.kind, a.size])).toEqual([
      ['scores', 'tensor', 16384],
      ['attention/heatmap.png', 'chart-png', 8],
      ['attention/heatmap.svg', 'chart-svg', 41],
    ])
    expect(snap.session).toMatchObject({ name: 'Round trip ✓ 𝔡𝔢𝔟𝔢𝔯𝔱𝔞', notes: 'multi\nline “notes” 🧠', tags: ['golden', 'ünïcode'], runCount: 3 })
    store.close()
  })

  it('reopens a file exactly: the snapshot after close and reopen deep-equals the one before', () => {
    const path = join(dir, 'lab.sqlite')
    const store = openStore(path)
    const saved = fillSession(store)
    // The queued run belongs to this live store and would be marked interrupted at close: end it first.
    store.finishRun(saved.snapshot.runs[2].id, { status: 'cancelled' })
    const before = store.getSessionSnapshot(saved.sessionId)
    store.close()

    const reopened = openStore(path)
    const after = reopened.getSessionSnapshot(saved.sessionId)
    expect(after).toEqual(before)
    // toEqual treats NaN as equal to NaN and checks every nested float bit-exactly by value.
    expect(Object.is((after.runs[0].result as { nonFinite: number[] }).nonFinite[0], NaN)).toBe(true)
    for (const [sha, data] of saved.blobs) expect(Buffer.from(reopened.getArtifactData(sha))).toEqual(Buffer.from(data))
    expect(reopened.interruptedAtOpen).toEqual([])
    reopened.close()
  })
})
