// Tensor primitives of the model: linear layers, LayerNorm, activations, the padding mask, and three small
// kernels that the wasm backend otherwise runs slowly.
//
// Why custom kernels: on tfjs-backend-wasm 4.22 every Slice reads its whole input back from the wasm heap
// (HEAPU8.slice) before copying the slice, so the Transformer-XL rel-shift done with reshape/slice costs
// ~4 full copies per head (measured: 60 ms vs 2 ms for 12 heads at T = 512), and tf.gather runs at ~7M
// elements/s. The kernels below do the same arithmetic directly on the backend's memory: on wasm with the lab's
// wasm kernels (src/core/wasm-kernels.ts, SIMD, on tfjs's heap) where they load, else JS loops over heap views;
// on cpu JS loops over its typed arrays. The fused erf-GELU kernel runs on cpu (JS) and on wasm with the wasm
// kernels only: tfjs-wasm's Erf path (~15 ns a value here) beats a JS loop, the SIMD kernel beats both (4 ms
// against 25–45 ms for [512, 3072]).
// Every kernel has a plain tf-ops fallback (used on other backends, or when disabled for tests/benchmarks),
// and the tests check kernel == fallback.
//
// Shapes: T tokens, W = 2T − 1 relative distances, N rows, E width
import * as tf from '@tensorflow/tfjs-core'
import { tensorflowKernels } from './native-kernels'
import { FLOAT32_MIN, type Activation } from './config'
import { wasmGemmEnabled, wasmKernelsActive, wasmKernelsFor } from './wasm-kernels'

export interface Linear {
  /** weight transposed once at load: [in, out] (matMul(x, wT) is the fast 2-D path on wasm); [out, in] when outIn */
  wT: tf.Tensor2D
  b: tf.Tensor1D | null
  /**
   * wT holds the weight as PyTorch stores it, [out, in], and products transpose it inside the matmul (TF's MatMul
   * transpose_b). Only where that is measured faster: a split shard's W_1 on tensorflow (src/core/shard.ts).
   */
  outIn?: boolean
}

export interface Norm {
  gamma: tf.Tensor1D
  beta: tf.Tensor1D
}

// ---------------------------------------------------------------------------------------------
// Scopes

/**
 * tf.tidy for functions that return host data (typed arrays, plain objects): every tensor created inside is
 * disposed, also when fn throws. (tf.tidy would walk a returned Float32Array element by element.)
 */
export function hostTidy<T>(fn: () => T): T {
  tf.engine().startScope()
  try {
    return fn()
  } finally {
    tf.engine().endScope()
  }
}

// ---------------------------------------------------------------------------------------------
// Dense primitives

/**
 * y = x·Wᵀ + b with the pre-transposed weight: [N, in] → [N, out]. On tensorflow, outside gradient tapes, it
 * runs TF's MatMul and BiasAdd kernels directly (src/core/native-kernels.ts).
 */
export function linear(x: tf.Tensor2D, p: Linear): tf.Tensor2D {
  const native = tensorflowKernels()
  const transposeB = p.outIn === true
  if (native) {
    const y = native.matMul(x, p.wT, false, transposeB)
    if (!p.b) return y
    const out = native.biasAdd(y, p.b)
    y.dispose()
    return out
  }
  if (transposeB) {
    // not tf.fused.matMul: on wasm (tfjs 4.22) its bias lands on the wrong columns with transposeB (test/core/ops.test.ts)
    const y = tf.matMul(x, p.wT, false, true) as tf.Tensor2D
    if (!p.b) return y
    const out = tf.add(y, p.b) as tf.Tensor2D
    y.dispose()
    return out
  }
  const lab = wasmLinears(x, [p])
  if (lab) return lab[0]
  return p.b ? (tf.fused.matMul({ a: x, b: p.wT, bias: p.b }) as tf.Tensor2D) : tf.matMul(x, p.wT)
}

