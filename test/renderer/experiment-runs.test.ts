import { describe, expect, it } from 'vitest'
import type { ExperimentResult } from '../../src/common/api'
import type { RunRecord } from '../../src/common/sessions'
import { experimentRuns } from '../../src/renderer/workspaces/experiment-runs'
import { isExperimentResult } from '../../src/renderer/workspaces/useBenchmarksExperiments'

const result = (experiment: ExperimentResult['experiment'], seeds: number[]): ExperimentResult => ({
  experiment,
  budget: 'smoke',
  description: experiment,
  task: experiment === 'length' ? 'offset' : 'mlm',
  seeds,
  steps: 2,
  backend: 'wasm',
  milliseconds: 10,
  variantOrder: ['a', 'b'],
  variants: { a: { metrics: { m: { mean: 1, std: 0 } } }, b: { metrics: { m: { mean: 0.5, std: 0 } } } },
  curves: [],
})

const record = (id: string, patch: Partial<RunRecord>): RunRecord => ({
  id,
  sessionId: 's',
  kind: 'experiment',
  workspace: 'experiments',
  name: 'runExperiment',
  config: { jobId: `job-${id}` },
  seed: null,
  backend: 'wasm',
  model: null,
  status: 'done',
  createdAt: '2026-11-27T05:00:00.000Z',
  startedAt: null,
  endedAt: null,
  error: null,
  result: null,
  ...patch,
})

describe('the session’s experiment runs', () => {
  it('lists finished experiment results newest first, skipping other workspaces, unfinished runs and unreadable results', () => {
    const records = [
      record('1', { result: result('length', [1, 2]) }),
      record('2', { result: result('terms', [1]), status: 'cancelled' }),
      record('3', { workspace: 'benchmarks', kind: 'workspace', result: { cases: [] } }),
      record('4', { result: { experiment: 'terms', variantOrder: ['x'], variants: {}, curves: [], seeds: [] } }), // variant without stats
      record('5', { result: result('terms', [1, 2, 3]), config: null }),
    ]
    const entries = experimentRuns(records, isExperimentResult)
    expect(entries.map((e) => e.id)).toEqual(['5', '1'])
    expect(entries[0].label).toMatch(/^terms · smoke · 3 seeds · /)
    expect(entries[1].label).toMatch(/^length · smoke · 2 seeds · /)
    expect(entries.map((e) => e.jobId)).toEqual(['', 'job-1'])
    expect(entries[1].result).toBe(records[0].result)
  })
})
