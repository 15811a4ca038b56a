// The model object the lab service (worker thread) and the CLI call. Inputs and outputs are plain arrays and
// typed arrays; no tensor escapes, and tf.memory().numTensors is back at its value after every call (also
// when a call throws). Sequences of a batch run one at a time (attention never mixes sequences); each runs
// inside its own tf.tidy.
//
// Shapes: B batch, T tokens (padded length), H hidden, E embedding size, NH heads, L layers, V vocab,
// N masked positions
import * as tf from '@tensorflow/tfjs-core'
import { ATTENTION_TERMS, type AttentionTerm, type ModelInfo } from '../common/api'
import { LabError } from '../common/errors'
import { selfAttention, type AttentionPass, type HeadTerms } from './attention'
import {
  describeConfig,
  scoreScale,
  usesAbsolutePositions,
  type DebertaConfig,
  type ModelType,
} from './config'
import { emdForward } from './emd'
import { embed, normalizeEmbedding, positionIds } from './embeddings'
import { convForward, layerForward, type ResidualSum } from './encoder'
import type { AttentionVariant } from './flops'
import { lmHeadLogits } from './heads'
import { residentInTensorflow, tensorflowKernels } from './native-kernels'
import { gatherRows, hostTidy, layerNorm, linear, paddingBias } from './ops'
import { disposeWeights, packAttentionWeights, weightTensors, type ModelWeights } from './params'
import { relativePositionMatrix, relativeRowsDescending } from './relative-position'
import { RelativeDeviceTables, RelativeTableCache, relativeBlockSize, uploadLayerTables, type LayerTableTensors, type LengthTables } from './relative-tables'
import { attentionStrategyFor, type AttentionStrategy } from './strategy'

/** A dense row-major float32 array with its shape. */
export interface FloatArray {
  shape: number[]
  data: Float32Array
}

export interface IntArray {
  shape: number[]
  data: Int32Array
}

export interface ForwardInputs {
  /** [B][T], every row the same length */
  inputIds: number[][]
  /** [B][T] of 0/1; default all ones */
  attentionMask?: number[][]
  /** [B][T]; used when type_vocab_size > 0 (default zeros) */
  tokenTypeIds?: number[][]
}

export interface MlmRequest {
  /** (batch, position) pairs; default: every position holding maskTokenId, row-major */
  positions?: Array<[number, number]>
  /** default: config.maskTokenId */
  maskTokenId?: number
  /** plain logits: LM head on hidden_states[L] (default true) */
  plain?: boolean
  /** Enhanced Mask Decoder logits (default false) */
  emd?: boolean
  /** EMD query states and layer outputs at every position, [B, T, H] each (default false) */
  emdStates?: boolean
}

export interface ForwardOptions {
  /** all hidden states [B, T, H]: embeddings, then each layer (L + 1 arrays) */
  hiddenStates?: boolean
  /** attention probabilities [B, NH, T, T] per layer */
  attentions?: boolean
  /** per-layer score components (c2c, c2p, p2c, p2p, scores, probs): true = every layer, or a list of layers */
  components?: boolean | number[]
  /** compute the p2p term (a lab toggle; not used by released models) — counts in the score scale */
  p2p?: boolean
  /** terms dropped from the score before the softmax (ablation); the scale is unchanged */
  disabledTerms?: AttentionTerm[]
  /** where disabledTerms apply: every layer and head (default), one layer, or one head of one layer */
  ablationScope?: { layer: number; head?: number }
  /**
   * Heads removed (Michel et al. 2019): each listed head's context vectors are zeroed before its layer's output
   * projection, so it adds nothing to the layer's output (and to the EMD passes when it is in the last layer).
   * Its scores and probabilities are still computed and reported as they are. Independent of disabledTerms.
   */
  removedHeads?: Array<{ layer: number; head: number }>
  /**
   * Starts at layer `layer` from its input `hidden` ([B, T, H], hidden_states[layer] of an earlier forward of the
   * same ids) instead of embedding the ids: the layers before it are not run. For ablations that leave those layers
   * unchanged (the head-importance job), the result is the same as a whole forward. Not combined with
   * hiddenStates, attentions, components or onLayerComponents (the skipped layers would have none).
   */
  resumeFrom?: { layer: number; hidden: FloatArray }
  mlm?: MlmRequest
  /** called after each layer of each sequence; throwing from it aborts the pass cleanly (cancel) */
  onProgress?: (done: number, total: number) => void
  /**
   * Streams every layer's components instead of keeping them: called after each layer of each sequence with
   * that layer's components as [1, NH, T, T] arrays of sequence `sequence`. The arrays are reused for the next
   * layer (one set in memory, not L): copy what must outlive the call. Layers named in `components` are still
   * recorded in the result as well. Throwing from it aborts the pass cleanly.
   */
  onLayerComponents?: (layer: number, components: LayerComponents, sequence: number) => void
}

export interface LayerComponents {
  layer: number
  /** [B, NH, T, T] each, all entries (padding included), every term already divided by the scale */
  c2c: FloatArray
  c2p?: FloatArray
  p2c?: FloatArray
  p2p?: FloatArray
  /** sum of the enabled terms before masking */
  scores: FloatArray
  probs: FloatArray
}

