// TensorFlow's own kernels, called directly on the tensorflow backend (tfjs-node), where tfjs's generic kernels
// choose slower ones or add calls. Measured here (2 cores, AVX-512, TF 2.21 oneDNN; micro-benchmarks, medians):
// a 2-D [512, 768]·[768, 3072] product takes 15.6 ms as tfjs's BatchMatMulV2 (what tf.matMul runs on tfjs-node,
// also for 2-D operands) and 8.3 ms as TF's MatMul; tfjs's fused matMul is a matMul plus a broadcasting Add,
// where TF's BiasAdd is one native call; tfjs's LayerNorm (moments, with three Casts) takes 0.72 ms at
// [128, 768] and 2.0 ms at [512, 768], the same arithmetic in nine TF calls 0.47 / 1.56 ms (one thread),
// bit-identical. Elsewhere (wasm, cpu), and while a gradient tape records (training: these calls have no
// gradients), this module answers null and callers use tfjs.
//
// oneDNN's LayerNorm and Softmax: TensorFlow builds with oneDNN (Linux x86 wheels and libtensorflow since 2.5)
// register _MklLayerNorm and _MklSoftmax as CPU kernels that take plain tensors. Measured here (one thread,
// medians): LayerNorm [512, 768] 0.21 ms against 1.56 ms for the nine calls above; Softmax [4, 512, 512] 0.64 ms
// against 1.40 ms for TF's Softmax. They are internal ops, so each is used only after a probe at first use:
// it must run (with or without the _kernel label TF's eager runtime expects; the label differs between
// versions) and give the plain computation's numbers on a probe input (offset rows for the variance, masked and
// fully masked rows for the softmax). Otherwise, or with DEBERTA_LAB_ONEDNN=0, the plain calls run.
//
// No import of tfjs-node: the backend object tfjs-node registered is duck-typed (executeSingleOutput + binding
// constants, public API of its NodeJSKernelBackend). If that shape is absent the lab runs tfjs's kernels.
import * as tf from '@tensorflow/tfjs-core'
import { releaseBuffer } from './backend-env'

interface OpAttr {
  name: string
  type: number
  value: unknown
}

interface NodeBinding {
  TF_ATTR_STRING: number
  TF_ATTR_BOOL: number
  TF_ATTR_TYPE: number
  TF_ATTR_FLOAT: number
  TF_FLOAT: number
  TF_INT32: number
}

interface NodeKernelBackend {
  binding: NodeBinding
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.Tensor
}

export interface TensorflowKernels {
  /** TF MatMul: a·b of 2-D float32 tensors, either operand transposed inside the kernel */
  matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA?: boolean, transposeB?: boolean): tf.Tensor2D
  /** TF BiasAdd: x + bias along the last axis (bias 1-D, float32) */
  biasAdd<R extends tf.Tensor>(x: R, bias: tf.Tensor1D): R
  /** torch.nn.LayerNorm over the last axis of x [N, H]: (x − mean) · rsqrt(var + eps) · γ + β, biased variance */
  layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D
  /**
   * TF MatrixDiagPartV3 over the last two axes of x [X, R, C]: the diagonals k = high, high − 1, …, low
   * (element [r, r + k]) as rows, [X, high − low + 1, R], each diagonal from its first row; every one of them must
   * have R elements (C ≥ R + high).
   */
  diagonals(x: tf.Tensor3D, low: number, high: number): tf.Tensor3D
  /** softmax over the last axis (oneDNN's where it passed its probe, else TF's Softmax) */
  softmax<R extends tf.Tensor>(x: R): R
  /** which oneDNN kernels passed their probe and are used */
  readonly oneDnn: { layerNorm: boolean; softmax: boolean }
}

let cached: { backend: unknown; kernels: TensorflowKernels | null } | undefined

/**
 * tfjs-node keeps a new tensor's values in JS memory until an op first reads it (NodeJSKernelBackend's
 * getInputTensorIds copies them into a TensorFlow tensor then and drops the JS copy), so a model's first forward
 * copies all of its weights: base at T = 128, ~0.8 s of a ~1.1 s first forward (the word embeddings alone 0.27 s).
 * Makes that copy now (while a model loads) for `tensors`. Returns how many it handed over: 0 on other backends, or
 * where tfjs-node's backend has no such method (the copy then happens at first use, as before).
 */
export function residentInTensorflow(tensors: readonly tf.Tensor[]): number {
  if (tf.getBackend() !== 'tensorflow') return 0
  const backend = tf.backend() as { getInputTensorIds?: (tensors: tf.Tensor[]) => unknown }
  if (typeof backend.getInputTensorIds !== 'function') return 0
  const live = tensors.filter((t) => !t.isDisposed)
  for (let i = 0; i < live.length; i += 64) backend.getInputTensorIds(live.slice(i, i + 64))
  return live.length
}

