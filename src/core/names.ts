// Checkpoint key names: the ONLY file that knows them. Builds ModelWeights from a TensorSource.
//
// Naming handled:
//   backbone  "deberta." (released checkpoints, *ForMaskedLM), no prefix (DebertaV2Model.save_pretrained),
//             "<root>deberta." (e.g. "generator.deberta."), "bert." / none for the BERT baseline
//   MLM head  official / HF legacy=false "lm_predictions.lm_head.{dense,LayerNorm,bias}",
//             HF legacy "cls.predictions.{transform.dense,transform.LayerNorm,bias}" (decoder tied to the word
//             embeddings); absent → hasMlmHead = false
// Checks (before any tensor is read): every key the config needs is present (CHECKPOINT_MISSING_KEY), has the
// expected shape (CHECKPOINT_SHAPE, details {key, expected, actual}) and a float dtype (CHECKPOINT_DTYPE), and no
// unknown key is left over (CHECKPOINT_EXTRA_KEY) except the harmless extras listed in HARMLESS_EXTRAS.
// Tensors are then read one at a time and converted (transposed / split per head) straight into device tensors.
//
// Shapes: V vocab, E embedding size, H hidden, NH heads, D head size, A = NH·D, I intermediate, P positions,
// R = 2·span rel rows, k conv kernel
import * as tf from '@tensorflow/tfjs-core'
import { LabError } from '../common/errors'
import type { TensorEntry, TensorSource } from './checkpoint/types'
import { relativeEmbeddingRows, type DebertaConfig } from './config'
import type { Linear, Norm } from './ops'
import {
  convTapsFromTorch,
  disposeWeights,
  headLinearsFromTorch,
  linearFromTorch,
  normFromHost,
  type AttentionWeights,
  type LayerWeights,
  type ModelWeights,
  type RelativeProjection,
} from './params'
import { projectRelativeEmbeddings } from './relative-tables'

/** How a tensor is initialised by the synthetic model (src/core/synthetic.ts). */
export type TensorRole = 'embedding' | 'weight' | 'bias' | 'norm-weight' | 'norm-bias' | 'relative'

export interface TensorSpec {
  key: string
  shape: number[]
  role: TensorRole
  /** false: loaded when present (absolute positions of a relative-only model, used by the EMD) */
  required: boolean
}

export type HeadNaming = 'official' | 'cls'

export interface CheckpointLayout {
  /** backbone prefix, e.g. "deberta." or "" */
  backbone: string
  /** prefix of the heads, e.g. "" or "generator." */
  root: string
  head: HeadNaming | null
}

/** Keys a checkpoint may carry that the model does not use, and why they are harmless. */
export const HARMLESS_EXTRAS: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /(^|\.)embeddings\.position_ids$/, why: 'position_ids buffer (an arange, rebuilt at run time)' },
  { pattern: /(^|\.)pooler\.dense\.(weight|bias)$/, why: 'sequence-classification pooler' },
  { pattern: /(^|\.)classifier\.(weight|bias)$/, why: 'classification head' },
  { pattern: /(^|\.)qa_outputs\.(weight|bias)$/, why: 'question-answering head' },
  { pattern: /(^|\.)mask_predictions\.(dense|LayerNorm|classifier)\.(weight|bias)$/, why: 'replaced-token-detection head of the v3 discriminators' },
  { pattern: /(^|\.)cls\.predictions\.decoder\.weight$/, why: 'tied copy of the word embeddings (the head uses the embeddings)' },
  { pattern: /(^|\.)cls\.predictions\.decoder\.bias$/, why: 'duplicate of cls.predictions.bias' },
  { pattern: /(^|\.)cls\.seq_relationship\.(weight|bias)$/, why: 'BERT next-sentence head' },
]

const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight'

function modelPrefix(config: DebertaConfig): string {
  return config.modelType === 'bert' ? 'bert.' : 'deberta.'
}

/** The canonical layout written by the synthetic model and the released checkpoints. */
export function canonicalLayout(config: DebertaConfig, withHead = true): CheckpointLayout {
  return { backbone: modelPrefix(config), root: '', head: withHead ? (config.modelType === 'bert' ? 'cls' : 'official') : null }
}

