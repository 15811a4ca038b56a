// Model configuration: a typed, documented DebertaConfig parsed from a Hugging Face config.json
// (model_type "deberta" = DeBERTa v1, "deberta-v2" = DeBERTa v2/v3, "bert" = the BERT baseline),
// with HF's defaults applied exactly where HF applies them, plus presets and validation.
// Every numeric constant of the model code lives in this file.
//
// Origins: transformers `DebertaConfig` (models/deberta/configuration_deberta.py), `DebertaV2Config`
// (models/deberta_v2/configuration_deberta_v2.py), the `getattr(config, ..., default)` reads in
// modeling_deberta.py / modeling_deberta_v2.py, and `BertConfig` (models/bert/configuration_bert.py).
import type { AttentionTerm } from '../common/api'
import { LabError } from '../common/errors'

export type ModelType = 'deberta' | 'deberta-v2' | 'bert'

/** Activations of HF's ACT2FN that this implementation provides. */
export const ACTIVATIONS = [
  'gelu', // exact erf GELU (torch.nn.functional.gelu)
  'gelu_new', // tanh approximation
  'gelu_pytorch_tanh', // tanh approximation
  'gelu_fast', // tanh approximation
  'quick_gelu', // x·sigmoid(1.702x)
  'relu',
  'relu6',
  'tanh',
  'sigmoid',
  'silu',
  'swish',
  'mish',
  'linear',
] as const
export type Activation = (typeof ACTIVATIONS)[number]

/** Relative-position score terms a config may list in pos_att_type (c2c is always computed). */
export type PositionTerm = Exclude<AttentionTerm, 'c2c'>
export const POSITION_TERMS: readonly PositionTerm[] = ['c2p', 'p2c', 'p2p']

export interface DebertaConfig {
  /** "deberta" (v1: in_proj, pos_proj), "deberta-v2" (v2/v3: query/key/value_proj, log buckets), "bert" (baseline) */
  modelType: ModelType
  vocabSize: number
  hiddenSize: number
  numHiddenLayers: number
  numAttentionHeads: number
  /** D: per-head size; hidden_size / num_attention_heads unless config.attention_head_size (v2) says otherwise */
  attentionHeadSize: number
  intermediateSize: number
  hiddenAct: Activation
  /** P: rows of the absolute position table (used when position_biased_input, and by the EMD) */
  maxPositionEmbeddings: number
  /** 0: no token type embeddings */
  typeVocabSize: number
  layerNormEps: number
  padTokenId: number
  /** E: width of the word embeddings; ≠ hidden_size adds embed_proj (E → H, no bias) */
  embeddingSize: number
  /** absolute position embeddings added to the input (BERT style) */
  positionBiasedInput: boolean
  relativeAttention: boolean
  /** k: resolved max_relative_positions (HF: values < 1 mean max_position_embeddings) */
  maxRelativePositions: number
  /** log-bucket count (v2/v3 `position_buckets`); 0 = no buckets (plain i − j) */
  positionBuckets: number
  /** relative terms besides c2c; also sets the score scale 1/sqrt(D·(1 + count)) */
  posAttType: PositionTerm[]
  /** v2/v3: rel embeddings go through the content key/query projections (else pos_key_proj/pos_query_proj) */
  shareAttKey: boolean
  /** v2/v3: LayerNorm on rel_embeddings (norm_rel_ebd "layer_norm") */
  normRelEmbedding: 'layer_norm' | 'none'
  /** v2 ConvLayer after the first layer; 0 = none */
  convKernelSize: number
  convGroups: number
  convAct: Activation
  /** carried through when the config names it (not an HF DeBERTa field) */
  maskTokenId?: number
}

/** The BERT baseline uses the same interface with relative attention off and absolute positions on. */
export type BertConfig = DebertaConfig & { modelType: 'bert' }

// ---------------------------------------------------------------------------------------------
// Numeric constants

