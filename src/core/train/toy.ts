// The shipped toy model (resources/toy-deberta): a small DeBERTa-v3-style model trained on the toy language of
// ./toy-language.ts, so that the lab shows real predictions and attention patterns with no download, and the
// teaching demos show their point with it: its ~100 words and 64 positions do not fit its 32 dimensions (the
// Problem demo's BERT-style sum interferes), and the long sentences' companion phrases are decided by the
// parity of their absolute position, which relative positions cannot tell (the Decoding workspace's plain head
// cannot decide, the EMD can).
// The recipe lives here (scripts/train-toy-model.ts runs it; test/core/toy-model.test.ts checks the result):
//   - model: 2 layers, hidden 32, 4 heads, FFN 128, log buckets (8, max 64: exact within ±4 tokens, one bucket
//     from 26 tokens on), c2p + p2c, shared keys, EMD;
//   - data: masked-LM batches (BERT masking), seeded, alternating short sentences (T = 16) and long ones (T = 64);
//   - objective: the EMD's cross-entropy plus the plain LM head's (a lab choice: official pre-training trains
//     only the EMD output; training both makes the Decoding workspace's plain and EMD columns meaningful);
//   - files: config.json (deberta-v2, mask_token_id), model.safetensors (official key names),
//     tokenizer.json (HF tokenizers WordLevel over the generated vocabulary) + tokenizer_config.json.
import * as tf from '@tensorflow/tfjs-core'
import { toHfConfig } from '../config'
import type { DebertaModel } from '../model'
import { CLS_ID, MASK_ID, PAD_ID, SEP_ID, SPECIAL_TOKENS, UNK_ID, type Rng } from './data'
import { keyClassAt, TOY_VOCAB, TOY_VOCAB_SIZE, toyMlmBatch } from './toy-language'
import { defaultTrainableConfig, MAX_TRAIN_LENGTH, scorePredictions, type EvalResult, type TrainableConfig, type TrainableModel } from './model'
import type { Batch } from './data'

export const TOY_MODEL_DIR = 'toy-deberta'

export const TOY_MODEL_CONFIG: TrainableConfig = defaultTrainableConfig(TOY_VOCAB_SIZE, {
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 128,
  maxPositions: MAX_TRAIN_LENGTH,
  terms: ['c2p', 'p2c'],
  positionBuckets: 8,
  maxRelativePositions: MAX_TRAIN_LENGTH,
  emd: true,
})

export const TOY_TRAINING = {
  seed: 20240601,
  steps: 700,
  /** sentences per step: even steps short sentences, odd steps long ones */
  shortBatchSize: 32,
  longBatchSize: 16,
  learningRate: 5e-3,
  warmupSteps: 50,
  clipNorm: 1,
  weightDecay: 0.01,
  /** grammar probes (short sentences, one masked slot each) and KEY probes (long sentences, two masked keys) */
  probeSize: 1024,
  keyProbeSize: 512,
  probeSeed: 7,
} as const

/** The training batch of 0-based step s: short sentences on even steps, long ones on odd steps. */
export function toyTrainingBatch(rng: Rng, step: number): Batch {
  return step % 2 === 0 ? toyMlmBatch(rng, TOY_TRAINING.shortBatchSize, 'short') : toyMlmBatch(rng, TOY_TRAINING.longBatchSize, 'long')
}

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

/** tokenizer.json (HF tokenizers) for the toy language's word-level vocabulary: Lowercase, Whitespace, WordLevel, [CLS] $A [SEP]. */
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
      vocab: Object.fromEntries(TOY_VOCAB.tokens.map((t, id) => [t, id])),
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

/** Token distance from which the toy config's relative buckets merge every distance (log bucket of 26…63). */
export const MERGED_BUCKET_FROM = 26

export interface KeyProbeScores {
  /** share of KEY slots whose top-1 lies in the class its absolute position decides */
  plain: number
  emd: number
  keyCount: number
  /** share of rows whose two keys differ in class (one even, one odd position) and both get a right top-1 */
  plainPairs: number
  emdPairs: number
  pairCount: number
  /** mean probability mass on the right class (animate or thing nouns) */
  plainMass: number
  emdMass: number
}

/**
 * KEY-probe scores through the inference core (the app's forward path): both masked KEY nouns of every row,
 * decoded by the plain LM head and by the EMD.
 */
export function scoreKeyProbesWithCore(model: DebertaModel, probes: { batch: Batch; keyPositions: Array<[number, number]> }): KeyProbeScores {
  const { batch, keyPositions } = probes
  const T = batch.length
  const rows = (data: ArrayLike<number>): number[][] => Array.from({ length: batch.batchSize }, (_, b) => Array.from(data).slice(b * T, (b + 1) * T))
  const positions: Array<[number, number]> = keyPositions.flatMap(([a, c], b) => [[b, a] as [number, number], [b, c] as [number, number]])
  const out = model.forward({ inputIds: rows(batch.inputIds), attentionMask: rows(batch.attentionMask) }, { mlm: { positions, plain: true, emd: true } })
  const V = model.config.vocabSize
  const score = (logits: ArrayLike<number>): { all: number; pairs: number; pairCount: number; mass: number } => {
    const right = positions.map(([b, t], k) => {
      const accept = batch.accept!.get(b * T + t)!
      let best = 0
      for (let v = 1; v < V; v++) if (logits[k * V + v] > logits[k * V + best]) best = v
      return accept.includes(best)
    })
    const mass = positions.map(([b, t], k) => {
      const row = Array.from({ length: V }, (_, v) => logits[k * V + v])
      const max = Math.max(...row)
      const z = row.reduce((sum, x) => sum + Math.exp(x - max), 0)
      return batch.accept!.get(b * T + t)!.reduce((sum, v) => sum + Math.exp(row[v] - max), 0) / z
    })
    let pairs = 0
    let pairCount = 0
    keyPositions.forEach(([a, c], b) => {
      if (keyClassAt(a) === keyClassAt(c)) return
      pairCount++
      if (right[2 * b] && right[2 * b + 1]) pairs++
    })
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length
    return { all: right.filter(Boolean).length / right.length, pairs: pairCount ? pairs / pairCount : 0, pairCount, mass: mean(mass) }
  }
  const plain = score(out.mlm!.plainLogits!.data)
  const emd = score(out.mlm!.emdLogits!.data)
  return { plain: plain.all, emd: emd.all, keyCount: positions.length, plainPairs: plain.pairs, emdPairs: emd.pairs, pairCount: emd.pairCount, plainMass: plain.mass, emdMass: emd.mass }
}
