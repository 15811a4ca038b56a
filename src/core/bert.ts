// The BERT baseline: absolute positions added to the input, plain scaled dot-product attention
// (softmax(Q·Kᵀ/sqrt(D) + key mask)), post-LayerNorm layers — HF BertModel's math. It runs on the same code
// as DeBERTa (a DebertaConfig with relative attention off and position_biased_input on), so the two differ
// only where the architectures differ.
//
// Two ways to get one: a seeded synthetic BERT of any size (createSyntheticBert), or a baseline that borrows
// a DeBERTa model's own tables (bertBaselineFrom: word + absolute position embeddings, embedding LayerNorm,
// the layers' Q/K/V/FFN weights), which the problem demo uses to show what BERT-style summed embeddings do
// with the same numbers.
import { LabError } from '../common/errors'
import { bertBaselineConfig, type DebertaConfig } from './config'
import { DebertaModel } from './model'
import { createSyntheticModel } from './synthetic'

/** A seeded synthetic BERT with the dimensions of `config` (MLM head included). */
export function createSyntheticBert(config: DebertaConfig, seed: number): DebertaModel {
  return createSyntheticModel(bertBaselineConfig(config), { seed })
}

/**
 * A BERT baseline built from a DeBERTa model's weights (no copies: the tensors are borrowed, so it must not
 * outlive `model`; its dispose() is a no-op for the weights). Needs the absolute position table.
 */
export function bertBaselineFrom(model: DebertaModel): DebertaModel {
  if (!model.weights.embeddings.position) {
    throw new LabError(
      'CHECKPOINT_MISSING_KEY',
      'a BERT-style baseline needs absolute position embeddings (embeddings.position_embeddings.weight), which this model does not have',
      { key: 'embeddings.position_embeddings.weight' },
    )
  }
  return new DebertaModel({
    config: bertBaselineConfig(model.config),
    weights: { ...model.weights, conv: null, relative: [] },
    parameterCount: model.info.parameterCount,
    hasMlmHead: model.info.hasMlmHead,
    hasPositionEmbeddings: true,
    source: { kind: 'derived', from: model.info.summary },
    ownsWeights: false,
  })
}
