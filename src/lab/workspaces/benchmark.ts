// Benchmarks workspace, "run your own": the core's speed benchmark (src/core/bench.ts) on the worker's
// backend (or another one that loads, to compare them) for a preset's shapes, with progress per finished case and cancel between runs.
import type { BenchmarkCase, BenchmarkRequest, BenchmarkResult } from '../../common/api'
import { LabError } from '../../common/errors'
import { onBackend, type BackendName } from '../../core/backend'
import { runBenchmark as runCoreBenchmark, type BenchCaseResult } from '../../core/bench'
import { PRESETS, type PresetName } from '../../core/config'
import type { JobHandler } from '../jobs'

/** The cases runBenchmark produces (the matmul reference line only when requested). */
export function expectedCases(request: Pick<BenchmarkRequest, 'seqs' | 'parts' | 'variants'>): number {
  const timed = request.parts.filter((p) => p !== 'matmul').length * request.variants.length
  return request.seqs.length * (timed + (request.parts.includes('matmul') ? 1 : 0))
}

/**
 * A core case as a LabApi case. The matmul line is the rate the prediction uses, so its "prediction" is
 * its own measurement (the store keeps finite numbers only).
 */
export function toBenchmarkCase(result: BenchCaseResult): BenchmarkCase {
  return {
    part: result.part,
    variant: result.variant,
    seq: result.seq,
    medianMs: result.medianMs,
    minMs: result.minMs,
    maxMs: result.maxMs,
    flops: result.flops,
    gflops: result.gflops,
    predictedMs: result.predictedMs ?? result.medianMs,
  }
}

export const benchmark: JobHandler<BenchmarkRequest, BenchmarkResult> = async (context, request) => {
  const config = PRESETS[request.preset as PresetName]
  if (!config) throw new LabError('INPUT_INVALID', `unknown preset "${request.preset}": use one of ${Object.keys(PRESETS).join(', ')}`, { field: 'preset' })
  const total = Math.max(1, expectedCases(request))
  let done = 0
  const backend = request.backend ?? context.backend
  context.progress(0, `timing ${request.preset} on ${backend}`)
  const results = await onBackend(backend as BackendName, () => runCoreBenchmark({
    config,
    preset: request.preset,
    seqs: [...request.seqs].sort((a, b) => a - b),
    parts: request.parts,
    variants: request.variants,
    repeats: request.repeats,
    onCase: (result) => {
      done++
      context.progress(done / total, `${result.part} · ${result.variant} · T = ${result.seq}: ${result.medianMs.toFixed(2)} ms`)
    },
    checkCancelled: () => context.checkCancelled(),
    yieldToEvents: () => context.yieldToEvents(),
  }))
  return { backend, preset: request.preset, cases: results.map(toBenchmarkCase) }
}
