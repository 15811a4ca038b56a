// Enhanced Mask Decoder. Origin: official `EnhancedMaskDecoder.emd_context_layer`
// (DeBERTa/apps/models/masked_language_model.py), as specified in test/fixtures/README.md:
//   h = hidden_states[L−1] (the last layer's input); z = position_embeddings[0:T] + h
//   out0 = Layer_{L−1}(kv = h, query = z); out1 = Layer_{L−1}(kv = h, query = out0)   (shared weights)
// with the encoder's mask, relative positions and relative embeddings; the attention residual is the query.
// With position_biased_input the official code skips the two passes and uses hidden_states[L].
//
// Shapes: T tokens, H hidden
import * as tf from '@tensorflow/tfjs-core'
import type { AttentionPass } from './attention'
import type { DebertaConfig } from './config'
import { layerForward } from './encoder'
import type { LayerWeights } from './params'

export interface EmdStates {
  /** query states of the two passes: [z, out0] */
  queryStates: tf.Tensor2D[]
  /** outputs of the two passes: [out0, out1] */
  layerOutputs: tf.Tensor2D[]
}

export const EMD_PASSES = 2

export function emdForward(
  lastLayer: LayerWeights,
  config: DebertaConfig,
  hiddenPrev: tf.Tensor2D,
  positionRows: tf.Tensor2D,
  pass: AttentionPass,
): EmdStates {
  const queryStates: tf.Tensor2D[] = []
  const layerOutputs: tf.Tensor2D[] = []
  let query = tf.add(positionRows, hiddenPrev) as tf.Tensor2D // [T, H]
  for (let k = 0; k < EMD_PASSES; k++) {
    queryStates.push(query)
    const out = layerForward(lastLayer, config, query, hiddenPrev, pass) // [T, H]
    layerOutputs.push(out)
    query = out
  }
  return { queryStates, layerOutputs }
}
