// Seeded, deterministic random models (DeBERTa v3-style, v1-style, BERT) of any size, without files.
// The weights are served by an in-memory TensorSource under the canonical checkpoint names, so a synthetic
// model is built by exactly the code that loads real checkpoints (src/core/names.ts). Each tensor is drawn
// from its own PRNG stream seeded by (seed, key): same seed → identical weights, independent of read order.
// PRNG: mulberry32 (32-bit state) + Box-Muller normals.
import type { SyntheticModelRef } from '../common/api'
import { LabError } from '../common/errors'
import type { TensorEntry, TensorSource } from './checkpoint/types'
import {
  bertBaselineConfig,
  DEBERTA_LAYER_NORM_EPS,
  DEBERTA_V1_BASE,
  DEBERTA_V3_BASE,
  SYNTHETIC_INIT,
  validateConfig,
  type DebertaConfig,
} from './config'
import { DebertaModel } from './model'
import type { AttentionStrategy } from './strategy'
import { buildWeights, canonicalLayout, tensorSpecs, type TensorSpec } from './names'

/** mulberry32: a small, fast 32-bit PRNG; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fills `out` with N(mean, std²) draws (Box-Muller on a mulberry32 stream). */
export function fillNormal(out: Float32Array, random: () => number, mean = 0, std = 1): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - random() // (0, 1]
    const u2 = random()
    const r = Math.sqrt(-2 * Math.log(u1))
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2)
    if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2)
  }
  return out
}

/**
 * fillNormal(out, mulberry32(seed), mean, std) with the generator inlined (≈ 3× faster; the synthetic
 * word embeddings of a 128k vocabulary are ~10⁸ draws). Produces exactly the same numbers.
 */
export function fillNormalSeeded(out: Float32Array, seed: number, mean = 0, std = 1): Float32Array {
  let a = seed >>> 0
  const twoPi = 2 * Math.PI
  for (let i = 0; i < out.length; i += 2) {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const u1 = 1 - ((t ^ (t >>> 14)) >>> 0) / 4294967296
    a = (a + 0x6d2b79f5) >>> 0
    t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const u2 = ((t ^ (t >>> 14)) >>> 0) / 4294967296
    const r = std * Math.sqrt(-2 * Math.log(u1))
    const angle = twoPi * u2
    out[i] = mean + r * Math.cos(angle)
    if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(angle)
  }
  return out
}

/** FNV-1a of the key mixed with the seed: one independent stream per tensor. */
export function streamSeed(seed: number, key: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0
}

function drawTensor(spec: TensorSpec, seed: number): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(size)
  const stream = streamSeed(seed, spec.key)
  switch (spec.role) {
    case 'embedding':
      return fillNormalSeeded(out, stream, 0, SYNTHETIC_INIT.embeddingGain / Math.sqrt(spec.shape[1]))
    case 'weight': {
      const fanIn = spec.shape.slice(1).reduce((a, b) => a * b, 1)
      return fillNormalSeeded(out, stream, 0, SYNTHETIC_INIT.weightGain / Math.sqrt(fanIn))
    }
    case 'relative':
      return fillNormalSeeded(out, stream, 0, SYNTHETIC_INIT.relativeStd)
    case 'bias':
      return fillNormalSeeded(out, stream, 0, SYNTHETIC_INIT.biasStd)
    case 'norm-weight':
      return fillNormalSeeded(out, stream, 1, SYNTHETIC_INIT.normWeightStd)
    case 'norm-bias':
      return fillNormalSeeded(out, stream, 0, SYNTHETIC_INIT.normBiasStd)
  }
}

export interface SyntheticOptions {
  seed: number
  /** include the MLM head (default true) */
  withHead?: boolean
  /** include absolute position embeddings for relative-only models (EMD; default true) */
  withPositionEmbeddings?: boolean
  /** attention form (default: the backend's, src/core/strategy.ts) */
  strategy?: AttentionStrategy
}

/** An in-memory TensorSource with seeded weights under the canonical names (lazy: drawn on read). */
export function syntheticTensorSource(config: DebertaConfig, options: SyntheticOptions): TensorSource {
  validateConfig(config)
  const specs = tensorSpecs(config, canonicalLayout(config, options.withHead ?? true)).filter(
    (s) => s.required || options.withPositionEmbeddings !== false,
  )
  const byKey = new Map(specs.map((s) => [s.key, s]))
  const path = `synthetic:${config.modelType}:seed=${options.seed}`
  const spec = (name: string): TensorSpec => {
    const s = byKey.get(name)
    if (!s) throw new LabError('CHECKPOINT_MISSING_KEY', `tensor "${name}" is not in ${path}`, { key: name })
    return s
  }
  return {
    format: 'safetensors',
    path,
    entries: (): TensorEntry[] => specs.map((s) => ({ name: s.key, dtype: 'F32', shape: [...s.shape] })),
    has: (name) => byKey.has(name),
    readFloat32: (name) => drawTensor(spec(name), options.seed),
    readInt32: (name) => {
      spec(name)
      throw new LabError('CHECKPOINT_DTYPE', `tensor "${name}" is F32, not an integer tensor`, { key: name })
    },
    close: () => undefined,
  }
}

