// Encoder layer (attention block + feed-forward, post-LayerNorm) and the v2 ConvLayer, for one sequence.
// Origins: HF DebertaV2Layer / DebertaV2Attention / DebertaV2SelfOutput / DebertaV2Intermediate /
// DebertaV2Output and ConvLayer (modeling_deberta_v2.py); the v1 modules are the same math.
//
// Shapes: T tokens, N = B·T rows (B sequences in the batched form), H hidden, I intermediate, NH·D attention width
import * as tf from '@tensorflow/tfjs-core'
import type { DebertaConfig } from './config'
import { NATIVE_PRODUCTS, selfAttention, type AttentionPass } from './attention'
import { activation, geluFolded, layerNorm } from './ops'
import type { ConvWeights, LayerWeights } from './params'

/** A dense output (a shard's partial one in a split forward) plus the residual, [N, H]. */
export type ResidualSum = (dense: tf.Tensor2D, residual: tf.Tensor2D) => tf.Tensor2D

const plainResidual: ResidualSum = (dense, residual) => tf.add(dense, residual) as tf.Tensor2D

/**
 * One layer. Queries come from queryIn, keys/values from kvIn (equal except in the EMD); the residual of
 * the attention block is the query input (HF DebertaV2Attention: `self.output(self_output, query_states)`).
 * `addResidual` adds the residual to a dense output; in a split forward (src/core/split.ts) it is a shard's partial
 * output, and the other shard's partial is added in the same call (the shard holds some heads and feed-forward
 * columns, and the rows of the output projections that read them).
 */
export function layerForward(
  layer: LayerWeights,
  config: DebertaConfig,
  queryIn: tf.Tensor2D,
  kvIn: tf.Tensor2D,
  pass: AttentionPass,
  addResidual: ResidualSum = plainResidual,
): tf.Tensor2D {
  return tf.tidy(() => {
    const eps = config.layerNormEps
    const dense = (pass.products ?? NATIVE_PRODUCTS).linear
    const context = selfAttention(layer.attention, queryIn, kvIn, pass) // [N, NH·D]
    const attentionOut = layerNorm(addResidual(dense(context, layer.attention.output), queryIn), layer.attention.outputNorm, eps) // [N, H]
    const preActivation = dense(attentionOut, layer.intermediate)
    const intermediate = layer.geluFolded ? geluFolded(preActivation) : activation(preActivation, config.hiddenAct) // [N, I]
    return layerNorm(addResidual(dense(intermediate, layer.output), attentionOut), layer.outputNorm, eps) // [N, H]
  })
}

/**
 * HF ConvLayer.forward(hidden_states, residual_states, input_mask), applied after layer 0:
 *   out = Conv1d(hidden_states) with padding (k−1)/2; out[padding rows] = 0; out = act(out)
 *   return LayerNorm(residual + out) × mask
 * Conv1d (cross-correlation) as k shifted matmuls: out[t] = Σ_κ x[t + κ − pad]·tap_κ + b.
 */
export function convForward(
  conv: ConvWeights,
  config: DebertaConfig,
  hidden: tf.Tensor2D,
  residual: tf.Tensor2D,
  maskColumn: tf.Tensor2D | null,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [length, width] = hidden.shape
    const pad = (conv.taps.length - 1) / 2
    const padded = tf.pad(hidden, [
      [pad, pad],
      [0, 0],
    ]) // [T + 2·pad, H]
    const taps = conv.taps.map((tap, k) => tf.matMul(tf.slice(padded, [k, 0], [length, width]), tap)) // k × [T, H]
    let out = tf.add(taps.length === 1 ? taps[0] : tf.addN(taps), conv.bias) as tf.Tensor2D
    if (maskColumn) out = tf.mul(out, maskColumn)
    out = activation(out, conv.act)
    const normed = layerNorm(tf.add(residual, out) as tf.Tensor2D, conv.norm, config.layerNormEps)
    return maskColumn ? tf.mul(normed, maskColumn) : normed
  })
}