export interface MlmResult {
  /** (batch, position) of each row of the logits */
  positions: Array<[number, number]>
  /** [N, V] */
  plainLogits?: FloatArray
  /** [N, V] */
  emdLogits?: FloatArray
  /** [B, T, H] each: query states [z, out0] and layer outputs [out0, out1] of the two EMD passes */
  emdStates?: { queryStates: FloatArray[]; layerOutputs: FloatArray[] }
}

export interface ForwardResult {
  batchSize: number
  length: number
  /** hidden_states[L] [B, T, H] */
  lastHiddenState: FloatArray
  hiddenStates?: FloatArray[]
  attentions?: FloatArray[]
  /** relative_pos [T, T] (buckets for v3, i − j for v1); absent without relative attention */
  relativePos?: IntArray
  components?: LayerComponents[]
  mlm?: MlmResult
  /** 1 / s actually used */
  scoreScale: number
}

export interface EmbeddingRows {
  /** word embedding rows of the ids [T, E] */
  content: FloatArray
  /** absolute position rows 0 … T−1 [T, E]; null without a position table */
  position: FloatArray | null
  /** content + position: what BERT feeds its first layer [T, E]; null without a position table */
  sum: FloatArray | null
  /** LayerNorm(embed_proj(sum)) with the model's embedding LayerNorm [T, H]; null without a position table */
  sumLayerNorm: FloatArray | null
  /** what this model's embedding layer outputs for the ids (hidden_states.0, no padding) [T, H] */
  embeddingOutput: FloatArray
}

export interface CoreModelInfo {
  modelType: ModelType
  config: DebertaConfig
  /** elements in the weights (checkpoint tensors read, or synthesised) */
  parameterCount: number
  hasMlmHead: boolean
  hasPositionEmbeddings: boolean
  source: { kind: 'checkpoint'; path: string; format: string } | { kind: 'synthetic'; seed: number } | { kind: 'derived'; from: string }
  summary: string
  /** problems found at load that do not stop it, e.g. tensors holding NaN/±Inf (which tensor, how many values) */
  warnings: string[]
}

export interface ModelParts {
  config: DebertaConfig
  weights: ModelWeights
  parameterCount: number
  hasMlmHead: boolean
  hasPositionEmbeddings: boolean
  source: CoreModelInfo['source']
  /** false when the weights are borrowed from another model (dispose() then leaves them alone) */
  ownsWeights?: boolean
  /** how attention is computed (default: the current backend's, src/core/strategy.ts) */
  strategy?: AttentionStrategy
  warnings?: string[]
}

/** One sequence's layers as the shards of a split forward run them (src/core/split.ts). */
export interface ShardRun {
  length: number
  /** attention mask of the sequence [T] */
  mask: number[]
  startLayer: number
  options: Pick<ForwardOptions, 'disabledTerms' | 'p2p' | 'ablationScope' | 'removedHeads'>
}

/** A forward split over threads (src/core/split.ts), as the model calls it. */
export interface LayerSplit {
  /** false once it has failed or been closed */
  readonly usable: boolean
  /**
   * Layers run.startLayer … L−1 of one sequence, every layer's heads and feed-forward columns shared between the
   * threads; `after` sees each full layer output. Returns null if the other thread failed (the split closes
   * itself; the caller runs the layers on its own).
   */
  layers(run: ShardRun, hidden0: tf.Tensor2D, after: (layer: number, output: tf.Tensor2D) => void): { hidden: tf.Tensor2D; hiddenPrev: tf.Tensor2D } | null
  dispose(): void
}

/** The per-layer attention settings of one forward's options. */
interface PassPlan {
  compute: AttentionPass['compute']
  invScale: number
  includeOf: (layer: number) => Pick<AttentionPass, 'include' | 'headInclude'>
  /** per head of the layer, false = removed; undefined = every head kept */
  headKept: (layer: number) => boolean[] | undefined
}

function invalid(message: string, details?: Record<string, unknown>): LabError {
  return new LabError('INPUT_INVALID', message, details)
}

export class DebertaModel {
  readonly config: DebertaConfig
  readonly info: CoreModelInfo
  /** device weights; exposed for the bench and derived models, not for callers to modify */
  readonly weights: ModelWeights
  /** how attention is computed; fixed for the model's life (the weights are laid out for it) */
  readonly strategy: AttentionStrategy
  private readonly tables: RelativeTableCache | null
  /** batched strategy: Kr / Qr per layer on the device */
  private readonly deviceTables: RelativeDeviceTables | null
  private readonly ownsWeights: boolean
  private disposed = false
  private split: LayerSplit | null = null

  constructor(parts: ModelParts) {
    this.config = parts.config
    this.weights = parts.weights
    this.ownsWeights = parts.ownsWeights ?? true
    this.strategy = parts.strategy ?? attentionStrategyFor()
    if (this.strategy === 'batched' && this.ownsWeights) {
      // all heads' Q, K and V in one matrix (borrowed weights keep their layout; attention handles every layout)
      this.weights.layers.forEach((layer, l) => {
        this.weights.layers[l] = { ...layer, attention: packAttentionWeights(layer.attention, true) }
      })
    }
    const relative = parts.config.relativeAttention && parts.config.modelType !== 'bert' && parts.weights.relative.length > 0
    this.tables = relative ? new RelativeTableCache(parts.config, parts.weights.relative) : null
    this.deviceTables = relative && this.strategy === 'batched' ? new RelativeDeviceTables(parts.config, parts.weights.relative) : null
    // on tensorflow, into TF's memory now rather than in the first forward (borrowed weights are their owner's)
    residentInTensorflow([...(this.ownsWeights ? weightTensors(this.weights) : []), ...(this.deviceTables?.tensors() ?? [])])
    this.info = {
      modelType: parts.config.modelType,
      config: parts.config,
      parameterCount: parts.parameterCount,
      hasMlmHead: parts.hasMlmHead,
      hasPositionEmbeddings: parts.hasPositionEmbeddings,
      source: parts.source,
      summary: describeConfig(parts.config),
      warnings: parts.warnings ?? [],
    }
  }