/** torch.finfo(torch.float32).min: the value HF writes into masked attention logits. */
export const FLOAT32_MIN = -3.4028234663852886e38
/** HF DeBERTa default layer_norm_eps */
export const DEBERTA_LAYER_NORM_EPS = 1e-7
/** HF BERT default layer_norm_eps */
export const BERT_LAYER_NORM_EPS = 1e-12
/** HF ConvLayer defaults (getattr(config, "conv_act", "tanh"), conv_groups 1) */
export const DEFAULT_CONV_ACT: Activation = 'tanh'
export const DEFAULT_CONV_GROUPS = 1
/** Scale factor of the score: 1 for c2c plus one per relative term (HF `scale_factor`). */
export const CONTENT_SCALE_TERMS = 1

/** HF defaults for model_type "deberta-v2" (DebertaV2Config.__init__ and getattr defaults in modeling_deberta_v2.py). */
const HF_DEBERTA_V2_DEFAULTS = {
  vocab_size: 128100,
  hidden_size: 1536,
  num_hidden_layers: 24,
  num_attention_heads: 24,
  intermediate_size: 6144,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 0,
  layer_norm_eps: DEBERTA_LAYER_NORM_EPS,
  relative_attention: false,
  max_relative_positions: -1,
  pad_token_id: 0,
  position_biased_input: true,
  position_buckets: -1,
  norm_rel_ebd: 'none',
  share_att_key: false,
  conv_kernel_size: 0,
} as const

/** HF defaults for model_type "deberta" (DebertaConfig.__init__). */
const HF_DEBERTA_V1_DEFAULTS = {
  vocab_size: 50265,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 0,
  layer_norm_eps: DEBERTA_LAYER_NORM_EPS,
  relative_attention: false,
  max_relative_positions: -1,
  pad_token_id: 0,
  position_biased_input: true,
} as const

/** HF defaults for model_type "bert" (BertConfig.__init__). */
const HF_BERT_DEFAULTS = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: BERT_LAYER_NORM_EPS,
  pad_token_id: 0,
} as const

/**
 * Initialisation of synthetic (seeded random) models. Not HF's init (N(0, 0.02), which gives near-uniform
 * attention): scaled so that scores have a visible structure — linear weights N(0, gain²/fan_in), embeddings
 * N(0, gain²/E) (LayerNorm rescales the input anyway, and the tied LM head then gives logits of unit scale).
 */
export const SYNTHETIC_INIT = {
  weightGain: 1,
  embeddingGain: 1,
  relativeStd: 1,
  biasStd: 0.02,
  normWeightStd: 0.1,
  normBiasStd: 0.1,
} as const

// ---------------------------------------------------------------------------------------------
// Presets

/** DeBERTa-v3 vocabulary (128,000 SentencePiece pieces + [MASK] etc., rounded) */
export const DEBERTA_V3_VOCAB_SIZE = 128100
export const DEBERTA_V3_POSITION_BUCKETS = 256
export const DEBERTA_V3_MAX_POSITIONS = 512

function v3Preset(layers: number, hidden: number, heads: number, intermediate: number): DebertaConfig {
  return {
    modelType: 'deberta-v2',
    vocabSize: DEBERTA_V3_VOCAB_SIZE,
    hiddenSize: hidden,
    numHiddenLayers: layers,
    numAttentionHeads: heads,
    attentionHeadSize: hidden / heads,
    intermediateSize: intermediate,
    hiddenAct: 'gelu',
    maxPositionEmbeddings: DEBERTA_V3_MAX_POSITIONS,
    typeVocabSize: 0,
    layerNormEps: DEBERTA_LAYER_NORM_EPS,
    padTokenId: 0,
    embeddingSize: hidden,
    positionBiasedInput: false,
    relativeAttention: true,
    maxRelativePositions: DEBERTA_V3_MAX_POSITIONS,
    positionBuckets: DEBERTA_V3_POSITION_BUCKETS,
    posAttType: ['p2c', 'c2p'],
    shareAttKey: true,
    normRelEmbedding: 'layer_norm',
    convKernelSize: 0,
    convGroups: DEFAULT_CONV_GROUPS,
    convAct: DEFAULT_CONV_ACT,
  }
}

