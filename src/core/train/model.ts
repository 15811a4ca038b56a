// Trainable small DeBERTa (disentangled attention with relative positions, optional Enhanced Mask Decoder) and
// the BERT baseline (absolute positions, plain attention), as tf.Variables with a differentiable batched
// forward. Same formulas as the inference core (src/core/attention.ts, test/fixtures/README.md):
//   c2c[i, j] = Q_i·K_j / s
//   c2p[i, j] = Q_i·Kr[c(i, j)] / s,   c(i, j) = clamp(rel(i − j) + span, 0, 2·span − 1)
//   p2c[i, j] = K_j·Qr[p(j, i)] / s,   p(j, i) = clamp(−rel(j − i) + span, 0, 2·span − 1)
//   s = sqrt(D · (1 + number of relative terms)); BERT: s = sqrt(D)
// rel(δ) is a log bucket (position_buckets > 0) or δ itself (clipped distances, span = k), via
// src/core/relative-position.ts. Kr / Qr are the (LayerNorm'd) relative embeddings through the content key /
// query projections (v3 share_att_key). The model is a deberta-v2 config for the core: exportWeights() writes
// canonical checkpoint names, so toInferenceModel() loads the trained weights into DebertaModel.
//
// Differentiable on wasm without gathers (tf.gather's gradient needs UnsortedSegmentSum, which wasm lacks):
// embeddings and the relative rows of the W = 2T − 1 distances are one-hot matmuls (V, R ≤ a few hundred
// here); c2p / p2c are Q·Kr_byDistance [.., T, W] plus a batched pad/reshape/slice rel-shift, as in the core
// (never a [T, T, D] tensor). Matmul gradients use explicit transposes (matMulFast). No dropout.
//
// Shapes: B batch, T tokens, N = B·T, H hidden, NH heads, D head size, A = NH·D, I intermediate, V vocab,
// R = 2·span relative rows, P absolute positions
import * as tf from '@tensorflow/tfjs-core'
// tfjs-core alone registers no gradient functions. @tensorflow/tfjs registers them all on the shared tfjs-core
// (its CommonJS build loads under plain Node; tfjs-core's dist/register_all_gradients is ESM-only and fails there).
import '@tensorflow/tfjs'
import { LabError } from '../../common/errors'
import {
  attentionSpan,
  bertBaselineConfig,
  BERT_LAYER_NORM_EPS,
  DEBERTA_LAYER_NORM_EPS,
  DEBERTA_V3_BASE,
  FLOAT32_MIN,
  relativeEmbeddingRows,
  scoreScale,
  validateConfig,
  type DebertaConfig,
} from '../config'
import type { TensorEntry, TensorSource } from '../checkpoint/types'
import { relShiftBatched, type AttentionPass, type Products } from '../attention'
import { emdForward } from '../emd'
import { layerForward } from '../encoder'
import { lmHeadLogits } from '../heads'
import { DebertaModel } from '../model'
import { buildWeights, canonicalKeys } from '../names'
import { layerNorm, type Linear, type Norm } from '../ops'
import type { LayerWeights, LmHeadWeights } from '../params'
import { relativePositionOf } from '../relative-position'
import { fillNormalSeeded, streamSeed } from '../synthetic'
import { IGNORE_LABEL, MASK_ID, type Batch, type ProbeSlot } from './data'

/** The batched rel-shift lives with the attention (src/core/attention.ts). */
export { relShiftBatched }

export type RelativeTerm = 'c2p' | 'p2c'
export const RELATIVE_TERMS: readonly RelativeTerm[] = ['c2p', 'p2c']

export interface TrainableConfig {
  /** 'deberta': relative positions only (position_biased_input false); 'bert': absolute positions, c2c only */
  arch: 'deberta' | 'bert'
  vocabSize: number
  hiddenSize: number
  numLayers: number
  numHeads: number
  intermediateSize: number
  /** P: absolute position rows (BERT input, the EMD); bounds the sequence length of those models */
  maxPositions: number
  /** DeBERTa: relative terms besides c2c (also set the scale) */
  terms: RelativeTerm[]
  /** DeBERTa: log-bucket count; 0 = clipped distances clamp(δ, −k, k − 1) */
  positionBuckets: number
  /** DeBERTa: k (max_relative_positions): the clipping distance, or the log buckets' max position */
  maxRelativePositions: number
  /** DeBERTa: Enhanced Mask Decoder (absolute positions added before the last layer, run twice) */
  emd: boolean
}