/**
 * [x·W_h + b_h for each of ps] (weights [in, width] of one shape) in one pass of the lab's GEMM on wasm
 * (src/core/wasm-gemm.ts: packed weights, helper threads), e.g. the heads' projections of the per-head
 * strategy; null where it does not run (other backends, gradient tapes, weights it cannot pack): then call
 * linear per Linear.
 */
export function wasmLinears(x: tf.Tensor2D, ps: Linear[]): tf.Tensor2D[] | null {
  if (ps.length === 0 || !useFastKernel(KERNEL_LINEAR) || tf.engine().isTapeOn() || x.dtype !== 'float32' || x.rank !== 2) return null
  const [rows, inputs] = x.shape
  if (rows === 0 || inputs === 0) return null
  for (const p of ps) {
    if (p.outIn || p.wT.dtype !== 'float32' || p.wT.shape[0] !== inputs || p.wT.shape[1] !== ps[0].wT.shape[1]) return null
    if (p.b && (p.b.dtype !== 'float32' || p.b.size !== p.wT.shape[1])) return null
  }
  if (!wasmGemmEnabled() || !wasmKernelsActive()) return null
  const kernels = wasmKernelsFor(tf.backend())!
  if (!kernels.prepareLinear(ps.map((p) => p.wT), ps.map((p) => p.b))) return null
  const named: Record<string, tf.Tensor> = { x }
  ps.forEach((p, h) => {
    named[`w${h}`] = p.wT
    if (p.b) named[`b${h}`] = p.b
  })
  const out = tf.engine().runKernel(KERNEL_LINEAR, named, { count: ps.length }) as tf.Tensor2D | tf.Tensor2D[]
  return Array.isArray(out) ? out : [out]
}

/** torch.nn.LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · γ + β (biased variance). */
export function layerNorm(x: tf.Tensor2D, p: Norm, eps: number): tf.Tensor2D {
  const native = tensorflowKernels()
  if (native) return native.layerNorm(x, p.gamma, p.beta, eps)
  if (useLayerNormKernel(x, p)) return tf.engine().runKernel(KERNEL_LAYER_NORM, { x, gamma: p.gamma, beta: p.beta }, { eps }) as tf.Tensor2D
  return layerNormOps(x, p, eps)
}

/** LayerNorm in tf ops (tf.moments: two passes, biased variance); the portable path. */
export function layerNormOps(x: tf.Tensor2D, p: Norm, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true)
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)))
    return tf.add(tf.mul(normed, p.gamma), p.beta) as tf.Tensor2D
  }) as tf.Tensor2D
}

/** Softmax over the last axis. On tensorflow, outside gradient tapes, TF's (or oneDNN's) kernel directly. */
export function softmax<R extends tf.Tensor>(x: R): R {
  const native = tensorflowKernels()
  return native ? native.softmax(x) : (tf.softmax(x) as R)
}

// HF ACT2FN constants (transformers/activations.py)
const GELU_TANH_COEFF = 0.044715
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI)
const QUICK_GELU_COEFF = 1.702
const RELU6_CAP = 6

/** HF ACT2FN[name](x). */
export function activation<T extends tf.Tensor>(x: T, act: Activation): T {
  return tf.tidy(() => {
    switch (act) {
      case 'gelu':
        return geluErf(x)
      case 'gelu_new':
      case 'gelu_pytorch_tanh':
      case 'gelu_fast': {
        // 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))
        const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), GELU_TANH_COEFF)), SQRT_2_OVER_PI)
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
      }
      case 'quick_gelu':
        return tf.mul(x, tf.sigmoid(tf.mul(x, QUICK_GELU_COEFF)))
      case 'relu':
        return tf.relu(x)
      case 'relu6':
        return tf.clipByValue(x, 0, RELU6_CAP)
      case 'tanh':
        return tf.tanh(x)
      case 'sigmoid':
        return tf.sigmoid(x)
      case 'silu':
      case 'swish':
        return tf.mul(x, tf.sigmoid(x))
      case 'mish':
        return tf.mul(x, tf.tanh(tf.softplus(x)))
      case 'linear':
        return tf.clone(x)
    }
  }) as T
}