/** Finds the backbone prefix and the head naming of a checkpoint. */
export function detectLayout(source: TensorSource, config: DebertaConfig, entries = source.entries()): CheckpointLayout {
  const prefixes = entries.filter((e) => e.name.endsWith(WORD_EMBEDDINGS)).map((e) => e.name.slice(0, -WORD_EMBEDDINGS.length))
  const model = modelPrefix(config)
  let backbone: string
  if (prefixes.length === 0) {
    throw new LabError(
      'CHECKPOINT_MISSING_KEY',
      `${source.path}: no word embeddings ("${model}${WORD_EMBEDDINGS}") — is this a ${config.modelType} checkpoint?`,
      { key: `${model}${WORD_EMBEDDINGS}`, missing: [`${model}${WORD_EMBEDDINGS}`] },
    )
  } else if (prefixes.length === 1) {
    backbone = prefixes[0]
  } else {
    // several backbones (e.g. generator + discriminator in one file): prefer the plain "deberta." one
    backbone = prefixes.includes(model) ? model : prefixes.includes('') ? '' : prefixes.sort()[0]
  }
  const root = backbone.endsWith(model) ? backbone.slice(0, -model.length) : backbone === '' ? '' : backbone
  let head: HeadNaming | null = null
  if (source.has(`${root}lm_predictions.lm_head.dense.weight`)) head = 'official'
  else if (source.has(`${root}cls.predictions.transform.dense.weight`)) head = 'cls'
  return { backbone, root, head }
}

/** Key prefixes (".weight" / ".bias" follow) of one encoder layer's modules; v1 has in_proj instead of query/key/value. */
export interface LayerKeys {
  query: string
  key: string
  value: string
  attentionOutput: string
  attentionNorm: string
  intermediate: string
  output: string
  outputNorm: string
}

export function layerKeys(config: DebertaConfig, backbone: string, layer: number): LayerKeys {
  const L = `${backbone}encoder.layer.${layer}`
  const self = `${L}.attention.self.`
  const suffix = config.modelType === 'bert' ? '' : '_proj'
  return {
    query: `${self}query${suffix}`,
    key: `${self}key${suffix}`,
    value: `${self}value${suffix}`,
    attentionOutput: `${L}.attention.output.dense`,
    attentionNorm: `${L}.attention.output.LayerNorm`,
    intermediate: `${L}.intermediate.dense`,
    output: `${L}.output.dense`,
    outputNorm: `${L}.output.LayerNorm`,
  }
}

/** Key prefixes of the MLM head modules (bias is a full key). */
export function headKeys(layout: CheckpointLayout): { dense: string; norm: string; bias: string } | null {
  const R = layout.root
  if (layout.head === 'official') return { dense: `${R}lm_predictions.lm_head.dense`, norm: `${R}lm_predictions.lm_head.LayerNorm`, bias: `${R}lm_predictions.lm_head.bias` }
  if (layout.head === 'cls') return { dense: `${R}cls.predictions.transform.dense`, norm: `${R}cls.predictions.transform.LayerNorm`, bias: `${R}cls.predictions.bias` }
  return null
}

/** Keys of a model in the canonical layout with its head, by role (the trainable model's variables). */
export interface ModelKeys {
  word: string
  /** absolute positions; used by BERT and the EMD */
  position: string
  embeddingNorm: string
  layers: LayerKeys[]
  /** null without relative attention */
  relEmbeddings: string | null
  /** null unless norm_rel_ebd = layer_norm */
  relNorm: string | null
  head: { dense: string; norm: string; bias: string }
}

export function canonicalKeys(config: DebertaConfig): ModelKeys {
  const layout = canonicalLayout(config, true)
  const P = layout.backbone
  const relative = config.relativeAttention && config.modelType !== 'bert'
  return {
    word: `${P}${WORD_EMBEDDINGS}`,
    position: `${P}embeddings.position_embeddings.weight`,
    embeddingNorm: `${P}embeddings.LayerNorm`,
    layers: Array.from({ length: config.numHiddenLayers }, (_, l) => layerKeys(config, P, l)),
    relEmbeddings: relative ? `${P}encoder.rel_embeddings.weight` : null,
    relNorm: relative && config.modelType === 'deberta-v2' && config.normRelEmbedding === 'layer_norm' ? `${P}encoder.LayerNorm` : null,
    head: headKeys(layout)!,
  }
}

