// Models in the worker: loaded (or synthesised) once per reference and kept while they are used.
// A synthetic model uses the tokenizer shipped in resources/tokenizer-spm (1001 ids, [MASK] = 1000); a bundled
// model is a checkpoint folder in resources/<name> (loaded like any checkpoint, referred to by name).
import { createHash } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ModelInfo, ModelRef } from '../common/api'
import { ATTENTION_TERMS } from '../common/api'
import { LabError } from '../common/errors'
import { resolveModelFiles, loadPretrained } from '../core/load'
import type { DebertaModel } from '../core/model'
import { splitIfRequested } from '../core/split'
import { createSyntheticModel, syntheticConfig } from '../core/synthetic'
import { loadTokenizer, type Tokenizer } from '../core/tokenizer'
import { snapshotLabel } from './hub/cache-layout'
import type { LoadedLabModel } from './jobs'

/** How many models stay loaded; the least recently used one is disposed beyond that. */
const CACHE_SIZE = 3

/** Human-readable names of the bundled models. */
const BUNDLED_LABELS: Record<Extract<ModelRef, { kind: 'bundled' }>['name'], string> = {
  'toy-deberta': 'toy DeBERTa (trained on the generated language)',
}

export function modelKey(ref: ModelRef): string {
  if (ref.kind === 'bundled') return `bundled:${ref.name}`
  if (ref.kind === 'checkpoint') return `checkpoint:${resolve(ref.path)}:${ref.variant ?? 'discriminator'}`
  const { arch, layers, hidden, heads, intermediate, positionBuckets, maxRelativePositions, maxPositions, seed } = ref
  return `synthetic:${JSON.stringify([arch, layers, hidden, heads, intermediate, positionBuckets, maxRelativePositions, maxPositions, seed])}`
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const hash = createHash('sha256')
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolveHash(hash.digest('hex')))
  })
}

function describe(ref: ModelRef, key: string, model: DebertaModel, tokenizer: Tokenizer, weightsSha256?: string): ModelInfo {
  const config = model.config
  const label =
    ref.kind === 'bundled'
      ? BUNDLED_LABELS[ref.name]
      : ref.kind === 'checkpoint'
      ? `${snapshotLabel(ref.path) ?? ref.path.split(/[\\/]/).filter(Boolean).pop() ?? ref.path}${ref.variant === 'generator' ? ' (generator)' : ''}`
      : `synthetic ${ref.arch} L${ref.layers} H${ref.hidden} (seed ${ref.seed})`
  const maskToken = tokenizer.special.mask === undefined ? undefined : tokenizer.idToToken(tokenizer.special.mask)
  return {
    key,
    label,
    ref,
    modelType: config.modelType,
    layers: config.numHiddenLayers,
    hidden: config.hiddenSize,
    heads: config.numAttentionHeads,
    headDim: config.attentionHeadSize,
    intermediate: config.intermediateSize,
    vocabSize: config.vocabSize,
    maxPositions: config.maxPositionEmbeddings,
    positionBuckets: config.positionBuckets,
    maxRelativePositions: config.maxRelativePositions,
    posAttType: config.relativeAttention ? ATTENTION_TERMS.filter((t) => t === 'c2c' || config.posAttType.includes(t as never)) : ['c2c'],
    shareAttKey: config.shareAttKey,
    positionBiasedInput: config.positionBiasedInput,
    parameterCount: model.info.parameterCount,
    hasMlmHead: model.hasMlmHead,
    tokenizerKind: tokenizer.kind,
    maskToken,
    weightsSha256,
    ...(model.info.warnings.length > 0 ? { warnings: [...model.info.warnings] } : {}),
  }
}

/** Plain forwards split over two threads where that helps (src/core/split.ts); why not, when worth saying, is a warning. */
async function withSplit(model: DebertaModel): Promise<void> {
  const note = await splitIfRequested(model)
  if (note) model.info.warnings.push(note)
}

export class ModelCache {
  private readonly entries = new Map<string, Promise<LoadedLabModel>>()
  private defaultTokenizer?: Promise<Tokenizer>

  constructor(private readonly resourcesDir: string) {}

  /** checkCancelled is polled between the tensors of a checkpoint load (the job's cancel flag). */
  get(ref: ModelRef, checkCancelled?: () => void): Promise<LoadedLabModel> {
    const key = modelKey(ref)
    let entry = this.entries.get(key)
    if (entry && ref.kind === 'checkpoint') {
      // A checkpoint folder may have changed on disk since it was loaded: reload when the weights did (the
      // stale model is disposed; jobs run one at a time, so nothing else is using it).
      entry = entry.then((loaded) => {
        if (!this.isStale(loaded, ref)) return loaded
        loaded.model.dispose()
        return this.load(key, ref, checkCancelled)
      })
    }
    if (!entry) entry = this.load(key, ref, checkCancelled)
    this.entries.delete(key)
    this.entries.set(key, entry)
    entry.catch(() => this.entries.delete(key))
    this.evict()
    return entry
  }

  private mtimes = new Map<string, number>()

  private isStale(loaded: LoadedLabModel, ref: Extract<ModelRef, { kind: 'checkpoint' }>): boolean {
    try {
      const files = resolveModelFiles(ref.path, ref.variant ?? 'discriminator')
      return statSync(files.weightsPath).mtimeMs !== this.mtimes.get(loaded.info.key)
    } catch {
      return true
    }
  }

  private async load(key: string, ref: ModelRef, checkCancelled?: () => void): Promise<LoadedLabModel> {
    if (ref.kind === 'synthetic') {
      const tokenizer = await this.syntheticTokenizer()
      const config = { ...syntheticConfig(ref), maskTokenId: tokenizer.special.mask }
      const model = createSyntheticModel(config, { seed: ref.seed })
      await withSplit(model)
      return { info: describe(ref, key, model, tokenizer), model, tokenizer }
    }
    const folder = ref.kind === 'bundled' ? join(this.resourcesDir, ref.name) : ref.path
    const variant = ref.kind === 'checkpoint' ? ref.variant : undefined
    const files = resolveModelFiles(folder, variant ?? 'discriminator')
    const tokenizer = await loadTokenizer(folder)
    checkCancelled?.()
    const model = await loadPretrained(folder, { variant, checkCancelled })
    if (tokenizer.vocabSize > model.config.vocabSize) {
      model.dispose()
      throw new LabError(
        'TOKEN_OUT_OF_RANGE',
        `the tokenizer produces ${tokenizer.vocabSize} ids but the model has only ${model.config.vocabSize} embeddings: the tokenizer files come from another model`,
      )
    }
    this.mtimes.set(key, statSync(files.weightsPath).mtimeMs)
    const sha = await sha256File(files.weightsPath)
    await withSplit(model)
    return { info: describe(ref, key, model, tokenizer, sha), model, tokenizer }
  }

  private syntheticTokenizer(): Promise<Tokenizer> {
    this.defaultTokenizer ??= loadTokenizer(resolve(this.resourcesDir, 'tokenizer-spm'))
    return this.defaultTokenizer
  }

  private evict(): void {
    while (this.entries.size > CACHE_SIZE) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Promise<LoadedLabModel>]
      this.entries.delete(oldestKey)
      void oldest.then((loaded) => loaded.model.dispose(), () => undefined)
    }
  }
}