/** Exact (erf) GELU, torch.nn.functional.gelu: 0.5·x·(1 + erf(x/√2)). */
export function geluErf<T extends tf.Tensor>(x: T): T {
  if (useGeluKernel()) return tf.engine().runKernel(KERNEL_GELU, { x }, { a: Math.SQRT1_2, b: 0.5 }) as T
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1))) as T
}

/**
 * The wasm LayerNorm kernel: on wasm with the wasm kernels, float32 operands of matching width, and no gradient
 * tape recording (it has no gradient; training takes the tf-ops path). Measured ([128, 768] / [512, 768]):
 * 0.07 / 0.27 ms against 0.93 / 1.7 ms for layerNormOps.
 */
function useLayerNormKernel(x: tf.Tensor2D, p: Norm): boolean {
  return (
    useFastKernel(KERNEL_LAYER_NORM) &&
    !tf.engine().isTapeOn() &&
    x.dtype === 'float32' &&
    p.gamma.dtype === 'float32' &&
    p.beta.dtype === 'float32' &&
    p.gamma.size === x.shape[1] &&
    p.beta.size === x.shape[1] &&
    wasmKernelsActive()
  )
}

/** The GELU kernel runs on cpu, and on wasm where the wasm kernels loaded. */
function useGeluKernel(): boolean {
  return useFastKernel(KERNEL_GELU) && (tf.getBackend() !== 'wasm' || wasmKernelsActive())
}

/**
 * u·(1 + erf(u)): the exact GELU of x = √2·u times √2, for weights with the constants folded in
 * (LayerWeights.geluFolded): three passes instead of five. (TF's Erfc, for a two-pass u·erfc(−u), measured
 * 2.2× slower than its Erf: no gain.)
 */
export function geluFolded<T extends tf.Tensor>(u: T): T {
  if (useGeluKernel()) return tf.engine().runKernel(KERNEL_GELU, { x: u }, { a: 1, b: 1 }) as T
  return tf.tidy(() => tf.mul(u, tf.add(tf.erf(u), 1))) as T
}

/**
 * Additive padding bias [T, T] for one sequence: 0 where mask[i] = mask[j] = 1, float32 min elsewhere
 * (HF DeBERTa: masked_fill(~(mask_i·mask_j), finfo.min) before softmax; adding min to a finite score rounds
 * to min exactly). keysOnly: BERT's extended mask, which masks keys only (mask[j] = 0).
 * null when nothing is padded.
 */
export function paddingBias(mask: ArrayLike<number>, keysOnly = false): tf.Tensor2D | null {
  const length = mask.length
  let padded = false
  for (let i = 0; i < length; i++) if (!mask[i]) padded = true
  if (!padded) return null
  const bias = new Float32Array(length * length)
  for (let i = 0; i < length; i++) {
    const rowValid = keysOnly || mask[i]
    for (let j = 0; j < length; j++) bias[i * length + j] = rowValid && mask[j] ? 0 : FLOAT32_MIN
  }
  return tf.tensor2d(bias, [length, length])
}

// ---------------------------------------------------------------------------------------------
// Rel-shift and row gather

/**
 * Transformer-XL rel-shift, row form: x [T, 2T−1] with column m ↔ distance δ = (T−1) − m (descending);
 * out[i, j] = x[i, T−1−i+j] = x[i, column of δ = i − j]. [T, 2T−1] → [T, T].
 * With `columns` ([2T − 1]), x holds fewer columns [T, R'] and distance m is read from column columns[m]
 * (tables whose distances share rows, src/core/relative-tables.ts compactColumns).
 */
