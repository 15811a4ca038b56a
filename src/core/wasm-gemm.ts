// The lab's GEMM for linear layers on the wasm backend (the `gemm` kernel of src/core/wasm-kernels.wat): packed
// weights kept per weight tensor, and helper threads that take a share of the weight's panels.
//
// Why: a base forward on wasm spends ~95 % of its time in dense matmuls against the weights, and tfjs-wasm's
// XNNPACK runs them at 25–31 GFLOP/s on one thread (55–57 with its pool of 2) on the AMD host; the kernel on a
// packed weight runs 39–42 on one thread and 80–86 on two (scripts/bench-wasm-gemm.ts), with the same results
// (same summation order). The per-head projections of the per-head strategy (36 [T, H]·[H, D] products a layer)
// become one call writing the heads' tensors.
//
// Packed weights: panels of 8 columns, each [bias ×8][W rows ×8] (see the kernel), made on first use from the
// weight tensors (and their biases) and kept in the wasm heap while those tensors live: an entry whose tensors are
// gone (disposed, or a variable assigned new values: a new dataId) is freed at the next packing. This doubles the
// memory of the weights that run here (base: ~340 MB); XNNPACK's own packed copy is not made for them (tfjs-wasm
// packs a weight when a matmul first uses it). Past PACKED_BUDGET_BYTES, or when malloc fails, linear layers run
// tf.matMul as before.
//
// Helper threads (threaded SIMD build only, threads − 1 of them): worker_threads that instantiate the same module
// on the same shared memory and wait on a 16-word control block in the heap (Atomics.wait; no copies, no
// messages). A call splits the panels in contiguous shares; the calling thread takes the first. A helper whose
// gemm throws reports it in its block: its share is then computed by the calling thread and the helpers are
// dropped. They are unref'd (a CLI process exits while they wait) and stopped with their backend (dispose).
import { Worker } from 'node:worker_threads'
import { POOL_MIN_MATMUL_FLOPS } from './wasm-pool-switch'

/** Packed weights stay below this many bytes in total (then tf.matMul runs the others). */
export const PACKED_BUDGET_BYTES = 1536 * 2 ** 20
/** The heap may grow to this before packing stops (wasm32: 4 GiB, tfjs-wasm's maximum). */
const HEAP_LIMIT_BYTES = 3.5 * 2 ** 30
/** A helper that has not finished its share after this long is taken as lost (the call fails). */
const HELPER_TIMEOUT_MS = 60_000

export interface GemmExports {
  gemm(a: number, packed: number, outs: number, ldc: number, m: number, k: number, p0: number, p1: number, np: number, lastCols: number, scratch: number): void
}

/** the exact kernel (mul + add) and, where the engine has relaxed SIMD, the fused one */
export interface GemmKernels {
  exact: GemmExports
  fused: GemmExports | null
  /** read at each call (setWasmGemmFused) */
  useFused(): boolean
}

export interface GemmHeap {
  memory: { readonly buffer: ArrayBuffer | SharedArrayBuffer }
  malloc(bytes: number): number
  free(pointer: number): void
  /** byte offset of a tensor's data, or undefined when the tensor is gone */
  addressOf(dataId: object): number | undefined
}

interface PackedEntry {
  /** the weights' and biases' dataIds the panels were made from (null: no bias) */
  sources: Array<object | null>
  pointer: number
  /** 16-byte aligned start of the panels */
  panels: number
  bytes: number
  k: number
  /** columns per weight (all equal) */
  width: number
}

export interface GemmOperand {
  dataId: object
  shape: number[]
}

interface Helper {
  worker: Worker
  control: Int32Array
  scratch: number
}

// control words of a helper
const GO = 0 // 1: run the job in ARGS; −1: stop
const ARGS = 1 // 11 words: the gemm arguments
const FAILED = 12
const FUSED = 13 // 1: the fused kernel
const READY = 14
const DONE = 15

/** The helper's source: a data: URL module (the lab's bundles do not ship a worker file for it). */
const HELPER_SOURCE = `
import { workerData } from 'node:worker_threads'
const { memory, modules, control: at } = workerData
const exact = new WebAssembly.Instance(modules.exact, { env: { memory } }).exports.gemm
const fused = modules.fused ? new WebAssembly.Instance(modules.fused, { env: { memory } }).exports.gemm : exact
const c = new Int32Array(memory.buffer, at, 16)
Atomics.store(c, ${READY}, 1)
for (;;) {
  Atomics.wait(c, ${GO}, 0)
  if (Atomics.load(c, ${GO}) === -1) break
  try {
    ;(c[${FUSED}] === 1 ? fused : exact)(c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11])
    c[${FAILED}] = 0
  } catch {
    c[${FAILED}] = 1
  }
  Atomics.store(c, ${GO}, 0)
  Atomics.store(c, ${DONE}, 1)
  Atomics.notify(c, ${DONE})
}`

export class WasmGemm {
  /** by the first weight's dataId; more than one entry when that weight is packed in more than one group */
  private readonly packed = new Map<object, PackedEntry[]>()
  private packedBytes = 0
  private helpers: Helper[] = []
  private readonly scratch: number
  private lastHelperFailure: string | null = null
  private alone = false
  private shares = 0

