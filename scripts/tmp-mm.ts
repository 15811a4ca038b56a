import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../src/core/backend'
await initBackend('tensorflow')
const T = Number(process.argv[2] ?? 512), NH = 12, D = 64
const q = tf.randomNormal([NH, T, D]) as tf.Tensor3D
const time = (name: string, f: () => tf.Tensor) => { for (let k = 0; k < 2; k++) tf.tidy(() => { f().dataSync() }); const ts: number[] = []; for (let k = 0; k < 9; k++) { const t0 = performance.now(); tf.tidy(() => { f().dataSync() }); ts.push(performance.now() - t0) } ts.sort((a, b) => a - b); console.log(name.padEnd(34), ts[4].toFixed(1), 'ms (min', ts[0].toFixed(1) + ')') }
for (const W of [512, 1023, 1024]) {
  const a = tf.randomNormal([NH, W, D]) as tf.Tensor3D
  const b = tf.randomNormal([NH, D, W]) as tf.Tensor3D
  time(`abT W=${W}`, () => tf.matMul(q, a, false, true))
  time(`ab  W=${W}`, () => tf.matMul(q, b))
}
const s = tf.randomNormal([NH, T, T])
time('softmax [NH,T,T]', () => tf.softmax(s))
time('add [NH,T,T]', () => tf.add(s, s))
time('exp [NH,T,T]', () => tf.exp(s))
time('relshift-like slice', () => tf.slice(tf.reshape(s, [NH, T * T]), [0, 1], [NH, T * T - 1]))
time('transpose 021', () => tf.transpose(s, [0, 2, 1]))
const x = tf.randomNormal([T, 768]), w = tf.randomNormal([768, 768]), w3 = tf.randomNormal([768, 3072])
time('mm [T,768]x[768,768]', () => tf.matMul(x, w))
time('mm [T,768]x[768,3072]', () => tf.matMul(x, w3))
time('c2c [NH,T,D]x[NH,T,D]^T', () => tf.matMul(q, q, false, true))