/** Init scales (seeded normals): linear N(0, 1/fan_in), embeddings N(0, EMBEDDING_STD²), biases 0, norms (1, 0). */
export const TRAIN_INIT = { embeddingStd: 0.1, relativeStd: 0.1 } as const

/** tf.variable names must be unique per process */
let nextVariableId = 0

export const MAX_TRAIN_LENGTH = 64
export const MAX_TRAIN_HIDDEN = 64

/** A small default: 2 layers, H = 32, 4 heads, v3-style log buckets. */
export function defaultTrainableConfig(vocabSize: number, patch: Partial<TrainableConfig> = {}): TrainableConfig {
  return {
    arch: 'deberta',
    vocabSize,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    intermediateSize: 64,
    maxPositions: MAX_TRAIN_LENGTH,
    terms: ['c2p', 'p2c'],
    positionBuckets: 16,
    maxRelativePositions: MAX_TRAIN_LENGTH,
    emd: false,
    ...patch,
  }
}

/** The inference core's config for a trainable config (deberta-v2 with shared keys, or the BERT baseline). */
export function inferenceConfig(c: TrainableConfig): DebertaConfig {
  const base: DebertaConfig = {
    ...DEBERTA_V3_BASE,
    vocabSize: c.vocabSize,
    hiddenSize: c.hiddenSize,
    numHiddenLayers: c.numLayers,
    numAttentionHeads: c.numHeads,
    attentionHeadSize: Math.floor(c.hiddenSize / c.numHeads),
    intermediateSize: c.intermediateSize,
    embeddingSize: c.hiddenSize,
    maxPositionEmbeddings: c.maxPositions,
    maxRelativePositions: c.maxRelativePositions,
    positionBuckets: c.positionBuckets,
    posAttType: [...c.terms],
    maskTokenId: MASK_ID,
  }
  const config: DebertaConfig = c.arch === 'bert' ? { ...bertBaselineConfig(base), layerNormEps: BERT_LAYER_NORM_EPS } : { ...base, layerNormEps: DEBERTA_LAYER_NORM_EPS }
  validateConfig(config)
  return config
}

export function validateTrainableConfig(c: TrainableConfig): DebertaConfig {
  const bad = (field: string, why: string): LabError => new LabError('CONFIG_INVALID', `train config ${field}: ${why}`, { field })
  if (c.arch !== 'deberta' && c.arch !== 'bert') throw bad('arch', `"${String(c.arch)}" is not deberta or bert`)
  if (c.hiddenSize > MAX_TRAIN_HIDDEN) throw bad('hiddenSize', `${c.hiddenSize} exceeds ${MAX_TRAIN_HIDDEN} (the lab trains tiny models)`)
  for (const t of c.terms) if (!RELATIVE_TERMS.includes(t)) throw bad('terms', `"${String(t)}" is not c2p or p2c`)
  if (c.arch === 'bert' && c.emd) throw bad('emd', 'the BERT baseline has no Enhanced Mask Decoder')
  return inferenceConfig(c)
}

/** Per-forward relative tables per layer: Kr by descending / Qr by ascending distance, [NH, W, D] each. */
interface DistanceTables {
  keyByDistance: tf.Tensor3D[] | null
  queryByDistance: tf.Tensor3D[] | null
}

export interface EvalResult {
  loss: number
  /** share of labelled positions predicted right (probe positions: prediction in the answer set) */
  accuracy: number
  correct: number
  total: number
  /** probes: accuracy per slot */
  bySlot?: Partial<Record<ProbeSlot, number>>
  /** probes: counts per slot (for pooling evaluations) */
  slotCounts?: Partial<Record<ProbeSlot, { correct: number; total: number }>>
}