  constructor(
    private readonly kernels: GemmKernels,
    private readonly heap: GemmHeap,
    modules: { exact: object; fused: object | null },
    helperCount: number,
  ) {
    this.scratch = this.alloc(32, 'scratch')
    if (helperCount > 0) this.startHelpers(modules, helperCount)
  }

  /** Whether calls now run the fused (FMA) kernel. */
  get fused(): boolean {
    return this.kernels.fused !== null && this.kernels.useFused()
  }

  /** Helper threads started (they join calls once ready). */
  get helperCount(): number {
    return this.helpers.length
  }

  /** Whether every helper has started (calls use only the ready ones). */
  helpersReady(): boolean {
    return this.helpers.length > 0 && this.helpers.every((helper) => Atomics.load(helper.control, READY) === 1)
  }

  /** Runs fn with the calling thread alone (tests, benchmarks). */
  withoutHelpers<T>(fn: () => T): T {
    const previous = this.alone
    this.alone = true
    try {
      return fn()
    } finally {
      this.alone = previous
    }
  }

  /** Into how many shares the last call was split. */
  get lastShares(): number {
    return this.shares
  }

  /** Why the helpers were dropped, if they were. */
  get helperFailure(): string | null {
    return this.lastHelperFailure
  }

  /** Bytes of packed weights held now. */
  get bytesPacked(): number {
    return this.packedBytes
  }

  /**
   * Packs (once) the weights [k, width] laid side by side as one [k, width·weights.length] weight with their
   * biases ([width] or null). With more than one weight, width must be a multiple of 8. Answers false when
   * it cannot (budget, heap full, shapes): the caller then runs tf.matMul.
   */
  prepare(weights: GemmOperand[], biases: Array<GemmOperand | null>): boolean {
    if (weights.length === 0 || biases.length !== weights.length) return false
    const [k, width] = weights[0].shape
    if (weights[0].shape.length !== 2 || !(k >= 1) || !(width >= 1)) return false
    if (weights.length > 1 && width % 8 !== 0) return false
    for (let h = 0; h < weights.length; h++) {
      const shape = weights[h].shape
      if (shape.length !== 2 || shape[0] !== k || shape[1] !== width) return false
      const bias = biases[h]
      if (bias && bias.shape.reduce((p, q) => p * q, 1) !== width) return false
    }
    const sources = [...weights.map((w) => w.dataId), ...biases.map((b) => b?.dataId ?? null)]
    if (this.find(weights[0].dataId, sources)) return true
    this.sweep()
    const n = width * weights.length
    const panelCount = Math.ceil(n / 8)
    const bytes = panelCount * (k + 1) * 32
    if (this.packedBytes + bytes > PACKED_BUDGET_BYTES || this.heap.memory.buffer.byteLength + bytes > HEAP_LIMIT_BYTES) return false
    const pointer = this.heap.malloc(bytes + 16)
    if (!pointer) return false
    const panels = (pointer + 15) & ~15
    // views after malloc (the heap may have grown)
    const out = new Float32Array(this.heap.memory.buffer, panels, panelCount * (k + 1) * 8)
    out.fill(0)
    for (let h = 0; h < weights.length; h++) {
      const w = this.floats(weights[h].dataId, k * width)
      const b = biases[h] ? this.floats(biases[h]!.dataId, width) : null
      const panelFloats = (k + 1) * 8
      // row by row (W is read in order; each panel's row is 8 consecutive floats)
      for (let j = 0; j < width; j++) {
        const column = h * width + j
        if (b) out[(column >> 3) * panelFloats + (column & 7)] = b[j]
      }
      for (let kk = 0; kk < k; kk++) {
        const from = kk * width
        const row = 8 + kk * 8
        for (let j = 0; j < width; j++) {
          const column = h * width + j
          out[(column >> 3) * panelFloats + row + (column & 7)] = w[from + j]
        }
      }
    }
    const list = this.packed.get(weights[0].dataId) ?? []
    list.push({ sources, pointer, panels, bytes: bytes + 16, k, width })
    this.packed.set(weights[0].dataId, list)
    this.packedBytes += bytes + 16
    return true
  }

  private find(first: object, sources: Array<object | null>): PackedEntry | undefined {
    return this.packed.get(first)?.find((e) => e.sources.length === sources.length && e.sources.every((s, i) => s === sources[i]))
  }

