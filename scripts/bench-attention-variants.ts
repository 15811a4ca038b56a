// Compares implementations of the disentangled attention block on the current backend (default wasm):
//   per-head   the model's implementation: per-head 2-D matMuls, rel-shift / row-gather kernels
//   per-head+ops  the same with the kernels off (pad/reshape/slice rel-shift, tf.gather)
//   batched    one 3-D batched matMul per product over all heads ([NH, T, D]·[NH, D, W] …), ops rel-shift
// Each variant's output is checked against the model's before timing (max |Δ| printed).
// Usage: npx tsx scripts/bench-attention-variants.ts [preset=base] [seqs=128,512] [repeats=3]
import * as tf from '@tensorflow/tfjs-core'
import { initBackend } from '../src/core/backend'
import { PRESETS, scoreScale, type PresetName } from '../src/core/config'
import { hostTidy, layerNorm, linear, relShiftRowsOps, setFastKernels } from '../src/core/ops'
import { createSyntheticModel, fillNormalSeeded } from '../src/core/synthetic'
import type { DebertaModel } from '../src/core/model'

const [presetArg = 'base', seqArg = '128,512', repeatArg = '3'] = process.argv.slice(2)
const backend = await initBackend(process.env.DEBERTA_LAB_BACKEND ?? 'wasm')
const config = { ...PRESETS[presetArg as PresetName], numHiddenLayers: 1, vocabSize: 16 }
const model = createSyntheticModel(config, { seed: 1, withHead: false })
const repeats = Number(repeatArg)

/** The batched-3-D variant of the same block (HF-like layout). */
function batchedAttention(m: DebertaModel, x: tf.Tensor2D): tf.Tensor2D {
  const { numAttentionHeads: NH, attentionHeadSize: D, layerNormEps } = m.config
  const T = x.shape[0]
  const W = 2 * T - 1
  const w = m.weights.layers[0].attention
  const tables = m.lengthTables(T)!.layers[0]
  const invScale = scoreScale(m.config)
  return tf.tidy(() => {
    const full = (heads: typeof w.query): { wT: tf.Tensor2D; b: tf.Tensor1D } => ({
      wT: tf.concat(heads.map((h) => h.wT), 1) as tf.Tensor2D, // [H, A]
      b: tf.concat(heads.map((h) => h.b!)) as tf.Tensor1D, // [A]
    })
    const split = (y: tf.Tensor2D): tf.Tensor3D => tf.transpose(tf.reshape(y, [T, NH, D]), [1, 0, 2]) as tf.Tensor3D // [T, A] → [NH, T, D]
    const q = tf.mul(split(linear(x, full(w.query))), invScale) // [NH, T, D]
    const k = split(linear(x, full(w.key))) // [NH, T, D]
    const v = split(linear(x, full(w.value))) // [NH, T, D]
    const kT = tf.transpose(k, [0, 2, 1]) // [NH, D, T]
    const keyDescT = tf.stack(tables.keyDescT!.map((a) => tf.tensor2d(a, [D, W]))) as tf.Tensor3D // [NH, D, W]
    const queryAsc = tf.stack(tables.queryAsc!.map((a) => tf.tensor2d(a, [W, D]))) as tf.Tensor3D // [NH, W, D]
    const shiftRows = (a: tf.Tensor3D): tf.Tensor3D => tf.stack(tf.unstack(a).map((h) => relShiftRowsOps(h as tf.Tensor2D))) as tf.Tensor3D
    const c2c = tf.matMul(q, kT) // [NH, T, T]
    const c2p = shiftRows(tf.matMul(q, keyDescT)) // [NH, T, W] → [NH, T, T]
    const p2cT = tf.transpose(tf.matMul(queryAsc, tf.mul(kT, invScale)), [0, 2, 1]) as tf.Tensor3D // [NH, W, T] → [NH, T, W]
    const p2c = tf.transpose(shiftRows(p2cT), [0, 2, 1]) // [NH, T, T]
    const probs = tf.softmax(tf.addN([c2c, c2p, p2c])) // [NH, T, T]
    const context = tf.reshape(tf.transpose(tf.matMul(probs, v), [1, 0, 2]), [T, NH * D]) as tf.Tensor2D // [NH, T, D] → [T, A]
    return layerNorm(tf.add(linear(context, w.output), x) as tf.Tensor2D, w.outputNorm, layerNormEps)
  })
}

function best(run: () => void): number {
  run()
  let min = Number.POSITIVE_INFINITY
  for (let r = 0; r < repeats; r++) {
    const start = performance.now()
    run()
    min = Math.min(min, performance.now() - start)
  }
  return min
}

console.log(`backend ${backend.name}, preset ${presetArg} (H=${config.hiddenSize}, NH=${config.numAttentionHeads}), min of ${repeats} runs`)
for (const T of seqArg.split(',').map(Number)) {
  const x = tf.tensor2d(fillNormalSeeded(new Float32Array(T * config.hiddenSize), T), [T, config.hiddenSize])
  const reference = hostTidy(() => model.runBlock('attention', 0, x).dataSync() as Float32Array)
  const check = (out: Float32Array): string => reference.reduce((m, v, i) => Math.max(m, Math.abs(v - out[i])), 0).toExponential(1)
  const perHead = best(() => hostTidy(() => model.runBlock('attention', 0, x).dataSync()))
  setFastKernels(false)
  const opsDiff = check(hostTidy(() => model.runBlock('attention', 0, x).dataSync() as Float32Array))
  const perHeadOps = best(() => hostTidy(() => model.runBlock('attention', 0, x).dataSync()))
  setFastKernels(true)
  const batchedDiff = check(hostTidy(() => batchedAttention(model, x).dataSync() as Float32Array))
  const batched = best(() => hostTidy(() => batchedAttention(model, x).dataSync()))
  console.log(
    JSON.stringify({ seq: T, perHeadMs: +perHead.toFixed(1), perHeadOpsMs: +perHeadOps.toFixed(1), opsMaxDiff: opsDiff, batchedMs: +batched.toFixed(1), batchedMaxDiff: batchedDiff }),
  )
  x.dispose()
}
model.dispose()
