// The lab's wasm kernels (src/core/wasm-kernels.wat) bound to the wasm backend's heap: GELU, the two rel-shifts,
// LayerNorm and the linear layers' GEMM (src/core/wasm-gemm.ts) run there, on tfjs's tensors in place, instead of
// tfjs-wasm's Erf (slow: ~15 ns a value here), JS loops over heap views, or XNNPACK's matmul (slower here). ops.ts calls them from its custom kernels; where they cannot load (a wasm engine without SIMD: tfjs
// then runs its non-SIMD build, or a backend whose memory is not reachable) wasmKernelsFor answers null and ops.ts
// keeps its JS / tf-ops paths, and wasmKernelsStatus says why.
//
// One instance per backend object (tfjs builds a new one after tf.removeBackend / re-registration), sharing
// that backend's memory: the threaded SIMD build's memory is shared (SharedArrayBuffer), the single-threaded
// builds' is not, and a module must import a memory with the same sharing, hence the two binaries.
import * as tf from '@tensorflow/tfjs-core'
import { setFlagsFromString } from 'node:v8'
import {
  WASM_KERNELS_PLAIN_MEMORY,
  WASM_KERNELS_PLAIN_MEMORY_FMA,
  WASM_KERNELS_SHARED_MEMORY,
  WASM_KERNELS_SHARED_MEMORY_FMA,
} from './wasm-kernels-binary'
import { WasmGemm, type GemmExports } from './wasm-gemm'
import { wasmBackendStatus } from './wasm-threads'

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

interface KernelExports extends GemmExports {
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
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined; has(dataId: object): boolean }
  dispose(): void
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
  /**
   * Packs (once, kept while they live) weights [k, width] side by side with their biases for `linear`; false
   * when the GEMM cannot take them (then tf.matMul runs). src/core/wasm-gemm.ts.
   */
  prepareLinear(weights: tf.TensorInfo[], biases: Array<tf.TensorInfo | null>): boolean
  /** outs[h] = x·W_h + b_h, x [m, k], outs [m, width] each, for weights and biases prepared with prepareLinear */
  linear(x: tf.TensorInfo, weights: tf.TensorInfo[], biases: Array<tf.TensorInfo | null>, outs: tf.TensorInfo[]): void
  /** the GEMM's state: helper threads, packed bytes */
  readonly gemm: WasmGemm
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

let gemmEnabled = true
let gemmFused = true

/**
 * Whether the GEMM may fuse its multiply-adds (relaxed SIMD's f32x4.relaxed_madd: FMA where the CPU has it, ~20 %
 * faster on the AMD host; results differ from tf.matMul's in the last bits, as any two GEMMs do). Off: the exact
 * kernel (mul + add, tf.matMul's results bit for bit). Default on unless DEBERTA_LAB_WASM_FMA=0. Returns the previous value.
 */
export function setWasmGemmFused(on: boolean): boolean {
  const previous = gemmFused
  gemmFused = on
  return previous
}
if (typeof process !== 'undefined' && process.env.DEBERTA_LAB_WASM_FMA === '0') gemmFused = false

/** Turns the lab's GEMM for linear layers off (tf.matMul / XNNPACK then); for tests and benchmarks. Returns the previous value. */
export function setWasmGemm(on: boolean): boolean {
  const previous = gemmEnabled
  gemmEnabled = on
  return previous
}

/** Whether linear layers may run the lab's GEMM (when the kernels are active). */
export function wasmGemmEnabled(): boolean {
  return gemmEnabled
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

let relaxedSimd: boolean | undefined

/**
 * The kernels with fused multiply-adds, compiled, or null where the engine lacks relaxed SIMD. V8 ships it since
 * 11.4 (Chromium 114, Electron 25, Node 22); Node 20's V8 (11.3) has it behind --experimental-wasm-relaxed-simd,
 * which is set here (a wasm validation feature: it changes nothing for code already compiled).
 */
function compileFused(shared: boolean): object | null {
  const bytes = decode(shared ? WASM_KERNELS_SHARED_MEMORY_FMA : WASM_KERNELS_PLAIN_MEMORY_FMA)
  if (relaxedSimd === false) return null
  try {
    const module = new webAssembly.Module(bytes)
    relaxedSimd = true
    return module
  } catch {
    if (relaxedSimd === undefined) {
      relaxedSimd = false
      try {
        setFlagsFromString('--experimental-wasm-relaxed-simd')
        const module = new webAssembly.Module(bytes)
        relaxedSimd = true
        return module
      } catch {
        return null
      }
    }
    return null
  }
}

function bind(backend: WasmBackendShape): WasmKernels {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory
  if (!memory || typeof backend.wasm._malloc !== 'function' || typeof backend.dataIdMap?.get !== 'function') {
    throw new Error('the wasm backend does not expose its memory')
  }
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer
  const module = new webAssembly.Module(decode(shared ? WASM_KERNELS_SHARED_MEMORY : WASM_KERNELS_PLAIN_MEMORY))
  const kernels = new webAssembly.Instance(module, { env: { memory } }).exports
  // the same kernels with the GEMM's multiply-adds fused, where the engine has relaxed SIMD (no data segments:
  // a second instance on the same memory changes nothing in it)
  const fusedModule = compileFused(shared)
  const fused = fusedModule ? new webAssembly.Instance(fusedModule, { env: { memory } }).exports : null
  const { wasm } = backend
  // helpers for the GEMM: threads − 1 where tfjs runs its threaded build (shared memory)
  const status = wasmBackendStatus()
  const helpers = shared && status?.build === 'threaded-simd' ? Math.max(0, status.threads - 1) : 0
  const gemm = new WasmGemm(
    { exact: kernels, fused, useFused: () => gemmFused },
    {
      memory,
      malloc: (bytes) => wasm._malloc(bytes),
      free: (pointer) => wasm._free(pointer),
      // has() first: DataStorage.get of an unknown dataId tries to move it from another backend
      addressOf: (dataId) => (backend.dataIdMap.has(dataId) ? backend.dataIdMap.get(dataId)?.memoryOffset : undefined),
    },
    { exact: module, fused: fusedModule },
    helpers,
  )
  // stop the helpers and free the packed weights with the backend (tf.removeBackend / tf.engine().reset())
  const dispose = backend.dispose.bind(backend)
  backend.dispose = () => {
    gemm.dispose()
    dispose()
  }

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
    prepareLinear(weights, biases) {
      return gemm.prepare(weights, biases)
    },
    linear(x, weights, biases, outs) {
      gemm.run(weights, biases, address(x), x.shape[0], outs.map(address))
    },
    gemm,
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