export class TrainableModel {
  readonly config: TrainableConfig
  readonly core: DebertaConfig
  /** canonical checkpoint name → variable, torch layout noted in `torchShape` */
  private readonly named = new Map<string, { variable: tf.Variable; torchShape: number[]; transposed: boolean }>()
  private readonly word: tf.Variable
  private readonly position: tf.Variable | null
  private readonly embNorm: Norm
  /** the encoder layers as the inference core's weights (fused Q/K/V), made of the variables */
  private readonly layers: LayerWeights[] = []
  private readonly rel: tf.Variable | null
  private readonly relNorm: Norm | null
  private readonly head: LmHeadWeights
  private readonly selectorCache = new Map<number, { desc: Float32Array; asc: Float32Array }>()
  private disposed = false

  constructor(config: TrainableConfig, seed: number) {
    this.core = validateTrainableConfig(config)
    this.config = { ...config, terms: [...config.terms] }
    const { vocabSize: V, hiddenSize: H, intermediateSize: I, maxPositions: P } = config
    const A = this.core.numAttentionHeads * this.core.attentionHeadSize
    const keys = canonicalKeys(this.core)

    const draw = (key: string, size: number, std: number, mean = 0): Float32Array =>
      std === 0 ? new Float32Array(size).fill(mean) : fillNormalSeeded(new Float32Array(size), streamSeed(seed, key), mean, std)
    const variable = (key: string, shape: number[], data: Float32Array, torchShape: number[], transposed: boolean): tf.Variable => {
      const initial = tf.tensor(data, shape)
      const v = tf.variable(initial, true, `train/${nextVariableId++}/${key}`)
      initial.dispose()
      this.named.set(key, { variable: v, torchShape, transposed })
      return v
    }
    const dense = (key: string, inp: number, out: number, bias = true): Linear => ({
      wT: variable(`${key}.weight`, [inp, out], draw(`${key}.weight`, inp * out, 1 / Math.sqrt(inp)), [out, inp], true) as tf.Variable<tf.Rank.R2>,
      b: bias ? (variable(`${key}.bias`, [out], draw(`${key}.bias`, out, 0), [out], false) as tf.Variable<tf.Rank.R1>) : null,
    })
    const norm = (key: string, width: number): Norm => ({
      gamma: variable(`${key}.weight`, [width], draw(`${key}.weight`, width, 0, 1), [width], false) as tf.Variable<tf.Rank.R1>,
      beta: variable(`${key}.bias`, [width], draw(`${key}.bias`, width, 0), [width], false) as tf.Variable<tf.Rank.R1>,
    })
    const table = (key: string, rows: number, std: number): tf.Variable => variable(key, [rows, H], draw(key, rows * H, std), [rows, H], false)

    const isBert = config.arch === 'bert'
    this.word = table(keys.word, V, TRAIN_INIT.embeddingStd)
    this.position = isBert || config.emd ? table(keys.position, P, TRAIN_INIT.embeddingStd) : null
    this.embNorm = norm(keys.embeddingNorm, H)
    for (const k of keys.layers) {
      const query = dense(k.query, H, A)
      const key = dense(k.key, H, A)
      const value = dense(k.value, H, A)
      const output = dense(k.attentionOutput, A, H)
      const outputNorm = norm(k.attentionNorm, H)
      this.layers.push({
        attention: { layout: 'fused', query: [query], key: [key], value: [value], output, outputNorm },
        intermediate: dense(k.intermediate, H, I),
        output: dense(k.output, I, H),
        outputNorm: norm(k.outputNorm, H),
      })
    }
    this.rel = keys.relEmbeddings ? table(keys.relEmbeddings, relativeEmbeddingRows(this.core), TRAIN_INIT.relativeStd) : null
    this.relNorm = keys.relNorm ? norm(keys.relNorm, H) : null
    this.head = {
      dense: dense(keys.head.dense, H, H),
      norm: norm(keys.head.norm, H),
      bias: variable(keys.head.bias, [V], new Float32Array(V), [V], false) as tf.Variable<tf.Rank.R1>,
    }
  }

