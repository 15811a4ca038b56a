// TensorFlow's own kernels, called directly on the tensorflow backend (tfjs-node), where tfjs's generic kernels
// choose slower ones or add calls. Measured here (2 cores, AVX-512, TF 2.21 oneDNN; micro-benchmarks, medians):
// a 2-D [512, 768]·[768, 3072] product takes 15.6 ms as tfjs's BatchMatMulV2 (what tf.matMul runs on tfjs-node,
// also for 2-D operands) and 8.3 ms as TF's MatMul; tfjs's fused matMul is a matMul plus a broadcasting Add,
// where TF's BiasAdd is one native call; tfjs's LayerNorm (moments, with three Casts) takes 0.72 ms at
// [128, 768] and 2.0 ms at [512, 768], the same arithmetic in nine TF calls 0.47 / 1.56 ms (one thread),
// bit-identical. Elsewhere (wasm, cpu), and while a gradient tape records (training: these calls have no
// gradients), this module answers null and callers use tfjs.
//
// No import of tfjs-node: the backend object tfjs-node registered is duck-typed (executeSingleOutput + binding
// constants, public API of its NodeJSKernelBackend). If that shape is absent the lab runs tfjs's kernels.
import * as tf from '@tensorflow/tfjs-core'

interface OpAttr {
  name: string
  type: number
  value: unknown
}

interface NodeBinding {
  TF_ATTR_STRING: number
  TF_ATTR_BOOL: number
  TF_ATTR_TYPE: number
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
    typeof binding.TF_FLOAT === 'number' &&
    typeof binding.TF_INT32 === 'number'
  )
}

function makeKernels(backend: NodeKernelBackend): TensorflowKernels {
  const { TF_ATTR_BOOL, TF_ATTR_STRING, TF_ATTR_TYPE, TF_FLOAT, TF_INT32 } = backend.binding
  const floatType: OpAttr = { name: 'T', type: TF_ATTR_TYPE, value: TF_FLOAT }
  const meanAttrs: OpAttr[] = [floatType, { name: 'Tidx', type: TF_ATTR_TYPE, value: TF_INT32 }, { name: 'keep_dims', type: TF_ATTR_BOOL, value: true }]
  const float32 = (t: tf.Tensor, op: string): void => {
    if (t.dtype !== 'float32') throw new Error(`${op}: float32 expected, got ${t.dtype}`)
  }
  const run = (op: string, inputs: tf.TensorInfo[], attrs: OpAttr[] = [floatType]): tf.Tensor => backend.executeSingleOutput(op, attrs, inputs)
  return {
    layerNorm(x, gamma, beta, eps) {
      float32(x, 'LayerNorm')
      return tf.tidy(() => {
        const lastAxis = tf.tensor1d([x.rank - 1], 'int32')
        const mean = run('Mean', [x, lastAxis], meanAttrs) // [N, 1]
        const centered = run('Sub', [x, mean])
        const variance = run('Mean', [run('Square', [centered]), lastAxis], meanAttrs) // [N, 1]
        const inv = run('Rsqrt', [run('AddV2', [variance, tf.scalar(eps)])])
        return run('AddV2', [run('Mul', [run('Mul', [centered, inv]), gamma]), beta]) as tf.Tensor2D
      })
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