/**
 * t's values, read to be used once: `done()` frees the array's memory at once (releaseBuffer) when it is a copy
 * made for this read — tfjs-node reading a tensor TensorFlow holds into a new ArrayBuffer — instead of leaving it
 * to the GC. Elsewhere (other backends, or values tfjs-node still keeps in JS) the array may be the backend's own
 * storage, and done() leaves it alone. Use the values before done().
 */
export function readOnce(t: tf.Tensor): { values: Float32Array | Int32Array | Uint8Array; done(): void } {
  const backend = tf.getBackend() === 'tensorflow' ? (tf.backend() as { tensorMap?: { get(id: object): { values?: unknown } | undefined } }) : null
  const copy = backend?.tensorMap?.get(t.dataId)?.values === null
  const values = t.dataSync() as Float32Array | Int32Array | Uint8Array
  return { values, done: () => void (copy && releaseBuffer(values.buffer)) }
}

/** The direct kernels when the current backend is tfjs-node's, else null. */
export function tensorflowKernels(): TensorflowKernels | null {
  if (tf.getBackend() !== 'tensorflow' || tf.engine().isTapeOn()) return null
  const backend = tf.backend() as unknown
  if (cached && cached.backend === backend) return cached.kernels
  const kernels = isNodeKernelBackend(backend) ? makeKernels(backend) : null
  cached = { backend, kernels }
  return kernels
}

function isNodeKernelBackend(b: unknown): b is NodeKernelBackend {
  const candidate = b as Partial<NodeKernelBackend> | null
  const binding = candidate?.binding as Partial<NodeBinding> | undefined
  return (
    typeof candidate?.executeSingleOutput === 'function' &&
    typeof binding?.TF_ATTR_BOOL === 'number' &&
    typeof binding.TF_ATTR_STRING === 'number' &&
    typeof binding.TF_ATTR_TYPE === 'number' &&
    typeof binding.TF_ATTR_FLOAT === 'number' &&
    typeof binding.TF_FLOAT === 'number' &&
    typeof binding.TF_INT32 === 'number'
  )
}

/** TensorFlow's float32 value nearest −∞: what padding masks add to a score (src/core/ops.ts paddingBias) */
const PROBE_MASK = -3.4028234663852886e38

/**
 * The first of `variants` whose `run` succeeds and returns `expected` within `tolerance` (max abs difference),
 * else null. A variant that throws or gives other numbers is passed over.
 */
export function firstMatchingVariant<V>(variants: readonly V[], run: (variant: V) => ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): V | null {
  for (const variant of variants) {
    let got: ArrayLike<number>
    try {
      got = run(variant)
    } catch {
      continue
    }
    if (got.length !== expected.length) continue
    let ok = true
    for (let i = 0; i < got.length && ok; i++) ok = Math.abs(got[i] - expected[i]) <= tolerance // NaN fails
    if (ok) return variant
  }
  return null
}

