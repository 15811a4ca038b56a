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
// δ = i − j). On tensorflow (no gradient tape) p2c is instead read off the diagonals of (K/s)·QrDescendingᵀ with
// TF's MatrixDiagPartV3 (diagonalP2c): one pass instead of two slices and a transpose of [NH, T, T].
//
// Shapes: B sequences, T tokens, N = B·T, H hidden, NH heads, D head size, A = NH·D, W = 2T − 1 distances
import * as tf from '@tensorflow/tfjs-core'
import type { AttentionTerm } from '../common/api'
import { LabError } from '../common/errors'
import type { DebertaConfig } from './config'
import { tensorflowKernels } from './native-kernels'
import { linear, relShiftColumns, relShiftRows, softmax, wasmLinears, type Linear } from './ops'
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
  let query: (h: number) => tf.Tensor2D
  let key: (h: number) => tf.Tensor2D
  let value: (h: number) => tf.Tensor2D
  const lab = w.layout === 'heads' ? wasmLinears(queryIn, w.query) : null
  if (lab) {
    // the lab's GEMM on wasm: each role's heads in one pass
    const keys = wasmLinears(kvIn, w.key) ?? w.key.map((p) => linear(kvIn, p))
    const values = wasmLinears(kvIn, w.value) ?? w.value.map((p) => linear(kvIn, p))
    query = (h) => lab[h]
    key = (h) => keys[h]
    value = (h) => values[h]
  } else if (w.layout === 'heads') {
    query = (h) => linear(queryIn, w.query[h])
    key = (h) => linear(kvIn, w.key[h])
    value = (h) => linear(kvIn, w.value[h])
  } else {
    // weights of a model built for the batched form: project once, slice per head
    const all = projectAll(w, queryIn, kvIn, linear) // [T, A] each
    const slicer = (t: tf.Tensor2D) => (h: number) => tf.slice(t, [0, h * D], [-1, D]) as tf.Tensor2D // [T, D]
    query = slicer(all.query)
    key = slicer(all.key)
    value = slicer(all.value)
  }
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
    c2p = relShiftRows(tf.matMul(queryScaled, tables.keyDescT[h]) as tf.Tensor2D, tables.compact?.columnsDesc) // [T, W or R'] → [T, T]
  }
  if (compute.p2c && tables?.queryAsc) {
    const keyTScaled = tf.mul(keyT, invScale) as tf.Tensor2D // [D, T]
    p2c = relShiftColumns(tf.matMul(tables.queryAsc[h], keyTScaled) as tf.Tensor2D, tables.compact?.rowsAsc) // [W or R', T] → [T, T]
  }
  if (compute.p2p && tables?.p2p) p2p = tables.p2p[h] // [T, T], scaled

  const scores = sumTerms(c2c, { c2p, p2c, p2p }, include) // [T, T]
  const probs = softmax(pass.maskBias ? tf.add(scores, pass.maskBias) : scores) as tf.Tensor2D // [T, T]
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

  let queryHeads: tf.Tensor3D, key: tf.Tensor3D, value: tf.Tensor3D // [B·NH, T, D]
  if (w.layout === 'packed' && queryIn === kvIn) {
    // one product for q | k | v, one transpose to [3, B·NH, T, D], one split
    const all = dense(queryIn, w.queryKeyValue!) // [N, 3A]
    const split =
      B === 1
        ? tf.transpose(tf.reshape(all, [T, 3, NH, D]), [1, 2, 0, 3])
        : tf.reshape(tf.transpose(tf.reshape(all, [B, T, 3, NH, D]), [2, 0, 3, 1, 4]), [3, B * NH, T, D])
    ;[queryHeads, key, value] = tf.unstack(split) as tf.Tensor3D[]
  } else {
    const all = projectAll(w, queryIn, kvIn, dense) // [N, A] each
    queryHeads = toHeads(all.query)
    key = toHeads(all.key)
    value = toHeads(all.value)
  }
  const query = tf.mul(queryHeads, invScale) as tf.Tensor3D // [B·NH, T, D], scaled

  // One group of `count` heads from `first` (all heads unless one sequence is split into head groups).
  const groupContext = (first: number, count: number): tf.Tensor3D => {
    const whole = count === NH
    const heads = (t: tf.Tensor3D): tf.Tensor3D => (whole ? t : (tf.slice(t, [first, 0, 0], [count, -1, -1]) as tf.Tensor3D))
    const q = heads(query)
    const k = heads(key)
    const c2c = abT(q, k) as tf.Tensor3D // [B·count, T, T]
    let c2p: tf.Tensor3D | undefined
    let p2c: tf.Tensor3D | undefined
    let p2p: tf.Tensor3D | undefined
    if (tables?.blocked) {
      if (B !== 1) throw new Error('the blocked relative tables are for one sequence')
      const windows = (t: tf.Tensor3D | null): tf.Tensor3D | null => {
        if (!t || whole) return t
        const perHead = t.shape[0] / NH
        return tf.slice(t, [first * perHead, 0, 0], [count * perHead, -1, -1]) as tf.Tensor3D
      }
      const blocked = { block: tables.blocked.block, keyWindows: windows(tables.blocked.keyWindows), queryWindows: windows(tables.blocked.queryWindows) }
      const terms = blockedRelativeTerms(q, k, invScale, blocked, compute, abT)
      c2p = terms.c2p
      p2c = terms.p2c
    } else if (compute.c2p && tables?.keyByDistance) {
      const W = tables.keyByDistance.shape[1]
      const byDistance = bySequence(abT(byHead(q), heads(tables.keyByDistance)) as tf.Tensor3D, W) // [NH, B·T, W] → [B·NH, T, W]
      c2p = relShiftBatched(byDistance) // [B·NH, T, T]
    }
    if (compute.p2c && tables?.queryDescending) {
      const W = tables.queryDescending.shape[1]
      const keyScaled = tf.mul(k, invScale) as tf.Tensor3D
      p2c = diagonalP2c(bySequence(abT(byHead(keyScaled), heads(tables.queryDescending)) as tf.Tensor3D, W)) // [B·count, T(j), W] → [B·count, T(i), T(j)]
    } else if (!tables?.blocked && compute.p2c && tables?.queryByDistance) {
      const W = tables.queryByDistance.shape[1]
      const keyScaled = tf.mul(k, invScale) as tf.Tensor3D
      const byDistance = bySequence(abT(byHead(keyScaled), heads(tables.queryByDistance)) as tf.Tensor3D, W) // [B·NH, T(j), W]
      p2c = tf.transpose(relShiftBatched(byDistance), [0, 2, 1]) as tf.Tensor3D // [B·NH, T(j), T(i)] → [B·NH, T(i), T(j)]
    }
    if (compute.p2p && tables?.p2pAll) p2p = heads(tables.p2pAll) // [count, T, T], scaled (B = 1)

    const headInclude = pass.headInclude?.slice(first, first + count)
    const scores = headInclude ? sumTermsByHead(c2c, { c2p, p2c, p2p }, headInclude, B) : sumTerms(c2c, { c2p, p2c, p2p }, include) // [B·count, T, T]
    let masked = scores
    if (pass.maskBias) {
      masked = B === 1 ? tf.add(scores, pass.maskBias) : tf.reshape(tf.add(tf.reshape(scores, [B, NH, T, T]), pass.maskBias), [B * NH, T, T])
    }
    const probs = softmax(masked) // [B·count, T, T]
    if (pass.observer) pass.observer(first, { c2c, c2p, p2c, p2p, scores, probs })
    else if (pass.onProbs) pass.onProbs(first, probs)
    return ab(probs, heads(value)) as tf.Tensor3D // [B·count, T, D]
  }
  const groups = B === 1 ? headGroups(NH, T) : [NH]
  let context: tf.Tensor3D // [B·NH, T, D]
  if (groups.length === 1) {
    context = groupContext(0, NH)
  } else {
    let first = 0
    const parts = groups.map((count) => {
      const part = tf.tidy(() => groupContext(first, count))
      first += count
      return part
    })
    context = tf.concat(parts, 0) as tf.Tensor3D
  }
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
 * Bytes of one [heads, T, T] score tensor up to which a head group grows. The score-sized tensors of a layer
 * (terms, their sum, probabilities, rel-shift copies) are memory-bound passes; at T = 512 all 12 heads are
 * 12 MiB each, past this machine's 2 × 2 MiB of L2. Measured (base, T = 512, attention block, tensorflow):
 * one thread 70.5 ms with all 12 heads, 58.7 with groups of 4, 56.5 with 2; two threads (busy machine) 48–50,
 * 43–45 and 48–58 ms. Each group costs ~20 more native calls. DEBERTA_LAB_HEAD_GROUP=N forces N heads.
 */
