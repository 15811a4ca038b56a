// Shared setup of the workspace-job tests: a small seeded synthetic model through the lab's own model cache
// (with the shipped tokenizer), and a JobContext that records progress and can be cancelled.
import * as path from 'node:path'
import type { SyntheticModelRef } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import { initBackend } from '../../src/core/backend'
import type { JobContext, LoadedLabModel } from '../../src/lab/jobs'
import { ModelCache } from '../../src/lab/models'

export const RESOURCES = path.resolve(__dirname, '../../resources')

/** Small enough to run in milliseconds, shaped like deberta-v3 (log buckets: exact for |δ| ≤ 4). */
export const TINY_V3: SyntheticModelRef = {
  kind: 'synthetic',
  arch: 'deberta-v3',
  layers: 2,
  hidden: 32,
  heads: 4,
  intermediate: 64,
  positionBuckets: 8,
  maxRelativePositions: 64,
  maxPositions: 128,
  seed: 11,
}
export const TINY_V1: SyntheticModelRef = { ...TINY_V3, arch: 'deberta-v1', positionBuckets: 0, maxRelativePositions: 6 }
export const TINY_BERT: SyntheticModelRef = { ...TINY_V3, arch: 'bert', positionBuckets: 0 }

export interface TestContext extends JobContext {
  fractions: number[]
  cancel(): void
}

export async function testContext(override?: (ref: SyntheticModelRef) => Promise<LoadedLabModel> | undefined): Promise<TestContext> {
  await initBackend('cpu')
  const cache = new ModelCache(RESOURCES)
  let cancelled = false
  const fractions: number[] = []
  return {
    jobId: 'test-job',
    backend: 'cpu',
    fractions,
    getModel: (ref) => override?.(ref as SyntheticModelRef) ?? cache.get(ref),
    progress: (fraction) => fractions.push(fraction),
    checkCancelled() {
      if (cancelled) throw new LabError('CANCELLED', 'cancelled')
    },
    yieldToEvents: () => Promise.resolve(),
    cancel() {
      cancelled = true
    },
  }
}

export function softmaxRow(values: number[]): number[] {
  const max = Math.max(...values)
  const e = values.map((v) => Math.exp(v - max))
  const total = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / total)
}

export function row(data: ArrayLike<number>, cols: number, i: number): number[] {
  return Array.from({ length: cols }, (_, j) => data[i * cols + j])
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`)
  let worst = 0
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]))
  return worst
}
