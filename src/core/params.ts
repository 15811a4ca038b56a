// Model weights as the forward pass uses them, and the converters from PyTorch layouts (nn.Linear weight
// [out, in], row-major) to that form. Converters transpose in JS, once, while building the tensor, so no
// intermediate tensors are created and a checkpoint tensor is never on the device twice.
//
// Shapes: H hidden, NH heads, D head size, E embedding size, V vocab, I intermediate, R = 2·span rel rows
import * as tf from '@tensorflow/tfjs-core'
import type { Activation } from './config'
import type { Linear, Norm } from './ops'

export interface AttentionWeights {
  /**
   * How query / key / value are stored (chosen per backend, src/core/strategy.ts):
   *   'heads': one Linear per head, x [T, H] → [T, D] (weights [H, D]); NH entries each
   *   'fused': one Linear for all heads, x [T, H] → [T, NH·D] (head-major columns, HF layout); one entry each
   *   'packed': query, key and value in one Linear (`queryKeyValue`), x [T, H] → [T, 3·NH·D]; the three
   *             lists are empty (one matmul for self-attention on the native backend: fewer, larger products)
   */
  layout: 'heads' | 'fused' | 'packed'
  query: Linear[]
  key: Linear[]
  value: Linear[]
  /** 'packed' only: weight [H, 3·NH·D], columns query | key | value (each head-major); bias [3·NH·D] */
  queryKeyValue?: Linear
  /** [NH·D, H] */
  output: Linear
  outputNorm: Norm
}

export interface LayerWeights {
  attention: AttentionWeights
  intermediate: Linear
  output: Linear
  outputNorm: Norm
  /**
   * The exact GELU's constants are folded into these weights (a split forward's shards, src/core/shard.ts):
   * intermediate = (W_1, b_1)/√2 and output rows = W_2/√2, so the activation is u·(1 + erf(u)) (ops.ts geluFolded).
   */
  geluFolded?: boolean
}

export interface EmbeddingWeights {
  /** [V, E] (row gather; the LM head multiplies it from the left, so no transposed copy is needed) */
  word: tf.Tensor2D
  /** [P, E] or null when the checkpoint has none */
  position: tf.Tensor2D | null
  /** [typeVocab, E] or null */
  tokenType: tf.Tensor2D | null
  /** E → H, no bias; null when E = H */
  embedProj: Linear | null
  norm: Norm
}

/** HF ConvLayer (deberta-v2): Conv1d(H, H, k, padding (k−1)/2, groups) as k shifted matmuls. */
export interface ConvWeights {
  /** tap κ: [H, H] (block-diagonal when groups > 1), applied to x shifted by κ − (k−1)/2 */
  taps: tf.Tensor2D[]
  bias: tf.Tensor1D
  norm: Norm
  act: Activation
}

/** Official BertLMPredictionHead / HF DebertaV2LMPredictionHead: LayerNorm(act(dense(x)))·wordᵀ + bias. */
export interface LmHeadWeights {
  /** H → E */
  dense: Linear
  norm: Norm
  /** [V] */
  bias: tf.Tensor1D
}

/**
 * Projections of the (normalised) relative embeddings, computed once at load (they do not depend on the
 * input): key side Kr [R, NH·D] for c2p/p2p, query side Qr [R, NH·D] for p2c/p2p. Host memory.
 */
export interface RelativeProjection {
  key: Float32Array | null
  query: Float32Array | null
}

export interface ModelWeights {
  embeddings: EmbeddingWeights
  layers: LayerWeights[]
  conv: ConvWeights | null
  lmHead: LmHeadWeights | null
  /** per layer; empty when relative_attention is off */
  relative: RelativeProjection[]
}

// ---------------------------------------------------------------------------------------------
// Converters from torch layouts

/** nn.Linear weight [out, in] (+ bias [out]) → { wT [in, out], b }. */
export function linearFromTorch(weight: Float32Array, out: number, inp: number, bias: Float32Array | null): Linear {
  const wT = new Float32Array(inp * out)
  for (let o = 0; o < out; o++) {
    const row = o * inp
    for (let i = 0; i < inp; i++) wT[i * out + o] = weight[row + i]
  }
  return { wT: tf.tensor2d(wT, [inp, out]), b: bias ? tf.tensor1d(bias) : null }
}

/**
 * Per-head slices of an nn.Linear: head h takes output rows rowOf(h, d), d < D. For query/key/value_proj
 * rowOf = h·D + d (HF transpose_for_scores); v1's interleaved in_proj passes its own rowOf.
 * Bias slices come from `bias` at h·D + d (head-major, like the outputs) or are absent.
 */