  get hasMlmHead(): boolean {
    return this.info.hasMlmHead
  }

  get hasPositionEmbeddings(): boolean {
    return this.info.hasPositionEmbeddings
  }

  /** Whether relative attention terms are computed (DeBERTa with relative_attention). */
  get isRelative(): boolean {
    return this.tables !== null
  }

  /** Longest sequence a forward accepts (absolute positions limit it; relative-only models have no limit). */
  maxSequenceLength(options: { emd?: boolean } = {}): number {
    return usesAbsolutePositions(this.config, options.emd ?? false) ? this.config.maxPositionEmbeddings : Number.POSITIVE_INFINITY
  }

  /** relative_pos [T, T] (HF build_relative_position for this config). */
  relativePositions(length: number): IntArray {
    return { shape: [length, length], data: relativePositionMatrix(this.config, length) }
  }

  /** Host tables of one length (exposed for the bench: building them is a one-off per length). */
  lengthTables(length: number): LengthTables | null {
    return this.tables ? this.tables.get(length) : null
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.attachSplit(null)
    if (this.ownsWeights) disposeWeights(this.weights)
    this.tables?.clear()
    this.deviceTables?.dispose()
  }

  /**
   * Runs plain forwards (no recorded terms) split over threads from now on (src/core/split.ts), or no more with
   * null. The model closes the split when it is disposed or replaced.
   */
  attachSplit(split: LayerSplit | null): void {
    if (this.split && this.split !== split) this.split.dispose()
    this.split = split
  }

  /** Whether plain forwards currently run split over threads. */
  get isSplit(): boolean {
    return this.usableSplit() !== null
  }

  private usableSplit(): LayerSplit | null {
    return this.split && this.split.usable ? this.split : null
  }

  get isDisposed(): boolean {
    return this.disposed
  }

  // -------------------------------------------------------------------------------------------
  // Embedding tables (problem demo)

  /** Embedding rows for one token sequence (no padding). */
  embeddingRows(ids: number[], tokenTypeIds?: number[]): EmbeddingRows {
    this.assertAlive()
    const { batch } = this.checkInputs({ inputIds: [ids], tokenTypeIds: tokenTypeIds ? [tokenTypeIds] : undefined }, false)
    const w = this.weights.embeddings
    const length = ids.length
    const withPosition = w.position !== null && length <= this.config.maxPositionEmbeddings
    return hostTidy(() => {
      const content = gatherRows(w.word, ids) // [T, E]
      const position = withPosition ? gatherRows(w.position!, positionIds(length)) : null // [T, E]
      const sum = position ? (tf.add(content, position) as tf.Tensor2D) : null // [T, E]
      const sumLayerNorm = sum ? normalizeEmbedding(w, this.config, sum) : null // [T, H]
      const output = embed(w, this.config, ids, batch.types ? batch.types[0] : null, null) // [T, H]
      return {
        content: toFloatArray(content),
        position: position ? toFloatArray(position) : null,
        sum: sum ? toFloatArray(sum) : null,
        sumLayerNorm: sumLayerNorm ? toFloatArray(sumLayerNorm) : null,
        embeddingOutput: toFloatArray(output),
      }
    })
  }

  /** Word embedding rows [n, E]. */
  wordEmbeddingRows(ids: number[]): FloatArray {
    this.assertAlive()
    this.checkIds([ids])
    return hostTidy(() => toFloatArray(gatherRows(this.weights.embeddings.word, ids)))
  }

  /** Absolute position embedding rows 0 … count−1 [count, E]. */
  positionEmbeddingRows(count: number): FloatArray {
    this.assertAlive()
    const table = this.weights.embeddings.position
    if (!table) {
      throw new LabError('CHECKPOINT_MISSING_KEY', 'this checkpoint has no absolute position embeddings', { key: 'position_embeddings' })
    }
    if (!Number.isInteger(count) || count < 1) throw invalid(`position count ${count} must be a positive integer`)
    if (count > this.config.maxPositionEmbeddings) {
      throw new LabError('SEQUENCE_TOO_LONG', `${count} positions exceed max_position_embeddings ${this.config.maxPositionEmbeddings}`, {
        length: count,
        max: this.config.maxPositionEmbeddings,
      })
    }
    return hostTidy(() => toFloatArray(gatherRows(table, positionIds(count))))
  }

  // -------------------------------------------------------------------------------------------
  // Forward

