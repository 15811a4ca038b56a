// Experiment presets and the runner (src/core/train/experiments.ts): every preset validates at every budget,
// every smoke run finishes well under 15 s, results are reproducible, configs are checked before training.
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import {
  BUDGETS,
  EXPERIMENT_NAMES,
  experimentPreset,
  parseExperimentConfig,
  runExperiment,
  sampleStd,
  validateExperiment,
  type ExperimentConfig,
} from '../../src/core/train/experiments'
import { useBackend } from './helpers'

beforeAll(async () => {
  await useBackend('wasm')
})

describe('presets', () => {
  it('every experiment × budget validates, has ≥ 3 seeds by default and ≥ 2 variants', () => {
    for (const name of EXPERIMENT_NAMES) {
      for (const budget of BUDGETS) {
        const config = experimentPreset(name, budget)
        expect(config.seeds).toEqual([1, 2, 3])
        expect(config.variants.length).toBeGreaterThanOrEqual(2)
        expect(() => validateExperiment(config)).not.toThrow()
      }
    }
    expect(experimentPreset('terms', 'smoke').variants.map((v) => v.name)).toEqual(['c2c', 'c2c+c2p', 'c2c+p2c', 'all'])
  })

  it('sample standard deviation (n − 1): std(2, 4, 4, 4, 5, 5, 7, 9) = 2.138…', () => {
    expect(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12)
    expect(sampleStd([3])).toBe(0)
  })

  it('JSON configs: preset + overrides; unknown fields and bad values → CONFIG_INVALID naming the field', () => {
    const config = parseExperimentConfig({ preset: 'terms', budget: 'smoke', training: { steps: 5 }, seeds: [7, 8] })
    expect(config.training.steps).toBe(5)
    expect(config.training.batchSize).toBe(experimentPreset('terms', 'smoke').training.batchSize)
    expect(config.seeds).toEqual([7, 8])
    const fails = (raw: unknown, field: RegExp): void => {
      try {
        parseExperimentConfig(raw)
      } catch (error) {
        expect(error).toBeInstanceOf(LabError)
        expect((error as LabError).code).toMatch(/CONFIG_INVALID|INPUT_INVALID/)
        expect((error as LabError).message).toMatch(field)
        return
      }
      throw new Error(`accepted ${JSON.stringify(raw)}`)
    }
    fails({ preset: 'terms', model: { hidden: 32 } }, /model\.hidden/)
    fails({ preset: 'terms', training: { steps: 0 } }, /training\.steps/)
    fails({ preset: 'attention', variants: [{ name: 'x', model: { terms: ['p2p'] } }] }, /terms/)
    fails({ preset: 'length', task: { testTokens: { min: 24, max: 100 } } }, /exceed/)
    fails({ preset: 'nope' }, /unknown experiment/)
  })
})

describe('runExperiment', () => {
  it('every smoke experiment finishes in < 15 s with per-variant means and stds over 3 seeds', () => {
    for (const name of EXPERIMENT_NAMES) {
      const before = tf.memory().numTensors
      const started = performance.now()
      const result = runExperiment(experimentPreset(name, 'smoke'))
      const seconds = (performance.now() - started) / 1000
      expect(seconds).toBeLessThan(15)
      expect(tf.memory().numTensors).toBe(before)
      const config = experimentPreset(name, 'smoke')
      expect(result.runs).toHaveLength(config.variants.length * 3)
      for (const v of result.variants) {
        const key = result.task === 'mlm' ? 'probes_accuracy' : 'test_accuracy'
        expect(v.metrics[key].values).toHaveLength(3)
        expect(v.metrics[key].mean).toBeCloseTo(v.metrics[key].values.reduce((a, b) => a + b) / 3, 12)
        expect(v.metrics.final_loss.std).toBeGreaterThanOrEqual(0)
      }
    }
  })

  it('reproducible: the same config gives the same metrics and curves', () => {
    const config: ExperimentConfig = { ...experimentPreset('clipping', 'smoke', 1), training: { ...experimentPreset('clipping', 'smoke').training, steps: 4 } }
    config.variants = config.variants.slice(0, 2)
    const a = runExperiment(config)
    const b = runExperiment(config)
    expect(b.runs.map((r) => r.losses)).toEqual(a.runs.map((r) => r.losses))
    expect(b.variants).toEqual(a.variants)
  })

  it('checkCancelled stops the experiment', () => {
    let calls = 0
    expect(() =>
      runExperiment(experimentPreset('length', 'smoke'), {
        checkCancelled: () => {
          if (++calls > 5) throw new LabError('CANCELLED', 'cancelled by the test')
        },
      }),
    ).toThrow(/cancelled by the test/)
  })
})
