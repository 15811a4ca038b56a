// The trainable model (src/core/train/model.ts) against the inference core: same weights → same logits, on every
// backend of the run (tensorflow when tfjs-node is installed, wasm, cpu).
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mlmBatch, Rng, VOCAB_SIZE } from '../../src/core/train/data'
import { defaultTrainableConfig, inferenceConfig, relShiftBatched, TrainableModel, type TrainableConfig } from '../../src/core/train/model'
import { relativeEmbeddingRow } from '../../src/core/relative-position'
import { expectClose, TEST_BACKENDS, useBackend } from './helpers'

const CASES: Array<[string, Partial<TrainableConfig>]> = [
  ['DeBERTa, log buckets, c2p+p2c', { positionBuckets: 8, maxRelativePositions: 24 }],
  ['DeBERTa, clipped k = 3, c2p only', { positionBuckets: 0, maxRelativePositions: 3, terms: ['c2p'] }],
  ['DeBERTa, clipped k = 5, p2c only', { positionBuckets: 0, maxRelativePositions: 5, terms: ['p2c'] }],
  ['DeBERTa, c2c only', { terms: [] }],
  ['DeBERTa + EMD', { emd: true, positionBuckets: 8, maxRelativePositions: 24 }],
  ['BERT baseline', { arch: 'bert', terms: [] }],
]

for (const backend of TEST_BACKENDS) {
  describe(`TrainableModel forward = DebertaModel forward on the same weights (${backend})`, () => {
    beforeAll(() => useBackend(backend))
    let worst = 0
    afterAll(() => console.log(`max |Δ| training logits vs inference logits on ${backend}: ${worst.toExponential(2)}`))

    for (const [name, patch] of CASES) {
      it(`${name}: MLM logits agree within 1e-4 at every real token`, () => {
        const config = defaultTrainableConfig(VOCAB_SIZE, { hiddenSize: 16, numHeads: 2, intermediateSize: 32, maxPositions: 32, ...patch })
        const model = new TrainableModel(config, 3)
        const batch = mlmBatch(new Rng(11), 3, { minWords: 9, maxWords: 14 })
        const before = tf.memory().numTensors
        const trained = tf.tidy(() => model.logits(batch).arraySync())
        expect(tf.memory().numTensors).toBe(before)
        const core = model.toInferenceModel()
        try {
          const T = batch.length
          const ids = Array.from({ length: batch.batchSize }, (_, b) => Array.from(batch.inputIds.subarray(b * T, (b + 1) * T)))
          const mask = Array.from({ length: batch.batchSize }, (_, b) => Array.from(batch.attentionMask.subarray(b * T, (b + 1) * T)))
          const positions: Array<[number, number]> = []
          for (let b = 0; b < batch.batchSize; b++) for (let t = 0; t < T; t++) if (mask[b][t] === 1) positions.push([b, t])
          const out = core.forward({ inputIds: ids, attentionMask: mask }, { mlm: { positions, plain: !config.emd, emd: config.emd } })
          const coreLogits = (config.emd ? out.mlm!.emdLogits! : out.mlm!.plainLogits!).data
          const ours = new Float32Array(coreLogits.length)
          positions.forEach(([b, t], k) => ours.set(trained[b * T + t], k * config.vocabSize))
          worst = Math.max(worst, expectClose(`${name} logits`, ours, coreLogits, 1e-4, { shape: [positions.length, config.vocabSize] }))
        } finally {
          core.dispose()
          model.dispose()
        }
      })
    }
  })
}

describe('TrainableModel pieces', () => {
  beforeAll(() => useBackend('wasm'))

  it('clipping premise of the clipping preset: δ = +4 has its own row only when k ≥ 6', () => {
    const row = (k: number, delta: number): number => relativeEmbeddingRow(inferenceConfig(defaultTrainableConfig(VOCAB_SIZE, { positionBuckets: 0, maxRelativePositions: k })), delta)
    expect(row(5, 4)).toBe(row(5, 5))
    expect(row(6, 4)).not.toBe(row(6, 5))
    expect(row(6, 4)).not.toBe(row(6, 3))
  })

  it('relShiftBatched: out[x, i, j] = in[x, i, T−1−i+j]', () => {
    const T = 3
    const W = 2 * T - 1
    const data = Array.from({ length: 2 * T * W }, (_, k) => k)
    const out = tf.tidy(() => relShiftBatched(tf.tensor3d(data, [2, T, W])).arraySync())
    for (let x = 0; x < 2; x++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) expect(out[x][i][j]).toBe(data[(x * T + i) * W + (T - 1 - i + j)])
  })

  it('exportWeights → importWeights round-trips exactly', () => {
    const config = defaultTrainableConfig(VOCAB_SIZE, { hiddenSize: 16, numHeads: 2, intermediateSize: 32 })
    const a = new TrainableModel(config, 1)
    const b = new TrainableModel(config, 2)
    try {
      const wa = a.exportWeights()
      expect(Object.keys(wa)).toContain('deberta.encoder.layer.0.attention.self.query_proj.weight')
      expect(wa['deberta.encoder.layer.0.intermediate.dense.weight'].length).toBe(32 * 16)
      b.importWeights(wa)
      const wb = b.exportWeights()
      for (const key of Object.keys(wa)) expect(Array.from(wb[key])).toEqual(Array.from(wa[key]))
    } finally {
      a.dispose()
      b.dispose()
    }
  })
})
