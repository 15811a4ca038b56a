// The lab's wasm kernels (src/core/wasm-kernels.wat) bound to the wasm backend's heap: GELU, the two rel-shifts and
// LayerNorm run there, on tfjs's tensors in place, instead of tfjs-wasm's Erf (slow: ~15 ns a value here) or JS loops over
// heap views. ops.ts calls them from its custom kernels; where they cannot load (a wasm engine without SIMD: tfjs
// then runs its non-SIMD build, or a backend whose memory is not reachable) wasmKernelsFor answers null and ops.ts
// keeps its JS / tf-ops paths, and wasmKernelsStatus says why.
//
// One instance per backend object (tfjs builds a new one after tf.removeBackend / re-registration), sharing
// that backend's memory: the threaded SIMD build's memory is shared (SharedArrayBuffer), the single-threaded
// builds' is not, and a module must import a memory with the same sharing, hence the two binaries.
import * as tf from '@tensorflow/tfjs-core'
import { WASM_KERNELS_PLAIN_MEMORY, WASM_KERNELS_SHARED_MEMORY } from './wasm-kernels-binary'

/** The constant table of the gelu kernel, in the order wasm-kernels.wat reads it (one v128 splat each). */
const GELU_CONSTANTS: Array<['f32' | 'i32', number]> = [
  ['f32', 1],
  ['f32', 0.3275911], // A&S 7.1.26 p
  ['f32', 1.061405429], // a5
  ['f32', -1.453152027], // a4
  ['f32', 1.421413741], // a3
  ['f32', -0.284496736], // a2
  ['f32', 0.254829592], // a1
  ['f32', -87], // smallest exp argument (2^k stays normal)
  ['f32', Math.LOG2E],
  ['f32', 12582912], // 1.5·2^23
  ['i32', 0xb4c0007f | 0], // 127 − bits(1.5·2^23)
  ['f32', 0.693359375], // ln 2, high part (Cephes)
  ['f32', -2.1219444e-4], // ln 2, low part
  ['f32', 1.98756915e-4], // Cephes expf polynomial, r^5 … r^0 of E(r)
  ['f32', 1.3981999507e-3],
  ['f32', 8.3334519073e-3],
  ['f32', 4.1665795894e-2],
  ['f32', 1.6666665459e-1],
  ['f32', 5.0000001201e-1],
  ['i32', 0x80000000 | 0], // sign bit
]

interface KernelExports {
  gelu(src: number, dst: number, n: number, a: number, b: number, consts: number): void
  relShiftRows(src: number, dst: number, cols: number, t: number, width: number): void
  relShiftColumns(src: number, dst: number, rows: number, t: number): void
  layerNorm(src: number, dst: number, rows: number, width: number, gamma: number, beta: number, eps: number): void
}

// The WebAssembly JS API (this project's Node typings do not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer
}
const { WebAssembly: webAssembly } = globalThis as unknown as {
  WebAssembly: {
    Module: new (bytes: Uint8Array) => object
    Instance: new (module: object, imports: object) => { exports: KernelExports }
  }
}

/** What ops.ts needs of tfjs-backend-wasm's BackendWasm (duck-typed; tfjs-backend-wasm 4.22). */
interface WasmBackendShape {
  wasm: {
    wasmMemory?: WasmMemory
    asm?: { memory?: WasmMemory }
    _malloc(bytes: number): number
    _free(pointer: number): void
  }
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined }
}

export interface WasmKernels {
  /** out = b·x·(1 + erf(a·x)) elementwise (float32, same size) */
  gelu(x: tf.TensorInfo, out: tf.TensorInfo, a: number, b: number): void
  /** out[i, j] = x[i, columns[T−1−i+j]], x [T, width], out [T, T]; columns checked by the caller */
  relShiftRows(x: tf.TensorInfo, out: tf.TensorInfo, columns: ArrayLike<number>): void
  /** out[i, j] = x[rows[T−1+i−j], j], x [R, T], out [T, T]; rows checked by the caller */
  relShiftColumns(x: tf.TensorInfo, out: tf.TensorInfo, rows: ArrayLike<number>): void
  /** out = LayerNorm over the last axis of x [N, E] with gamma, beta [E] (float32) */
  layerNorm(x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, out: tf.TensorInfo, eps: number): void
}

