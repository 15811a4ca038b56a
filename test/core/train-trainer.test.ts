// Training (src/core/train/trainer.ts): AdamW, schedule and clipping against hand-computed values; a tiny run
// lowers the loss and beats chance; same seed on the same backend → the same loss curve, bit for bit.
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { offsetBatch, PROBE_SLOTS, probeBatch, probeChance, Rng, VOCAB, VOCAB_SIZE } from '../../src/core/train/data'
import { defaultTrainableConfig, TrainableModel, type TrainableConfig } from '../../src/core/train/model'
import { AdamW, clipByGlobalNorm, learningRateAt, train, type TrainOptions } from '../../src/core/train/trainer'
import { useBackend } from './helpers'

beforeAll(async () => {
  await useBackend('wasm')
})

describe('AdamW, schedule, clipping', () => {
  it('AdamW: two steps match the hand-computed PyTorch AdamW update; vectors get no weight decay', () => {
    const before = tf.memory().numTensors
    const [matrix, bias] = tf.tidy(() => [tf.variable(tf.tensor2d([[1]])), tf.variable(tf.tensor1d([1]))])
    const opt = new AdamW([matrix, bias], { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 })
    const g1 = [tf.tensor2d([[0.5]]), tf.tensor1d([0.5])]
    opt.step(g1, 0.1)
    // m̂ = 0.5, v̂ = 0.25 → p = 1·(1 − 0.1·0.01) − 0.1·0.5/(0.5 + 1e-8) = 0.899000002
    expect(matrix.dataSync()[0]).toBeCloseTo(0.899000002, 6)
    expect(bias.dataSync()[0]).toBeCloseTo(0.900000002, 6)
    const g2 = [tf.tensor2d([[-1]]), tf.tensor1d([-1])]
    opt.step(g2, 0.1)
    // m = −0.055, v = 0.00124975 → m̂ = −0.28947, v̂ = 0.62519 → p = 0.899·0.999 + 0.1·0.36610 = 0.93471135
    expect(matrix.dataSync()[0]).toBeCloseTo(0.9347113542, 6)
    expect(opt.stepCount).toBe(2)
    opt.dispose()
    tf.dispose([matrix, bias, ...g1, ...g2])
    expect(tf.memory().numTensors).toBe(before)
  })

  it('learning rate: linear warm-up to the peak, then linear decay to 0 after the last step', () => {
    const s = { learningRate: 1e-3, warmupSteps: 4, totalSteps: 10 }
    expect(learningRateAt(0, s)).toBeCloseTo(2.5e-4, 12)
    expect(learningRateAt(1, s)).toBeCloseTo(5e-4, 12)
    expect(learningRateAt(3, s)).toBeCloseTo(1e-3, 12)
    expect(learningRateAt(4, s)).toBeCloseTo(1e-3, 12)
    expect(learningRateAt(7, s)).toBeCloseTo(5e-4, 12)
    expect(learningRateAt(9, s)).toBeCloseTo(1e-3 / 6, 12)
    expect(learningRateAt(10, s)).toBe(0)
    expect(learningRateAt(0, { learningRate: 1e-3, warmupSteps: 0, totalSteps: 4 })).toBeCloseTo(1e-3, 12)
  })

  it('global-norm clipping: ‖(3, 4, 12)‖ = 13 is scaled to 6.5; under the limit nothing changes', () => {
    const grads = [tf.tensor1d([3, 4]), tf.tensor1d([12])]
    const { clipped, norm } = clipByGlobalNorm(grads, 6.5)
    expect(norm).toBeCloseTo(13, 5)
    expect(Array.from(clipped[0].dataSync())).toEqual([expect.closeTo(1.5, 5), expect.closeTo(2, 5)])
    expect(clipped[1].dataSync()[0]).toBeCloseTo(6, 5)
    const same = clipByGlobalNorm(grads, 20)
    expect(Array.from(same.clipped[1].dataSync())).toEqual([12])
    const off = clipByGlobalNorm(grads, 0)
    expect(Array.from(off.clipped[0].dataSync())).toEqual([3, 4])
    tf.dispose([...grads, ...clipped, ...same.clipped, ...off.clipped])
  })
})

const TINY: Partial<TrainableConfig> = { hiddenSize: 16, numHeads: 2, intermediateSize: 32, numLayers: 1, positionBuckets: 0, maxRelativePositions: 8 }
const OFFSET = { offset: 2, minTokens: 8, maxTokens: 12 }