/** microsoft/deberta-v3-xsmall */
export const DEBERTA_V3_XSMALL: DebertaConfig = Object.freeze(v3Preset(12, 384, 6, 1536)) as DebertaConfig
/** microsoft/deberta-v3-small */
export const DEBERTA_V3_SMALL: DebertaConfig = Object.freeze(v3Preset(6, 768, 12, 3072)) as DebertaConfig
/** microsoft/deberta-v3-base */
export const DEBERTA_V3_BASE: DebertaConfig = Object.freeze(v3Preset(12, 768, 12, 3072)) as DebertaConfig
/** microsoft/deberta-v3-large */
export const DEBERTA_V3_LARGE: DebertaConfig = Object.freeze(v3Preset(24, 1024, 16, 4096)) as DebertaConfig
/** The shape of test/fixtures/deberta-v3-tiny (for quick benchmarks and demos). */
export const DEBERTA_V3_TINY: DebertaConfig = Object.freeze({
  ...v3Preset(2, 32, 4, 64),
  vocabSize: 1008,
  maxPositionEmbeddings: 128,
  maxRelativePositions: 128,
  positionBuckets: 16,
}) as DebertaConfig

/** microsoft/deberta-base (v1) */
export const DEBERTA_V1_BASE: DebertaConfig = Object.freeze({
  ...v3Preset(12, 768, 12, 3072),
  modelType: 'deberta',
  vocabSize: 50265,
  positionBuckets: 0,
  posAttType: ['c2p', 'p2c'],
  shareAttKey: false,
  normRelEmbedding: 'none',
}) as DebertaConfig

/** bert-base-uncased: the baseline with the dimensions of DeBERTa-base. */
export const BERT_BASE: BertConfig = Object.freeze({
  ...v3Preset(12, 768, 12, 3072),
  modelType: 'bert',
  vocabSize: HF_BERT_DEFAULTS.vocab_size,
  typeVocabSize: HF_BERT_DEFAULTS.type_vocab_size,
  layerNormEps: BERT_LAYER_NORM_EPS,
  positionBiasedInput: true,
  relativeAttention: false,
  positionBuckets: 0,
  posAttType: [],
  shareAttKey: false,
  normRelEmbedding: 'none',
}) as BertConfig

export const PRESETS = {
  tiny: DEBERTA_V3_TINY,
  xsmall: DEBERTA_V3_XSMALL,
  small: DEBERTA_V3_SMALL,
  base: DEBERTA_V3_BASE,
  large: DEBERTA_V3_LARGE,
} as const
export type PresetName = keyof typeof PRESETS

/**
 * The BERT baseline with the same dimensions as a DeBERTa config: absolute positions added to the input,
 * plain scaled dot-product attention (scale 1/sqrt(D)), no relative terms.
 */
export function bertBaselineConfig(config: DebertaConfig): BertConfig {
  return {
    ...config,
    modelType: 'bert',
    positionBiasedInput: true,
    relativeAttention: false,
    positionBuckets: 0,
    posAttType: [],
    shareAttKey: false,
    normRelEmbedding: 'none',
    convKernelSize: 0,
  }
}

// ---------------------------------------------------------------------------------------------
// Derived quantities

/**
 * Relative-embedding span ("att_span"): v2/v3 `pos_ebd_size` = position_buckets if > 0 else max_relative_positions
 * (HF DisentangledSelfAttention.__init__); v1 uses max_relative_positions (the table always has 2k rows).
 */
export function attentionSpan(config: DebertaConfig): number {
  if (config.modelType === 'deberta-v2' && config.positionBuckets > 0) return config.positionBuckets
  return config.maxRelativePositions
}

/** Rows of rel_embeddings: 2·span (HF DebertaV2Encoder / DebertaEncoder `pos_ebd_size * 2`). */
export function relativeEmbeddingRows(config: DebertaConfig): number {
  return 2 * attentionSpan(config)
}

/** Number of score terms the scale counts: 1 + |pos_att_type| (+1 for the lab's p2p toggle when not listed). */
export function scaleFactor(config: DebertaConfig, p2pToggle = false): number {
  const terms = new Set<PositionTerm>(config.posAttType)
  if (p2pToggle) terms.add('p2p')
  return CONTENT_SCALE_TERMS + terms.size
}