export function relShiftRows(x: tf.Tensor2D, columns?: Int32Array): tf.Tensor2D {
  if (useFastKernel(KERNEL_REL_SHIFT)) return tf.engine().runKernel(KERNEL_REL_SHIFT, { x }, { mode: 'rows', map: columns ?? null } as unknown as tf.NamedAttrMap) as tf.Tensor2D
  if (!columns) return relShiftRowsOps(x)
  return tf.tidy(() => relShiftRowsOps(tf.gather(x, tf.tensor1d(columns, 'int32'), 1) as tf.Tensor2D)) // [T, R'] → [T, 2T − 1] → [T, T]
}

/**
 * Rel-shift, column form: x [2T−1, T] with row m ↔ distance δ = m − (T−1) (ascending);
 * out[i, j] = x[T−1+i−j, j] = x[row of δ = i − j, j]. [2T−1, T] → [T, T].
 * With `rows` ([2T − 1]), x holds fewer rows [R', T] and distance m is read from row rows[m].
 */
export function relShiftColumns(x: tf.Tensor2D, rows?: Int32Array): tf.Tensor2D {
  if (useFastKernel(KERNEL_REL_SHIFT)) return tf.engine().runKernel(KERNEL_REL_SHIFT, { x }, { mode: 'columns', map: rows ?? null } as unknown as tf.NamedAttrMap) as tf.Tensor2D
  if (!rows) return relShiftColumnsOps(x)
  return tf.tidy(() => relShiftColumnsOps(tf.gather(x, tf.tensor1d(rows, 'int32'), 0) as tf.Tensor2D)) // [R', T] → [2T − 1, T] → [T, T]
}

/** Pad/reshape/slice rel-shift (no gather); the portable path. */
export function relShiftRowsOps(x: tf.Tensor2D): tf.Tensor2D {
  const [length, width] = x.shape
  return tf.tidy(() => {
    if (length === 1) return tf.reshape(x, [1, 1]) // [1, 1]: the only distance is 0
    const flat = tf.reshape(x, [length * width]) // [T·W]
    // flat[T−1 + i·(W−1) + j] = x[i, T−1−i+j]
    const skewed = tf.reshape(tf.slice(flat, [length - 1], [length * (width - 1)]), [length, width - 1]) // [T, 2T−2]
    return tf.slice(skewed, [0, 0], [length, length]) // [T, T]
  }) as tf.Tensor2D
}

export function relShiftColumnsOps(x: tf.Tensor2D): tf.Tensor2D {
  // xᵀ[j, m] = x[m, j]; relShiftRows(xᵀ)[j, i] = x[T−1−j+i, j] = out[i, j]
  return tf.tidy(() => tf.transpose(relShiftRowsOps(tf.transpose(x)))) // [W, T] → [T, W] → [T, T] → [T, T]ᵀ
}

/** table[indices]: [N, E] → [n, E] (an embedding lookup without tf.gather). */
export function gatherRows(table: tf.Tensor2D, indices: ArrayLike<number>): tf.Tensor2D {
  const list = Array.from(indices)
  if (useFastKernel(KERNEL_GATHER_ROWS)) {
    return tf.engine().runKernel(KERNEL_GATHER_ROWS, { x: table }, { indices: list }) as tf.Tensor2D
  }
  return tf.tidy(() => tf.gather(table, tf.tensor1d(list, 'int32')) as tf.Tensor2D)
}

// ---------------------------------------------------------------------------------------------
// Kernel plumbing

const KERNEL_REL_SHIFT = 'DebertaLabRelShift'
const KERNEL_GATHER_ROWS = 'DebertaLabGatherRows'
const KERNEL_GELU = 'DebertaLabGeluErf'
const KERNEL_LAYER_NORM = 'DebertaLabLayerNorm'
const KERNEL_LINEAR = 'DebertaLabLinear'
const FAST_BACKENDS = ['wasm', 'cpu'] as const
type FastBackend = (typeof FAST_BACKENDS)[number]

let fastKernelsEnabled = true