  /** Every trainable variable, in a fixed order. */
  get variables(): tf.Variable[] {
    return [...this.named.values()].map((n) => n.variable)
  }

  /** Canonical names of the variables, in the order of `variables`. */
  get variableNames(): string[] {
    return [...this.named.keys()]
  }

  get parameterCount(): number {
    return this.variables.reduce((sum, v) => sum + v.size, 0)
  }

  /** Longest sequence this model accepts (absolute positions bound BERT and the EMD). */
  get maxLength(): number {
    return this.position ? Math.min(this.config.maxPositions, MAX_TRAIN_LENGTH) : MAX_TRAIN_LENGTH
  }

  // -------------------------------------------------------------------------------------------
  // Forward (call inside tf.tidy or an optimizer's loss function)

  /** MLM logits at every position: [B·T, V] (the EMD's when the model has one, as in pre-training). */
  logits(batch: Batch): tf.Tensor2D {
    return this.headLogits(batch, false).main
  }

  /**
   * Both decoders of an EMD model: `main` the EMD logits, `plain` the LM head on the last layer's output
   * (what the inference core calls plain logits). Without EMD `plain` is `main`. [B·T, V] each.
   */
  bothLogits(batch: Batch): { main: tf.Tensor2D; plain: tf.Tensor2D } {
    const { main, plain } = this.headLogits(batch, true)
    return { main, plain: plain ?? main }
  }

  private headLogits(batch: Batch, withPlain: boolean): { main: tf.Tensor2D; plain?: tf.Tensor2D } {
    this.assertAlive()
    const { batchSize: B, length: T } = batch
    if (T > this.maxLength) {
      throw new LabError('SEQUENCE_TOO_LONG', `sequence length ${T} exceeds this model's ${this.maxLength} positions`, { length: T, max: this.maxLength })
    }
    const core = this.core
    const V = this.config.vocabSize
    const H = this.config.hiddenSize
    const isBert = this.config.arch === 'bert'
    // embeddings: one-hot rows (tf.gather's gradient needs UnsortedSegmentSum, which wasm lacks)
    let x = matMulFast(oneHotRows(batch.inputIds, V), this.word as tf.Tensor2D) as tf.Tensor2D // [N, V]·[V, H] → [N, H]
    const positionRows = (): tf.Tensor2D => tf.tile(tf.slice(this.position!, [0, 0], [T, H]), [B, 1]) as tf.Tensor2D // [N, H]
    if (isBert) x = tf.add(x, positionRows()) as tf.Tensor2D
    x = layerNorm(x, this.embNorm, core.layerNormEps)
    if (!isBert) x = tf.mul(x, tf.tensor2d(batch.attentionMask, [B * T, 1])) as tf.Tensor2D // HF DeBERTa zeroes padding rows
    const tables = this.distanceTables(T)
    const terms = new Set(this.config.terms)
    const relative = !isBert
    const compute = { c2p: relative && terms.has('c2p'), p2c: relative && terms.has('p2c'), p2p: false }
    const maskBias = batchPaddingBias(batch, isBert) // [B, 1, T, T]
    // the inference core's layer in its batched form; only the products differ (gradients without transposed matmuls)
    const pass = (layer: number): AttentionPass => ({
      config: core,
      strategy: 'batched',
      invScale: scoreScale(core),
      maskBias,
      tables: relative ? { keyByDistance: tables.keyByDistance?.[layer] ?? null, queryByDistance: tables.queryByDistance?.[layer] ?? null } : null,
      compute,
      include: { c2c: true, ...compute },
      batch: B,
      products: TRAINING_PRODUCTS,
    })
    const L = this.layers.length
    let hiddenPrev = x
    for (let l = 0; l < L; l++) {
      hiddenPrev = x
      x = layerForward(this.layers[l], core, x, x, pass(l))
    }
    const lmHead = (h: tf.Tensor2D): tf.Tensor2D => lmHeadLogits(this.head, this.word as tf.Tensor2D, core, h, TRAINING_PRODUCTS) // [N, V]
    const plain = this.config.emd && withPlain ? lmHead(x) : undefined
    if (this.config.emd) {
      const states = emdForward(this.layers[L - 1], core, hiddenPrev, positionRows(), pass(L - 1))
      x = states.layerOutputs[states.layerOutputs.length - 1]
    }
    return { main: lmHead(x), plain }
  }