/** Every tensor the config needs (and the optional ones it uses), with shapes, for a layout. */
export function tensorSpecs(config: DebertaConfig, layout: CheckpointLayout): TensorSpec[] {
  const { vocabSize: V, embeddingSize: E, hiddenSize: H, numAttentionHeads: NH, attentionHeadSize: D, intermediateSize: I } = config
  const A = NH * D
  const P = layout.backbone
  const specs: TensorSpec[] = []
  const add = (key: string, shape: number[], role: TensorRole, required = true): void => {
    specs.push({ key, shape, role, required })
  }
  const dense = (key: string, out: number, inp: number, bias = true): void => {
    add(`${key}.weight`, [out, inp], 'weight')
    if (bias) add(`${key}.bias`, [out], 'bias')
  }
  const norm = (key: string, width: number): void => {
    add(`${key}.weight`, [width], 'norm-weight')
    add(`${key}.bias`, [width], 'norm-bias')
  }
  const isBert = config.modelType === 'bert'
  const isV1 = config.modelType === 'deberta'

  add(`${P}embeddings.word_embeddings.weight`, [V, E], 'embedding')
  add(`${P}embeddings.position_embeddings.weight`, [config.maxPositionEmbeddings, E], 'embedding', config.positionBiasedInput || isBert)
  if (config.typeVocabSize > 0) add(`${P}embeddings.token_type_embeddings.weight`, [config.typeVocabSize, E], 'embedding')
  if (E !== H) dense(`${P}embeddings.embed_proj`, H, E, false)
  norm(`${P}embeddings.LayerNorm`, H)

  const relative = config.relativeAttention && !isBert
  const pos = new Set(config.posAttType)
  for (let l = 0; l < config.numHiddenLayers; l++) {
    const L = `${P}encoder.layer.${l}`
    const keys = layerKeys(config, P, l)
    if (isBert) {
      dense(keys.query, A, H)
      dense(keys.key, A, H)
      dense(keys.value, A, H)
    } else if (isV1) {
      add(`${L}.attention.self.in_proj.weight`, [3 * A, H], 'weight')
      add(`${L}.attention.self.q_bias`, [A], 'bias')
      add(`${L}.attention.self.v_bias`, [A], 'bias')
      if (relative && (pos.has('c2p') || pos.has('p2p'))) dense(`${L}.attention.self.pos_proj`, A, H, false)
      if (relative && (pos.has('p2c') || pos.has('p2p'))) dense(`${L}.attention.self.pos_q_proj`, A, H)
    } else {
      dense(keys.query, A, H)
      dense(keys.key, A, H)
      dense(keys.value, A, H)
      if (relative && !config.shareAttKey) {
        if (pos.has('c2p') || pos.has('p2p')) dense(`${L}.attention.self.pos_key_proj`, A, H)
        if (pos.has('p2c') || pos.has('p2p')) dense(`${L}.attention.self.pos_query_proj`, A, H)
      }
    }
    dense(keys.attentionOutput, H, A)
    norm(keys.attentionNorm, H)
    dense(keys.intermediate, I, H)
    dense(keys.output, H, I)
    norm(keys.outputNorm, H)
  }
  if (relative) {
    add(`${P}encoder.rel_embeddings.weight`, [relativeEmbeddingRows(config), H], 'relative')
    if (config.modelType === 'deberta-v2' && config.normRelEmbedding === 'layer_norm') norm(`${P}encoder.LayerNorm`, H)
  }
  if (config.modelType === 'deberta-v2' && config.convKernelSize > 0) {
    add(`${P}encoder.conv.conv.weight`, [H, H / config.convGroups, config.convKernelSize], 'weight')
    add(`${P}encoder.conv.conv.bias`, [H], 'bias')
    norm(`${P}encoder.conv.LayerNorm`, H)
  }
  const head = headKeys(layout)
  if (head) {
    dense(head.dense, E, H)
    norm(head.norm, E)
    add(head.bias, [V], 'bias')
  }
  return specs
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function listKeys(keys: string[], max = 5): string {
  const shown = keys.slice(0, max).map((k) => `"${k}"`).join(', ')
  return keys.length > max ? `${shown} (and ${keys.length - max} more)` : shown
}

function isHarmless(key: string): boolean {
  return HARMLESS_EXTRAS.some((h) => h.pattern.test(key))
}

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16'])

/**
 * Checks a checkpoint against the specs without reading tensor data. Returns the specs that will be read
 * (required ones plus optional ones present). The cls-naming bias may live in cls.predictions.decoder.bias.
 */
export function checkCheckpoint(source: TensorSource, specs: TensorSpec[], entries: TensorEntry[] = source.entries()): TensorSpec[] {
  const byName = new Map(entries.map((e) => [e.name, e]))
  const resolved = specs.map((s) => {
    if (!byName.has(s.key) && s.key.endsWith('cls.predictions.bias')) {
      const alt = s.key.replace(/cls\.predictions\.bias$/, 'cls.predictions.decoder.bias')
      if (byName.has(alt)) return { ...s, key: alt }
    }
    return s
  })
  const missing = resolved.filter((s) => s.required && !byName.has(s.key)).map((s) => s.key)
  if (missing.length > 0) {
    throw new LabError('CHECKPOINT_MISSING_KEY', `${source.path}: missing ${missing.length} tensor(s) the config needs: ${listKeys(missing)}`, {
      key: missing[0],
      missing,
      path: source.path,
    })
  }
  const used = resolved.filter((s) => byName.has(s.key))
  for (const s of used) {
    const entry = byName.get(s.key)!
    if (!sameShape(entry.shape, s.shape)) {
      throw new LabError(
        'CHECKPOINT_SHAPE',
        `${source.path}: tensor "${s.key}" has shape [${entry.shape.join(', ')}], expected [${s.shape.join(', ')}] from the config`,
        { key: s.key, expected: s.shape, actual: entry.shape, path: source.path },
      )
    }
    if (!FLOAT_DTYPES.has(entry.dtype)) {
      throw new LabError('CHECKPOINT_DTYPE', `${source.path}: tensor "${s.key}" has dtype ${entry.dtype}, expected a floating-point tensor`, {
        key: s.key,
        expected: 'F32',
        actual: entry.dtype,
        path: source.path,
      })
    }
  }
  const known = new Set(used.map((s) => s.key))
  const extra = entries.map((e) => e.name).filter((n) => !known.has(n) && !isHarmless(n))
  if (extra.length > 0) {
    throw new LabError(
      'CHECKPOINT_EXTRA_KEY',
      `${source.path}: ${extra.length} unexpected tensor(s) the config does not use: ${listKeys(extra)} (config and checkpoint do not match?)`,
      { key: extra[0], extra, path: source.path },
    )
  }
  return used
}

export interface BuiltWeights {
  weights: ModelWeights
  layout: CheckpointLayout
  /** elements of every tensor read */
  parameterCount: number
  hasMlmHead: boolean
  hasPositionEmbeddings: boolean
  /** one line per tensor holding NaN/±Inf values (counted while the readers convert them) */
  warnings: string[]
}

/**
 * Builds the model weights from a checkpoint. Reads one tensor at a time (readFloat32), converts it into its
 * device form and drops the host copy; on any error every tensor created so far is disposed.
 */
export function buildWeights(source: TensorSource, config: DebertaConfig, options: { checkCancelled?: () => void } = {}): BuiltWeights {
  const entries = source.entries()
  const layout = detectLayout(source, config, entries)
  const used = checkCheckpoint(source, tensorSpecs(config, layout), entries)
  const keyOf = new Map(used.map((s) => [s.key.replace(/cls\.predictions\.decoder\.bias$/, 'cls.predictions.bias'), s.key]))
  let parameterCount = 0
  const warnings: string[] = []
  const has = (key: string): boolean => keyOf.has(key)
  const read = (key: string): Float32Array => {
    const actual = keyOf.get(key)
    if (actual === undefined) throw new LabError('INTERNAL', `names.ts: "${key}" was not checked`)
    options.checkCancelled?.()
    const stats = { nonFinite: 0 }
    const data = source.readFloat32(actual, stats)
    parameterCount += data.length
    if (stats.nonFinite > 0) warnings.push(`tensor "${actual}": ${stats.nonFinite} of ${data.length} values are NaN or ±Inf`)
    return data
  }

  const created: tf.Tensor[] = []
  const track = <T extends tf.Tensor | Linear | Norm | Linear[]>(value: T): T => {
    const list = Array.isArray(value) ? value : [value]
    for (const v of list) {
      if (v instanceof tf.Tensor) created.push(v)
      else if ('wT' in v) created.push(...(v.b ? [v.wT, v.b] : [v.wT]))
      else created.push(v.gamma, v.beta)
    }
    return value
  }
  const temporaries: tf.Tensor[] = []
  /** projections used only to project the rel embeddings at load: disposed after the layer */
  const temp = (heads: Linear[]): Linear[] => {
    for (const p of heads) temporaries.push(...(p.b ? [p.wT, p.b] : [p.wT]))
    return heads
  }

  try {
    const { hiddenSize: H, embeddingSize: E, numAttentionHeads: NH, attentionHeadSize: D, intermediateSize: I } = config
    const A = NH * D
    const P = layout.backbone
    const readNorm = (key: string): Norm => track(normFromHost(read(`${key}.weight`), read(`${key}.bias`)))
    const readLinear = (key: string, out: number, inp: number, bias = true): Linear =>
      track(linearFromTorch(read(`${key}.weight`), out, inp, bias ? read(`${key}.bias`) : null))
    const byHeadRow = (h: number, d: number): number => h * D + d
    const readHeads = (key: string, bias = true): Linear[] =>
      track(headLinearsFromTorch(read(`${key}.weight`), H, NH, D, byHeadRow, bias ? read(`${key}.bias`) : null))

    // embeddings
    const word = track(tf.tensor2d(read(`${P}embeddings.word_embeddings.weight`), [config.vocabSize, E]))
    const positionKey = `${P}embeddings.position_embeddings.weight`
    const position = has(positionKey) ? track(tf.tensor2d(read(positionKey), [config.maxPositionEmbeddings, E])) : null
    const typeKey = `${P}embeddings.token_type_embeddings.weight`
    const tokenType = config.typeVocabSize > 0 ? track(tf.tensor2d(read(typeKey), [config.typeVocabSize, E])) : null
    const embedProj = E !== H ? readLinear(`${P}embeddings.embed_proj`, H, E, false) : null
    const embeddings = { word, position, tokenType, embedProj, norm: readNorm(`${P}embeddings.LayerNorm`) }

    // relative embeddings (host → one temporary tensor for the projections)
    const relative = config.relativeAttention && config.modelType !== 'bert'
    let relTensor: tf.Tensor2D | null = null
    let relNorm: Norm | null = null
    if (relative) {
      relTensor = tf.tensor2d(read(`${P}encoder.rel_embeddings.weight`), [relativeEmbeddingRows(config), H])
      temporaries.push(relTensor)
      if (config.modelType === 'deberta-v2' && config.normRelEmbedding === 'layer_norm') {
        const key = `${P}encoder.LayerNorm`
        relNorm = normFromHost(read(`${key}.weight`), read(`${key}.bias`))
        temporaries.push(relNorm.gamma, relNorm.beta)
      }
    }

    const layers: LayerWeights[] = []
    const projections: RelativeProjection[] = []
    for (let l = 0; l < config.numHiddenLayers; l++) {
      const L = `${P}encoder.layer.${l}`
      let attention: Pick<AttentionWeights, 'query' | 'key' | 'value'>
      let posKey: Linear[] | null = null
      let posQuery: Linear[] | null = null
      let ownPositionProjections = false
      if (config.modelType === 'bert') {
        attention = { query: readHeads(`${L}.attention.self.query`), key: readHeads(`${L}.attention.self.key`), value: readHeads(`${L}.attention.self.value`) }
      } else if (config.modelType === 'deberta') {
        // v1 in_proj [3A, H]: head h owns rows [3Dh, 3Dh + D) q, [3Dh + D, 3Dh + 2D) k, [3Dh + 2D, 3Dh + 3D) v
        // (HF transpose_for_scores(in_proj(x)).chunk(3, dim=-1)); q_bias / v_bias are head-major [A]
        const inProj = read(`${L}.attention.self.in_proj.weight`)
        const qBias = read(`${L}.attention.self.q_bias`)
        const vBias = read(`${L}.attention.self.v_bias`)
        attention = {
          query: track(headLinearsFromTorch(inProj, H, NH, D, (h, d) => 3 * D * h + d, qBias)),
          key: track(headLinearsFromTorch(inProj, H, NH, D, (h, d) => 3 * D * h + D + d, null)),
          value: track(headLinearsFromTorch(inProj, H, NH, D, (h, d) => 3 * D * h + 2 * D + d, vBias)),
        }
        if (relative) {
          const self = `${L}.attention.self`
          if (has(`${self}.pos_proj.weight`)) posKey = temp(headLinearsFromTorch(read(`${self}.pos_proj.weight`), H, NH, D, byHeadRow, null))
          if (has(`${self}.pos_q_proj.weight`)) {
            posQuery = temp(headLinearsFromTorch(read(`${self}.pos_q_proj.weight`), H, NH, D, byHeadRow, read(`${self}.pos_q_proj.bias`)))
          }
          ownPositionProjections = true
        }
      } else {
        const self = `${L}.attention.self`
        attention = { query: readHeads(`${self}.query_proj`), key: readHeads(`${self}.key_proj`), value: readHeads(`${self}.value_proj`) }
        if (relative) {
          if (config.shareAttKey) {
            // share_att_key: rel embeddings go through the content projections (with their biases)
            posKey = attention.key
            posQuery = attention.query
          } else {
            if (has(`${self}.pos_key_proj.weight`)) posKey = temp(headLinearsFromTorch(read(`${self}.pos_key_proj.weight`), H, NH, D, byHeadRow, read(`${self}.pos_key_proj.bias`)))
            if (has(`${self}.pos_query_proj.weight`)) {
              posQuery = temp(headLinearsFromTorch(read(`${self}.pos_query_proj.weight`), H, NH, D, byHeadRow, read(`${self}.pos_query_proj.bias`)))
            }
            ownPositionProjections = true
          }
        }
      }
      if (relTensor) {
        projections.push(projectRelativeEmbeddings(relTensor, relNorm, config.layerNormEps, posKey, posQuery))
        if (ownPositionProjections) {
          const own = new Set<tf.Tensor>([...(posKey ?? []), ...(posQuery ?? [])].flatMap((p): tf.Tensor[] => (p.b ? [p.wT, p.b] : [p.wT])))
          tf.dispose([...own])
          const keep = temporaries.filter((t) => !own.has(t))
          temporaries.length = 0
          temporaries.push(...keep)
        }
      }
      layers.push({
        attention: {
          layout: 'heads',
          ...attention,
          output: readLinear(`${L}.attention.output.dense`, H, A),
          outputNorm: readNorm(`${L}.attention.output.LayerNorm`),
        },
        intermediate: readLinear(`${L}.intermediate.dense`, I, H),
        output: readLinear(`${L}.output.dense`, H, I),
        outputNorm: readNorm(`${L}.output.LayerNorm`),
      })
    }
    tf.dispose(temporaries)
    temporaries.length = 0

    let conv: ModelWeights['conv'] = null
    if (config.modelType === 'deberta-v2' && config.convKernelSize > 0) {
      const key = `${P}encoder.conv`
      conv = {
        taps: convTapsFromTorch(read(`${key}.conv.weight`), H, config.convKernelSize, config.convGroups),
        bias: tf.tensor1d(read(`${key}.conv.bias`)),
        norm: readNorm(`${key}.LayerNorm`),
        act: config.convAct,
      }
      created.push(...conv.taps, conv.bias)
    }

    let lmHead: ModelWeights['lmHead'] = null
    const R = layout.root
    if (layout.head === 'official') {
      const key = `${R}lm_predictions.lm_head`
      lmHead = { dense: readLinear(`${key}.dense`, E, H), norm: readNorm(`${key}.LayerNorm`), bias: track(tf.tensor1d(read(`${key}.bias`))) }
    } else if (layout.head === 'cls') {
      const key = `${R}cls.predictions`
      lmHead = { dense: readLinear(`${key}.transform.dense`, E, H), norm: readNorm(`${key}.transform.LayerNorm`), bias: track(tf.tensor1d(read(`${key}.bias`))) }
    }

    return {
      weights: { embeddings, layers, conv, lmHead, relative: projections },
      layout,
      parameterCount,
      hasMlmHead: lmHead !== null,
      hasPositionEmbeddings: position !== null,
      warnings,
    }
  } catch (error) {
    tf.dispose(temporaries)
    tf.dispose(created)
    throw error
  }
}

/** Disposes weights built by buildWeights (re-exported for callers that only import names). */
export { disposeWeights }