/** A seeded random model of any config (same seed → identical weights). */
/** Largest synthetic model created: float32 weights beyond this do not fit the wasm heap with room to run. */
export const MAX_SYNTHETIC_WEIGHT_BYTES = 2 * 1024 ** 3

/** Parameters of a model with this config (embeddings, per-layer attention and FFN, relative tables), roughly. */
export function estimateParameters(c: DebertaConfig): number {
  const H = c.hiddenSize
  const I = c.intermediateSize
  const E = c.embeddingSize || H
  const relRows = c.relativeAttention ? 2 * (c.positionBuckets > 0 ? c.positionBuckets : c.maxRelativePositions) : 0
  return c.vocabSize * E + c.maxPositionEmbeddings * E + (E !== H ? E * H : 0) + c.numHiddenLayers * (4 * H * H + 2 * H * I + 9 * H + I) + relRows * H
}

export function createSyntheticModel(config: DebertaConfig, options: SyntheticOptions): DebertaModel {
  const parameters = estimateParameters(config)
  if (parameters * 4 > MAX_SYNTHETIC_WEIGHT_BYTES) {
    throw new LabError(
      'CONFIG_INVALID',
      `this synthetic model would have about ${(parameters / 1e6).toFixed(0)}M parameters (${((parameters * 4) / 1024 ** 3).toFixed(1)} GiB of float32 weights); ` +
        `synthetic models are limited to ${MAX_SYNTHETIC_WEIGHT_BYTES / 1024 ** 3} GiB: use fewer layers or a smaller hidden, intermediate or vocabulary size`,
      { parameters },
    )
  }
  const source = syntheticTensorSource(config, options)
  const built = buildWeights(source, config)
  return new DebertaModel({
    config,
    weights: built.weights,
    parameterCount: built.parameterCount,
    hasMlmHead: built.hasMlmHead,
    hasPositionEmbeddings: built.hasPositionEmbeddings,
    source: { kind: 'synthetic', seed: options.seed },
    strategy: options.strategy,
  })
}

/** Size of a synthetic model's vocabulary when the caller does not say (the fixture tokenizer's 1001 ids, rounded). */
export const SYNTHETIC_DEFAULT_VOCAB = 1008

/**
 * The config of a SyntheticModelRef (src/common/api.ts): v3-style (log buckets, shared keys, rel LayerNorm),
 * v1-style (plain clipped distances, pos_proj / pos_q_proj) or the BERT baseline.
 */
export function syntheticConfig(ref: Omit<SyntheticModelRef, 'kind' | 'seed'>, vocabSize = SYNTHETIC_DEFAULT_VOCAB): DebertaConfig {
  const maxRel = ref.maxRelativePositions < 1 ? ref.maxPositions : ref.maxRelativePositions
  const base = ref.arch === 'deberta-v1' ? DEBERTA_V1_BASE : DEBERTA_V3_BASE
  const config: DebertaConfig = {
    ...base,
    vocabSize,
    hiddenSize: ref.hidden,
    numHiddenLayers: ref.layers,
    numAttentionHeads: ref.heads,
    attentionHeadSize: Math.floor(ref.hidden / ref.heads),
    intermediateSize: ref.intermediate,
    embeddingSize: ref.hidden,
    maxPositionEmbeddings: ref.maxPositions,
    maxRelativePositions: maxRel,
    positionBuckets: ref.arch === 'deberta-v3' ? ref.positionBuckets : 0,
    layerNormEps: DEBERTA_LAYER_NORM_EPS,
    posAttType: [...base.posAttType],
  }
  const out = ref.arch === 'bert' ? bertBaselineConfig(config) : config
  if (ref.arch === 'deberta-v3' && ref.positionBuckets > 0 && maxRel - 1 <= Math.floor(ref.positionBuckets / 2)) {
    // the same rule validateConfig enforces, said in the synthetic settings' own terms
    const k = ref.maxRelativePositions < 1 ? `k = max positions = ${maxRel}` : `k = ${maxRel}`
    throw new LabError(
      'CONFIG_INVALID',
      `${k} is too small for ${ref.positionBuckets} log buckets (it must exceed buckets/2 + 1 = ${Math.floor(ref.positionBuckets / 2) + 1}): raise k or max positions, or use fewer buckets`,
    )
  }
  validateConfig(out)
  return out
}

/** The model of a SyntheticModelRef. */
export function createSyntheticModelFromRef(ref: SyntheticModelRef, vocabSize = SYNTHETIC_DEFAULT_VOCAB): DebertaModel {
  return createSyntheticModel(syntheticConfig(ref, vocabSize), { seed: ref.seed })
}
