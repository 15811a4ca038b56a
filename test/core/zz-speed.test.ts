import { it } from 'vitest'
import { mlmBatch, offsetBatch, Rng, VOCAB_SIZE } from '../../src/core/train/data'
import { defaultTrainableConfig, TrainableModel } from '../../src/core/train/model'
import { train } from '../../src/core/train/trainer'
import { initBackend } from '../../src/core/backend'
it('speed', async () => {
  await initBackend(process.env.BK ?? 'wasm')
  for (const arch of ['deberta', 'bert'] as const) {
    const model = new TrainableModel(defaultTrainableConfig(VOCAB_SIZE, { arch, terms: arch === 'bert' ? [] : ['c2p', 'p2c'] }), 1)
    const rng = new Rng(5)
    const r = train(model, { learningRate: 3e-3, warmupSteps: 10, totalSteps: 60, clipNorm: 1, makeBatch: () => mlmBatch(rng, 16, { minWords: 9, maxWords: 14 }) })
    console.log(arch, 'ms/step', (r.milliseconds / r.steps).toFixed(1), 'loss', r.losses.slice(0, 3).map((x) => x.toFixed(2)), r.losses.slice(-3).map((x) => x.toFixed(2)), 'acc', r.accuracies.slice(-5))
    const rng2 = new Rng(6)
    const ev = model.evaluate(mlmBatch(rng2, 64, { minWords: 9, maxWords: 14 }))
    console.log('eval', ev)
    model.dispose()
  }
})