function options(seed: number, steps: number, patch: Partial<TrainOptions> = {}): TrainOptions {
  const rng = new Rng(seed)
  return { learningRate: 1e-2, warmupSteps: 5, totalSteps: steps, clipNorm: 1, makeBatch: () => offsetBatch(rng, 16, OFFSET), ...patch }
}

describe('train', () => {
  it('a tiny DeBERTa learns the offset task: loss falls and held-out accuracy beats chance by far', () => {
    const model = new TrainableModel(defaultTrainableConfig(VOCAB_SIZE, TINY), 1)
    try {
      const before = tf.memory().numTensors
      const heldOut = offsetBatch(new Rng(99), 64, OFFSET)
      const initial = model.evaluate(heldOut)
      const progress: number[] = []
      const result = train(model, options(1, 100, { onProgress: (p) => progress.push(p.step) }))
      const final = model.evaluate(heldOut)
      expect(tf.memory().numTensors).toBe(before)
      expect(progress).toEqual(Array.from({ length: 100 }, (_, k) => k + 1))
      const first = result.losses.slice(0, 5).reduce((a, b) => a + b) / 5
      const last = result.losses.slice(-5).reduce((a, b) => a + b) / 5
      expect(last).toBeLessThan(first * 0.6)
      expect(final.loss).toBeLessThan(initial.loss)
      const chance = 1 / VOCAB.words.length
      expect(final.accuracy).toBeGreaterThan(10 * chance)
    } finally {
      model.dispose()
    }
  })

  it('trained on masked grammar slots, a tiny DeBERTa beats chance on the position-sensitive probes', () => {
    const model = new TrainableModel(defaultTrainableConfig(VOCAB_SIZE, { ...TINY, positionBuckets: 16, maxRelativePositions: 64 }), 1)
    try {
      const range = { minWords: 8, maxWords: 14 }
      const rng = new Rng(3)
      train(model, { learningRate: 1e-2, warmupSteps: 5, totalSteps: 80, clipNorm: 1, makeBatch: () => probeBatch(rng, 16, range) })
      const result = model.evaluate(probeBatch(new Rng(77), 128, range))
      const chance = PROBE_SLOTS.reduce((a, slot) => a + probeChance(slot), 0) / PROBE_SLOTS.length
      expect(result.accuracy).toBeGreaterThan(3 * chance)
      expect(result.bySlot!.object!).toBeGreaterThan(2 * probeChance('object'))
    } finally {
      model.dispose()
    }
  })

  it('same seed, same backend → identical loss curve and weights; another seed differs', () => {
    const curve = (seed: number): { losses: number[]; weight: Float32Array } => {
      const model = new TrainableModel(defaultTrainableConfig(VOCAB_SIZE, TINY), seed)
      try {
        const result = train(model, options(seed, 12))
        return { losses: result.losses, weight: model.exportWeights()['deberta.encoder.layer.0.attention.self.query_proj.weight'] }
      } finally {
        model.dispose()
      }
    }
    const a = curve(4)
    const b = curve(4)
    const c = curve(5)
    expect(b.losses).toEqual(a.losses)
    expect(Array.from(b.weight)).toEqual(Array.from(a.weight))
    expect(c.losses).not.toEqual(a.losses)
  })

  it('is deterministic on the cpu backend too, and cpu and wasm agree closely (not bit for bit)', async () => {
    const curve = (seed: number): number[] => {
      const model = new TrainableModel(defaultTrainableConfig(VOCAB_SIZE, TINY), seed)
      try {
        return train(model, options(seed, 6)).losses
      } finally {
        model.dispose()
      }
    }
    const wasm = curve(4)
    await useBackend('cpu')
    try {
      const a = curve(4)
      expect(curve(4)).toEqual(a)
      a.forEach((loss, k) => expect(Math.abs(loss - wasm[k]), `step ${k + 1}`).toBeLessThan(1e-3))
    } finally {
      await useBackend('wasm')
    }
  })

  it('a throwing checkCancelled stops training between steps and leaks nothing', () => {
    const model = new TrainableModel(defaultTrainableConfig(VOCAB_SIZE, TINY), 1)
    try {
      const before = tf.memory().numTensors
      let steps = 0
      expect(() =>
        train(
          model,
          options(1, 50, {
            onProgress: () => steps++,
            checkCancelled: () => {
              if (steps >= 3) throw new LabError('CANCELLED', 'cancelled')
            },
          }),
        ),
      ).toThrow(/cancelled/)
      expect(steps).toBe(3)
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      model.dispose()
    }
  })
})