  forward(inputs: ForwardInputs, options: ForwardOptions = {}): ForwardResult {
    this.assertAlive()
    const config = this.config
    const mlm = options.mlm
    const wantEmd = !!mlm && (mlm.emd === true || mlm.emdStates === true)
    const { batch, length } = this.checkInputs(inputs, wantEmd)
    const B = batch.ids.length
    const T = length
    const L = config.numHiddenLayers
    const H = config.hiddenSize
    const NH = config.numAttentionHeads

    const plan = this.passPlan(options)
    const { compute, invScale } = plan
    const relative = this.tables !== null
    const componentLayers = this.componentLayers(options.components)
    const masked = mlm ? this.maskedPositions(mlm, batch.ids) : null
    const resume = options.resumeFrom
    if (resume) {
      if (!Number.isInteger(resume.layer) || resume.layer < 0 || resume.layer >= L) throw invalid(`resumeFrom.layer ${String(resume.layer)} is outside [0, ${L})`, { layer: resume.layer })
      if (resume.hidden?.data?.length !== B * T * H) throw invalid(`resumeFrom.hidden must hold [${B}, ${T}, ${H}] values`)
      if (options.hiddenStates || options.attentions || componentLayers.length > 0 || options.onLayerComponents) {
        throw invalid('resumeFrom cannot be combined with hiddenStates, attentions, components or onLayerComponents')
      }
    }
    const startLayer = resume?.layer ?? 0
    const wantPlain = !!mlm && mlm.plain !== false
    const wantEmdLogits = !!mlm && mlm.emd === true
    const wantEmdStates = !!mlm && mlm.emdStates === true
    const emdSkipsPasses = config.positionBiasedInput // official: EMD = last hidden state then

    // host tables for this length (built once per length, cached; the batched form needs only p2p's)
    const tables = this.tables && (this.strategy === 'per-head' || compute.p2p) ? this.tables.get(T) : null
    const p2pVectors = tables && compute.p2p ? this.p2pVectors(tables) : null

    // host outputs
    const alloc = (shape: number[]): FloatArray => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) })
    const hiddenStates = options.hiddenStates ? Array.from({ length: L + 1 }, () => alloc([B, T, H])) : undefined
    const lastHiddenState = hiddenStates ? hiddenStates[L] : alloc([B, T, H])
    const attentions = options.attentions ? Array.from({ length: L }, () => alloc([B, NH, T, T])) : undefined
    const components = new Map<number, LayerComponents>()
    for (const l of componentLayers) {
      const c: LayerComponents = { layer: l, c2c: alloc([B, NH, T, T]), scores: alloc([B, NH, T, T]), probs: alloc([B, NH, T, T]) }
      if (compute.c2p) c.c2p = alloc([B, NH, T, T])
      if (compute.p2c) c.p2c = alloc([B, NH, T, T])
      if (compute.p2p) c.p2p = alloc([B, NH, T, T])
      components.set(l, c)
    }
    // streamed components: one [1, NH, T, T] set reused by every layer
    let streamed: LayerComponents | null = null
    if (options.onLayerComponents) {
      streamed = { layer: 0, c2c: alloc([1, NH, T, T]), scores: alloc([1, NH, T, T]), probs: alloc([1, NH, T, T]) }
      if (compute.c2p) streamed.c2p = alloc([1, NH, T, T])
      if (compute.p2c) streamed.p2c = alloc([1, NH, T, T])
      if (compute.p2p) streamed.p2p = alloc([1, NH, T, T])
    }
    const N = masked ? masked.length : 0
    const V = config.vocabSize
    const plainLogits = wantPlain ? alloc([N, V]) : undefined
    const emdLogits = wantEmdLogits ? alloc([N, V]) : undefined
    const emdStates =
      wantEmdStates && !emdSkipsPasses
        ? { queryStates: [alloc([B, T, H]), alloc([B, T, H])], layerOutputs: [alloc([B, T, H]), alloc([B, T, H])] }
        : undefined

    const total = B * L
    // a split forward (src/core/split.ts) has no per-head observers: recorded terms run on this thread
    const recorded = componentLayers.length > 0 || !!options.attentions || !!options.onLayerComponents
    for (let b = 0; b < B; b++) {
      hostTidy(() => {
        const mask = batch.mask[b]
        const padded = mask.some((m) => m === 0)
        const maskColumn = padded ? tf.tensor2d(mask, [T, 1]) : null // [T, 1]
        const maskBias = paddingBias(mask, config.modelType === 'bert') // [T, T] or null
        // the embeddings, or the given input of layer startLayer
        const hidden0 = resume
          ? tf.tensor2d(resume.hidden.data.subarray(b * T * H, (b + 1) * T * H), [T, H])
          : embed(this.weights.embeddings, config, batch.ids[b], batch.types ? batch.types[b] : null, maskColumn) // [T, H]
        if (hiddenStates) copyRows(hidden0, hiddenStates[0], b)

        const layerTables = this.layerTablesFor(T, tables, p2pVectors, invScale)
        const makePass = (layer: number, withRecording: boolean): AttentionPass => {
          const pass = this.basePass(plan, layer, maskBias, layerTables)
          if (!withRecording) return pass
          const comp = components.get(layer)
          if (comp || streamed) {
            if (streamed) streamed.layer = layer
            const record = (target: LayerComponents, terms: HeadTerms, offset: number): void => {
              copyInto(terms.c2c, target.c2c, offset)
              if (target.c2p && terms.c2p) copyInto(terms.c2p, target.c2p, offset)
              if (target.p2c && terms.p2c) copyInto(terms.p2c, target.p2c, offset)
              if (target.p2p && terms.p2p) copyInto(terms.p2p, target.p2p, offset)
              copyInto(terms.scores, target.scores, offset)
              copyInto(terms.probs, target.probs, offset)
            }
            pass.observer = (h: number, terms: HeadTerms) => {
              // one head [T, T] (per-head form) or all heads [NH, T, T] from head h (batched form)
              const offset = (b * NH + h) * T * T
              if (comp) record(comp, terms, offset)
              if (streamed) record(streamed, terms, h * T * T)
              if (attentions) copyInto(terms.probs, attentions[layer], offset)
            }
          } else if (attentions) {
            pass.onProbs = (h, probs) => copyInto(probs, attentions[layer], (b * NH + h) * T * T)
          }
          return pass
        }

        const after = (l: number, output: tf.Tensor2D): void => {
          if (hiddenStates) copyRows(output, hiddenStates[l + 1], b)
          if (streamed) options.onLayerComponents!(l, streamed, b)
          options.onProgress?.(b * L + l + 1, total)
        }
        const split = recorded ? null : this.usableSplit()
        const run: ShardRun = { length: T, mask, startLayer, options }
        // the split returns null when its other thread failed (it is then closed): this thread runs the layers
        const { hidden, hiddenPrev } =
          (split ? split.layers(run, hidden0, after) : null) ?? this.runLayers(hidden0, startLayer, maskColumn, (l) => makePass(l, true), after)
        if (!hiddenStates) copyRows(hidden, lastHiddenState, b)

        // MLM heads
        const rows = masked ? masked.map((p, k) => ({ p, k })).filter(({ p }) => p[0] === b) : []
        const head = this.weights.lmHead
        if (head && rows.length > 0 && plainLogits) {
          const logits = lmHeadLogits(head, this.weights.embeddings.word, config, gatherRows(hidden, rows.map(({ p }) => p[1]))) // [n, V]
          scatterRows(logits, plainLogits, rows.map(({ k }) => k))
        }
        if (head && (emdLogits || emdStates) && (rows.length > 0 || emdStates)) {
          let decoded: tf.Tensor2D // [T, H]
          if (emdSkipsPasses) {
            decoded = hidden
          } else {
            const positionRows = gatherRows(this.weights.embeddings.position!, positionIds(T)) // [T, E] (E = H checked)
            const states = emdForward(this.weights.layers[L - 1], config, hiddenPrev, positionRows, makePass(L - 1, false))
            if (emdStates) {
              states.queryStates.forEach((s, k) => copyRows(s, emdStates.queryStates[k], b))
              states.layerOutputs.forEach((s, k) => copyRows(s, emdStates.layerOutputs[k], b))
            }
            decoded = states.layerOutputs[states.layerOutputs.length - 1]
          }
          if (emdLogits && rows.length > 0) {
            const logits = lmHeadLogits(head, this.weights.embeddings.word, config, gatherRows(decoded, rows.map(({ p }) => p[1]))) // [n, V]
            scatterRows(logits, emdLogits, rows.map(({ k }) => k))
          }
        }
      })
    }

    const result: ForwardResult = { batchSize: B, length: T, lastHiddenState, scoreScale: invScale }
    if (hiddenStates) result.hiddenStates = hiddenStates
    if (attentions) result.attentions = attentions
    if (relative) result.relativePos = this.relativePositions(T)
    if (components.size > 0) result.components = [...components.values()]
    if (mlm && masked) {
      result.mlm = { positions: masked }
      if (plainLogits) result.mlm.plainLogits = plainLogits
      if (emdLogits) result.mlm.emdLogits = emdLogits
      if (wantEmdStates) {
        result.mlm.emdStates = emdStates ?? { queryStates: [], layerOutputs: [lastHiddenState] }
      }
    }
    return result
  }

  /** The per-layer attention settings of a forward's options (validated). */
  private passPlan(options: Pick<ForwardOptions, 'disabledTerms' | 'p2p' | 'ablationScope' | 'removedHeads'>): PassPlan {
    const config = this.config
    const L = config.numHiddenLayers
    const NH = config.numAttentionHeads
    const disabled = new Set<AttentionTerm>()
    for (const term of options.disabledTerms ?? []) {
      if (!ATTENTION_TERMS.includes(term)) throw invalid(`disabledTerms: "${String(term)}" is not one of ${ATTENTION_TERMS.join(', ')}`)
      disabled.add(term)
    }
    const relative = this.tables !== null
    const posTerms = new Set(config.posAttType)
    const p2pOn = !!options.p2p || posTerms.has('p2p')
    if (p2pOn && !relative) throw invalid('p2p needs relative attention, which this model does not use')
    const compute = { c2p: relative && posTerms.has('c2p'), p2c: relative && posTerms.has('p2c'), p2p: relative && p2pOn }
    const include: Record<AttentionTerm, boolean> = {
      c2c: !disabled.has('c2c'),
      c2p: compute.c2p && !disabled.has('c2p'),
      p2c: compute.p2c && !disabled.has('p2c'),
      p2p: compute.p2p && !disabled.has('p2p'),
    }
    const invScale = scoreScale(config, !!options.p2p)
    const scope = options.ablationScope
    if (scope) {
      if (!Number.isInteger(scope.layer) || scope.layer < 0 || scope.layer >= L) throw invalid(`ablationScope.layer ${String(scope.layer)} is outside [0, ${L})`, { layer: scope.layer })
      if (scope.head !== undefined && (!Number.isInteger(scope.head) || scope.head < 0 || scope.head >= NH)) {
        throw invalid(`ablationScope.head ${String(scope.head)} is outside [0, ${NH})`, { head: scope.head })
      }
    }
    const removed = new Map<number, boolean[]>()
    for (const r of options.removedHeads ?? []) {
      if (!Number.isInteger(r?.layer) || r.layer < 0 || r.layer >= L) throw invalid(`removedHeads: layer ${String(r?.layer)} is outside [0, ${L})`, { layer: r?.layer })
      if (!Number.isInteger(r.head) || r.head < 0 || r.head >= NH) throw invalid(`removedHeads: head ${String(r.head)} is outside [0, ${NH})`, { head: r.head })
      if (!removed.has(r.layer)) removed.set(r.layer, Array<boolean>(NH).fill(true))
      removed.get(r.layer)![r.head] = false
    }
    // every computed term, for the layers and heads the ablation does not reach
    const includeAll: Record<AttentionTerm, boolean> = { c2c: true, c2p: compute.c2p, p2c: compute.p2c, p2p: compute.p2p }
    const includeOf = (layer: number): Pick<AttentionPass, 'include' | 'headInclude'> => {
      if (!scope) return { include }
      if (layer !== scope.layer) return { include: includeAll }
      if (scope.head === undefined) return { include }
      return { include: includeAll, headInclude: Array.from({ length: NH }, (_, h) => (h === scope.head ? include : includeAll)) }
    }
    return { compute, invScale, includeOf, headKept: (layer) => removed.get(layer) }
  }

  /**
   * The attention pass of layer `layer` of one sequence (without recording): the plan's terms and heads, this
   * length's relative tables, the padding bias.
   */
  private basePass(plan: PassPlan, layer: number, maskBias: tf.Tensor | null, layerTables: (layer: number) => LayerTableTensors | null): AttentionPass {
    const pass: AttentionPass = {
      config: this.config,
      strategy: this.strategy,
      invScale: plan.invScale,
      maskBias,
      tables: layerTables(layer),
      compute: plan.compute,
      ...plan.includeOf(layer),
    }
    const kept = plan.headKept(layer)
    if (kept) pass.headKept = kept
    return pass
  }

  /**
   * Layers startLayer … L−1 of one sequence from hidden0 (the embeddings, or the input of startLayer); `after`
   * sees each layer's output. `addResidual` sums a partial dense output over the shards of a split forward and adds
   * the residual (src/core/split.ts). Returns the last output and the last layer's input (tensors of the caller's scope).
   */
  private runLayers(
    hidden0: tf.Tensor2D,
    startLayer: number,
    maskColumn: tf.Tensor2D | null,
    makePass: (layer: number) => AttentionPass,
    after: (layer: number, output: tf.Tensor2D) => void,
    addResidual?: ResidualSum,
  ): { hidden: tf.Tensor2D; hiddenPrev: tf.Tensor2D } {
    const L = this.config.numHiddenLayers
    let hidden = hidden0
    let hiddenPrev = hidden0 // input of the last layer (EMD)
    for (let l = startLayer; l < L; l++) {
      const input = hidden
      const output = tf.tidy(() => {
        let out = layerForward(this.weights.layers[l], this.config, input, input, makePass(l), addResidual)
        if (l === 0 && this.weights.conv) out = convForward(this.weights.conv, this.config, hidden0, out, maskColumn)
        return out
      })
      if (l === L - 1) hiddenPrev = input
      else if (input !== hidden0) input.dispose()
      hidden = output
      after(l, output)
    }
    return { hidden, hiddenPrev }
  }

  /**
   * This model's share of the layers of one sequence in a split forward: the model is one shard (its heads and
   * feed-forward columns, src/core/shard.ts) and `addResidual` adds the other shards' partial outputs and the residual. Call inside a
   * scope; returns the last layer's output.
   */
  shardLayers(run: ShardRun, hidden0: tf.Tensor2D, addResidual: ResidualSum, after: (layer: number, output: tf.Tensor2D) => void = () => {}): { hidden: tf.Tensor2D; hiddenPrev: tf.Tensor2D } {
    this.assertAlive()
    const T = run.length
    const plan = this.passPlan(run.options)
    const padded = run.mask.some((m) => m === 0)
    const maskColumn = padded ? tf.tensor2d(run.mask, [T, 1]) : null
    const maskBias = paddingBias(run.mask, this.config.modelType === 'bert')
    const tables = this.tables && (this.strategy === 'per-head' || plan.compute.p2p) ? this.tables.get(T) : null
    const layerTables = this.layerTablesFor(T, tables, tables && plan.compute.p2p ? this.p2pVectors(tables) : null, plan.invScale)
    return this.runLayers(hidden0, run.startLayer, maskColumn, (l) => this.basePass(plan, l, maskBias, layerTables), after, addResidual)
  }

  // -------------------------------------------------------------------------------------------
  // Blocks (benchmarks)

  /**
   * One attention block (self-attention + output dense + residual LayerNorm, HF DebertaV2Attention) or one
   * whole layer of layer `layer` on x [T, H] without padding. "standard" runs the same weights as BERT-style
   * attention (c2c only, scale 1/sqrt(D)). Returns [T, H]; call inside a tidy.
   */
  runBlock(part: 'attention' | 'layer', layer: number, x: tf.Tensor2D, variant: AttentionVariant = 'disentangled'): tf.Tensor2D {
    this.assertAlive()
    const config = this.config
    const T = x.shape[0]
    const relative = variant === 'disentangled' && this.tables !== null
    const posTerms = new Set(config.posAttType)
    const tables = relative && this.strategy === 'per-head' ? this.tables!.get(T) : null
    const invScale = variant === 'standard' ? 1 / Math.sqrt(config.attentionHeadSize) : scoreScale(config)
    const compute = { c2p: relative && posTerms.has('c2p'), p2c: relative && posTerms.has('p2c'), p2p: false }
    return tf.tidy(() => {
      const pass: AttentionPass = {
        config,
        strategy: this.strategy,
        invScale,
        maskBias: null,
        tables: relative ? this.layerTablesFor(T, tables, null, invScale)(layer) : null,
        compute,
        include: { c2c: true, c2p: compute.c2p, p2c: compute.p2c, p2p: false },
      }
      const w = this.weights.layers[layer]
      if (part === 'layer') return layerForward(w, config, x, x, pass)
      const context = selfAttention(w.attention, x, x, pass) // [T, NH·D]
      return layerNorm(tf.add(linear(context, w.attention.output), x) as tf.Tensor2D, w.attention.outputNorm, config.layerNormEps)
    })
  }

  /**
   * Per layer, the relative tables of one forward in the strategy's form (tensors of the caller's scope);
   * null for models without relative attention.
   */
  private layerTablesFor(
    length: number,
    hostTables: LengthTables | null,
    p2pVectors: Float32Array[][] | null,
    invScale: number,
  ): (layer: number) => LayerTableTensors | null {
    if (!this.tables) return () => null
    if (this.deviceTables) {
      const device = this.deviceTables
      const rows = hostTables?.rowsDesc ?? relativeRowsDescending(this.config, length)
      // p2c off the diagonals of one product where TensorFlow's kernel is at hand (not under a gradient tape)
      const indices = device.indices(this.config, length, rows, relativeBlockSize(length), tensorflowKernels() !== null)
      return (layer) => device.layer(layer, indices, p2pVectors ? p2pVectors[layer] : null, invScale, length)
    }
    return (layer) => uploadLayerTables(this.config, hostTables!, layer, p2pVectors ? p2pVectors[layer] : null, invScale)
  }

  // -------------------------------------------------------------------------------------------
  // Validation helpers

  private assertAlive(): void {
    if (this.disposed) throw new LabError('INTERNAL', 'the model has been disposed')
  }

  private checkIds(ids: number[][]): void {
    const V = this.config.vocabSize
    ids.forEach((row, b) =>
      row.forEach((id, t) => {
        if (!Number.isInteger(id)) throw invalid(`input_ids[${b}][${t}] = ${String(id)} is not an integer`, { batch: b, position: t })
        if (id < 0 || id >= V) {
          throw new LabError('TOKEN_OUT_OF_RANGE', `token id ${id} at (${b}, ${t}) is outside the vocabulary [0, ${V})`, {
            batch: b,
            position: t,
            id,
            vocabSize: V,
          })
        }
      }),
    )
  }

  private checkInputs(
    inputs: ForwardInputs,
    emd: boolean,
  ): { batch: { ids: number[][]; mask: number[][]; types: number[][] | null }; length: number } {
    const ids = inputs?.inputIds
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((r) => Array.isArray(r))) {
      throw invalid('inputIds must be a non-empty array of token id rows')
    }
    const length = ids[0].length
    if (length === 0) throw invalid('sequences must have at least one token')
    ids.forEach((row, b) => {
      if (row.length !== length) throw invalid(`inputIds row ${b} has ${row.length} ids, row 0 has ${length} (pad the batch)`, { batch: b })
    })
    const sameShape = (rows: unknown, name: string): number[][] => {
      if (!Array.isArray(rows) || rows.length !== ids.length) throw invalid(`${name} must have ${ids.length} rows like inputIds`)
      rows.forEach((row, b) => {
        if (!Array.isArray(row) || row.length !== length) throw invalid(`${name} row ${b} must have ${length} entries`, { batch: b })
      })
      return rows as number[][]
    }
    const mask = inputs.attentionMask === undefined ? ids.map((r) => r.map(() => 1)) : sameShape(inputs.attentionMask, 'attentionMask')
    mask.forEach((row, b) =>
      row.forEach((m, t) => {
        if (m !== 0 && m !== 1) throw invalid(`attentionMask[${b}][${t}] = ${String(m)} must be 0 or 1`, { batch: b, position: t })
      }),
    )
    let types: number[][] | null = null
    if (inputs.tokenTypeIds !== undefined && this.config.typeVocabSize > 0) {
      types = sameShape(inputs.tokenTypeIds, 'tokenTypeIds')
      types.forEach((row, b) =>
        row.forEach((id, t) => {
          if (!Number.isInteger(id) || id < 0 || id >= this.config.typeVocabSize) {
            throw new LabError('TOKEN_OUT_OF_RANGE', `token type id ${String(id)} at (${b}, ${t}) is outside [0, ${this.config.typeVocabSize})`, {
              batch: b,
              position: t,
              id,
            })
          }
        }),
      )
    }
    const max = this.maxSequenceLength({ emd })
    if (length > max) {
      const why = this.config.positionBiasedInput ? 'absolute position embeddings' : 'the Enhanced Mask Decoder (absolute positions)'
      throw new LabError('SEQUENCE_TOO_LONG', `sequence length ${length} exceeds max_position_embeddings ${max} (needed by ${why})`, {
        length,
        max,
      })
    }
    this.checkIds(ids)
    return { batch: { ids, mask, types }, length }
  }

  private componentLayers(spec: ForwardOptions['components']): number[] {
    const L = this.config.numHiddenLayers
    if (spec === undefined || spec === false) return []
    if (spec === true) return Array.from({ length: L }, (_, l) => l)
    if (!Array.isArray(spec)) throw invalid('components must be true, false or a list of layer indices')
    const layers = [...new Set(spec)].sort((a, b) => a - b)
    for (const l of layers) {
      if (!Number.isInteger(l) || l < 0 || l >= L) throw invalid(`components: layer ${String(l)} is outside [0, ${L})`, { layer: l })
    }
    return layers
  }

  private maskedPositions(mlm: MlmRequest, ids: number[][]): Array<[number, number]> {
    if (!this.info.hasMlmHead) {
      throw new LabError('NO_MLM_HEAD', 'this checkpoint has no masked-language-model head (lm_predictions.lm_head / cls.predictions)')
    }
    const wantEmd = mlm.emd === true || mlm.emdStates === true
    if (wantEmd && !this.config.positionBiasedInput) {
      if (!this.weights.embeddings.position) {
        throw new LabError(
          'CHECKPOINT_MISSING_KEY',
          'the Enhanced Mask Decoder needs the absolute position embeddings (embeddings.position_embeddings.weight), which this checkpoint does not have',
          { key: 'embeddings.position_embeddings.weight' },
        )
      }
      if (this.config.embeddingSize !== this.config.hiddenSize) {
        throw new LabError('CONFIG_UNSUPPORTED', 'the Enhanced Mask Decoder needs embedding_size = hidden_size (the official code adds position rows to hidden states)', {
          field: 'embedding_size',
        })
      }
    }
    const T = ids[0].length
    if (mlm.positions) {
      const out: Array<[number, number]> = []
      for (const pos of mlm.positions) {
        const [b, t] = Array.isArray(pos) ? pos : [NaN, NaN]
        if (!Number.isInteger(b) || !Number.isInteger(t) || b < 0 || b >= ids.length || t < 0 || t >= T) {
          throw invalid(`mlm position ${JSON.stringify(pos)} is outside the batch [${ids.length}, ${T}]`)
        }
        out.push([b, t])
      }
      return out
    }
    const maskId = mlm.maskTokenId ?? this.config.maskTokenId
    if (maskId === undefined) {
      throw new LabError('NO_MASK_TOKEN', 'no [MASK] token id: pass mlm.positions or mlm.maskTokenId (or set mask_token_id in the config)')
    }
    return findMaskPositions(ids, maskId)
  }

  private p2pVectors(tables: LengthTables): Float32Array[][] {
    const out: Float32Array[][] = []
    for (let l = 0; l < this.config.numHiddenLayers; l++) {
      const v = this.tables!.p2p(tables, l)
      if (!v) {
        throw invalid(`p2p needs both relative key and query projections; layer ${l} of this checkpoint has only one (pos_att_type ${this.config.posAttType.join('|')})`)
      }
      out.push(v)
    }
    return out
  }
}

