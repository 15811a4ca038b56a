// The shards of a split forward (src/core/split.ts): each shard is a narrower model holding some of every
// layer's heads and feed-forward columns (Megatron-LM's tensor parallelism, Shoeybi et al. 2019, §3):
//   attention: the shard's heads' query/key/value columns and the rows of W_O that read their context;
//   feed-forward: columns [c0, c1) of W_1 (and b_1) and the same rows of W_2.
// Each shard's dense outputs of W_O and W_2 are partial sums; adding the shards' partials gives the full layer's
// products exactly up to float summation order (the biases of W_O and W_2 are added once: W_O's by the first shard, W_2's by the last, so that two shards
// share that work). The
// LayerNorms, residuals and the conv layer are computed by every shard on the full hidden state.
//
// Shapes: H hidden, NH heads, D head size, A = NH·D, I intermediate, R relative rows, nh = the shard's heads
import * as tf from '@tensorflow/tfjs-core'
import { LabError } from '../common/errors'
import type { DebertaConfig } from './config'
import type { ShardRun } from './model'
import type { Linear } from './ops'
import type { AttentionWeights, EmbeddingWeights, LayerWeights, ModelWeights, RelativeProjection } from './params'

/** Heads [h0, h1) and feed-forward columns [c0, c1) of one shard. */
export interface ShardRange {
  heads: [number, number]
  columns: [number, number]
}

/** As even as possible: the first shards take the remainders. Needs at least one head and column per shard. */
export function shardRanges(config: DebertaConfig, count: number): ShardRange[] {
  const NH = config.numAttentionHeads
  const I = config.intermediateSize
  if (!Number.isInteger(count) || count < 1 || count > NH || count > I) {
    throw new LabError('INPUT_INVALID', `a model with ${NH} heads and ${I} feed-forward columns cannot be split into ${count} shards`)
  }
  const cut = (total: number, k: number): number => k * Math.floor(total / count) + Math.min(k, total % count)
  return Array.from({ length: count }, (_, k) => ({ heads: [cut(NH, k), cut(NH, k + 1)], columns: [cut(I, k), cut(I, k + 1)] }))
}

/** The config of one shard: its heads and feed-forward columns (everything else as the model's). */
export function shardConfig(config: DebertaConfig, range: ShardRange): DebertaConfig {
  return { ...config, numAttentionHeads: range.heads[1] - range.heads[0], intermediateSize: range.columns[1] - range.columns[0] }
}

/**
 * Shard `index`'s weights cut from a model's (new tensors for the sliced products, listed in `created`; the
 * LayerNorms and the conv layer are the model's own tensors). `embeddings` is what the shard model carries as its
 * embeddings (it never embeds: the caller passes the model's own, or a placeholder on another thread).
 */
export function shardWeights(
  full: ModelWeights,
  config: DebertaConfig,
  range: ShardRange,
  index: number,
  embeddings: EmbeddingWeights,
): { weights: ModelWeights; created: tf.Tensor[] } {
  const created: tf.Tensor[] = []
  const keep = <T extends tf.Tensor>(t: T): T => {
    created.push(t)
    return t
  }
  const D = config.attentionHeadSize
  const [h0, h1] = range.heads
  const [c0, c1] = range.columns
  const w1OutIn = shardW1OutIn()
  const layers = full.layers.map((layer): LayerWeights => {
    const a = layer.attention
    const { query, key, value } = headColumns(a, config, h0, h1)
    const parts = [query, key, value]
    const anyBias = parts.some((p) => p.b !== null)
    const queryKeyValue: Linear = {
      wT: keep(tf.concat(parts.map((p) => p.wT), 1) as tf.Tensor2D), // [H, 3·nh·D]
      b: anyBias ? keep(tf.tidy(() => tf.concat(parts.map((p) => p.b ?? tf.zeros([p.wT.shape[1]])), 0) as tf.Tensor1D)) : null,
    }
    tf.dispose(parts.flatMap((p) => (p.b ? [p.wT, p.b] : [p.wT])))
    const attention: AttentionWeights = {
      layout: 'packed',
      query: [],
      key: [],
      value: [],
      queryKeyValue,
      output: rows(a.output, h0 * D, (h1 - h0) * D, index === 0, keep), // [nh·D, H]
      outputNorm: a.outputNorm,
    }
    // exact GELU: gelu(x)·W_2 = (u·(1 + erf(u)))·(W_2/√2) with u = x/√2, so 1/√2 goes into W_1, b_1 and W_2's rows
    // (not W_2's bias): the activation is three passes instead of five (its values are never shown from a shard)
    const fold = config.hiddenAct === 'gelu' && !layer.geluFolded
    const scale = fold ? Math.SQRT1_2 : 1
    const sliced = scaledSlice(layer.intermediate.wT, [0, c0], [-1, c1 - c0], scale) // [H, c1 − c0]
    const w1 = w1OutIn ? (tf.transpose(sliced) as tf.Tensor2D) : sliced // [c1 − c0, H] when outIn
    if (w1 !== sliced) sliced.dispose()
    return {
      attention,
      intermediate: {
        wT: keep(w1),
        b: layer.intermediate.b ? keep(scaledSlice(layer.intermediate.b, [c0], [c1 - c0], scale)) : null,
        ...(w1OutIn ? { outIn: true } : {}),
      },
      output: rows(layer.output, c0, c1 - c0, c1 === config.intermediateSize, keep, scale), // [c1 − c0, H]; bias on the last shard
      outputNorm: layer.outputNorm,
      geluFolded: fold || layer.geluFolded,
    }
  })
  const relative = full.relative.map((p): RelativeProjection => ({ key: headSlice(p.key, config, h0, h1), query: headSlice(p.query, config, h0, h1) }))
  return { weights: { embeddings, layers, conv: full.conv, lmHead: null, relative }, created }
}