/** Turns the custom kernels off (tf-ops fallbacks everywhere); for tests and benchmarks. Returns the previous value. */
export function setFastKernels(enabled: boolean): boolean {
  const previous = fastKernelsEnabled
  fastKernelsEnabled = enabled
  return previous
}

function useFastKernel(name: string): boolean {
  return fastKernelsEnabled && tf.getKernel(name, tf.getBackend()) !== undefined
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array
}
interface CpuBackendLike {
  data: { get(dataId: unknown): { values?: unknown } }
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo
}

/**
 * Runs `fill(inputs, out)` with views of the inputs' float32 data and the output's storage, without
 * copying the inputs. On wasm the input views are taken after the output is allocated (malloc may grow
 * and detach the heap).
 */
function runOnMemory(
  backendName: FastBackend,
  backend: unknown,
  inputs: tf.TensorInfo[],
  outShape: number[],
  fill: (sources: Float32Array[], out: Float32Array) => void,
): tf.TensorInfo {
  for (const input of inputs) {
    if (input.dtype !== 'float32') throw new Error(`fast kernel input must be float32, got ${input.dtype}`)
  }
  if (backendName === 'wasm') {
    const wasm = backend as WasmBackendLike
    const out = wasm.makeOutput(outShape, 'float32')
    const dst = wasm.typedArrayFromHeap(out)
    fill(
      inputs.map((x) => wasm.typedArrayFromHeap(x)),
      dst,
    )
    return out
  }
  const cpu = backend as CpuBackendLike
  const size = outShape.reduce((a, b) => a * b, 1)
  const dst = new Float32Array(size)
  fill(
    inputs.map((x) => cpu.data.get(x.dataId).values as Float32Array),
    dst,
  )
  return cpu.makeTensorInfo(outShape, 'float32', dst)
}

function relShiftFill(mode: 'rows' | 'columns', shape: number[], src: Float32Array, dst: Float32Array, map: Int32Array | null): void {
  if (mode === 'rows') {
    const [length, width] = shape
    if (map) {
      // out[i, j] = x[i, map[T−1−i+j]]
      for (let i = 0; i < length; i++) {
        const from = i * width
        const to = i * length
        const first = length - 1 - i
        for (let j = 0; j < length; j++) dst[to + j] = src[from + map[first + j]]
      }
      return
    }
    for (let i = 0; i < length; i++) {
      const start = i * width + length - 1 - i
      dst.set(src.subarray(start, start + length), i * length)
    }
  } else {
    const [, length] = shape
    if (map) {
      // out[i, j] = x[map[T−1+i−j], j]
      for (let i = 0; i < length; i++) {
        const row = i * length
        const first = length - 1 + i
        for (let j = 0; j < length; j++) dst[row + j] = src[map[first - j] * length + j]
      }
      return
    }
    for (let i = 0; i < length; i++) {
      const row = i * length
      // src[(T−1+i−j)·T + j] walks back one row and forward one column per j
      let s = (length - 1 + i) * length
      for (let j = 0; j < length; j++, s -= length - 1) dst[row + j] = src[s]
    }
  }
}

/** A rel-shift map must give each of the 2T − 1 distances a column (row) of x. */
function checkRelShiftMap(map: Int32Array, length: number, available: number): void {
  if (map.length !== 2 * length - 1) throw new Error(`relShift: the distance map has ${map.length} entries, ${2 * length - 1} needed`)
  for (let m = 0; m < map.length; m++) {
    const k = map[m]
    if (!Number.isInteger(k) || k < 0 || k >= available) throw new Error(`relShift: distance ${m} maps to ${k}, outside [0, ${available})`)
  }
}

// Abramowitz & Stegun 7.1.26, the erf of tfjs-backend-cpu (|error| ≤ 1.5e-7)
const { ERF_P, ERF_A1, ERF_A2, ERF_A3, ERF_A4, ERF_A5 } = tf.backend_util

