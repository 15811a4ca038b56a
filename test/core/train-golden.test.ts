// The trainable model is the inference model: loaded with the v3 fixture checkpoint, its forward reproduces the
// reference implementations' golden logits (official EMD and plain LM head) on every backend of the run.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openTensorFile } from '../../src/core/checkpoint'
import type { TensorSource } from '../../src/core/checkpoint/types'
import { TrainableModel, type TrainableConfig } from '../../src/core/train/model'
import type { Batch } from '../../src/core/train/data'
import { expectClose, intRows, openGolden, TEST_BACKENDS, useBackend, V3_DIR } from './helpers'

/** deberta-v3-tiny/config.json as a trainable config (the fields the trainable model has). */
const FIXTURE: TrainableConfig = {
  arch: 'deberta',
  vocabSize: 1008,
  hiddenSize: 32,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 64,
  maxPositions: 128,
  terms: ['c2p', 'p2c'],
  positionBuckets: 16,
  maxRelativePositions: 128, // the config's -1: max_position_embeddings
  emd: true,
}

for (const backend of TEST_BACKENDS) {
  describe(`training forward on the v3 fixture weights = golden logits (${backend})`, () => {
    let golden: TensorSource
    let model: TrainableModel

    beforeAll(async () => {
      await useBackend(backend)
      golden = openGolden(V3_DIR)
      model = new TrainableModel(FIXTURE, 1)
      const weights = openTensorFile(path.join(V3_DIR, 'model.safetensors'))
      try {
        model.importWeights(Object.fromEntries(model.variableNames.map((name) => [name, weights.readFloat32(name)])))
      } finally {
        weights.close()
      }
    })

    afterAll(() => {
      model?.dispose()
      golden?.close()
    })

    it('EMD and plain-head logits at every [MASK] within 1e-4, no tensors left behind', () => {
      const ids = intRows(golden, 'input_ids')
      const mask = intRows(golden, 'attention_mask')
      const B = ids.length
      const T = ids[0].length
      const batch: Batch = {
        batchSize: B,
        length: T,
        inputIds: Int32Array.from(ids.flat()),
        attentionMask: Float32Array.from(mask.flat()),
        labels: new Int32Array(B * T).fill(-100),
      }
      const before = tf.memory().numTensors
      let main = new Float32Array(0)
      let plain = new Float32Array(0)
      tf.tidy(() => {
        const both = model.bothLogits(batch)
        main = Float32Array.from(both.main.dataSync())
        plain = Float32Array.from(both.plain.dataSync())
      })
      expect(tf.memory().numTensors).toBe(before)
      const positions = golden.readInt32('mlm.masked_positions')
      const V = FIXTURE.vocabSize
      const rows = (all: Float32Array): Float32Array => {
        const out = new Float32Array((positions.length / 2) * V)
        for (let k = 0; k < positions.length / 2; k++) {
          const flat = positions[2 * k] * T + positions[2 * k + 1]
          out.set(all.subarray(flat * V, (flat + 1) * V), k * V)
        }
        return out
      }
      expect(positions.length).toBeGreaterThan(0)
      expectClose('mlm.emd_logits', rows(main), golden.readFloat32('mlm.emd_logits'), 1e-4)
      expectClose('mlm.plain_logits', rows(plain), golden.readFloat32('mlm.plain_logits'), 1e-4)
    })
  })
}
