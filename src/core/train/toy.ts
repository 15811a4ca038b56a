// The shipped toy model (resources/toy-deberta): a small DeBERTa-v3-style model trained on the generated
// language of ./data.ts, so that the lab shows real predictions and attention patterns with no download.
// The recipe lives here (scripts/train-toy-model.ts runs it; test/core/toy-model.test.ts checks the result):
//   - model: 2 layers, hidden 64, 4 heads, FFN 128, log buckets (16, max 64), c2p + p2c, shared keys, EMD;
//   - data: masked-LM batches of grammar sentences (BERT masking), seeded;
//   - objective: the EMD's cross-entropy plus the plain LM head's (a lab choice: official pre-training trains
//     only the EMD output; training both makes the Decoding workspace's plain and EMD columns meaningful);
//   - files: config.json (deberta-v2, mask_token_id), model.safetensors (official key names),
//     tokenizer.json (HF tokenizers WordLevel over the generated vocabulary) + tokenizer_config.json.
import * as tf from '@tensorflow/tfjs-core'
import { toHfConfig } from '../config'
import type { DebertaModel } from '../model'
import { CLS_ID, MASK_ID, PAD_ID, SENTENCE_WORDS, SEP_ID, SPECIAL_TOKENS, UNK_ID, VOCAB, VOCAB_SIZE, type LengthRange } from './data'
import { defaultTrainableConfig, MAX_TRAIN_LENGTH, scorePredictions, type EvalResult, type TrainableConfig, type TrainableModel } from './model'
import type { Batch } from './data'

export const TOY_MODEL_DIR = 'toy-deberta'

export const TOY_MODEL_CONFIG: TrainableConfig = defaultTrainableConfig(VOCAB_SIZE, {
  hiddenSize: 64,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 128,
  maxPositions: MAX_TRAIN_LENGTH,
  terms: ['c2p', 'p2c'],
  positionBuckets: 16,
  maxRelativePositions: MAX_TRAIN_LENGTH,
  emd: true,
})

export const TOY_TRAINING = {
  seed: 20240601,
  steps: 300,
  batchSize: 32,
  learningRate: 5e-3,
  warmupSteps: 30,
  clipNorm: 1,
  weightDecay: 0.01,
  /** sentence lengths (words) of training and probes; ≤ 14 words keeps a step short (T = 16) */
  words: { minWords: SENTENCE_WORDS.min, maxWords: 14 } satisfies LengthRange,
  /** probe sentences (one masked slot each) for the measured accuracy */
  probeSize: 1024,
  probeSeed: 7,
} as const

/** The training loss: EMD cross-entropy + plain-head cross-entropy (plain only without an EMD). */
export function toyObjective(model: TrainableModel, batch: Batch): { loss: tf.Scalar; logits: tf.Tensor2D } {
  const { main, plain } = model.bothLogits(batch)
  const mainLoss = model.lossFromLogits(main, batch)
  const loss = plain === main ? mainLoss : (tf.add(mainLoss, model.lossFromLogits(plain, batch)) as tf.Scalar)
  return { loss, logits: main }
}

/** config.json of the toy model (HF deberta-v2 fields, as the checkpoint loader reads them). */
export function toyHfConfig(model: TrainableModel): Record<string, unknown> {
  return {
    architectures: ['DebertaV2ForMaskedLM'],
    ...toHfConfig({ ...model.core, maskTokenId: MASK_ID }),
  }
}

/** tokenizer.json (HF tokenizers) for the generated word-level vocabulary: Lowercase, Whitespace, WordLevel, [CLS] $A [SEP]. */
export function wordLevelTokenizerJson(): Record<string, unknown> {
  const special = (content: string, id: number): Record<string, unknown> => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  })
  const specialToken = (id: '[CLS]' | '[SEP]', typeId: number): Record<string, unknown> => ({ SpecialToken: { id, type_id: typeId } })
  const sequence = (id: 'A' | 'B', typeId: number): Record<string, unknown> => ({ Sequence: { id, type_id: typeId } })
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, id) => special(t, id)),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [specialToken('[CLS]', 0), sequence('A', 0), specialToken('[SEP]', 0)],
      pair: [specialToken('[CLS]', 0), sequence('A', 0), specialToken('[SEP]', 0), sequence('B', 1), specialToken('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [CLS_ID], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [SEP_ID], tokens: ['[SEP]'] },
      },
    },
    decoder: null,
    model: {
      type: 'WordLevel',
      vocab: Object.fromEntries(VOCAB.tokens.map((t, id) => [t, id])),
      unk_token: SPECIAL_TOKENS[UNK_ID],
    },
  }
}

/** tokenizer_config.json naming the special tokens (for transformers' AutoTokenizer). */
export function wordLevelTokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    do_lower_case: true,
    pad_token: SPECIAL_TOKENS[PAD_ID],
    cls_token: SPECIAL_TOKENS[CLS_ID],
    sep_token: SPECIAL_TOKENS[SEP_ID],
    unk_token: SPECIAL_TOKENS[UNK_ID],
    mask_token: SPECIAL_TOKENS[MASK_ID],
    model_max_length: MAX_TRAIN_LENGTH,
  }
}

export interface ProbeScores {
  plain: EvalResult
  emd?: EvalResult
}

/**
 * Probe accuracy of an inference-core model (the app's forward path) on a probe batch: the masked slot of each
 * row is decoded by the plain LM head and, when asked, by the EMD. Loss is not computed (0).
 */
export function scoreProbesWithCore(model: DebertaModel, batch: Batch, options: { emd: boolean }): ProbeScores {
  const T = batch.length
  const rows = (data: ArrayLike<number>): number[][] =>
    Array.from({ length: batch.batchSize }, (_, b) => Array.from(data).slice(b * T, (b + 1) * T))
  const positions: Array<[number, number]> = [...(batch.accept?.keys() ?? [])].map((n) => [Math.floor(n / T), n % T])
  const out = model.forward(
    { inputIds: rows(batch.inputIds), attentionMask: rows(batch.attentionMask) },
    { mlm: { positions, plain: true, emd: options.emd } },
  )
  const V = model.config.vocabSize
  const score = (logits: ArrayLike<number>): EvalResult => {
    const predicted = new Int32Array(batch.labels.length)
    positions.forEach(([b, t], k) => {
      let best = 0
      for (let v = 1; v < V; v++) if (logits[k * V + v] > logits[k * V + best]) best = v
      predicted[b * T + t] = best
    })
    return scorePredictions(batch, predicted, 0)
  }
  const scores: ProbeScores = { plain: score(out.mlm!.plainLogits!.data) }
  if (options.emd) scores.emd = score(out.mlm!.emdLogits!.data)
  return scores
}