/** dst = b·x·(1 + erf(a·x)), a > 0 */
function geluFill(src: Float32Array, dst: Float32Array, a: number, b: number): void {
  for (let k = 0; k < src.length; k++) {
    const x = src[k]
    const v = Math.abs(x) * a
    const t = 1 / (1 + ERF_P * v)
    const erfAbs = 1 - ((((ERF_A5 * t + ERF_A4) * t + ERF_A3) * t + ERF_A2) * t + ERF_A1) * t * Math.exp(-v * v)
    dst[k] = b * x * (1 + (x < 0 ? -erfAbs : erfAbs))
  }
}

/** The 2T − 1 identity distances of an uncompacted rel-shift (column / row m holds distance m). */
function identityMap(length: number): Int32Array {
  return Int32Array.from({ length: 2 * length - 1 }, (_, m) => m)
}

interface GeluAttrs {
  /** out = b·x·(1 + erf(a·x)), a > 0 */
  a: number
  b: number
}

function geluAttrs(attrs: unknown): GeluAttrs {
  const { a, b } = (attrs ?? {}) as Partial<GeluAttrs>
  if (typeof a !== 'number' || !(a > 0) || typeof b !== 'number' || !Number.isFinite(b)) throw new Error(`gelu: a = ${a}, b = ${b}`)
  return { a, b }
}