/** 1 / sqrt(D · scale_factor): HF `scaled_size_sqrt(query_layer, scale_factor)`. */
export function scoreScale(config: DebertaConfig, p2pToggle = false): number {
  return 1 / Math.sqrt(config.attentionHeadSize * scaleFactor(config, p2pToggle))
}

/** Whether a forward needs the absolute position table (and is limited to max_position_embeddings). */
export function usesAbsolutePositions(config: DebertaConfig, emd: boolean): boolean {
  return config.positionBiasedInput || emd
}

// ---------------------------------------------------------------------------------------------
// Parsing

type Json = Record<string, unknown>

function invalid(field: string, reason: string, value?: unknown): LabError {
  const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`
  return new LabError('CONFIG_INVALID', `config field ${field}: ${reason}${got}`, { field, reason, value })
}

function readInt(json: Json, field: string, fallback: number, opts: { min?: number } = {}): number {
  const value = json[field]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(field, 'must be an integer', value)
  if (opts.min !== undefined && value < opts.min) throw invalid(field, `must be ≥ ${opts.min}`, value)
  return value
}

function readNumber(json: Json, field: string, fallback: number): number {
  const value = json[field]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a finite number', value)
  return value
}

function readBool(json: Json, field: string, fallback: boolean): boolean {
  const value = json[field]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false', value)
  return value
}

function readActivation(json: Json, field: string, fallback: Activation): Activation {
  const value = json[field]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'string') throw invalid(field, 'must be an activation name', value)
  if (!(ACTIVATIONS as readonly string[]).includes(value)) {
    throw new LabError('CONFIG_UNSUPPORTED', `config field ${field}: activation "${value}" is not supported (supported: ${ACTIVATIONS.join(', ')})`, {
      field,
      value,
    })
  }
  return value as Activation
}

/** pos_att_type as a list (["p2c", "c2p"]) or a "|"-separated string ("c2p|p2c"); "none" and "" mean no terms. */
function readPosAttType(json: Json): PositionTerm[] {
  const value = json.pos_att_type
  if (value === undefined || value === null) return []
  let items: unknown[]
  if (typeof value === 'string') items = value.toLowerCase().split('|')
  else if (Array.isArray(value)) items = value
  else throw invalid('pos_att_type', 'must be a list or a "|"-separated string', value)
  const out: PositionTerm[] = []
  for (const item of items) {
    if (typeof item !== 'string') throw invalid('pos_att_type', 'entries must be strings', value)
    const term = item.trim().toLowerCase()
    if (term === '' || term === 'none') continue
    if (!(POSITION_TERMS as readonly string[]).includes(term)) {
      throw invalid('pos_att_type', `"${term}" is not one of ${POSITION_TERMS.join(', ')}`, value)
    }
    if (!out.includes(term as PositionTerm)) out.push(term as PositionTerm)
  }
  return out
}

/** norm_rel_ebd: "layer_norm", "none", or a "|" list (HF splits on "|" and looks for "layer_norm"). */
function readNormRelEmbedding(json: Json): 'layer_norm' | 'none' {
  const value = json.norm_rel_ebd
  if (value === undefined || value === null) return 'none'
  if (typeof value !== 'string') throw invalid('norm_rel_ebd', 'must be a string', value)
  const parts = value.toLowerCase().split('|').map((s) => s.trim())
  for (const p of parts) {
    if (p !== 'layer_norm' && p !== 'none' && p !== '') throw invalid('norm_rel_ebd', `"${p}" is not "layer_norm" or "none"`, value)
  }
  return parts.includes('layer_norm') ? 'layer_norm' : 'none'
}

/**
 * Parses a HF config.json object (already JSON.parse'd). Throws CONFIG_INVALID naming the field for wrong
 * types, CONFIG_UNSUPPORTED for unknown model types and features this implementation does not have.
 */
export function parseHfConfig(raw: unknown): DebertaConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LabError('CONFIG_INVALID', 'config.json must contain a JSON object', { field: '(root)' })
  }
  const json = raw as Json
  const modelType = json.model_type
  if (typeof modelType !== 'string') {
    throw invalid('model_type', 'is missing or not a string', modelType)
  }
  if (modelType !== 'deberta' && modelType !== 'deberta-v2' && modelType !== 'bert') {
    throw new LabError('CONFIG_UNSUPPORTED', `model_type "${modelType}" is not supported (supported: deberta, deberta-v2, bert)`, {
      field: 'model_type',
      value: modelType,
    })
  }
  if (readBool(json, 'talking_head', false)) {
    throw new LabError('CONFIG_UNSUPPORTED', 'talking_head attention is not supported', { field: 'talking_head' })
  }
  const d = modelType === 'deberta-v2' ? HF_DEBERTA_V2_DEFAULTS : modelType === 'deberta' ? HF_DEBERTA_V1_DEFAULTS : HF_BERT_DEFAULTS

  const hiddenSize = readInt(json, 'hidden_size', d.hidden_size, { min: 1 })
  const heads = readInt(json, 'num_attention_heads', d.num_attention_heads, { min: 1 })
  const maxPositions = readInt(json, 'max_position_embeddings', d.max_position_embeddings, { min: 1 })
  const hiddenAct = readActivation(json, 'hidden_act', d.hidden_act)

  if (modelType === 'bert') {
    const positionType = json.position_embedding_type
    if (positionType !== undefined && positionType !== null && positionType !== 'absolute') {
      throw new LabError('CONFIG_UNSUPPORTED', `position_embedding_type "${String(positionType)}" is not supported (only "absolute")`, {
        field: 'position_embedding_type',
      })
    }
    const config: BertConfig = {
      ...bertBaselineConfig(DEBERTA_V3_BASE),
      vocabSize: readInt(json, 'vocab_size', d.vocab_size, { min: 1 }),
      hiddenSize,
      numHiddenLayers: readInt(json, 'num_hidden_layers', d.num_hidden_layers, { min: 1 }),
      numAttentionHeads: heads,
      attentionHeadSize: Math.floor(hiddenSize / heads),
      intermediateSize: readInt(json, 'intermediate_size', d.intermediate_size, { min: 1 }),
      hiddenAct,
      maxPositionEmbeddings: maxPositions,
      maxRelativePositions: maxPositions,
      typeVocabSize: readInt(json, 'type_vocab_size', d.type_vocab_size, { min: 0 }),
      layerNormEps: readNumber(json, 'layer_norm_eps', d.layer_norm_eps),
      padTokenId: readInt(json, 'pad_token_id', d.pad_token_id),
      embeddingSize: hiddenSize,
    }
    validateConfig(config)
    return config
  }

  const dd = d as typeof HF_DEBERTA_V2_DEFAULTS
  const isV2 = modelType === 'deberta-v2'
  const rawMaxRel = readInt(json, 'max_relative_positions', dd.max_relative_positions)
  // HF: `if self.max_relative_positions < 1: self.max_relative_positions = config.max_position_embeddings`
  const maxRelativePositions = rawMaxRel < 1 ? maxPositions : rawMaxRel
  const rawBuckets = isV2 ? readInt(json, 'position_buckets', dd.position_buckets) : -1
  const headSize = isV2 ? readInt(json, 'attention_head_size', Math.floor(hiddenSize / heads), { min: 1 }) : Math.floor(hiddenSize / heads)
  const maskTokenId = json.mask_token_id === undefined || json.mask_token_id === null ? undefined : readInt(json, 'mask_token_id', 0, { min: 0 })

  const config: DebertaConfig = {
    modelType,
    vocabSize: readInt(json, 'vocab_size', dd.vocab_size, { min: 1 }),
    hiddenSize,
    numHiddenLayers: readInt(json, 'num_hidden_layers', dd.num_hidden_layers, { min: 1 }),
    numAttentionHeads: heads,
    attentionHeadSize: headSize,
    intermediateSize: readInt(json, 'intermediate_size', dd.intermediate_size, { min: 1 }),
    hiddenAct,
    maxPositionEmbeddings: maxPositions,
    typeVocabSize: readInt(json, 'type_vocab_size', dd.type_vocab_size, { min: 0 }),
    layerNormEps: readNumber(json, 'layer_norm_eps', dd.layer_norm_eps),
    padTokenId: readInt(json, 'pad_token_id', dd.pad_token_id),
    embeddingSize: readInt(json, 'embedding_size', hiddenSize, { min: 1 }),
    positionBiasedInput: readBool(json, 'position_biased_input', dd.position_biased_input),
    relativeAttention: readBool(json, 'relative_attention', dd.relative_attention),
    maxRelativePositions,
    // HF: position_buckets ≤ 0 means "no buckets"
    positionBuckets: rawBuckets > 0 ? rawBuckets : 0,
    posAttType: readPosAttType(json),
    shareAttKey: isV2 ? readBool(json, 'share_att_key', dd.share_att_key) : false,
    normRelEmbedding: isV2 ? readNormRelEmbedding(json) : 'none',
    convKernelSize: isV2 ? readInt(json, 'conv_kernel_size', dd.conv_kernel_size, { min: 0 }) : 0,
    convGroups: isV2 ? readInt(json, 'conv_groups', DEFAULT_CONV_GROUPS, { min: 1 }) : DEFAULT_CONV_GROUPS,
    convAct: isV2 ? readActivation(json, 'conv_act', DEFAULT_CONV_ACT) : DEFAULT_CONV_ACT,
  }
  if (maskTokenId !== undefined) config.maskTokenId = maskTokenId
  validateConfig(config)
  return config
}

/** Parses config.json text; unparsable JSON → CONFIG_INVALID. */
export function parseHfConfigText(text: string, source = 'config.json'): DebertaConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new LabError('CONFIG_INVALID', `${source} is not valid JSON: ${(error as Error).message}`, { field: '(root)', source })
  }
  return parseHfConfig(raw)
}

/** The HF config.json object for a config (inverse of parseHfConfig, for synthetic folders and tests). */
export function toHfConfig(config: DebertaConfig): Record<string, unknown> {
  const base: Record<string, unknown> = {
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: config.hiddenAct,
    max_position_embeddings: config.maxPositionEmbeddings,
    type_vocab_size: config.typeVocabSize,
    layer_norm_eps: config.layerNormEps,
    pad_token_id: config.padTokenId,
  }
  if (config.modelType === 'bert') return base
  Object.assign(base, {
    embedding_size: config.embeddingSize,
    position_biased_input: config.positionBiasedInput,
    relative_attention: config.relativeAttention,
    max_relative_positions: config.maxRelativePositions,
    pos_att_type: [...config.posAttType],
  })
  if (config.modelType === 'deberta-v2') {
    Object.assign(base, {
      position_buckets: config.positionBuckets > 0 ? config.positionBuckets : -1,
      share_att_key: config.shareAttKey,
      norm_rel_ebd: config.normRelEmbedding,
      attention_head_size: config.attentionHeadSize,
    })
    if (config.convKernelSize > 0) {
      Object.assign(base, { conv_kernel_size: config.convKernelSize, conv_groups: config.convGroups, conv_act: config.convAct })
    }
  }
  if (config.maskTokenId !== undefined) base.mask_token_id = config.maskTokenId
  return base
}

// ---------------------------------------------------------------------------------------------
// Validation

function positive(config: DebertaConfig, field: keyof DebertaConfig, hfName: string): void {
  const value = config[field]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new LabError('CONFIG_INVALID', `${hfName} must be a positive integer (got ${String(value)})`, { field: hfName, value })
  }
}

/** Checks the invariants the model code relies on; throws CONFIG_INVALID naming the field and the reason. */
export function validateConfig(config: DebertaConfig): void {
  positive(config, 'vocabSize', 'vocab_size')
  positive(config, 'hiddenSize', 'hidden_size')
  positive(config, 'numHiddenLayers', 'num_hidden_layers')
  positive(config, 'numAttentionHeads', 'num_attention_heads')
  positive(config, 'intermediateSize', 'intermediate_size')
  positive(config, 'maxPositionEmbeddings', 'max_position_embeddings')
  positive(config, 'embeddingSize', 'embedding_size')
  positive(config, 'attentionHeadSize', 'attention_head_size')
  const { hiddenSize: h, numAttentionHeads: nh } = config
  if (h % nh !== 0) {
    throw new LabError('CONFIG_INVALID', `hidden size ${h} is not a multiple of ${nh} heads`, {
      field: 'hidden_size',
      reason: 'not a multiple of num_attention_heads',
      hiddenSize: h,
      numAttentionHeads: nh,
    })
  }
  if (!(config.layerNormEps > 0) || !Number.isFinite(config.layerNormEps)) {
    throw new LabError('CONFIG_INVALID', `layer_norm_eps must be a positive number (got ${config.layerNormEps})`, { field: 'layer_norm_eps' })
  }
  if (!Number.isInteger(config.typeVocabSize) || config.typeVocabSize < 0) {
    throw new LabError('CONFIG_INVALID', `type_vocab_size must be ≥ 0 (got ${config.typeVocabSize})`, { field: 'type_vocab_size' })
  }
  if (!(ACTIVATIONS as readonly string[]).includes(config.hiddenAct)) {
    throw new LabError('CONFIG_UNSUPPORTED', `hidden_act "${config.hiddenAct}" is not supported`, { field: 'hidden_act' })
  }
  if (config.relativeAttention) {
    positive(config, 'maxRelativePositions', 'max_relative_positions')
    if (config.positionBuckets > 0) {
      if (config.modelType !== 'deberta-v2') {
        throw new LabError('CONFIG_INVALID', 'position_buckets is a deberta-v2 feature', { field: 'position_buckets' })
      }
      const mid = Math.floor(config.positionBuckets / 2)
      if (mid < 1) {
        throw new LabError('CONFIG_INVALID', `position_buckets ${config.positionBuckets} must be ≥ 2`, { field: 'position_buckets' })
      }
      // make_log_bucket_position divides by log((max_position − 1) / mid): it must be > 0
      if (config.maxRelativePositions - 1 <= mid) {
        throw new LabError(
          'CONFIG_INVALID',
          `max_relative_positions ${config.maxRelativePositions} must exceed position_buckets/2 + 1 = ${mid + 1} for log buckets`,
          { field: 'max_relative_positions' },
        )
      }
    }
  }
  for (const term of config.posAttType) {
    if (!(POSITION_TERMS as readonly string[]).includes(term)) {
      throw new LabError('CONFIG_INVALID', `pos_att_type entry "${term}" is not one of ${POSITION_TERMS.join(', ')}`, { field: 'pos_att_type' })
    }
  }
  if (config.convKernelSize > 0) {
    if (config.convKernelSize % 2 !== 1) {
      // HF pads (k − 1) // 2 on both sides: only odd kernels keep the length
      throw new LabError('CONFIG_UNSUPPORTED', `conv_kernel_size ${config.convKernelSize} must be odd`, { field: 'conv_kernel_size' })
    }
    if (h % config.convGroups !== 0) {
      throw new LabError('CONFIG_INVALID', `hidden size ${h} is not a multiple of conv_groups ${config.convGroups}`, { field: 'conv_groups' })
    }
    if (!(ACTIVATIONS as readonly string[]).includes(config.convAct)) {
      throw new LabError('CONFIG_UNSUPPORTED', `conv_act "${config.convAct}" is not supported`, { field: 'conv_act' })
    }
  }
  if (config.padTokenId < 0 || config.padTokenId >= config.vocabSize) {
    // HF nn.Embedding(padding_idx=...) requires a valid row
    throw new LabError('CONFIG_INVALID', `pad_token_id ${config.padTokenId} is outside the vocabulary [0, ${config.vocabSize})`, {
      field: 'pad_token_id',
    })
  }
}

/** A short readable summary, e.g. for CLI output. */
export function describeConfig(config: DebertaConfig): string {
  const rel = config.relativeAttention
    ? `relative ${config.positionBuckets > 0 ? `${config.positionBuckets} buckets/k=${config.maxRelativePositions}` : `k=${config.maxRelativePositions}`} [${config.posAttType.join(',')}]`
    : 'absolute positions'
  return `${config.modelType} L=${config.numHiddenLayers} H=${config.hiddenSize} NH=${config.numAttentionHeads} FFN=${config.intermediateSize} V=${config.vocabSize} ${rel}`
}
