// Disentangled self-attention (DeBERTa v1 and v2/v3) and plain scaled dot-product attention (BERT baseline),
// in two forms chosen per backend (src/core/strategy.ts): per-head 2-D matmuls for one sequence (wasm, cpu),
// or all heads at once as batched matmuls for B sequences (tensorflow, and training on every backend).
//
// Origins: HF modeling_deberta_v2.py DisentangledSelfAttention.forward / disentangled_attention_bias and
// modeling_deberta.py DisentangledSelfAttention (v1); definitions as in test/fixtures/README.md:
//   c2c[i, j] = Q_i·K_j / s
//   c2p[i, j] = Q_i·Kr[c(i, j)] / s,  c = clamp(relative_pos[i, j] + span, 0, 2·span − 1)
//   p2c[i, j] = K_j·Qr[c(i, j)] / s   (HF: clamp(−relative_pos[j, i] + span); relative_pos is odd in i − j)
//   p2p[i, j] = Qr[c(i, j)]·Kr[c(i, j)] / s   (lab toggle, see below)
//   s = sqrt(D · (1 + number of relative terms)); probs = softmax over j of the sum with padding masked.
// v1's q_bias / v_bias / interleaved in_proj are folded into the per-head query/key/value linears at load.
//
// p2p: released models do not use it and current HF has no p2p code. The official code's v2 p2p
// (`pos_query_layer[:, :, att_span:, :] @ pos_key_layer^T` gathered by c2p_pos) gives row i the position
// query of distance +i, i.e. it is tied to absolute query positions. We use the distance-only form the
// paper's 4th term describes — position of i relative to j on both sides: p2p[i, j] = Qr[c(i,j)]·Kr[c(i,j)],
// divided by the same s; turning it on counts it in the scale factor like a listed pos_att_type entry
// (official `scale_factor += 1` for 'p2p'). It depends on i − j only, so it is a constant per length.
//
// Performance, per-head form (wasm; measured with `deberta-lab bench`, DEBERTA_LAB_ATTENTION picks the form): only 2-D,
// non-transposed matMuls hit XNNPACK (~20 GFLOP/s); batched 3-D or transposeB=true matMuls fall back to a
// ~1–2 GFLOP/s loop. Hence per-head weights
// ([H, D] each, split at load) so no head slicing is needed, Kᵀ by an explicit [T, D] transpose, c2p as
// Q·keyDescT [T, W] + rel-shift, p2c as queryAsc·Kᵀ [W, T] + column rel-shift (src/core/relative-tables.ts).
// Batched form: Q, K, V [B·NH, T, D] from fused weights; c2p = Q·KrByDistanceᵀ [NH, B·T, W] + batched
// rel-shift; p2c = (K/s)·QrByDistanceᵀ [NH, B·T, W] + batched rel-shift, transposed (row j of it holds every
// δ = i − j).
//
// Shapes: B sequences, T tokens, N = B·T, H hidden, NH heads, D head size, A = NH·D, W = 2T − 1 distances
import * as tf from '@tensorflow/tfjs-core'
import type { AttentionTerm } from '../common/api'
import type { DebertaConfig } from './config'
import { linear, relShiftColumns, relShiftRows, type Linear } from './ops'
import type { AttentionWeights } from './params'
import type { LayerTableTensors } from './relative-tables'
import type { AttentionStrategy } from './strategy'

/**
 * Score terms handed to an observer while they are alive (tensors owned by the pass): one head [T, T]
 * (per-head form) or all heads [NH, T, T] (batched form, B = 1) starting at head `firstHead`.
 */
export interface HeadTerms {
  c2c: tf.Tensor
  c2p?: tf.Tensor
  p2c?: tf.Tensor
  p2p?: tf.Tensor
  /** sum of the enabled terms before masking */
  scores: tf.Tensor
  /** softmax probabilities */
  probs: tf.Tensor
}

/** The products of a layer (batched attention and the dense layers around it). */
export interface Products {
  /** a·b (same batch dims) */
  ab: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor
  /** a·bᵀ (last two axes) */
  abT: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor
  /** x·Wᵀ + b with the pre-transposed weight */
  linear: (x: tf.Tensor2D, p: Linear) => tf.Tensor2D
}

