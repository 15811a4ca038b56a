import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../src/core/backend'
import { relShiftBatched } from '../src/core/attention'
await initBackend('tensorflow')
const T = Number(process.argv[2] ?? 512), NH = 12, D = 64, R = 512, W = 2 * T - 1
const q = tf.randomNormal([NH, T, D]) as tf.Tensor3D
const krW = tf.randomNormal([NH, W, D]) as tf.Tensor3D
const krR = tf.randomNormal([NH, R, D]) as tf.Tensor3D
const idx = new Int32Array(T * T); for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) idx[i * T + j] = Math.min(R - 1, Math.max(0, (i - j) + R / 2))
const idxT = tf.tensor2d(idx, [T, T], 'int32')
const time = (name: string, f: () => tf.Tensor) => { for (let k = 0; k < 2; k++) tf.tidy(() => { f().dataSync() }); const ts: number[] = []; for (let k = 0; k < 7; k++) { const t0 = performance.now(); tf.tidy(() => { f().dataSync() }); ts.push(performance.now() - t0) } ts.sort((a, b) => a - b); console.log(name.padEnd(28), ts[3].toFixed(1), 'ms (min', ts[0].toFixed(1) + ')') }
time('matmul W + relShift', () => relShiftBatched(tf.matMul(q, krW, false, true) as tf.Tensor3D))
time('matmul W only', () => tf.matMul(q, krW, false, true))
time('matmul R only', () => tf.matMul(q, krR, false, true))
time('matmul R + gather bd1', () => { const s = tf.reshape(tf.transpose(tf.matMul(q, krR, false, true), [1, 0, 2]), [T, NH * R]); return tf.gather(tf.reshape(s, [T, NH, R]), tf.tile(tf.expandDims(idxT, 1), [1, NH, 1]), 2, 2) })
time('matmul R + gather bd2 direct', () => tf.gather(tf.matMul(q, krR, false, true), tf.tile(tf.expandDims(idxT, 0), [NH, 1, 1]), 2, 2))
time('softmax [NH,T,T]', () => tf.softmax(tf.randomNormal([NH, T, T])))
time('randomNormal [NH,T,T]', () => tf.randomNormal([NH, T, T]))
time('add [NH,T,T]', () => tf.add(q.reshape([NH * T * D]).slice(0, 1), tf.zeros([NH, T, T])))