export const HEAD_GROUP_BYTES = 4 * 1024 * 1024

/** Head counts of the groups one sequence's attention is computed in (one group: all heads at once). */
export function headGroups(heads: number, length: number): number[] {
  const forced = typeof process !== 'undefined' ? process.env.DEBERTA_LAB_HEAD_GROUP : undefined
  const n = forced ? Number(forced) : Math.floor(HEAD_GROUP_BYTES / (4 * length * length))
  const size = Number.isInteger(n) && n > 0 ? Math.min(n, heads) : 1
  const groups: number[] = []
  for (let first = 0; first < heads; first += size) groups.push(Math.min(size, heads - first))
  return groups
}

/**
 * c2p and p2c of one sequence from windows of `block` rows (tables.blocked): query rows i ∈ window I need only
 * the V = T + b − 1 distances I·b − T + 1 … I·b + b − 1, so each window is one product [b, D]·[D, V] and a
 * rel-shift of [b, V] (instead of [T, D]·[D, 2T − 1] and a rel-shift of [T, 2T − 1]). p2c is the same over
 * key rows j (window J), then transposed. Rows past T (the last window's padding) are computed and dropped.
 * query is already scaled; key is not. Returns [NH, T, T] each.
 */
function blockedRelativeTerms(
  query: tf.Tensor3D,
  key: tf.Tensor3D,
  invScale: number,
  blocked: NonNullable<LayerTableTensors['blocked']>,
  compute: AttentionPass['compute'],
  abT: Products['abT'],
): { c2p?: tf.Tensor3D; p2c?: tf.Tensor3D } {
  const [NH, T, D] = query.shape
  const b = blocked.block
  const windows = Math.ceil(T / b)
  const padded = windows * b
  const inWindows = (x: tf.Tensor3D): tf.Tensor3D => {
    const full = padded === T ? x : tf.pad(x, [[0, 0], [0, padded - T], [0, 0]])
    return tf.reshape(full, [NH * windows, b, D]) as tf.Tensor3D // [NH·nb, b, D]
  }
  // [NH·nb, b, V] → [NH, padded, T]: row r of window w keeps columns (b − 1 − r) … (b − 1 − r) + T − 1
  const shifted = (x: tf.Tensor3D): tf.Tensor3D => tf.reshape(relShiftBlocks(x, T), [NH, padded, T]) as tf.Tensor3D
  const out: { c2p?: tf.Tensor3D; p2c?: tf.Tensor3D } = {}
  if (compute.c2p && blocked.keyWindows) {
    const rows = shifted(abT(inWindows(query), blocked.keyWindows) as tf.Tensor3D) // [NH, padded(i), T(j)]
    out.c2p = padded === T ? rows : (tf.slice(rows, [0, 0, 0], [NH, T, T]) as tf.Tensor3D)
  }
  if (compute.p2c && blocked.queryWindows) {
    const keyScaled = tf.mul(key, invScale) as tf.Tensor3D
    const rows = shifted(abT(inWindows(keyScaled), blocked.queryWindows) as tf.Tensor3D) // [NH, padded(j), T(i)]
    const kept = padded === T ? rows : (tf.slice(rows, [0, 0, 0], [NH, T, T]) as tf.Tensor3D)
    out.p2c = tf.transpose(kept, [0, 2, 1]) as tf.Tensor3D // [NH, T(i), T(j)]
  }
  return out
}

