// Checkpoint naming and self-checks: missing / extra / mis-shaped / integer keys, harmless extras, optional
// prefix, cls.predictions naming, checkpoints without MLM head or position table — all on in-memory sources.
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { StoredDType, TensorEntry, TensorSource } from '../../src/core/checkpoint/types'
import { DEBERTA_V3_TINY, type DebertaConfig } from '../../src/core/config'
import { modelFromSource } from '../../src/core/load'
import { HARMLESS_EXTRAS, buildWeights } from '../../src/core/names'
import { syntheticTensorSource } from '../../src/core/synthetic'
import { expectClose, expectLabError, useBackend } from './helpers'

const CONFIG: DebertaConfig = { ...DEBERTA_V3_TINY, vocabSize: 40, numHiddenLayers: 2, maxPositionEmbeddings: 32, maxRelativePositions: 32, positionBuckets: 8 }
const V1: DebertaConfig = { ...CONFIG, modelType: 'deberta', positionBuckets: 0, posAttType: ['c2p', 'p2c'], shareAttKey: false, normRelEmbedding: 'none', maxRelativePositions: 16 }

interface Mutation {
  drop?: (name: string) => boolean
  add?: Array<{ name: string; shape: number[]; dtype?: StoredDType }>
  reshape?: Record<string, number[]>
  retype?: Record<string, StoredDType>
  rename?: (name: string) => string
}

/** A source derived from another one in memory; counts reads per key. */
function mutated(base: TensorSource, m: Mutation): TensorSource & { reads: Map<string, number> } {
  const rename = m.rename ?? ((n: string) => n)
  const back = new Map<string, string>()
  const entries: TensorEntry[] = []
  for (const e of base.entries()) {
    if (m.drop?.(e.name)) continue
    const name = rename(e.name)
    back.set(name, e.name)
    entries.push({ name, dtype: m.retype?.[name] ?? e.dtype, shape: m.reshape?.[name] ?? e.shape })
  }
  for (const a of m.add ?? []) entries.push({ name: a.name, dtype: a.dtype ?? 'F32', shape: a.shape })
  const reads = new Map<string, number>()
  return {
    format: 'safetensors',
    path: 'memory',
    reads,
    entries: () => entries.map((e) => ({ ...e, shape: [...e.shape] })),
    has: (name) => entries.some((e) => e.name === name),
    readFloat32: (name) => {
      reads.set(name, (reads.get(name) ?? 0) + 1)
      const entry = entries.find((e) => e.name === name)!
      const original = back.get(name)
      return original ? base.readFloat32(original) : new Float32Array(entry.shape.reduce((a, b) => a * b, 1))
    },
    readInt32: () => new Int32Array(0),
    close: () => undefined,
  }
}

const ids = [[1, 5, 7, 9, 11, 3]]

