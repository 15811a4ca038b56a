// Benchmarks of the implementation on the current backend: one attention block, one layer, or the whole
// encoder of a config (synthetic weights), for batch 1 and several lengths, next to the backend's plain 2-D
// matmul rate on the layer's dense shapes. FLOPs follow src/core/flops.ts.
//
// What is timed: "attention" / "layer" run layer 0 of a one-layer synthetic model of the config (vocabulary
// shrunk, since embeddings are not part of these parts); "model" runs a forward of a full synthetic model
// of the config (all layers, full vocabulary; embeddings included, no LM head). Each case warms up first (per-length
// host tables, XNNPACK weight packing, and V8 compiling the JS of ~650 tfjs ops per forward: on tensorflow a base
// forward at T = 128 takes ~10 runs, ~2 s, to reach its steady time, ~25 % below the first runs; measured
// 2026-12-03) and then makes `repeats` timed runs; the per-forward table upload is inside the timed region. The
// first (cold) run's time is reported beside the medians (firstMs).
import { availableParallelism } from 'node:os'
import * as tf from '@tensorflow/tfjs-core'
import { BENCH_WARMUP_MAX_RUNS, BENCH_WARMUP_MIN_RUNS, BENCH_WARMUP_MS, type BenchmarkPart } from '../common/api'
import { LabError } from '../common/errors'
import type { DebertaConfig } from './config'
import { bertBaselineFrom } from './bert'
import { modelFlopTerms, layerFlopTerms, attentionFlopTerms, referenceMatmulShapes, sumFlops, type AttentionVariant } from './flops'
import type { DebertaModel } from './model'
import { hostTidy, linear } from './ops'
import { splitMode } from './backend-env'
import { splitIfRequested } from './split'
import { createSyntheticModel, fillNormalSeeded } from './synthetic'

export interface BenchCaseResult {
  backend: string
  preset: string
  part: BenchmarkPart
  variant: AttentionVariant
  seq: number
  batch: 1
  repeats: number
  medianMs: number
  minMs: number
  maxMs: number
  flops: number
  gflops: number
  /** flops at the measured plain-matmul rate of the same length (absent for the matmul line itself) */
  predictedMs?: number
  /** untimed warm-up runs before the timed ones */
  warmups: number
  /** the case's first (cold) run */
  firstMs: number
  note?: string
}

export interface BenchOptions {
  config: DebertaConfig
  /** label for the output, e.g. "base" or the config path */
  preset: string
  seqs: number[]
  parts: BenchmarkPart[]
  variants?: AttentionVariant[]
  repeats: number
  seed?: number
  /** called with each finished case (progress); may be async */
  onCase?: (result: BenchCaseResult) => void | Promise<void>
  /** throw to cancel (e.g. JobContext.checkCancelled); called between runs */
  checkCancelled?: () => void
  /** lets a worker's message loop run between runs */
  yieldToEvents?: () => Promise<void>
  /** warm up each case for at least this long (default BENCH_WARMUP_MS), within BENCH_WARMUP_MIN_RUNS … BENCH_WARMUP_MAX_RUNS runs */
  warmupMs?: number
}

export const BENCH_DEFAULT_SEED = 1234
/** vocabulary of the one-layer models of the attention / layer parts (their embeddings are not timed) */
const BLOCK_BENCH_VOCAB = 16
/** Repeats of the reference matmul timing per sequence length (its median sets the predicted time). */
const MATMUL_RATE_MIN_REPEATS = 5

function stats(times: number[]): { medianMs: number; minMs: number; maxMs: number } {
  const sorted = [...times].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { medianMs, minMs: sorted[0], maxMs: sorted[sorted.length - 1] }
}

function randomMatrix(rows: number, cols: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(fillNormalSeeded(new Float32Array(rows * cols), seed), [rows, cols])
}

export interface TimedRuns {
  times: number[]
  warmups: number
  firstMs: number
}

/** Warms up (see BENCH_WARMUP_MS), then times `repeats` runs. */
export async function timeRuns(run: () => void, repeats: number, options: Pick<BenchOptions, 'warmupMs' | 'checkCancelled' | 'yieldToEvents'>): Promise<TimedRuns> {
  const warmupMs = options.warmupMs ?? BENCH_WARMUP_MS
  let warmups = 0
  let warmupTotal = 0
  let firstMs = 0
  while (warmups < BENCH_WARMUP_MIN_RUNS || (warmupTotal < warmupMs && warmups < BENCH_WARMUP_MAX_RUNS)) {
    if (warmups > 0) {
      options.checkCancelled?.()
      await options.yieldToEvents?.()
    }
    const start = performance.now()
    run()
    const ms = performance.now() - start
    // the first (cold) run prepares every op and shape (TF kernels, oneDNN code; base T = 512 ~0.9 s): it does not
    // count towards the warm-up time
    if (warmups === 0) firstMs = ms
    else warmupTotal += ms
    warmups++
  }
  const times: number[] = []
  for (let r = 0; r < repeats; r++) {
    options.checkCancelled?.()
    await options.yieldToEvents?.()
    const start = performance.now()
    run()
    times.push(performance.now() - start)
  }
  return { times, warmups, firstMs }
}

/**
 * The backend's plain 2-D matmul rate on the dense shapes of one layer at this length
 * ([T, H]·[H, A] ×3, [T, A]·[A, H], [T, H]·[H, I], [T, I]·[I, H]; weights resident, as in the model).
 */