/**
 * p2c from x [X, T(j), W] (row j: (K_j / s)·Qr of δ = (T−1) − m in column m, W ≥ 2T − 1): p2c[i, j] needs
 * δ = i − j, i.e. column m = j + (T−1−i), the element [j, j + k] of diagonal k = T − 1 − i. TensorFlow's
 * MatrixDiagPartV3 returns diagonals T − 1 … 0 as rows: that is p2c with i as the row, [X, T(i), T(j)], in one
 * pass (the rel-shift form needs two slices and a transpose of [X, T, T]; measured at T = 512, 4 heads, one thread:
 * product + diagonals 3.8 ms against 5.8 ms windowed product + rel-shift + transpose).
 */
function diagonalP2c(x: tf.Tensor3D): tf.Tensor3D {
  const kernels = tensorflowKernels()
  if (!kernels) throw new LabError('INTERNAL', 'the diagonal p2c needs TensorFlow kernels (tables of that form are only made on tensorflow)')
  const T = x.shape[1]
  return kernels.diagonals(x, 0, T - 1)
}

/** Queries from queryIn, keys and values from kvIn, all heads side by side: [N, NH·D] each. */
function projectAll(
  w: AttentionWeights,
  queryIn: tf.Tensor2D,
  kvIn: tf.Tensor2D,
  dense: (x: tf.Tensor2D, p: Linear) => tf.Tensor2D,
): { query: tf.Tensor2D; key: tf.Tensor2D; value: tf.Tensor2D } {
  if (w.layout === 'fused') return { query: dense(queryIn, w.query[0]), key: dense(kvIn, w.key[0]), value: dense(kvIn, w.value[0]) }
  if (w.layout === 'heads') {
    const all = (p: Linear[], x: tf.Tensor2D): tf.Tensor2D => (p.length === 1 ? dense(x, p[0]) : (tf.concat(p.map((head) => dense(x, head)), 1) as tf.Tensor2D))
    return { query: all(w.query, queryIn), key: all(w.key, kvIn), value: all(w.value, kvIn) }
  }
  const packed = w.queryKeyValue!
  const A = packed.wT.shape[1] / 3
  if (queryIn === kvIn) {
    const [query, key, value] = tf.split(dense(queryIn, packed), 3, 1) as tf.Tensor2D[]
    return { query, key, value }
  }
  // different inputs (the EMD): the packed weight's column blocks
  const columns = (from: number, width: number): Linear => ({
    wT: tf.slice(packed.wT, [0, from], [-1, width]),
    b: packed.b ? tf.slice(packed.b, [from], [width]) : null,
  })
  const [key, value] = tf.split(dense(kvIn, columns(A, 2 * A)), 2, 1) as tf.Tensor2D[]
  return { query: dense(queryIn, columns(0, A)), key, value }
}