function makeKernels(backend: NodeKernelBackend): TensorflowKernels {
  const { TF_ATTR_BOOL, TF_ATTR_FLOAT, TF_ATTR_STRING, TF_ATTR_TYPE, TF_FLOAT, TF_INT32 } = backend.binding
  const floatType: OpAttr = { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT }
  const meanAttrs: OpAttr[] = [floatType, { name: 'Tidx', type: TF_ATTR_TYPE, value: TF_INT32 }, { name: 'keep_dims', type: TF_ATTR_BOOL, value: true }]
  const float32 = (t: tf.Tensor, op: string): void => {
    if (t.dtype !== 'float32') throw new Error(`${op}: float32 expected, got ${t.dtype}`)
  }
  const run = (op: string, inputs: tf.TensorInfo[], attrs: OpAttr[] = [floatType]): tf.Tensor => backend.executeSingleOutput(op, attrs, inputs)

  const plainLayerNorm = (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D =>
    tf.tidy(() => {
      const lastAxis = tf.tensor1d([x.rank - 1], 'int32')
      const mean = run('Mean', [x, lastAxis], meanAttrs) // [N, 1]
      const centered = run('Sub', [x, mean])
      const variance = run('Mean', [run('Square', [centered]), lastAxis], meanAttrs) // [N, 1]
      const inv = run('Rsqrt', [run('AddV2', [variance, tf.scalar(eps)])])
      return run('AddV2', [run('Mul', [run('Mul', [centered, inv]), gamma]), beta]) as tf.Tensor2D
    })
  const oneDnnLayerNorm = (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number, label: OpAttr[]): tf.Tensor2D =>
    run('_MklLayerNorm', [x, gamma, beta], [floatType, ...label, { name: 'epsilon', type: TF_ATTR_FLOAT, value: eps }]) as tf.Tensor2D
  const oneDnnSoftmax = <R extends tf.Tensor>(x: R, label: OpAttr[]): R => run('_MklSoftmax', [x], [floatType, ...label]) as R

  // The _kernel label TF's eager runtime gives _Mkl ops, or none: whichever the build's kernel is registered with.
  const labels: OpAttr[][] = ['', 'MklNameChangeOp'].map((value) => [{ name: '_kernel', type: TF_ATTR_STRING, value }]).concat([[]])
  const enabled = (): boolean => typeof process === 'undefined' || process.env.DEBERTA_LAB_ONEDNN !== '0' // read at each call: tests and benchmarks switch it
  let layerNormLabel: OpAttr[] | null | undefined // undefined: not probed yet
  let softmaxLabel: OpAttr[] | null | undefined
  // each probe's tensors are freed by a tidy (which returns tensors only, so the result leaves through `found`)
  const probeLayerNorm = (): OpAttr[] | null => {
    let found: OpAttr[] | null = null
    tf.tidy(() => {
      const [N, H] = [5, 48]
      const values = Array.from({ length: N * H }, (_, i) => 10 * (i % H === 0 ? -1 : 1) * Math.floor(i / H) + 3 * Math.sin(0.7 * i))
      const x = tf.tensor2d(values, [N, H]) // rows offset by 0, ±10, ±20 …: a one-pass variance would show
      const gamma = tf.tensor1d(Array.from({ length: H }, (_, i) => 0.5 + Math.cos(i)))
      const beta = tf.tensor1d(Array.from({ length: H }, (_, i) => 0.1 * i - 2))
      const expected = plainLayerNorm(x, gamma, beta, 1e-5).dataSync()
      found = firstMatchingVariant(labels, (label) => oneDnnLayerNorm(x, gamma, beta, 1e-5, label).dataSync(), expected, 1e-5)
    })
    return found
  }
  const probeSoftmax = (): OpAttr[] | null => {
    let found: OpAttr[] | null = null
    tf.tidy(() => {
      const [B, R, C] = [2, 4, 7]
      const values = Array.from({ length: B * R * C }, (_, i) => 4 * Math.sin(1.3 * i) + (i % 11 === 0 ? 80 : 0))
      const row = (b: number, r: number): number => (b * R + r) * C
      for (let j = 0; j < C; j++) values[row(0, 1) + j] = PROBE_MASK // a fully masked row (uniform)
      for (let j = 0; j < C; j += 2) values[row(1, 2) + j] += PROBE_MASK // some keys masked
      const x = tf.tensor3d(values, [B, R, C])
      const expected = run('Softmax', [x]).dataSync()
      found = firstMatchingVariant(labels, (label) => oneDnnSoftmax(x, label).dataSync(), expected, 1e-6)
    })
    return found
  }
  const layerNormKernel = (): OpAttr[] | null => {
    if (!enabled()) return null
    if (layerNormLabel === undefined) layerNormLabel = probeLayerNorm()
    return layerNormLabel
  }
  const softmaxKernel = (): OpAttr[] | null => {
    if (!enabled()) return null
    if (softmaxLabel === undefined) softmaxLabel = probeSoftmax()
    return softmaxLabel
  }

  return {
    get oneDnn() {
      return { layerNorm: layerNormKernel() !== null, softmax: softmaxKernel() !== null }
    },
    layerNorm(x, gamma, beta, eps) {
      float32(x, 'LayerNorm')
      const label = layerNormKernel()
      return label ? oneDnnLayerNorm(x, gamma, beta, eps, label) : plainLayerNorm(x, gamma, beta, eps)
    },
    softmax(x) {
      float32(x, 'Softmax')
      const label = softmaxKernel()
      return label ? oneDnnSoftmax(x, label) : (run('Softmax', [x]) as typeof x)
    },
    matMul(a, b, transposeA = false, transposeB = false) {
      float32(a, 'MatMul')
      float32(b, 'MatMul')
      const attrs: OpAttr[] = [
        floatType,
        { name: 'transpose_a', type: TF_ATTR_BOOL, value: transposeA },
        { name: 'transpose_b', type: TF_ATTR_BOOL, value: transposeB },
      ]
      return backend.executeSingleOutput('MatMul', attrs, [a, b]) as tf.Tensor2D
    },
    diagonals(x, low, high) {
      float32(x, 'MatrixDiagPartV3')
      const [, R, C] = x.shape
      if (!(Number.isInteger(low) && Number.isInteger(high) && 0 <= low && low <= high && C >= R + high)) {
        throw new Error(`MatrixDiagPartV3: diagonals ${low}…${high} of a [${R}, ${C}] matrix are not all full`)
      }
      return tf.tidy(() => {
        const band = tf.tensor1d([low, high], 'int32')
        const attrs: OpAttr[] = [floatType, { name: 'align', type: TF_ATTR_STRING, value: 'LEFT_LEFT' }]
        // one diagonal (low = high) comes back without its axis
        return tf.reshape(backend.executeSingleOutput('MatrixDiagPartV3', attrs, [x, band, tf.scalar(0)]), [x.shape[0], high - low + 1, R]) as tf.Tensor3D
      })
    },
    biasAdd(x, bias) {
      float32(x, 'BiasAdd')
      float32(bias, 'BiasAdd')
      return backend.executeSingleOutput('BiasAdd', [floatType], [x, bias]) as typeof x
    },
  }
}
