import { describe, expect, it } from 'vitest'
import { findResultRun, mergeKnown, readSavedState } from '../../src/renderer/workspace-state'
import { tabForArrow, tabForShortcut, TABS } from '../../src/renderer/tabs'
import { adviceFor } from '../../src/renderer/errors-advice'
import { benchmarkRuns } from '../../src/renderer/workspaces/useBenchmarksRun'
import { matrixFor } from '../../src/renderer/workspaces/useAttentionWorkspace'
import type { RunRecord, WorkspaceState } from '../../src/common/sessions'
import type { AttentionResult } from '../../src/common/api'

const run = (over: Partial<RunRecord>): RunRecord => ({
  id: 'r1',
  sessionId: 's',
  kind: 'workspace',
  workspace: 'attention',
  name: 'runAttention',
  config: {},
  seed: null,
  backend: 'cpu',
  model: null,
  status: 'done',
  createdAt: '2025-01-01T00:00:00.000Z',
  startedAt: null,
  endedAt: null,
  error: null,
  result: null,
  ...over,
})

describe('restoring saved workspace state', () => {
  const defaults = { text: 'a', layer: 0, head: '0', disabledTerms: [] as string[], nested: { k: 4, on: true } }

  it('takes saved fields of the same kind and keeps defaults for the rest', () => {
    const merged = mergeKnown(defaults, { text: 'saved', layer: 'two', head: '3', disabledTerms: ['c2p'], nested: { k: 8 }, extra: 1 })
    expect(merged).toEqual({ text: 'saved', layer: 0, head: '3', disabledTerms: ['c2p'], nested: { k: 8, on: true } })
    expect(merged).not.toHaveProperty('extra')
  })

  it('rejects arrays of the wrong item kind, non-finite numbers and non-objects', () => {
    expect(mergeKnown({ seqs: [64] }, { seqs: ['64'] })).toEqual({ seqs: [64] })
    expect(mergeKnown({ seqs: [64] }, { seqs: [128, 256] })).toEqual({ seqs: [128, 256] })
    expect(mergeKnown({ repeats: 3 }, { repeats: null })).toEqual({ repeats: 3 })
    expect(mergeKnown(defaults, 'garbage')).toEqual(defaults)
  })

  it('reads only version-1 states and drops a malformed model', () => {
    expect(readSavedState({ version: 2 })).toBeNull()
    expect(readSavedState(null)).toBeNull()
    expect(readSavedState({ version: 1, model: { nope: true } })?.model).toBeNull()
  })

  it('finds the result run by lastResult.runId, else by the job id in the run config', () => {
    const runs = [run({ id: 'a', config: { jobId: 'j1' }, result: { x: 1 } }), run({ id: 'b', config: { jobId: 'j2' }, result: { x: 2 } })]
    const byId = findResultRun({ version: 1, lastResult: { runId: 'b' }, view: {} } as WorkspaceState, runs)
    expect(byId.run?.id).toBe('b')
    const byJob = findResultRun({ version: 1, lastResult: null, view: { resultJobId: 'j1' } } as unknown as WorkspaceState, runs)
    expect(byJob.run?.id).toBe('a')
    expect(byJob.lastRun).toEqual({ jobId: 'j1', runId: 'a' })
    expect(findResultRun({ version: 1, lastResult: null, view: {} } as unknown as WorkspaceState, runs)).toEqual({ run: null, lastRun: null })
  })

  it('does not restore a run that did not finish, but remembers there was a result (to recompute)', () => {
    const found = findResultRun({ version: 1, lastResult: { runId: 'a' }, view: {} } as WorkspaceState, [run({ id: 'a', status: 'failed' })])
    expect(found.run).toBeNull()
    expect(found.lastRun).toEqual({ jobId: 'a', runId: 'a' })
  })
})

describe('tabs and errors', () => {
  it('maps Ctrl/Cmd+1…5 to the five tabs and ignores other chords', () => {
    const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods })
    expect(TABS.map((t) => t.id)).toEqual(['problem', 'attention', 'relative', 'decoding', 'benchmarks'])
    expect(tabForShortcut(key('1', { ctrlKey: true }))).toBe(0)
    expect(tabForShortcut(key('5', { metaKey: true }))).toBe(4)
    expect(tabForShortcut(key('6', { ctrlKey: true }))).toBeNull()
    expect(tabForShortcut(key('2'))).toBeNull()
    expect(tabForShortcut(key('2', { ctrlKey: true, shiftKey: true }))).toBeNull()
  })
  it('moves with arrows (wrapping), Home and End', () => {
    expect(tabForArrow('ArrowRight', 4)).toBe(0)
    expect(tabForArrow('ArrowLeft', 0)).toBe(4)
    expect(tabForArrow('Home', 3)).toBe(0)
    expect(tabForArrow('End', 1)).toBe(4)
    expect(tabForArrow('a', 1)).toBeNull()
  })
  it('says what to do next for a missing MLM head', () => {
    expect(adviceFor({ code: 'NO_MLM_HEAD' })).toMatch(/masked-language-model head/)
  })
})

describe('workspace helpers', () => {
  it('lists the finished benchmark runs newest first with a label', () => {
    const result = { backend: 'wasm', preset: 'tiny', cases: [] }
    const list = benchmarkRuns([
      run({ id: 'old', workspace: 'benchmarks', result }),
      run({ id: 'failed', workspace: 'benchmarks', status: 'failed', result }),
      run({ id: 'other', workspace: 'attention', result }),
      run({ id: 'new', workspace: 'benchmarks', result: { ...result, backend: 'cpu' } }),
    ])
    expect(list.map((r) => r.id)).toEqual(['new', 'old'])
    expect(list[0].label.startsWith('cpu · tiny · ')).toBe(true)
  })
  it('shows the matrix the user picked', () => {
    const m = (v: number) => ({ rows: 1, cols: 1, data: [v] })
    const result = { terms: { c2c: m(1), c2p: m(2) }, scores: m(3), probabilities: m(1) } as unknown as AttentionResult
    expect(matrixFor(result, 'c2p')?.data).toEqual([2])
    expect(matrixFor(result, 'scores')?.data).toEqual([3])
    expect(matrixFor(result, 'p2p')).toBeNull()
  })
})
