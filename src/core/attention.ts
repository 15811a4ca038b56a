// Disentangled self-attention (DeBERTa v1 and v2/v3) and plain scaled dot-product attention (BERT baseline),
// for one sequence at a time, as per-head 2-D matmuls.
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
// Performance (wasm; measured with scripts/bench-attention-variants.ts and src/core/bench.ts): only 2-D,
// non-transposed matMuls hit XNNPACK (~20 GFLOP/s); batched 3-D or transposeB=true matMuls fall back to a
// ~1–2 GFLOP/s loop. Hence per-head weights
// ([H, D] each, split at load) so no head slicing is needed, Kᵀ by an explicit [T, D] transpose, c2p as
// Q·keyDescT [T, W] + rel-shift, p2c as queryAsc·Kᵀ [W, T] + column rel-shift (src/core/relative-tables.ts).
//
// Shapes: T tokens, H hidden, NH heads, D head size, W = 2T − 1 distances
import * as tf from '@tensorflow/tfjs-core'
import type { AttentionTerm } from '../common/api'
import type { DebertaConfig } from './config'
import { linear, relShiftColumns, relShiftRows } from './ops'
import type { AttentionWeights } from './params'
import type { LayerTableTensors } from './relative-tables'

/** Score terms of one head, handed to an observer while they are alive (tensors owned by the pass). */
export interface HeadTerms {
  c2c: tf.Tensor2D
  c2p?: tf.Tensor2D
  p2c?: tf.Tensor2D
  p2p?: tf.Tensor2D
  /** sum of the enabled terms before masking [T, T] */
  scores: tf.Tensor2D
  /** softmax probabilities [T, T] */
  probs: tf.Tensor2D
}

export interface AttentionPass {
  config: DebertaConfig
  /** 1 / s */
  invScale: number
  /** additive padding bias [T, T] or null (no padding) */
  maskBias: tf.Tensor2D | null
  /** this layer's relative tables, or null without relative attention */
  tables: LayerTableTensors | null
  /** which relative terms are computed */
  compute: { c2p: boolean; p2c: boolean; p2p: boolean }
  /** which terms enter the score (ablation drops terms but keeps the scale) */
  include: Record<AttentionTerm, boolean>
  /** components are reported to the observer only when set */
  observer?: (head: number, terms: HeadTerms) => void
  /** probabilities only (no components) */
  onProbs?: (head: number, probs: tf.Tensor2D) => void
}

/**
 * One attention block's context vectors for one sequence: queries from queryIn [T, H], keys and values from
 * kvIn [T, H] (the EMD passes different tensors). Returns [T, NH·D] (heads concatenated, HF layout).
 */
export function selfAttention(w: AttentionWeights, queryIn: tf.Tensor2D, kvIn: tf.Tensor2D, pass: AttentionPass): tf.Tensor2D {
  return tf.tidy(() => {
    const heads = w.query.length
    const contexts: tf.Tensor2D[] = []
    for (let h = 0; h < heads; h++) {
      contexts.push(tf.tidy(() => headAttention(w, h, queryIn, kvIn, pass)))
    }
    return heads === 1 ? contexts[0] : tf.concat(contexts, 1) // [T, NH·D]
  })
}

function headAttention(w: AttentionWeights, h: number, queryIn: tf.Tensor2D, kvIn: tf.Tensor2D, pass: AttentionPass): tf.Tensor2D {
  const { invScale, tables, compute, include } = pass
  const query = linear(queryIn, w.query[h]) // [T, D]
  const key = linear(kvIn, w.key[h]) // [T, D]
  const value = linear(kvIn, w.value[h]) // [T, D]
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

  const parts: tf.Tensor2D[] = []
  if (include.c2c) parts.push(c2c)
  if (c2p && include.c2p) parts.push(c2p)
  if (p2c && include.p2c) parts.push(p2c)
  if (p2p && include.p2p) parts.push(p2p)
  const scores = parts.length === 0 ? tf.zerosLike(c2c) : parts.length === 1 ? parts[0] : (tf.addN(parts) as tf.Tensor2D) // [T, T]
  const probs = tf.softmax(pass.maskBias ? tf.add(scores, pass.maskBias) : scores) as tf.Tensor2D // [T, T]
  if (pass.observer) pass.observer(h, { c2c, c2p, p2c, p2p, scores, probs })
  else if (pass.onProbs) pass.onProbs(h, probs)
  return tf.matMul(probs, value) as tf.Tensor2D // [T, D]
}