  /** Mean cross-entropy over the labelled positions (scalar). */
  loss(batch: Batch): tf.Scalar {
    return tf.tidy(() => this.lossFromLogits(this.logits(batch), batch))
  }

  /** The loss of logits already computed by logits(batch). */
  lossFromLogits(logits: tf.Tensor2D, batch: Batch): tf.Scalar {
    return maskedCrossEntropy(logits, batch.labels, this.config.vocabSize)
  }

  /** Loss and accuracy on a batch (no gradients). */
  evaluate(batch: Batch): EvalResult {
    this.assertAlive()
    tf.engine().startScope()
    try {
      const logits = this.logits(batch)
      const loss = maskedCrossEntropy(logits, batch.labels, this.config.vocabSize).dataSync()[0]
      const predicted = tf.argMax(logits, 1).dataSync() as Int32Array
      return scorePredictions(batch, predicted, loss)
    } finally {
      tf.engine().endScope()
    }
  }

  // -------------------------------------------------------------------------------------------
  // Weights

  /** Current weights under canonical checkpoint names, torch layout (nn.Linear [out, in]). */
  exportWeights(): Record<string, Float32Array> {
    this.assertAlive()
    const out: Record<string, Float32Array> = {}
    for (const [key, { variable, torchShape, transposed }] of this.named) {
      const data = variable.dataSync() as Float32Array
      if (!transposed) {
        out[key] = Float32Array.from(data)
        continue
      }
      const [rows, cols] = torchShape // torch [out, in]; variable [in, out]
      const t = new Float32Array(rows * cols)
      for (let i = 0; i < cols; i++) for (let o = 0; o < rows; o++) t[o * cols + i] = data[i * rows + o]
      out[key] = t
    }
    return out
  }