  /**
   * outs[h] = x·W_h + b_h for weights prepared (`prepare`) with these operands: x [m, k] at byte offset x, outs
   * [m, width] at their byte offsets (one per weight).
   */
  run(weights: GemmOperand[], biases: Array<GemmOperand | null>, x: number, m: number, outs: number[]): void {
    const entry = this.find(weights[0].dataId, [...weights.map((w) => w.dataId), ...biases.map((b) => b?.dataId ?? null)])
    if (!entry || outs.length !== weights.length) throw new Error('wasm gemm: the weights are not packed')
    const { k, width } = entry
    const n = width * outs.length
    const np = Math.ceil(n / 8)
    const lastCols = n - (np - 1) * 8
    const table = this.alloc(4 * np, 'the output table')
    let tableInUse = false // a helper that stopped answering may still read it: then it is not freed
    try {
      const addresses = new Int32Array(this.heap.memory.buffer, table, np)
      for (let p = 0; p < np; p++) {
        const column = p * 8
        const h = Math.floor(column / width)
        addresses[p] = outs[h] + 4 * (column - h * width)
      }
      const args = [x, entry.panels, table, 4 * width, m, k] as const
      const useFused = this.fused
      const { gemm } = useFused ? this.kernels.fused! : this.kernels.exact
      const ready = this.alone ? [] : this.helpers.filter((helper) => Atomics.load(helper.control, READY) === 1)
      const shares = 2 * m * k * n >= POOL_MIN_MATMUL_FLOPS ? Math.min(ready.length + 1, np) : 1
      this.shares = shares
      const bounds = Array.from({ length: shares + 1 }, (_, s) => Math.round((s * np) / shares))
      for (let s = 1; s < shares; s++) {
        const { control, scratch } = ready[s - 1]
        control.set([...args, bounds[s], bounds[s + 1], np, lastCols, scratch], ARGS)
        control[FAILED] = 0
        control[FUSED] = useFused ? 1 : 0
        Atomics.store(control, DONE, 0)
        Atomics.store(control, GO, 1)
        Atomics.notify(control, GO)
      }
      // the helpers' shares are waited for also when the calling thread's throws (they use the table and outputs)
      let ownError: unknown = null
      try {
        gemm(...args, bounds[0], bounds[1], np, lastCols, this.scratch)
      } catch (error) {
        ownError = error
      }
      let failed = false
      for (let s = 1; s < shares; s++) {
        const { control } = ready[s - 1]
        const deadline = performance.now() + HELPER_TIMEOUT_MS
        while (Atomics.load(control, DONE) === 0) {
          if (performance.now() > deadline) {
            tableInUse = true
            this.stopHelpers('a helper thread stopped answering')
            throw new Error('wasm gemm: a helper thread stopped answering')
          }
          Atomics.wait(control, DONE, 0, 100)
        }
        if (ownError) continue
        if (control[FAILED] !== 0) {
          failed = true
          gemm(...args, bounds[s], bounds[s + 1], np, lastCols, this.scratch)
        }
      }
      if (failed) this.stopHelpers('a helper thread failed in gemm')
      if (ownError) throw ownError
    } finally {
      if (!tableInUse) this.heap.free(table)
    }
  }

  /** Frees every packed weight and stops the helpers (the backend is going away). */
  dispose(): void {
    for (const [key, list] of [...this.packed]) for (const entry of [...list]) this.release(key, entry)
    this.stopHelpers(null)
  }

  private floats(dataId: object, length: number): Float32Array {
    const at = this.heap.addressOf(dataId)
    if (at === undefined) throw new Error('wasm gemm: a weight that is not on the wasm backend')
    return new Float32Array(this.heap.memory.buffer, at, length)
  }

  private alloc(bytes: number, what: string): number {
    const pointer = this.heap.malloc(bytes + 16)
    if (!pointer) throw new Error(`wasm gemm: the wasm heap is full (${what})`)
    return pointer
  }

  private release(key: object, entry: PackedEntry): void {
    this.heap.free(entry.pointer)
    this.packedBytes -= entry.bytes
    const rest = (this.packed.get(key) ?? []).filter((e) => e !== entry)
    if (rest.length) this.packed.set(key, rest)
    else this.packed.delete(key)
  }

  /** Frees the entries whose source tensors are gone (done before each packing). */
  sweep(): void {
    for (const [key, list] of [...this.packed]) {
      for (const entry of list) if (entry.sources.some((s) => s !== null && this.heap.addressOf(s) === undefined)) this.release(key, entry)
    }
  }

  private startHelpers(modules: { exact: object; fused: object | null }, count: number): void {
    const url = new URL(`data:text/javascript,${encodeURIComponent(HELPER_SOURCE)}`)
    for (let i = 0; i < count; i++) {
      const block = this.alloc(64 + 32, 'a helper block')
      const at = (block + 15) & ~15
      const control = new Int32Array(this.heap.memory.buffer as SharedArrayBuffer, at, 16)
      control.fill(0)
      const worker = new Worker(url, { workerData: { memory: this.heap.memory, modules, control: at } })
      worker.unref()
      const helper: Helper = { worker, control, scratch: at + 64 }
      worker.on('error', (error) => this.stopHelpers(`a helper thread failed: ${error.message}`))
      this.helpers.push(helper)
    }
  }

  private stopHelpers(why: string | null): void {
    if (why) this.lastHelperFailure = why
    for (const { worker, control } of this.helpers) {
      Atomics.store(control, READY, 0)
      Atomics.store(control, GO, -1)
      Atomics.notify(control, GO)
      void worker.terminate()
    }
    this.helpers = []
  }
}