/**
 * Whether a shard stores W_1 as [out, in] and multiplies by it transposed (Linear.outIn). TF's MatMul (oneDNN) on the
 * machine this was measured on (2 cores, AVX-512; one thread, T = 512) runs base's shard shape [512, 768]·[768, 1536]
 * in 6.3 ms that way against 7.3–8.6 ms with the weight [in, out]; at T = 128 the two are even. On tensorflow only (wasm's
 * transposed matmul is ~10× slower); DEBERTA_LAB_SHARD_W1=in-out|out-in overrides (benchmarks).
 */
function shardW1OutIn(): boolean {
  const forced = typeof process !== 'undefined' ? process.env.DEBERTA_LAB_SHARD_W1 : undefined
  if (forced === 'out-in' || forced === 'in-out') return forced === 'out-in'
  return tf.getBackend() === 'tensorflow'
}

/** Rows [from, from + count) of a Linear's wT times `scale`; the bias (unscaled) only when `withBias` (it must be added once). */
function rows(p: Linear, from: number, count: number, withBias: boolean, keep: <T extends tf.Tensor>(t: T) => T, scale = 1): Linear {
  return { wT: keep(scaledSlice(p.wT, [from, 0], [count, -1], scale)), b: withBias && p.b ? keep(tf.clone(p.b)) : null }
}

/** tf.slice(t, begin, size) times `scale` (a new tensor either way). */
function scaledSlice<T extends tf.Tensor>(t: T, begin: number[], size: number[], scale: number): T {
  return tf.tidy(() => (scale === 1 ? tf.slice(t, begin, size) : tf.mul(tf.slice(t, begin, size), scale))) as T
}

/** Query, key and value columns of heads [h0, h1) in any layout (new tensors; the caller disposes them). */
function headColumns(a: AttentionWeights, config: DebertaConfig, h0: number, h1: number): { query: Linear; key: Linear; value: Linear } {
  const D = config.attentionHeadSize
  const A = config.numAttentionHeads * D
  const width = (h1 - h0) * D
  const columns = (p: Linear, from: number): Linear => ({
    wT: tf.slice(p.wT, [0, from], [-1, width]),
    b: p.b ? tf.slice(p.b, [from], [width]) : null,
  })
  if (a.layout === 'packed') {
    const packed = a.queryKeyValue!
    return { query: columns(packed, h0 * D), key: columns(packed, A + h0 * D), value: columns(packed, 2 * A + h0 * D) }
  }
  if (a.layout === 'fused') return { query: columns(a.query[0], h0 * D), key: columns(a.key[0], h0 * D), value: columns(a.value[0], h0 * D) }
  const concat = (heads: Linear[]): Linear => {
    const picked = heads.slice(h0, h1)
    return {
      wT: tf.concat(picked.map((p) => p.wT), 1) as tf.Tensor2D,
      b: picked.some((p) => p.b) ? tf.tidy(() => tf.concat(picked.map((p) => p.b ?? tf.zeros([D])), 0) as tf.Tensor1D) : null,
    }
  }
  return { query: concat(a.query), key: concat(a.key), value: concat(a.value) }
}

/** Columns of heads [h0, h1) of a host [R, NH·D] projection → [R, nh·D]. */
function headSlice(rowsByHead: Float32Array | null, config: DebertaConfig, h0: number, h1: number): Float32Array | null {
  if (!rowsByHead) return null
  const D = config.attentionHeadSize
  const A = config.numAttentionHeads * D
  const R = rowsByHead.length / A
  const width = (h1 - h0) * D
  const out = new Float32Array(R * width)
  for (let r = 0; r < R; r++) out.set(rowsByHead.subarray(r * A + h0 * D, r * A + h1 * D), r * width)
  return out
}

/**
 * A forward's attention settings as one shard sees them: heads renumbered from the shard's first head; an
 * ablation scoped to a head of another shard leaves this shard's terms as they are. (The options were validated
 * against the whole model before.)
 */
export function shardForwardOptions(options: ShardRun['options'], range: ShardRange): ShardRun['options'] {
  const [h0, h1] = range.heads
  const mine = (head: number): boolean => head >= h0 && head < h1
  const out: ShardRun['options'] = {}
  if (options.p2p !== undefined) out.p2p = options.p2p
  if (options.removedHeads) out.removedHeads = options.removedHeads.filter((r) => mine(r.head)).map((r) => ({ layer: r.layer, head: r.head - h0 }))
  const scope = options.ablationScope
  if (scope?.head !== undefined && !mine(scope.head)) return out // the scoped head is on another shard
  if (options.disabledTerms !== undefined) out.disabledTerms = [...options.disabledTerms]
  if (scope) out.ablationScope = scope.head === undefined ? { layer: scope.layer } : { layer: scope.layer, head: scope.head - h0 }
  return out
}