  /** Torch-layout shapes of exportWeights() entries. */
  weightShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {}
    for (const [key, { torchShape }] of this.named) out[key] = [...torchShape]
    return out
  }

  /** Loads weights written by exportWeights() (same config). */
  importWeights(weights: Record<string, Float32Array>): void {
    this.assertAlive()
    for (const [key, { variable, torchShape, transposed }] of this.named) {
      const data = weights[key]
      if (!data) throw new LabError('CHECKPOINT_MISSING_KEY', `weights have no "${key}"`, { key })
      if (data.length !== variable.size) throw new LabError('CHECKPOINT_SHAPE', `"${key}" has ${data.length} values, expected ${variable.size}`, { key })
      let values = data
      if (transposed) {
        const [rows, cols] = torchShape
        values = new Float32Array(rows * cols)
        for (let i = 0; i < cols; i++) for (let o = 0; o < rows; o++) values[i * rows + o] = data[o * cols + i]
      }
      tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)))
    }
  }

  /** The trained weights in the inference core's DebertaModel (built by the checkpoint loader). */
  toInferenceModel(): DebertaModel {
    const source = recordTensorSource(this.exportWeights(), this.weightShapes(), `trained:${this.config.arch}`)
    const built = buildWeights(source, this.core)
    return new DebertaModel({
      config: this.core,
      weights: built.weights,
      parameterCount: built.parameterCount,
      hasMlmHead: built.hasMlmHead,
      hasPositionEmbeddings: built.hasPositionEmbeddings,
      source: { kind: 'derived', from: `trained ${this.config.arch}` },
    })
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const v of this.variables) v.dispose()
    this.selectorCache.clear()
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private assertAlive(): void {
    if (this.disposed) throw new LabError('INTERNAL', 'the trainable model has been disposed')
  }

  /**
   * One-hot selectors [W, R] of the relative rows by distance (W = 2T − 1), host-cached per length:
   *   desc row m: c2p row c of δ = (T−1) − m, c = clamp(rel(δ) + span)        (HF c2p_pos)
   *   asc  row m: p2c row p of δ = m − (T−1), p = clamp(−rel(−δ) + span)      (HF p2c_pos = −relative_pos[j, i])
   */
  private distanceSelectors(T: number): { desc: Float32Array; asc: Float32Array } {
    const hit = this.selectorCache.get(T)
    if (hit) return hit
    const span = attentionSpan(this.core)
    const R = 2 * span
    const W = 2 * T - 1
    const clamp = (v: number): number => Math.min(Math.max(v, 0), R - 1)
    const desc = new Float32Array(W * R)
    const asc = new Float32Array(W * R)
    for (let m = 0; m < W; m++) {
      desc[m * R + clamp(relativePositionOf(this.core, T - 1 - m) + span)] = 1
      asc[m * R + clamp(-relativePositionOf(this.core, T - 1 - m) + span)] = 1 // −rel(−δ) with δ = m − (T−1)
    }
    const entry = { desc, asc }
    this.selectorCache.set(T, entry)
    return entry
  }

  /** Per layer: Kr by descending distance [NH, W, D] (c2p) and Qr by ascending distance [NH, W, D] (p2c). */
  private distanceTables(T: number): DistanceTables {
    if (!this.rel) return { keyByDistance: null, queryByDistance: null }
    const terms = new Set(this.config.terms)
    if (terms.size === 0) return { keyByDistance: null, queryByDistance: null }
    const { numAttentionHeads: NH, attentionHeadSize: D } = this.core
    const R = this.rel.shape[0]
    const W = 2 * T - 1
    const normed = this.relNorm ? layerNorm(this.rel as tf.Tensor2D, this.relNorm, this.core.layerNormEps) : (this.rel as tf.Tensor2D) // [R, H]
    const selectors = this.distanceSelectors(T)
    const byDistance = (projection: Linear, selector: Float32Array): tf.Tensor3D => {
      const projected = TRAINING_PRODUCTS.linear(normed, projection) // [R, A]
      const rows = matMulFast(tf.tensor2d(selector, [W, R]), projected) // [W, R]·[R, A] → [W, A]
      return tf.transpose(tf.reshape(rows, [W, NH, D]), [1, 0, 2]) as tf.Tensor3D // [NH, W, D]
    }
    // v3 share_att_key: the relative rows go through the content key / query projections
    return {
      keyByDistance: terms.has('c2p') ? this.layers.map((w) => byDistance(w.attention.key[0], selectors.desc)) : null,
      queryByDistance: terms.has('p2c') ? this.layers.map((w) => byDistance(w.attention.query[0], selectors.asc)) : null,
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Differentiable primitives

/** The transpose of the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, k) => k)
  perm.push(...perm.splice(-2).reverse())
  return tf.transpose(t, perm)
}

/**
 * a·b (same batch dims, no broadcasting) whose gradient uses explicit transposes: tfjs' own matMul gradient
 * calls matMul with transposeA / transposeB, which on wasm misses XNNPACK and runs ~10× slower.
 *   da = dy·bᵀ, db = aᵀ·dy
 */
const matMulWithGrad = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b])
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy, swapLast(saved[1])), tf.matMul(swapLast(saved[0]), dy)],
  }
}) as unknown as Parameters<typeof tf.customGrad>[0])

export function matMulFast<R extends tf.Rank>(a: tf.Tensor<R>, b: tf.Tensor<R>): tf.Tensor<R> {
  return matMulWithGrad(a, b) as tf.Tensor<R>
}

/** The products of the batched layer for training: every matmul's gradient uses explicit transposes. */
export const TRAINING_PRODUCTS: Products = {
  ab: (a, b) => matMulFast(a, b),
  abT: (a, b) => matMulFast(a, swapLast(b)),
  linear: (x, p) => {
    const y = matMulFast(x, p.outIn ? (swapLast(p.wT) as tf.Tensor2D) : p.wT)
    return p.b ? (tf.add(y, p.b) as tf.Tensor2D) : y
  },
}