export async function measureMatmulRate(config: DebertaConfig, seq: number, repeats: number, options: Partial<BenchOptions> = {}): Promise<BenchCaseResult> {
  const shapes = referenceMatmulShapes(config, seq)
  const seed = options.seed ?? BENCH_DEFAULT_SEED
  const operands = shapes.map(([m, k, n], i) => [randomMatrix(m, k, seed + 2 * i), randomMatrix(k, n, seed + 2 * i + 1)] as const)
  try {
    const { times, warmups, firstMs } = await timeRuns(
      () => hostTidy(() => operands.forEach(([a, wT]) => linear(a, { wT, b: null }).dataSync())),
      repeats,
      options,
    )
    const flops = shapes.reduce((acc, [m, k, n]) => acc + 2 * m * k * n, 0)
    const s = stats(times)
    return {
      backend: tf.getBackend(),
      preset: options.preset ?? '',
      part: 'matmul',
      variant: 'disentangled',
      seq,
      batch: 1,
      repeats,
      ...s,
      flops,
      gflops: flops / (s.medianMs * 1e6),
      warmups,
      firstMs,
      note:
        "plain 2-D matmul on the layer's dense shapes (the model's own dense kernel)" +
        (tf.getBackend() === 'tensorflow' && splitMode() !== 'off' && availableParallelism() >= 2 ? '; one TF thread, as each thread of a split forward runs' : ''),
    }
  } finally {
    tf.dispose(operands.flat())
  }
}

/** Runs the requested cases; results in order (per length: matmul, then parts × variants). */
/** Longest sequence benchmarked (the T × T score matrices of one head at 8192 are 256 MB). */
export const MAX_BENCH_SEQ = 8192
/** Most timed repeats per case. */
export const MAX_BENCH_REPEATS = 1000

export async function runBenchmark(options: BenchOptions): Promise<BenchCaseResult[]> {
  const { config, seqs, parts, repeats } = options
  const variants = options.variants ?? ['disentangled']
  const seed = options.seed ?? BENCH_DEFAULT_SEED
  if (!Number.isInteger(repeats) || repeats < 1 || repeats > MAX_BENCH_REPEATS) {
    throw new LabError('INPUT_INVALID', `repeats must be an integer from 1 to ${MAX_BENCH_REPEATS} (got ${repeats})`)
  }
  for (const seq of seqs) {
    if (!Number.isInteger(seq) || seq < 1 || seq > MAX_BENCH_SEQ) throw new LabError('INPUT_INVALID', `sequence length ${seq} must be an integer from 1 to ${MAX_BENCH_SEQ}`)
  }
  const results: BenchCaseResult[] = []
  const emit = async (r: BenchCaseResult): Promise<void> => {
    results.push(r)
    await options.onCase?.(r)
  }
  const needsBlock = parts.includes('attention') || parts.includes('layer')
  const needsModel = parts.includes('model')
  let block: DebertaModel | null = null
  let full: DebertaModel | null = null
  let splitNote: string | null = null
  let baseline: DebertaModel | null = null
  try {
    if (needsBlock) block = createSyntheticModel({ ...config, numHiddenLayers: 1, vocabSize: BLOCK_BENCH_VOCAB, padTokenId: 0 }, { seed })
    if (needsModel) {
      full = createSyntheticModel(config, { seed, withHead: false })
      splitNote = await splitIfRequested(full)
      if (variants.includes('standard')) baseline = bertBaselineFrom(full)
    }
    for (const seq of seqs) {
      // The FLOP model's rate: measured at this T, with enough repeats that one noisy timing cannot bend the prediction.
      const reference = await measureMatmulRate(config, seq, Math.max(repeats, MATMUL_RATE_MIN_REPEATS), { ...options, seed })
      if (parts.includes('matmul')) await emit(reference)
      const rate = reference.gflops
      const x = randomMatrix(seq, config.hiddenSize, seed + seq)
      const ids = [Array.from({ length: seq }, (_, i) => (i * 7919 + 1) % config.vocabSize)]
      try {
        for (const part of parts) {
          if (part === 'matmul') continue
          for (const variant of variants) {
            let run: () => void
            let flops: number
            let note: string
            if (part === 'model') {
              const model = variant === 'standard' ? baseline! : full!
              if (seq > model.maxSequenceLength()) continue // absolute positions limit the BERT baseline
              run = () => void model.forward({ inputIds: ids })
              flops = sumFlops(modelFlopTerms(config, seq, variant))
              note = `full ${config.numHiddenLayers}-layer model, vocab ${config.vocabSize}, synthetic weights`
              if (model.isSplit) note += '; split over two threads (DEBERTA_LAB_SPLIT=0: one)'
              else if (splitNote && model === full) note += `; ${splitNote}`
            } else {
              const m = block!
              run = () => hostTidy(() => void m.runBlock(part, 0, x, variant).dataSync())
              flops = sumFlops(part === 'attention' ? attentionFlopTerms(config, seq, variant) : layerFlopTerms(config, seq, variant))
              note = `one synthetic layer of the config (${part === 'attention' ? 'self-attention + output dense + LayerNorm' : 'attention block + FFN'})`
            }
            const timed = await timeRuns(run, repeats, options)
            const s = stats(timed.times)
            await emit({
              backend: tf.getBackend(),
              preset: options.preset,
              part,
              variant,
              seq,
              batch: 1,
              repeats,
              ...s,
              flops,
              gflops: flops / (s.medianMs * 1e6),
              predictedMs: flops / (rate * 1e6),
              warmups: timed.warmups,
              firstMs: timed.firstMs,
              note,
            })
          }
        }
      } finally {
        x.dispose()
      }
    }
  } finally {
    block?.dispose()
    baseline?.dispose()
    full?.dispose()
  }
  return results
}