function registerFastKernels(): void {
  for (const backendName of FAST_BACKENDS) {
    if (!tf.getKernel(KERNEL_REL_SHIFT, backendName)) {
      tf.registerKernel({
        kernelName: KERNEL_REL_SHIFT,
        backendName,
        kernelFunc: ({ inputs, attrs, backend }) => {
          const x = inputs.x as tf.TensorInfo
          const { mode, map } = attrs as unknown as { mode: 'rows' | 'columns'; map: Int32Array | null }
          const length = mode === 'rows' ? x.shape[0] : x.shape[1]
          if (map) checkRelShiftMap(map, length, mode === 'rows' ? x.shape[1] : x.shape[0])
          const kernels = backendName === 'wasm' ? wasmKernelsFor(backend) : null
          if (kernels && x.dtype === 'float32') {
            if (!map && x.shape[mode === 'rows' ? 1 : 0] !== 2 * length - 1) throw new Error(`relShift: ${x.shape} is not [T, 2T − 1] / [2T − 1, T]`)
            const out = (backend as WasmBackendLike).makeOutput([length, length], 'float32')
            if (mode === 'rows') kernels.relShiftRows(x, out, map ?? identityMap(length))
            else kernels.relShiftColumns(x, out, map ?? identityMap(length))
            return out
          }
          return runOnMemory(backendName, backend, [x], [length, length], ([src], dst) => relShiftFill(mode, x.shape, src, dst, map ?? null))
        },
      })
    }
    if (!tf.getKernel(KERNEL_GATHER_ROWS, backendName)) {
      tf.registerKernel({
        kernelName: KERNEL_GATHER_ROWS,
        backendName,
        kernelFunc: ({ inputs, attrs, backend }) => {
          const x = inputs.x as tf.TensorInfo
          const indices = (attrs as { indices: number[] }).indices
          const [rows, width] = x.shape
          for (const r of indices) {
            if (!Number.isInteger(r) || r < 0 || r >= rows) throw new Error(`gatherRows: index ${r} outside [0, ${rows})`)
          }
          return runOnMemory(backendName, backend, [x], [indices.length, width], ([src], dst) => {
            indices.forEach((r, k) => dst.set(src.subarray(r * width, (r + 1) * width), k * width))
          })
        },
      })
    }
    if (backendName === 'wasm' && !tf.getKernel(KERNEL_LAYER_NORM, backendName)) {
      tf.registerKernel({
        kernelName: KERNEL_LAYER_NORM,
        backendName,
        kernelFunc: ({ inputs, attrs, backend }) => {
          const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo }
          const { eps } = attrs as { eps: number }
          const kernels = wasmKernelsFor(backend)
          if (!kernels) throw new Error('layerNorm: the wasm kernels are not loaded')
          const width = x.shape[x.shape.length - 1]
          for (const t of [x, gamma, beta]) if (t.dtype !== 'float32') throw new Error(`layerNorm: ${t.dtype} operand, float32 needed`)
          if (gamma.shape.reduce((a, b) => a * b, 1) !== width || beta.shape.reduce((a, b) => a * b, 1) !== width) {
            throw new Error(`layerNorm: gamma ${gamma.shape} / beta ${beta.shape} do not match width ${width}`)
          }
          const out = (backend as WasmBackendLike).makeOutput([...x.shape], 'float32')
          kernels.layerNorm(x, gamma, beta, out, eps)
          return out
        },
      })
    }
    if (backendName === 'wasm' && !tf.getKernel(KERNEL_LINEAR, backendName)) {
      tf.registerKernel({
        kernelName: KERNEL_LINEAR,
        backendName,
        kernelFunc: ({ inputs, attrs, backend }) => {
          const { count } = attrs as { count: number }
          const x = inputs.x as tf.TensorInfo
          const weights = Array.from({ length: count }, (_, h) => inputs[`w${h}`] as tf.TensorInfo)
          const biases = Array.from({ length: count }, (_, h) => (inputs[`b${h}`] as tf.TensorInfo | undefined) ?? null)
          const kernels = wasmKernelsFor(backend)
          if (!kernels) throw new Error('linear: the wasm kernels are not loaded')
          for (const t of [x, ...weights, ...biases]) if (t && t.dtype !== 'float32') throw new Error(`linear: ${t.dtype} operand, float32 needed`)
          if (x.shape.length !== 2 || weights.some((w) => w.shape[0] !== x.shape[1])) throw new Error(`linear: x ${x.shape} does not match the weights`)
          if (!kernels.prepareLinear(weights, biases)) throw new Error('linear: the weights could not be packed')
          const outs = weights.map((w) => (backend as WasmBackendLike).makeOutput([x.shape[0], w.shape[1]], 'float32'))
          if (x.shape[0] > 0) kernels.linear(x, weights, biases, outs)
          return outs
        },
      })
    }
    if (!tf.getKernel(KERNEL_GELU, backendName)) {
      tf.registerKernel({
        kernelName: KERNEL_GELU,
        backendName,
        kernelFunc: ({ inputs, attrs, backend }) => {
          const x = inputs.x as tf.TensorInfo
          const { a, b } = geluAttrs(attrs)
          const kernels = backendName === 'wasm' ? wasmKernelsFor(backend) : null
          if (kernels && x.dtype === 'float32') {
            const out = (backend as WasmBackendLike).makeOutput([...x.shape], 'float32')
            kernels.gelu(x, out, a, b)
            return out
          }
          return runOnMemory(backendName, backend, [x], [...x.shape], ([src], dst) => geluFill(src, dst, a, b))
        },
      })
    }
  }
}

/**
 * d/dx of b·x·(1 + erf(a·x)): b·(1 + erf(a·x)) + b·x·a·(2/√π)·exp(−a²x²) (training on cpu and wasm). For the GELU
 * (a = 1/√2, b = 1/2): Φ(x) + x·φ(x).
 */
function registerFastKernelGradients(): void {
  if (tf.getGradient(KERNEL_GELU)) return
  tf.registerGradient({
    kernelName: KERNEL_GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved
      const { a, b } = geluAttrs(attrs)
      return {
        x: () =>
          tf.mul(
            dy as tf.Tensor,
            tf.add(tf.mul(tf.add(tf.erf(tf.mul(x, a)), 1), b), tf.mul(x, tf.mul(tf.exp(tf.mul(tf.square(x), -a * a)), (b * a * 2) / Math.sqrt(Math.PI)))),
          ),
      }
    },
  })
}

registerFastKernels()
registerFastKernelGradients()