describe('names.ts: building weights from a TensorSource', () => {
  beforeAll(() => useBackend('wasm'))

  it('reads every tensor exactly once and counts the parameters', () => {
    const source = mutated(syntheticTensorSource(CONFIG, { seed: 1 }), {})
    const before = tf.memory().numTensors
    const model = modelFromSource(CONFIG, source)
    for (const e of source.entries()) expect(source.reads.get(e.name), e.name).toBe(1)
    expect(model.info.parameterCount).toBe(source.entries().reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0))
    expect(model.info.hasMlmHead).toBe(true)
    expect(model.info.hasPositionEmbeddings).toBe(true)
    model.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('missing key → CHECKPOINT_MISSING_KEY naming it; no tensors left', () => {
    const key = 'deberta.encoder.layer.1.attention.self.key_proj.bias'
    const before = tf.memory().numTensors
    const e = expectLabError(() => buildWeights(mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { drop: (n) => n === key }), CONFIG), 'CHECKPOINT_MISSING_KEY')
    expect(e.message).toContain(key)
    expect(e.details?.key).toBe(key)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('unexpected key → CHECKPOINT_EXTRA_KEY naming it', () => {
    const key = 'deberta.encoder.layer.2.attention.self.query_proj.weight'
    const e = expectLabError(() => buildWeights(mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { add: [{ name: key, shape: [32, 32] }] }), CONFIG), 'CHECKPOINT_EXTRA_KEY')
    expect(e.message).toContain(key)
    expect(e.details?.extra).toEqual([key])
  })

  it('a v1 checkpoint under a v2 config is refused (missing v2 keys)', () => {
    expectLabError(() => buildWeights(syntheticTensorSource(V1, { seed: 1 }), CONFIG), 'CHECKPOINT_MISSING_KEY')
  })

  it('wrong shape → CHECKPOINT_SHAPE with {key, expected, actual} and both shapes in the message', () => {
    const key = 'deberta.encoder.layer.0.intermediate.dense.weight'
    const before = tf.memory().numTensors
    const e = expectLabError(() => buildWeights(mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { reshape: { [key]: [64, 31] } }), CONFIG), 'CHECKPOINT_SHAPE')
    expect(e.details).toMatchObject({ key, expected: [64, 32], actual: [64, 31] })
    expect(e.message).toContain('[64, 31]')
    expect(e.message).toContain('[64, 32]')
    expect(tf.memory().numTensors).toBe(before)
  })

  it('integer tensor where weights are expected → CHECKPOINT_DTYPE', () => {
    const key = 'deberta.embeddings.LayerNorm.weight'
    expect(expectLabError(() => buildWeights(mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { retype: { [key]: 'I64' } }), CONFIG), 'CHECKPOINT_DTYPE').details?.key).toBe(key)
  })

  it('ignores the listed harmless extras (position_ids, pooler, classifier, RTD head, tied decoder) and does not read them', () => {
    const extras = [
      { name: 'deberta.embeddings.position_ids', shape: [1, 32], dtype: 'I64' as StoredDType },
      { name: 'pooler.dense.weight', shape: [32, 32] },
      { name: 'pooler.dense.bias', shape: [32] },
      { name: 'classifier.weight', shape: [3, 32] },
      { name: 'classifier.bias', shape: [3] },
      { name: 'mask_predictions.dense.weight', shape: [32, 32] },
      { name: 'mask_predictions.LayerNorm.weight', shape: [32] },
      { name: 'mask_predictions.classifier.bias', shape: [1] },
    ]
    const source = mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { add: extras })
    const model = modelFromSource(CONFIG, source)
    for (const x of extras) expect(source.reads.has(x.name)).toBe(false)
    expect(HARMLESS_EXTRAS.length).toBeGreaterThanOrEqual(6)
    model.dispose()
  })

  it('accepts checkpoints without the "deberta." prefix and gives the same outputs', () => {
    const base = syntheticTensorSource(CONFIG, { seed: 3 })
    const a = modelFromSource(CONFIG, base)
    const b = modelFromSource(CONFIG, mutated(base, { rename: (n) => n.replace(/^deberta\./, '') }))
    const ra = a.forward({ inputIds: ids }, { mlm: { positions: [[0, 2]], emd: true } })
    const rb = b.forward({ inputIds: ids }, { mlm: { positions: [[0, 2]], emd: true } })
    expect(Array.from(rb.lastHiddenState.data)).toEqual(Array.from(ra.lastHiddenState.data))
    expect(Array.from(rb.mlm!.emdLogits!.data)).toEqual(Array.from(ra.mlm!.emdLogits!.data))
    a.dispose()
    b.dispose()
  })

  it('accepts HF legacy cls.predictions.* head naming (tied decoder weight, bias under decoder.bias)', () => {
    const base = syntheticTensorSource(CONFIG, { seed: 4 })
    const rename = (n: string): string =>
      n
        .replace('lm_predictions.lm_head.dense', 'cls.predictions.transform.dense')
        .replace('lm_predictions.lm_head.LayerNorm', 'cls.predictions.transform.LayerNorm')
        .replace('lm_predictions.lm_head.bias', 'cls.predictions.decoder.bias')
    const legacy = mutated(base, { rename, add: [{ name: 'cls.predictions.decoder.weight', shape: [CONFIG.vocabSize, 32] }] })
    const a = modelFromSource(CONFIG, base)
    const b = modelFromSource(CONFIG, legacy)
    expect(b.hasMlmHead).toBe(true)
    const ra = a.forward({ inputIds: ids }, { mlm: { positions: [[0, 1]] } })
    const rb = b.forward({ inputIds: ids }, { mlm: { positions: [[0, 1]] } })
    expectClose('cls logits', rb.mlm!.plainLogits!.data, ra.mlm!.plainLogits!.data, 0)
    a.dispose()
    b.dispose()
  })

  it('a checkpoint without MLM head loads with hasMlmHead = false; MLM requests → NO_MLM_HEAD (no leak)', () => {
    const model = modelFromSource(CONFIG, mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { drop: (n) => n.startsWith('lm_predictions.') }))
    expect(model.hasMlmHead).toBe(false)
    const before = tf.memory().numTensors
    expectLabError(() => model.forward({ inputIds: ids }, { mlm: { positions: [[0, 1]] } }), 'NO_MLM_HEAD')
    expect(tf.memory().numTensors).toBe(before)
    expect(model.forward({ inputIds: ids }).lastHiddenState.shape).toEqual([1, 6, 32])
    model.dispose()
  })

  it('a partial head (dense without bias) is an error, not a silent head-less load', () => {
    expectLabError(
      () => buildWeights(mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { drop: (n) => n === 'lm_predictions.lm_head.bias' }), CONFIG),
      'CHECKPOINT_MISSING_KEY',
    )
  })

  it('without absolute positions the backbone works; the EMD reports the missing table', () => {
    const model = modelFromSource(CONFIG, mutated(syntheticTensorSource(CONFIG, { seed: 1 }), { drop: (n) => n.includes('position_embeddings') }))
    expect(model.hasPositionEmbeddings).toBe(false)
    expect(model.forward({ inputIds: ids }, { mlm: { positions: [[0, 1]] } }).mlm!.plainLogits!.shape).toEqual([1, CONFIG.vocabSize])
    expectLabError(() => model.forward({ inputIds: ids }, { mlm: { positions: [[0, 1]], emd: true } }), 'CHECKPOINT_MISSING_KEY')
    model.dispose()
  })

  it('a BERT-style model refuses a checkpoint without position embeddings', () => {
    const config = { ...CONFIG, positionBiasedInput: true }
    const e = expectLabError(() => buildWeights(mutated(syntheticTensorSource(config, { seed: 1 }), { drop: (n) => n.includes('position_embeddings') }), config), 'CHECKPOINT_MISSING_KEY')
    expect(e.message).toContain('position_embeddings')
  })
})
