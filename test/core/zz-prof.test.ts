import * as tf from '@tensorflow/tfjs-core'
import { it } from 'vitest'
import { mlmBatch, Rng, VOCAB_SIZE } from '../../src/core/train/data'
import { defaultTrainableConfig, TrainableModel } from '../../src/core/train/model'
import { initBackend } from '../../src/core/backend'
it('prof', async () => {
  await initBackend('wasm')
  const batch = mlmBatch(new Rng(5), 16, { minWords: 9, maxWords: 14 })
  for (const [name, patch] of [['bert', { arch: 'bert', terms: [] }], ['c2c', { terms: [] }], ['all', {}]] as const) {
    const model = new TrainableModel(defaultTrainableConfig(VOCAB_SIZE, patch as object), 1)
    for (let r = 0; r < 2; r++) {
      let t0 = performance.now()
      tf.tidy(() => model.loss(batch).dataSync())
      const fwd = performance.now() - t0
      t0 = performance.now()
      const { value, grads } = tf.variableGrads(() => model.loss(batch), model.variables)
      value.dataSync(); Object.values(grads).forEach((g) => g.dataSync())
      const both = performance.now() - t0
      tf.dispose([value, ...Object.values(grads)])
      if (r === 1) {
        const prof = await tf.profile(() => { const { value, grads } = tf.variableGrads(() => model.loss(batch), model.variables); value.dataSync(); tf.dispose([value, ...Object.values(grads)]) })
        const byKernel = new Map<string, [number, number]>()
        for (const k of prof.kernels) { const e = byKernel.get(k.name) ?? [0, 0]; e[0] += (k.kernelTimeMs as number) ?? 0; e[1]++; byKernel.set(k.name, e) }
        console.log(name, 'fwd', fwd.toFixed(1), 'fwd+bwd', both.toFixed(1), 'kernels', prof.kernels.length, [...byKernel].sort((a, b) => b[1][0] - a[1][0]).slice(0, 10).map(([k, [t, n]]) => `${k}:${t.toFixed(1)}/${n}`).join(' '))
      }
    }
    model.dispose()
  }
})