let enabled = true
const byBackend = new WeakMap<object, WasmKernels | null>()
let lastFailure: string | null = null

/** Turns the wasm kernels off (ops.ts then runs its JS loops); for tests and benchmarks. Returns the previous value. */
export function setWasmKernels(on: boolean): boolean {
  const previous = enabled
  enabled = on
  return previous
}

/** null when the kernels run, else why they do not (the last backend they were bound to). */
export function wasmKernelsStatus(): string | null {
  return lastFailure
}

function decode(base64: string): Uint8Array {
  const text = atob(base64)
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}

function bind(backend: WasmBackendShape): WasmKernels {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory
  if (!memory || typeof backend.wasm._malloc !== 'function' || typeof backend.dataIdMap?.get !== 'function') {
    throw new Error('the wasm backend does not expose its memory')
  }
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer
  const module = new webAssembly.Module(decode(shared ? WASM_KERNELS_SHARED_MEMORY : WASM_KERNELS_PLAIN_MEMORY))
  const kernels = new webAssembly.Instance(module, { env: { memory } }).exports
  const { wasm } = backend

  // the gelu constants, written once (16-byte rows) and kept for the backend's life
  const consts = wasm._malloc(16 * GELU_CONSTANTS.length + 16)
  if (!consts) throw new Error('the wasm heap is full')
  const table = (consts + 15) & ~15
  GELU_CONSTANTS.forEach(([kind, value], row) => {
    const view = kind === 'f32' ? new Float32Array(memory.buffer, table + 16 * row, 4) : new Int32Array(memory.buffer, table + 16 * row, 4)
    view.fill(value)
  })

  const address = (info: tf.TensorInfo): number => {
    const data = backend.dataIdMap.get(info.dataId)
    if (!data) throw new Error('wasm kernels: a tensor that is not on the wasm backend')
    return data.memoryOffset
  }
  /** runs `call` with `values · scale` as int32 in the heap (freed after) */
  const withOffsets = (values: ArrayLike<number>, scale: number, call: (pointer: number) => void): void => {
    const pointer = wasm._malloc(4 * values.length)
    if (!pointer) throw new Error('wasm kernels: the wasm heap is full')
    try {
      const view = new Int32Array(memory.buffer, pointer, values.length) // after malloc: the heap may have grown
      for (let m = 0; m < values.length; m++) view[m] = values[m] * scale
      call(pointer)
    } finally {
      wasm._free(pointer)
    }
  }

  return {
    gelu(x, out, a, b) {
      const n = x.shape.reduce((p, q) => p * q, 1)
      kernels.gelu(address(x), address(out), n, a, b, table)
    },
    relShiftRows(x, out, columns) {
      const [length, width] = x.shape
      withOffsets(columns, 4, (cols) => kernels.relShiftRows(address(x), address(out), cols, length, width))
    },
    relShiftColumns(x, out, rows) {
      const length = x.shape[1]
      withOffsets(rows, 4 * length, (map) => kernels.relShiftColumns(address(x), address(out), map, length))
    },
    layerNorm(x, gamma, beta, out, eps) {
      const width = x.shape[x.shape.length - 1]
      const rows = width === 0 ? 0 : x.shape.reduce((p, q) => p * q, 1) / width
      kernels.layerNorm(address(x), address(out), rows, width, address(gamma), address(beta), eps)
    },
  }
}

/** The kernels bound to `backend` (the wasm backend object a kernel function receives), or null. */
export function wasmKernelsFor(backend: unknown): WasmKernels | null {
  if (!enabled || typeof backend !== 'object' || backend === null) return null
  let kernels = byBackend.get(backend)
  if (kernels === undefined) {
    try {
      kernels = bind(backend as WasmBackendShape)
      lastFailure = null
    } catch (error) {
      kernels = null
      lastFailure = error instanceof Error ? error.message : String(error)
    }
    byBackend.set(backend, kernels)
  }
  return kernels
}

/** Whether the current backend is wasm with the kernels bound (binds them on first call). */
export function wasmKernelsActive(): boolean {
  return tf.getBackend() === 'wasm' && wasmKernelsFor(tf.backend()) !== null
}
