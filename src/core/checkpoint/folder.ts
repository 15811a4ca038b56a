// Model folder layout (Hugging Face style): which config, weights and tokenizer files to use.
//   discriminator (default): config.json + model.safetensors | pytorch_model.bin
//   generator (microsoft/deberta-v3-*): generator_config.json + model.generator.safetensors | pytorch_model.generator.bin
import * as fs from 'node:fs'
import * as path from 'node:path'
import { LabError } from '../../common/errors'
import { findTokenizerFiles, type TokenizerFiles } from '../tokenizer'

export type { TokenizerFiles } from '../tokenizer'
export type ModelVariant = 'discriminator' | 'generator'

export interface ModelFolder {
  dir: string
  variant: ModelVariant
  configPath: string
  weightsPath: string
  weightsFormat: 'safetensors' | 'pytorch'
  /** undefined when the folder holds no complete tokenizer */
  tokenizer: TokenizerFiles | undefined
}

const LAYOUT: Record<ModelVariant, { config: string[]; weights: Array<[string, 'safetensors' | 'pytorch']> }> = {
  discriminator: {
    config: ['config.json'],
    weights: [
      ['model.safetensors', 'safetensors'],
      ['pytorch_model.bin', 'pytorch'],
    ],
  },
  generator: {
    config: ['generator_config.json'],
    weights: [
      ['model.generator.safetensors', 'safetensors'],
      ['pytorch_model.generator.bin', 'pytorch'],
    ],
  },
}

/** Resolves the files of a model folder. Throws CHECKPOINT_NOT_FOUND naming what was looked for. */
export function resolveModelFolder(dir: string, variant: ModelVariant = 'discriminator'): ModelFolder {
  const layout = LAYOUT[variant]
  if (!layout) throw new LabError('INPUT_INVALID', `unknown model variant "${String(variant)}"`)
  let stat: fs.Stats
  try {
    stat = fs.statSync(dir)
  } catch {
    throw new LabError('CHECKPOINT_NOT_FOUND', `model folder not found: ${dir}`, { path: dir })
  }
  if (!stat.isDirectory()) throw new LabError('CHECKPOINT_NOT_FOUND', `${dir} is not a folder`, { path: dir })
  const abs = path.resolve(dir)
  const configName = layout.config.find((f) => isFile(path.join(abs, f)))
  const weights = layout.weights.find(([f]) => isFile(path.join(abs, f)))
  const missing: string[] = []
  if (!configName) missing.push(layout.config.join(' or '))
  if (!weights) missing.push(layout.weights.map(([f]) => f).join(' or '))
  if (missing.length > 0) {
    const sharded = ['model.safetensors.index.json', 'pytorch_model.bin.index.json'].filter((f) => isFile(path.join(abs, f)))
    const hint = !weights && sharded.length > 0 ? ` (found ${sharded.join(', ')}: sharded checkpoints are not supported)` : ''
    throw new LabError('CHECKPOINT_NOT_FOUND', `${variant} model files missing in ${abs}: looked for ${missing.join('; ')}${hint}`, {
      path: abs,
      lookedFor: missing,
    })
  }
  return {
    dir: abs,
    variant,
    configPath: path.join(abs, configName!),
    weightsPath: path.join(abs, weights![0]),
    weightsFormat: weights![1],
    tokenizer: findTokenizerFiles(abs),
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}
