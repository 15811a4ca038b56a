// Loading a Hugging Face-style model folder: config.json + model.safetensors (preferred) or pytorch_model.bin;
// the generator variant reads generator_config.json + pytorch_model.generator.bin (or model.generator.safetensors).
import * as nodePath from 'node:path'
import { LabError } from '../common/errors'
import { openTensorFile, type CheckpointLimits } from './checkpoint'
import { resolveModelFolder, type ModelFolder, type ModelVariant } from './checkpoint/folder'
import type { TensorSource } from './checkpoint/types'
import { parseHfConfigText, type DebertaConfig } from './config'
import { fileLimits, readRegularTextFile } from './files'
import { DebertaModel } from './model'
import { buildWeights } from './names'
import type { AttentionStrategy } from './strategy'

export type { ModelVariant } from './checkpoint/folder'
export type ModelFiles = ModelFolder

export interface LoadOptions {
  variant?: ModelVariant
  /** caps on what the load may allocate (default DEFAULT_CHECKPOINT_LIMITS: 8 GiB of float32) */
  limits?: Partial<CheckpointLimits>
  /** called between tensors; throw from it (a CANCELLED LabError) to stop the load */
  checkCancelled?: () => void
  /** how attention is computed (default: the backend's, src/core/strategy.ts) */
  strategy?: AttentionStrategy
}

/** Finds the config and weights files of a folder (one implementation: checkpoint/folder.ts). */
export const resolveModelFiles = resolveModelFolder

/** Reads and parses a config.json (CONFIG_INVALID names the field for wrong types or bad JSON). */
export function readConfigFile(path: string): DebertaConfig {
  const text = readRegularTextFile(path, { maxBytes: fileLimits().config, what: nodePath.basename(path), missingCode: 'CHECKPOINT_NOT_FOUND', invalidCode: 'CONFIG_INVALID' })
  try {
    return parseHfConfigText(text, nodePath.basename(path))
  } catch (error) {
    if (error instanceof LabError && (error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_UNSUPPORTED')) {
      throw new LabError(error.code, `${path}: ${error.message}`, { ...error.details, path })
    }
    throw error
  }
}

/** Builds a model from a config and an open tensor source (the source stays open; the caller closes it). */
export function modelFromSource(config: DebertaConfig, source: TensorSource, options: Pick<LoadOptions, 'checkCancelled' | 'strategy'> = {}): DebertaModel {
  const built = buildWeights(source, config, options)
  return new DebertaModel({
    config,
    weights: built.weights,
    parameterCount: built.parameterCount,
    hasMlmHead: built.hasMlmHead,
    hasPositionEmbeddings: built.hasPositionEmbeddings,
    source: { kind: 'checkpoint', path: source.path, format: source.format },
    warnings: built.warnings,
    ...(options.strategy ? { strategy: options.strategy } : {}),
  })
}

/** Loads a model folder. The weights file is read one tensor at a time and closed afterwards. */
export async function loadPretrained(dir: string, options: LoadOptions = {}): Promise<DebertaModel> {
  const files = resolveModelFiles(dir, options.variant ?? 'discriminator')
  const config = readConfigFile(files.configPath)
  const maskTokenId = config.maskTokenId ?? findMaskTokenId(dir)
  options.checkCancelled?.()
  const source = openTensorFile(files.weightsPath, options.limits)
  try {
    return modelFromSource(maskTokenId === undefined ? config : { ...config, maskTokenId }, source, options)
  } finally {
    source.close()
  }
}

/** A tokenizer file parsed as JSON, or undefined when it is missing, not a regular file, too large or not JSON. */
function readJson(path: string, maxBytes: number): unknown {
  try {
    return JSON.parse(readRegularTextFile(path, { maxBytes, what: nodePath.basename(path) }))
  } catch {
    return undefined
  }
}

const MASK_TOKENS = ['[MASK]', '<mask>']

/**
 * The [MASK] id from the tokenizer files of a folder, when they name it: added_tokens.json,
 * tokenizer.json (added_tokens), tokenizer_config.json (added_tokens_decoder). undefined otherwise.
 */
export function findMaskTokenId(dir: string): number | undefined {
  const added = readJson(nodePath.join(dir, 'added_tokens.json'), fileLimits().tokenizerSideFile)
  if (added && typeof added === 'object') {
    for (const token of MASK_TOKENS) {
      const id = (added as Record<string, unknown>)[token]
      if (typeof id === 'number' && Number.isInteger(id)) return id
    }
  }
  const tokenizer = readJson(nodePath.join(dir, 'tokenizer.json'), fileLimits().tokenizerJson) as { added_tokens?: Array<{ id?: unknown; content?: unknown }> } | undefined
  for (const t of tokenizer?.added_tokens ?? []) {
    if (typeof t.content === 'string' && MASK_TOKENS.includes(t.content) && typeof t.id === 'number') return t.id
  }
  const tokConfig = readJson(nodePath.join(dir, 'tokenizer_config.json'), fileLimits().tokenizerSideFile) as { added_tokens_decoder?: Record<string, { content?: unknown }> } | undefined
  for (const [id, t] of Object.entries(tokConfig?.added_tokens_decoder ?? {})) {
    if (typeof t?.content === 'string' && MASK_TOKENS.includes(t.content) && /^\d+$/.test(id)) return Number(id)
  }
  return undefined
}
