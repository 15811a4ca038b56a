// Masked-language-model head. Origin: official DeBERTa `BertLMPredictionHead` (DeBERTa/deberta/bert.py),
// HF DebertaV2LMPredictionHead (legacy=false) and BertLMPredictionHead (cls.predictions, legacy):
//   logits = LayerNorm(act(dense(x))) · word_embeddingsᵀ + bias
// The product is computed as (word [V, E] · hᵀ [E, n])ᵀ so the [V, E] table is used as stored (a plain 2-D
// matmul) and no transposed copy of the largest tensor is kept.
//
// Shapes: n rows, H hidden, E embedding size, V vocab
import * as tf from '@tensorflow/tfjs-core'
import type { Products } from './attention'
import type { DebertaConfig } from './config'
import { activation, layerNorm, linear } from './ops'
import type { LmHeadWeights } from './params'

export function lmHeadLogits(head: LmHeadWeights, word: tf.Tensor2D, config: DebertaConfig, x: tf.Tensor2D, products?: Products): tf.Tensor2D {
  return tf.tidy(() => {
    const transformed = layerNorm(activation((products?.linear ?? linear)(x, head.dense), config.hiddenAct), head.norm, config.layerNormEps) // [n, E]
    // training: the product whose gradient is cheap on its matmuls, transformed·wordᵀ [n, V]
    if (products) return tf.add(products.abT(transformed, word), head.bias) as tf.Tensor2D
    const logitsT = tf.matMul(word, tf.transpose(transformed)) // [V, n]
    return tf.add(tf.transpose(logitsT), head.bias) as tf.Tensor2D // [n, V]
  })
}