export function headLinearsFromTorch(
  weight: Float32Array,
  inp: number,
  heads: number,
  headSize: number,
  rowOf: (head: number, d: number) => number,
  bias: Float32Array | null,
): Linear[] {
  const out: Linear[] = []
  for (let h = 0; h < heads; h++) {
    const wT = new Float32Array(inp * headSize) // [in, D]
    for (let d = 0; d < headSize; d++) {
      const row = rowOf(h, d) * inp
      for (let i = 0; i < inp; i++) wT[i * headSize + d] = weight[row + i]
    }
    out.push({
      wT: tf.tensor2d(wT, [inp, headSize]),
      b: bias ? tf.tensor1d(bias.subarray(h * headSize, (h + 1) * headSize)) : null,
    })
  }
  return out
}

export function normFromHost(gamma: Float32Array, beta: Float32Array): Norm {
  return { gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta) }
}

/**
 * Conv1d weight [H_out, H_in/groups, k] → k taps [H_in, H_out] (transposed, block-diagonal per group).
 * Origin: HF ConvLayer (modeling_deberta_v2.py), nn.Conv1d(hidden, hidden, k, padding=(k−1)//2, groups).
 */
export function convTapsFromTorch(weight: Float32Array, hidden: number, kernel: number, groups: number): tf.Tensor2D[] {
  const perGroup = hidden / groups
  const taps: tf.Tensor2D[] = []
  for (let k = 0; k < kernel; k++) {
    const tap = new Float32Array(hidden * hidden) // [H_in, H_out]
    for (let o = 0; o < hidden; o++) {
      const group = Math.floor(o / perGroup)
      for (let c = 0; c < perGroup; c++) {
        const i = group * perGroup + c
        tap[i * hidden + o] = weight[(o * perGroup + c) * kernel + k]
      }
    }
    taps.push(tf.tensor2d(tap, [hidden, hidden]))
  }
  return taps
}

// ---------------------------------------------------------------------------------------------
// Disposal

function linearTensors(p: Linear | null): tf.Tensor[] {
  return p ? (p.b ? [p.wT, p.b] : [p.wT]) : []
}
function normTensors(p: Norm): tf.Tensor[] {
  return [p.gamma, p.beta]
}

/** Every tensor held by a set of weights (deduplicated), e.g. for disposal. */
export function weightTensors(w: ModelWeights): tf.Tensor[] {
  const all: tf.Tensor[] = []
  const e = w.embeddings
  all.push(e.word, ...normTensors(e.norm), ...linearTensors(e.embedProj))
  if (e.position) all.push(e.position)
  if (e.tokenType) all.push(e.tokenType)
  for (const layer of w.layers) {
    const a = layer.attention
    for (const p of [...a.query, ...a.key, ...a.value, a.output]) all.push(...linearTensors(p))
    all.push(...linearTensors(a.queryKeyValue ?? null))
    all.push(...normTensors(a.outputNorm), ...linearTensors(layer.intermediate), ...linearTensors(layer.output), ...normTensors(layer.outputNorm))
  }
  if (w.conv) all.push(...w.conv.taps, w.conv.bias, ...normTensors(w.conv.norm))
  if (w.lmHead) all.push(...linearTensors(w.lmHead.dense), ...normTensors(w.lmHead.norm), w.lmHead.bias)
  return [...new Set(all)]
}

/**
 * The 'packed' form: query | key | value side by side in one Linear [H, 3·NH·D] (a missing bias, e.g. v1's key,
 * becomes zeros). Disposes the caller's per-head or fused tensors when `disposeParts`.
 */
export function packAttentionWeights(a: AttentionWeights, disposeParts: boolean): AttentionWeights {
  if (a.layout === 'packed') return a
  const parts = [...a.query, ...a.key, ...a.value] // heads of q, then k, then v: columns in that order
  const anyBias = parts.some((p) => p.b !== null)
  const queryKeyValue: Linear = {
    wT: tf.concat(parts.map((p) => p.wT), 1) as tf.Tensor2D, // [H, 3·NH·D]
    b: anyBias ? tf.tidy(() => tf.concat(parts.map((p) => p.b ?? tf.zeros([p.wT.shape[1]])), 0) as tf.Tensor1D) : null,
  }
  if (disposeParts) tf.dispose(parts.flatMap(linearTensors))
  return { ...a, layout: 'packed', query: [], key: [], value: [], queryKeyValue }
}

export function disposeWeights(w: ModelWeights): void {
  for (const t of weightTensors(w)) if (!t.isDisposed) t.dispose()
}