/** The config-derived fields of the API's ModelInfo (the lab adds key, label, ref, tokenizer and checksum). */
export function modelInfoFields(
  model: DebertaModel,
): Omit<ModelInfo, 'key' | 'label' | 'ref' | 'tokenizerKind' | 'maskToken' | 'weightsSha256'> {
  const c = model.config
  return {
    modelType: c.modelType,
    layers: c.numHiddenLayers,
    hidden: c.hiddenSize,
    heads: c.numAttentionHeads,
    headDim: c.attentionHeadSize,
    intermediate: c.intermediateSize,
    vocabSize: c.vocabSize,
    maxPositions: c.maxPositionEmbeddings,
    positionBuckets: c.modelType === 'deberta-v2' ? c.positionBuckets : 0,
    maxRelativePositions: c.maxRelativePositions,
    posAttType: [...c.posAttType],
    shareAttKey: c.shareAttKey,
    positionBiasedInput: c.positionBiasedInput,
    parameterCount: model.info.parameterCount,
    hasMlmHead: model.info.hasMlmHead,
  }
}

/** (batch, position) of every id equal to maskTokenId, row-major (the order of mlm.masked_positions). */
export function findMaskPositions(ids: number[][], maskTokenId: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  ids.forEach((row, b) => row.forEach((id, t) => id === maskTokenId && out.push([b, t])))
  return out
}

function toFloatArray(t: tf.Tensor): FloatArray {
  return { shape: [...t.shape], data: t.dataSync() as Float32Array }
}

function copyInto(t: tf.Tensor, target: FloatArray, offset: number): void {
  target.data.set(t.dataSync() as Float32Array, offset)
}

/** Writes a [T, H] tensor as batch row b of a [B, T, H] array. */
function copyRows(t: tf.Tensor2D, target: FloatArray, b: number): void {
  copyInto(t, target, b * t.size)
}

/** Writes row r of a [n, V] tensor to row rows[r] of an [N, V] array. */
function scatterRows(t: tf.Tensor2D, target: FloatArray, rows: number[]): void {
  const data = t.dataSync() as Float32Array
  const width = t.shape[1]
  rows.forEach((row, r) => target.data.set(data.subarray(r * width, (r + 1) * width), row * width))
}