/** Additive padding bias [B, 1, T, T] of a batch (as the core's paddingBias per sequence; BERT masks keys only). */
function batchPaddingBias(batch: Batch, keysOnly: boolean): tf.Tensor4D {
  const { batchSize: B, length: T, attentionMask: mask } = batch
  const bias = new Float32Array(B * T * T)
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      const rowValid = keysOnly || mask[b * T + i] === 1
      for (let j = 0; j < T; j++) bias[(b * T + i) * T + j] = rowValid && mask[b * T + j] === 1 ? 0 : FLOAT32_MIN
    }
  }
  return tf.tensor4d(bias, [B, 1, T, T])
}

/**
 * One-hot rows [n, depth] built on the host. (tf.oneHot(…, 'float32') on wasm 4.22 writes the integer bit
 * pattern 1 into float32 slots, i.e. 1.4e-45; the selectors are constants, so the host is the simple way.)
 */
export function oneHotRows(ids: ArrayLike<number>, depth: number): tf.Tensor2D {
  const out = new Float32Array(ids.length * depth)
  for (let n = 0; n < ids.length; n++) out[n * depth + ids[n]] = 1
  return tf.tensor2d(out, [ids.length, depth])
}

/** Mean over labelled rows of −log softmax(logits)[label]; labels IGNORE_LABEL are skipped. */
export function maskedCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, vocabSize: number): tf.Scalar {
  return tf.tidy(() => {
    const safe = Int32Array.from(labels, (l) => (l === IGNORE_LABEL ? 0 : l))
    const weights = Float32Array.from(labels, (l) => (l === IGNORE_LABEL ? 0 : 1))
    const count = Math.max(1, weights.reduce((a, b) => a + b, 0))
    const target = tf.mul(oneHotRows(safe, vocabSize), tf.tensor2d(weights, [labels.length, 1])) // [N, V]
    return tf.div(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)))), count) as tf.Scalar
  })
}

/** Accuracy of argmax predictions on the labelled positions (answer sets for probe positions). */
export function scorePredictions(batch: Batch, predicted: ArrayLike<number>, loss: number): EvalResult {
  let correct = 0
  let total = 0
  const slotHits = new Map<ProbeSlot, [number, number]>()
  for (let n = 0; n < batch.labels.length; n++) {
    const label = batch.labels[n]
    if (label === IGNORE_LABEL) continue
    const accept = batch.accept?.get(n)
    const ok = accept ? accept.includes(predicted[n]) : predicted[n] === label
    total++
    if (ok) correct++
    const slot = batch.slotOf?.get(n)
    if (slot) {
      const hits = slotHits.get(slot) ?? [0, 0]
      hits[0] += ok ? 1 : 0
      hits[1] += 1
      slotHits.set(slot, hits)
    }
  }
  const result: EvalResult = { loss, accuracy: total === 0 ? 0 : correct / total, correct, total }
  if (slotHits.size > 0) {
    result.bySlot = Object.fromEntries([...slotHits].map(([slot, [c, t]]) => [slot, c / t]))
    result.slotCounts = Object.fromEntries([...slotHits].map(([slot, [c, t]]) => [slot, { correct: c, total: t }]))
  }
  return result
}

/** An in-memory TensorSource over a Record of torch-layout float32 arrays (for buildWeights). */
export function recordTensorSource(weights: Record<string, Float32Array>, shapes: Record<string, number[]>, path: string): TensorSource {
  const names = Object.keys(weights)
  const get = (name: string): Float32Array => {
    const data = weights[name]
    if (!data) throw new LabError('CHECKPOINT_MISSING_KEY', `tensor "${name}" is not in ${path}`, { key: name })
    return data
  }
  return {
    format: 'safetensors',
    path,
    entries: (): TensorEntry[] => names.map((name) => ({ name, dtype: 'F32', shape: [...(shapes[name] ?? [get(name).length])] })),
    has: (name) => name in weights,
    readFloat32: (name) => get(name),
    readInt32: (name) => {
      throw new LabError('CHECKPOINT_DTYPE', `tensor "${name}" is F32, not an integer tensor`, { key: name })
    },
    close: () => undefined,
  }
}