/**
 * Batched Transformer-XL rel-shift with differentiable ops: x [X, T, W] (W ≥ 2T − 1; columns past 2T − 1 are
 * never read), column m ↔ δ = (T−1) − m; out[x, i, j] = x[x, i, T−1−i+j]. (The 3-D form of src/core/ops.ts
 * relShiftRowsOps.)
 */
export function relShiftBatched(x: tf.Tensor3D): tf.Tensor3D {
  return relShiftBlocks(x, x.shape[1])
}

/**
 * The rel-shift of row blocks: x [X, b, V] (V ≥ cols + b − 1), out[x, r, j] = x[x, r, (b − 1 − r) + j] for
 * j < cols, by reshape and slice: flat[(b − 1) + r·(V − 1) + j] = x[r, b − 1 − r + j].
 */
export function relShiftBlocks(x: tf.Tensor3D, cols: number): tf.Tensor3D {
  const [X, b, V] = x.shape
  if (b === 1) return V === cols ? x : (tf.slice(x, [0, 0, 0], [X, 1, cols]) as tf.Tensor3D)
  const flat = tf.reshape(x, [X, b * V]) // [X, b·V]
  const skewed = tf.reshape(tf.slice(flat, [0, b - 1], [X, b * (V - 1)]), [X, b, V - 1]) as tf.Tensor3D // [X, b, V − 1]
  return V - 1 === cols ? skewed : (tf.slice(skewed, [0, 0, 0], [X, b, cols]) as tf.Tensor3D) // [X, b, cols]
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