/** tf.matMul (TensorFlow transposes an operand inside the matmul at no cost) and the fused linear. */
export const NATIVE_PRODUCTS: Products = {
  ab: (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
  abT: (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true),
  linear,
}

export interface AttentionPass {
  config: DebertaConfig
  strategy: AttentionStrategy
  /** 1 / s */
  invScale: number
  /** additive padding bias broadcastable to the scores ([T, T] for one sequence, [B, 1, T, T] batched) or null */
  maskBias: tf.Tensor | null
  /** this layer's relative tables in the form of the strategy, or null without relative attention */
  tables: LayerTableTensors | null
  /** which relative terms are computed */
  compute: { c2p: boolean; p2c: boolean; p2p: boolean }
  /** which terms enter the score (ablation drops terms but keeps the scale) */
  include: Record<AttentionTerm, boolean>
  /** per head, overriding `include` (an ablation scoped to one head of the layer); length NH */
  headInclude?: Array<Record<AttentionTerm, boolean>>
  /**
   * Head ablation (Michel et al. 2019, "Are Sixteen Heads Really Better than One?"): per head, false zeroes its
   * context vectors before the output projection, so the head adds nothing to the layer's output. Its scores and
   * probabilities are still computed and reported. Length NH; absent = every head kept.
   */
  headKept?: boolean[]
  /** batched form: number of sequences in the rows of the inputs (default 1) */
  batch?: number
  /** the products (default NATIVE_PRODUCTS; training passes ones whose gradients avoid transposed matmuls) */
  products?: Products
  /** components are reported to the observer only when set (B = 1) */
  observer?: (firstHead: number, terms: HeadTerms) => void
  /** probabilities only (no components; B = 1) */
  onProbs?: (firstHead: number, probs: tf.Tensor) => void
}

/**
 * One attention block's context vectors: queries from queryIn [N, H], keys and values from kvIn [N, H] (the
 * EMD passes different tensors). Returns [N, NH·D] (heads concatenated, HF layout).
 */
export function selfAttention(w: AttentionWeights, queryIn: tf.Tensor2D, kvIn: tf.Tensor2D, pass: AttentionPass): tf.Tensor2D {
  return tf.tidy(() => (pass.strategy === 'batched' ? batchedAttention(w, queryIn, kvIn, pass) : perHeadAttention(w, queryIn, kvIn, pass)))
}

// ---------------------------------------------------------------------------------------------
// Per-head form (one sequence)

function perHeadAttention(w: AttentionWeights, queryIn: tf.Tensor2D, kvIn: tf.Tensor2D, pass: AttentionPass): tf.Tensor2D {
  const heads = pass.config.numAttentionHeads
  const D = pass.config.attentionHeadSize
  // fused weights (a model built for the batched form): project once, slice per head
  const projector = (p: Linear[], x: tf.Tensor2D): ((h: number) => tf.Tensor2D) => {
    if (w.layout === 'heads') return (h) => linear(x, p[h])
    const all = linear(x, p[0]) // [T, A]
    return (h) => tf.slice(all, [0, h * D], [-1, D]) // [T, D]
  }
  const query = projector(w.query, queryIn)
  const key = projector(w.key, kvIn)
  const value = projector(w.value, kvIn)
  const contexts: tf.Tensor2D[] = []
  for (let h = 0; h < heads; h++) {
    contexts.push(
      tf.tidy(() => {
        const context = headAttention(h, query(h), key(h), value(h), pass) // [T, D]
        return pass.headKept?.[h] === false ? (tf.zerosLike(context) as tf.Tensor2D) : context
      }),
    )
  }
  return heads === 1 ? contexts[0] : tf.concat(contexts, 1) // [T, NH·D]
}

function headAttention(h: number, query: tf.Tensor2D, key: tf.Tensor2D, value: tf.Tensor2D, pass: AttentionPass): tf.Tensor2D {
  const { invScale, tables, compute } = pass
  const include = pass.headInclude?.[h] ?? pass.include
  const queryScaled = tf.mul(query, invScale) as tf.Tensor2D // [T, D]   (HF divides each product by s)
  const keyT = tf.transpose(key) as tf.Tensor2D // [D, T]

  const c2c = tf.matMul(queryScaled, keyT) as tf.Tensor2D // [T, T]
  let c2p: tf.Tensor2D | undefined
  let p2c: tf.Tensor2D | undefined
  let p2p: tf.Tensor2D | undefined
  if (compute.c2p && tables?.keyDescT) {
    c2p = relShiftRows(tf.matMul(queryScaled, tables.keyDescT[h]) as tf.Tensor2D) // [T, W] → [T, T]
  }
  if (compute.p2c && tables?.queryAsc) {
    const keyTScaled = tf.mul(keyT, invScale) as tf.Tensor2D // [D, T]
    p2c = relShiftColumns(tf.matMul(tables.queryAsc[h], keyTScaled) as tf.Tensor2D) // [W, T] → [T, T]
  }
  if (compute.p2p && tables?.p2p) p2p = tables.p2p[h] // [T, T], scaled

  const scores = sumTerms(c2c, { c2p, p2c, p2p }, include) // [T, T]
  const probs = tf.softmax(pass.maskBias ? tf.add(scores, pass.maskBias) : scores) as tf.Tensor2D // [T, T]
  if (pass.observer) pass.observer(h, { c2c, c2p, p2c, p2p, scores, probs })
  else if (pass.onProbs) pass.onProbs(h, probs)
  return tf.matMul(probs, value) as tf.Tensor2D // [T, D]
}

// ---------------------------------------------------------------------------------------------
// Batched form (all heads, B sequences)

function batchedAttention(w: AttentionWeights, queryIn: tf.Tensor2D, kvIn: tf.Tensor2D, pass: AttentionPass): tf.Tensor2D {
  const { config, invScale, tables, compute, include } = pass
  const { ab, abT, linear: dense } = pass.products ?? NATIVE_PRODUCTS
  const B = pass.batch ?? 1
  const NH = config.numAttentionHeads
  const D = config.attentionHeadSize
  const N = queryIn.shape[0]
  const T = N / B
  const fused = (p: Linear[], x: tf.Tensor2D): tf.Tensor2D =>
    w.layout === 'fused' ? dense(x, p[0]) : (tf.concat(p.map((head) => dense(x, head)), 1) as tf.Tensor2D) // [N, A]
  // [N, A] → [B·NH, T, D] (sequence-major, then head)
  const toHeads = (t: tf.Tensor2D): tf.Tensor3D =>
    B === 1
      ? (tf.transpose(tf.reshape(t, [T, NH, D]), [1, 0, 2]) as tf.Tensor3D)
      : (tf.reshape(tf.transpose(tf.reshape(t, [B, T, NH, D]), [0, 2, 1, 3]), [B * NH, T, D]) as tf.Tensor3D)
  // [B·NH, T, X] ↔ [NH, B·T, X] (the relative tables are per head, shared by the sequences)
  const byHead = (t: tf.Tensor3D): tf.Tensor3D =>
    B === 1 ? t : (tf.reshape(tf.transpose(tf.reshape(t, [B, NH, T, D]), [1, 0, 2, 3]), [NH, B * T, D]) as tf.Tensor3D)
  const bySequence = (t: tf.Tensor3D, width: number): tf.Tensor3D =>
    B === 1 ? t : (tf.reshape(tf.transpose(tf.reshape(t, [NH, B, T, width]), [1, 0, 2, 3]), [B * NH, T, width]) as tf.Tensor3D)

  const query = tf.mul(toHeads(fused(w.query, queryIn)), invScale) as tf.Tensor3D // [B·NH, T, D], scaled
  const key = toHeads(fused(w.key, kvIn)) // [B·NH, T, D]
  const value = toHeads(fused(w.value, kvIn)) // [B·NH, T, D]
  const c2c = abT(query, key) as tf.Tensor3D // [B·NH, T, T]
  let c2p: tf.Tensor3D | undefined
  let p2c: tf.Tensor3D | undefined
  let p2p: tf.Tensor3D | undefined
  if (compute.c2p && tables?.keyByDistance) {
    const W = tables.keyByDistance.shape[1]
    const byDistance = bySequence(abT(byHead(query), tables.keyByDistance) as tf.Tensor3D, W) // [NH, B·T, W] → [B·NH, T, W]
    c2p = relShiftBatched(byDistance) // [B·NH, T, T]
  }
  if (compute.p2c && tables?.queryByDistance) {
    const W = tables.queryByDistance.shape[1]
    const keyScaled = tf.mul(key, invScale) as tf.Tensor3D
    const byDistance = bySequence(abT(byHead(keyScaled), tables.queryByDistance) as tf.Tensor3D, W) // [B·NH, T(j), W]
    p2c = tf.transpose(relShiftBatched(byDistance), [0, 2, 1]) as tf.Tensor3D // [B·NH, T(j), T(i)] → [B·NH, T(i), T(j)]
  }
  if (compute.p2p && tables?.p2pAll) p2p = tables.p2pAll // [NH, T, T], scaled (B = 1)

  const scores = pass.headInclude ? sumTermsByHead(c2c, { c2p, p2c, p2p }, pass.headInclude, B) : sumTerms(c2c, { c2p, p2c, p2p }, include) // [B·NH, T, T]
  let masked = scores
  if (pass.maskBias) {
    masked = B === 1 ? tf.add(scores, pass.maskBias) : tf.reshape(tf.add(tf.reshape(scores, [B, NH, T, T]), pass.maskBias), [B * NH, T, T])
  }
  const probs = tf.softmax(masked) as tf.Tensor3D // [B·NH, T, T]
  if (pass.observer) pass.observer(0, { c2c, c2p, p2c, p2p, scores, probs })
  else if (pass.onProbs) pass.onProbs(0, probs)
  let context = ab(probs, value) as tf.Tensor3D // [B·NH, T, D]
  if (pass.headKept?.some((kept) => !kept)) {
    const kept = Array.from({ length: B }, () => pass.headKept!.map((k) => (k ? 1 : 0))).flat() // [B·NH]
    context = tf.mul(context, tf.tensor3d(kept, [B * NH, 1, 1])) as tf.Tensor3D // removed heads' context = 0
  }
  return (
    B === 1
      ? tf.reshape(tf.transpose(context, [1, 0, 2]), [T, NH * D])
      : tf.reshape(tf.transpose(tf.reshape(context, [B, NH, T, D]), [0, 2, 1, 3]), [N, NH * D])
  ) as tf.Tensor2D // [N, A]
}

/**
 * Batched Transformer-XL rel-shift with differentiable ops: x [X, T, 2T−1], column m ↔ δ = (T−1) − m;
 * out[x, i, j] = x[x, i, T−1−i+j]. (The 3-D form of src/core/ops.ts relShiftRowsOps.)
 */
export function relShiftBatched(x: tf.Tensor3D): tf.Tensor3D {
  const [X, T, W] = x.shape
  if (T === 1) return x
  const flat = tf.reshape(x, [X, T * W]) // [X, T·W]
  // flat[T−1 + i·(W−1) + j] = x[i, T−1−i+j]
  const skewed = tf.reshape(tf.slice(flat, [0, T - 1], [X, T * (W - 1)]), [X, T, W - 1]) // [X, T, 2T−2]
  return tf.slice(skewed, [0, 0, 0], [X, T, T]) as tf.Tensor3D // [X, T, T]
}

/** sumTerms with a choice of terms per head: a term kept by some heads only is multiplied by a 0/1 mask per head. */
function sumTermsByHead(
  c2c: tf.Tensor3D,
  relative: { c2p?: tf.Tensor3D; p2c?: tf.Tensor3D; p2p?: tf.Tensor3D },
  headInclude: Array<Record<AttentionTerm, boolean>>,
  batch: number,
): tf.Tensor3D {
  const NH = headInclude.length
  const parts: tf.Tensor3D[] = []
  const terms: Array<[AttentionTerm, tf.Tensor3D | undefined]> = [['c2c', c2c], ['c2p', relative.c2p], ['p2c', relative.p2c], ['p2p', relative.p2p]]
  for (const [term, tensor] of terms) {
    if (!tensor) continue
    const kept = headInclude.map((inc) => (inc[term] ? 1 : 0))
    if (kept.every((k) => k === 0)) continue
    if (kept.every((k) => k === 1)) {
      parts.push(tensor)
      continue
    }
    const perHead = Array.from({ length: batch }, () => kept).flat() // [B·NH]
    const mask = tf.tensor3d(perHead, [batch * NH, 1, 1]) // [B·NH, 1, 1]
    parts.push(tf.mul(tensor, mask) as tf.Tensor3D)
  }
  return parts.length === 0 ? (tf.zerosLike(c2c) as tf.Tensor3D) : parts.length === 1 ? parts[0] : (tf.addN(parts) as tf.Tensor3D)
}

function sumTerms<R extends tf.Tensor>(c2c: R, relative: { c2p?: R; p2c?: R; p2p?: R }, include: Record<AttentionTerm, boolean>): R {
  const parts: R[] = []
  if (include.c2c) parts.push(c2c)
  if (relative.c2p && include.c2p) parts.push(relative.c2p)
  if (relative.p2c && include.p2c) parts.push(relative.p2c)
  if (relative.p2p && include.p2p) parts.push(relative.p2p)
  return parts.length === 0 ? (tf.zerosLike(c2c) as R) : parts.length === 1 ? parts[0] : (tf.addN(parts) as R)
}
