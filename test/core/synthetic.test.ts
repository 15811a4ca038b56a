// Synthetic models: seeded determinism, the three architectures, the BERT baseline's shapes and semantics.
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_SYNTHETIC_MODEL } from '../../src/common/api'
import { bertBaselineFrom, createSyntheticBert } from '../../src/core/bert'
import { DEBERTA_V3_TINY } from '../../src/core/config'
import { createSyntheticModel, createSyntheticModelFromRef, fillNormal, fillNormalSeeded, mulberry32, syntheticConfig, syntheticTensorSource } from '../../src/core/synthetic'
import { expectLabError, seededIds, useBackend } from './helpers'

describe('synthetic models', () => {
  beforeAll(() => useBackend('wasm'))

  it('mulberry32 + Box-Muller: deterministic, about N(0, 1)', () => {
    const a = fillNormal(new Float32Array(20000), mulberry32(42))
    const b = fillNormal(new Float32Array(20000), mulberry32(42))
    expect(Array.from(a)).toEqual(Array.from(b))
    const mean = a.reduce((x, y) => x + y, 0) / a.length
    const std = Math.sqrt(a.reduce((x, y) => x + (y - mean) ** 2, 0) / a.length)
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(std - 1)).toBeLessThan(0.03)
  })

  it('same seed → identical weights and outputs; another seed → different ones', () => {
    const config = { ...DEBERTA_V3_TINY, vocabSize: 40 }
    const key = 'deberta.encoder.layer.1.attention.self.query_proj.weight'
    const s1 = syntheticTensorSource(config, { seed: 7 })
    const s2 = syntheticTensorSource(config, { seed: 7 })
    expect(Array.from(s1.readFloat32(key))).toEqual(Array.from(s2.readFloat32(key)))
    expect(Array.from(s1.readFloat32(key))).not.toEqual(Array.from(syntheticTensorSource(config, { seed: 8 }).readFloat32(key)))
    const ids = seededIds(2, 9, 40)
    const m1 = createSyntheticModel(config, { seed: 7 })
    const m2 = createSyntheticModel(config, { seed: 7 })
    const m3 = createSyntheticModel(config, { seed: 8 })
    const r1 = m1.forward({ inputIds: ids }, { attentions: true, mlm: { positions: [[1, 3]], emd: true } })
    const r2 = m2.forward({ inputIds: ids }, { attentions: true, mlm: { positions: [[1, 3]], emd: true } })
    const r3 = m3.forward({ inputIds: ids })
    expect(Array.from(r2.lastHiddenState.data)).toEqual(Array.from(r1.lastHiddenState.data))
    expect(Array.from(r2.mlm!.emdLogits!.data)).toEqual(Array.from(r1.mlm!.emdLogits!.data))
    expect(Array.from(r3.lastHiddenState.data)).not.toEqual(Array.from(r1.lastHiddenState.data))
    for (const m of [m1, m2, m3]) m.dispose()
  })

  it('builds v3, v1 and BERT models from a SyntheticModelRef with an MLM head', () => {
    for (const arch of ['deberta-v3', 'deberta-v1', 'bert'] as const) {
      const ref = { ...DEFAULT_SYNTHETIC_MODEL, arch, layers: 2, hidden: 32, heads: 4, intermediate: 64, maxPositions: 64, positionBuckets: 8 }
      const config = syntheticConfig(ref, 60)
      expect(config.modelType).toBe(arch === 'deberta-v3' ? 'deberta-v2' : arch === 'deberta-v1' ? 'deberta' : 'bert')
      const model = createSyntheticModelFromRef(ref, 60)
      expect(model.hasMlmHead).toBe(true)
      const r = model.forward({ inputIds: seededIds(1, 12, 60) }, { attentions: true, mlm: { positions: [[0, 4]] } })
      expect(r.mlm!.plainLogits!.shape).toEqual([1, 60])
      expect(r.relativePos === undefined).toBe(arch === 'bert')
      model.dispose()
    }
    expect(syntheticConfig(DEFAULT_SYNTHETIC_MODEL).maxRelativePositions).toBe(512)
  })

  it('BERT baseline: [B, T, H] outputs, rows of attention sum to 1, key-only padding mask, absolute positions matter', () => {
    const bert = createSyntheticBert({ ...DEBERTA_V3_TINY, vocabSize: 40, typeVocabSize: 2 }, 3)
    try {
      expect(bert.config).toMatchObject({ modelType: 'bert', relativeAttention: false, positionBiasedInput: true, posAttType: [] })
      const ids = [[5, 6, 7, 8, 9, 0]]
      const mask = [[1, 1, 1, 1, 1, 0]]
      const r = bert.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: [[0, 0, 0, 1, 1, 1]] }, { attentions: true, hiddenStates: true, components: true })
      expect(r.lastHiddenState.shape).toEqual([1, 6, 32])
      expect(r.hiddenStates).toHaveLength(3)
      expect(r.attentions![0].shape).toEqual([1, 4, 6, 6])
      expect(r.components![0].c2p).toBeUndefined()
      const a = r.attentions![0].data
      for (let row = 0; row < 24; row++) {
        expect(a.subarray(row * 6, row * 6 + 6).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5)
        expect(a[row * 6 + 5]).toBe(0) // the padded key
      }
      expect(r.scoreScale).toBeCloseTo(1 / Math.sqrt(8), 12)
      // the same word at two positions gets two different representations (absolute positions are in the sum)
      const same = bert.forward({ inputIds: [[5, 5]] }, { hiddenStates: true }).hiddenStates![0].data
      expect(Array.from(same.subarray(0, 32))).not.toEqual(Array.from(same.subarray(32, 64)))
    } finally {
      bert.dispose()
    }
  })

  it('bertBaselineFrom borrows a DeBERTa model\'s tables without copying them', () => {
    const model = createSyntheticModel({ ...DEBERTA_V3_TINY, vocabSize: 40 }, { seed: 1 })
    const before = tf.memory().numTensors
    const bert = bertBaselineFrom(model)
    expect(tf.memory().numTensors).toBe(before)
    const r = bert.forward({ inputIds: [[1, 2, 3]] }, { attentions: true })
    expect(r.relativePos).toBeUndefined()
    bert.dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(model.forward({ inputIds: [[1, 2, 3]] }).length).toBe(3)
    model.dispose()
    const noPositions = createSyntheticModel({ ...DEBERTA_V3_TINY, vocabSize: 40 }, { seed: 1, withPositionEmbeddings: false })
    expectLabError(() => bertBaselineFrom(noPositions), 'CHECKPOINT_MISSING_KEY')
    noPositions.dispose()
  })
})

describe('fillNormalSeeded', () => {
  it('draws exactly what fillNormal(mulberry32(seed)) draws', () => {
    for (const n of [1, 2, 7, 1000]) {
      expect(Array.from(fillNormalSeeded(new Float32Array(n), 123, 0.5, 2))).toEqual(Array.from(fillNormal(new Float32Array(n), mulberry32(123), 0.5, 2)))
    }
  })
})
