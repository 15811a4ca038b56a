// Per-op use of the threaded wasm backend's thread pool: small ops run on the calling thread alone.
//
// Why: handing an op to XNNPACK's pthread pool costs a wake-up of the pool's threads (tens of µs when a core is
// free, milliseconds when the machine is busy), so ops of a tiny model (the toy model, the experiments' training
// steps, the tests) got 1.5–2× slower with threads, while a base model's dense matmuls got ~1.9× faster.
// tfjs's C++ side passes one global pthreadpool (tfjs::backend::threadpool) to every XNNPACK op, and XNNPACK runs
// an op on the calling thread when that pool is NULL. tfjs exports no switch, so this file finds the global's
// address in the code of the exported get_threads_count() (it loads it as `i32.const A; i32.load offset=B`),
// checks it (get_threads_count() must answer -1 with the word cleared and the thread count with it restored),
// and then writes NULL or the pool there before each kernel, by the kernel's size. If the address cannot be
// found and checked, nothing is switched and every op uses the pool.
import * as tf from '@tensorflow/tfjs-core'

/**
 * Matmuls of at least this many FLOPs (2·M·K·N) use the pool: measured break-even ~1–4 MFLOP on the Intel host;
 * on the AMD one (Zen 4) the attention products of base at T = 128 ([128, 64]·[64, 128], 2.1 MFLOP) take 0.05 ms
 * with the pool and 0.08 ms without, and the forward is 1–3 % faster with 1 MFLOP than with 4. 2 MFLOP takes those
 * and keeps a tiny model's products (below it) on the calling thread.
 */
export const POOL_MIN_MATMUL_FLOPS = 2e6
/** Other kernels whose largest input or output has at least this many elements use the pool. */
export const POOL_MIN_ELEMENTS = 1 << 15

const MATMUL_KERNELS = new Set(['BatchMatMul', '_FusedMatMul'])

interface Reader {
  bytes: Uint8Array
  at: number
}

function u32(r: Reader): number {
  let result = 0
  let shift = 0
  for (;;) {
    const byte = r.bytes[r.at++]
    result += (byte & 0x7f) * 2 ** shift
    shift += 7
    if ((byte & 0x80) === 0) return result
  }
}

function s32(r: Reader): number {
  let result = 0
  let shift = 0
  let byte: number
  do {
    byte = r.bytes[r.at++]
    result |= (byte & 0x7f) << shift
    shift += 7
  } while (byte & 0x80)
  return shift < 32 && byte & 0x40 ? result | (~0 << shift) : result
}

function name(r: Reader): string {
  const length = u32(r)
  const text = Buffer.from(r.bytes.subarray(r.at, r.at + length)).toString('utf8')
  r.at += length
  return text
}

function skipLimits(r: Reader): void {
  const flags = r.bytes[r.at++]
  u32(r)
  if (flags & 1) u32(r)
}

/**
 * The constant address the body of the exported function `exportName` loads first (`i32.const A` then
 * `i32.load offset=B`: A + B), read from the wasm binary; undefined if the function or the pattern is absent.
 */
export function loadedAddressOfExport(binary: Uint8Array, exportName: string): number | undefined {
  const r: Reader = { bytes: binary, at: 8 }
  let importedFunctions = 0
  let functionIndex: number | undefined
  while (r.at < binary.length) {
    const id = binary[r.at++]
    const size = u32(r)
    const end = r.at + size
    if (id === 2) {
      for (let n = u32(r); n > 0; n--) {
        name(r)
        name(r)
        const kind = binary[r.at++]
        if (kind === 0) {
          u32(r)
          importedFunctions++
        } else if (kind === 1) {
          r.at++
          skipLimits(r)
        } else if (kind === 2) skipLimits(r)
        else r.at += 2
      }
    } else if (id === 7) {
      for (let n = u32(r); n > 0; n--) {
        const field = name(r)
        const kind = binary[r.at++]
        const index = u32(r)
        if (kind === 0 && field === exportName) functionIndex = index
      }
    } else if (id === 10 && functionIndex !== undefined) {
      const count = u32(r)
      for (let i = 0; i < count; i++) {
        const bodySize = u32(r)
        const bodyEnd = r.at + bodySize
        if (i + importedFunctions === functionIndex) {
          for (let groups = u32(r); groups > 0; groups--) {
            u32(r)
            r.at++
          }
          while (r.at < bodyEnd - 1) {
            if (binary[r.at] === 0x41) {
              r.at++
              const base = s32(r)
              if (binary[r.at] === 0x28) {
                r.at++
                u32(r) // alignment
                return (base >>> 0) + u32(r)
              }
            } else r.at++
          }
          return undefined
        }
        r.at = bodyEnd
      }
      return undefined
    }
    r.at = end
  }
  return undefined
}

interface PoolModule {
  HEAPU8: Uint8Array
}

export interface PoolSwitch {
  /** uses the pool (true) or the calling thread alone (false) for the next kernels */
  set(usePool: boolean): void
}

/**
 * A switch for the module's pool at the address get_threads_count() loads, if that address checks out:
 * clearing it must make get_threads_count() answer -1, restoring it must bring back `threads`.
 */
export function poolSwitch(binary: Uint8Array, module: PoolModule, getThreadsCount: () => number, threads: number): PoolSwitch | undefined {
  const address = loadedAddressOfExport(binary, 'get_threads_count')
  if (address === undefined || address % 4 !== 0) return undefined
  const word = (): Uint32Array => new Uint32Array(module.HEAPU8.buffer, address, 1)
  const pool = word()[0]
  if (pool === 0 || getThreadsCount() !== threads) return undefined
  word()[0] = 0
  const cleared = getThreadsCount()
  word()[0] = pool
  if (cleared !== -1 || getThreadsCount() !== threads) return undefined
  let current = true
  return {
    set(usePool: boolean) {
      if (usePool === current) return
      word()[0] = usePool ? pool : 0
      current = usePool
    },
  }
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** Whether a kernel call is big enough for the pool (the thresholds above). */
export function kernelWantsPool(kernelName: string, inputs: Record<string, tf.TensorInfo | undefined>, attrs: Record<string, unknown> | undefined): boolean {
  if (MATMUL_KERNELS.has(kernelName)) {
    const a = inputs.a?.shape
    const b = inputs.b?.shape
    if (!a || !b || a.length < 2 || b.length < 2) return false
    const [rowsA, colsA] = a.slice(-2)
    const m = attrs?.transposeA ? colsA : rowsA
    const k = attrs?.transposeA ? rowsA : colsA
    const n = attrs?.transposeB ? b[b.length - 2] : b[b.length - 1]
    const batch = Math.max(size(a.slice(0, -2)), size(b.slice(0, -2)))
    return 2 * batch * m * k * n >= POOL_MIN_MATMUL_FLOPS
  }
  let largest = 0
  for (const input of Object.values(inputs)) if (input) largest = Math.max(largest, size(input.shape))
  return largest >= POOL_MIN_ELEMENTS
}

/** Re-registers every kernel of `backendName` so that it sets the switch by its size before it runs. */
export function switchPoolPerKernel(backendName: string, pool: PoolSwitch): void {
  for (const config of tf.getKernelsForBackend(backendName)) {
    const kernelFunc = config.kernelFunc
    tf.unregisterKernel(config.kernelName, backendName)
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        pool.set(kernelWantsPool(config.kernelName, args.inputs as Record<string, tf.TensorInfo>, args.attrs as Record<string, unknown>))
        return kernelFunc(args)
      },
    })
  }
}
