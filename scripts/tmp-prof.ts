import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../src/core/backend'
import { createSyntheticModel } from '../src/core/synthetic'
import { PRESETS } from '../src/core/config'
const T = Number(process.argv[2] ?? 128)
await initBackend((process.argv[3] as any) ?? 'tensorflow')
const cfg = { ...PRESETS.base, numHiddenLayers: Number(process.argv[4] ?? 12) }
const m = createSyntheticModel(cfg as any, { seed: 1, withHead: false })
const ids = [Array.from({ length: T }, (_, i) => (i * 7919 + 1) % cfg.vocabSize)]
m.forward({ inputIds: ids })
const prof = await tf.profile(() => { m.forward({ inputIds: ids }) })
const agg = new Map<string, { n: number; ms: number }>()
for (const k of prof.kernels) {
  const t = await (k as any).kernelTimeMs
  const a = agg.get(k.name) ?? { n: 0, ms: 0 }
  a.n++; a.ms += typeof t === 'number' ? t : 0
  agg.set(k.name, a)
}
console.log('kernels', prof.kernels.length)
for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms)) console.log(k.padEnd(20), v.n, v.ms.toFixed(1))
const t0 = performance.now(); for (let i = 0; i < 3; i++) m.forward({ inputIds: ids }); console.log('forward ms', ((performance.now() - t0) / 3).toFixed(1))
