// Input embeddings for one sequence. Origin: HF DebertaV2Embeddings / DebertaEmbeddings.forward
// (word [+ position when position_biased_input] [+ token type when type_vocab_size > 0] → embed_proj when
// embedding_size ≠ hidden_size → LayerNorm → × attention mask) and BertEmbeddings (no mask multiply).
//
// Shapes: T tokens, E embedding size, H hidden
import * as tf from '@tensorflow/tfjs-core'
import type { DebertaConfig } from './config'
import { gatherRows, layerNorm, linear } from './ops'
import type { EmbeddingWeights } from './params'

/** 0 … T−1 */
export function positionIds(length: number): number[] {
  return Array.from({ length }, (_, i) => i)
}

/** Sum of the input embeddings before projection and LayerNorm: [T, E]. */
export function embeddingSum(w: EmbeddingWeights, config: DebertaConfig, ids: number[], typeIds: number[] | null): tf.Tensor2D {
  return tf.tidy(() => {
    let x = gatherRows(w.word, ids) // [T, E]
    if (config.positionBiasedInput && w.position) x = tf.add(x, gatherRows(w.position, positionIds(ids.length)))
    if (config.typeVocabSize > 0 && w.tokenType) {
      x = tf.add(x, gatherRows(w.tokenType, typeIds ?? new Array<number>(ids.length).fill(0)))
    }
    return x
  })
}

/** Projection (E → H when E ≠ H) and LayerNorm of an embedding sum: [T, E] → [T, H]. */
export function normalizeEmbedding(w: EmbeddingWeights, config: DebertaConfig, sum: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => layerNorm(w.embedProj ? linear(sum, w.embedProj) : sum, w.norm, config.layerNormEps))
}

/** The embedding output ("hidden_states.0") for one sequence: [T, H]. */
export function embed(
  w: EmbeddingWeights,
  config: DebertaConfig,
  ids: number[],
  typeIds: number[] | null,
  maskColumn: tf.Tensor2D | null,
): tf.Tensor2D {
  return tf.tidy(() => {
    const normed = normalizeEmbedding(w, config, embeddingSum(w, config, ids, typeIds)) // [T, H]
    // HF DeBERTa multiplies by the attention mask (padding rows become exactly 0); BERT does not.
    return config.modelType !== 'bert' && maskColumn ? tf.mul(normed, maskColumn) : normed
  })
}
