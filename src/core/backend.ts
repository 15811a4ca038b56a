// Compute backend selection, in one place: tfjs-node ("tensorflow") when it loads, else wasm, else cpu.
// DEBERTA_LAB_BACKEND=tensorflow|wasm|cpu overrides the order (and fails loudly if that one cannot load).
// wasm runs tfjs's threaded SIMD build with os.availableParallelism() threads (src/core/wasm-threads.ts);
// DEBERTA_LAB_THREADS=N sets the count (1: tfjs's single-threaded build).
import * as tf from '@tensorflow/tfjs-core'
import { createRequire } from 'node:module'
import { LabError } from '../common/errors'
import { debugOutputRequested, enableArrayBufferTransfer, quietTensorflowLogs, tensorflowThreads } from './backend-env'
import { wasmGemmEnabled, wasmKernelsFor, wasmKernelsStatus } from './wasm-kernels'
import { installThreadedWasm, wasmBackendStatus, wasmThreadCount, type ThreadedWasmStatus } from './wasm-threads'

export { debugOutputRequested, quietTensorflowLogs, splitMode, tensorflowThreads } from './backend-env'

export type BackendName = 'tensorflow' | 'wasm' | 'cpu'
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu']

export interface BackendInfo {
  name: BackendName
  /** Why earlier candidates were skipped, e.g. "tensorflow: Cannot find module '@tensorflow/tfjs-node'" */
  skipped: string[]
  /** wasm only: the build and thread count it runs with, and why not threaded if that failed */
  wasm?: ThreadedWasmStatus
  /** wasm only, when the lab's wasm kernels (src/core/wasm-kernels.ts) could not load: why (slower JS paths run) */
  wasmKernelsOff?: string
  /** wasm only: the lab's GEMM for linear layers (src/core/wasm-gemm.ts): fused multiply-adds, helper threads */
  wasmGemm?: { fused: boolean; helpers: number }
}

let selected: BackendInfo | undefined
const require = createRequire(import.meta.url)

/**
 * tfjs-node 4.22 calls util.isNullOrUndefined / util.isArray, removed in Node 23+ (Electron 40+ ships Node 24).
 * Put them back before the import; harmless where they exist.
 */
export function patchNodeUtilForTfjsNode(util: Record<string, unknown> = require('node:util')): void {
  const shims: Record<string, (v: unknown) => boolean> = {
    isNullOrUndefined: (v) => v === null || v === undefined,
    isArray: (v) => Array.isArray(v),
    isString: (v) => typeof v === 'string',
    isNumber: (v) => typeof v === 'number',
    isBoolean: (v) => typeof v === 'boolean',
    isFunction: (v) => typeof v === 'function',
    isObject: (v) => v !== null && typeof v === 'object',
    isUndefined: (v) => v === undefined,
    isNull: (v) => v === null,
    isPrimitive: (v) => v === null || (typeof v !== 'object' && typeof v !== 'function'),
  }
  for (const [name, fn] of Object.entries(shims)) {
    if (typeof util[name] !== 'function') {
      try {
        util[name] = fn
      } catch {
        // frozen module namespace: nothing to do
      }
    }
  }
}

async function tryBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    quietTensorflowLogs()
    tensorflowThreads()
    enableArrayBufferTransfer() // for the split forward's peer thread, started later
    patchNodeUtilForTfjsNode()
    // tfjs-node registers the "tensorflow" backend with the shared tfjs-core on import.
    require('@tensorflow/tfjs-node')
  } else if (name === 'wasm') {
    installThreadedWasm(await import('@tensorflow/tfjs-backend-wasm'), wasmThreadCount())
  } else {
    await import('@tensorflow/tfjs-backend-cpu')
  }
  const ok = await tf.setBackend(name)
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`)
  await tf.ready()
  if (name === 'cpu' && !debugOutputRequested()) consumeCpuNodeHint()
}

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on its first write in Node.
 * The lab chose cpu on purpose (or as the last fallback, which initBackend reports): make that first write here
 * with tfjs's warnings off, so the hint stays out of the CLI's and the app's output.
 */
function consumeCpuNodeHint(): void {
  const env = tf.env()
  const prod = env.getBool('PROD')
  env.set('PROD', true)
  try {
    tf.tensor1d([0]).dispose()
  } finally {
    env.set('PROD', prod)
  }
}

function parseOverride(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined
  if ((BACKEND_ORDER as readonly string[]).includes(value)) return value as BackendName
  throw new LabError('INPUT_INVALID', `DEBERTA_LAB_BACKEND=${value} is not one of ${BACKEND_ORDER.join(', ')}`)
}

/** Selects and initialises the backend once per process (or worker thread). */
export async function initBackend(preferred: string | undefined = process.env.DEBERTA_LAB_BACKEND): Promise<BackendInfo> {
  const override = parseOverride(preferred)
  if (selected && (override === undefined || override === selected.name)) return selected
  wasmThreadCount() // a malformed DEBERTA_LAB_THREADS fails here, not as a skipped backend
  if (override) {
    try {
      await tryBackend(override)
    } catch (error) {
      throw new LabError('INTERNAL', `backend "${override}" was requested but could not start: ${(error as Error).message}`)
    }
    selected = withWasmStatus({ name: override, skipped: [] })
    return selected
  }
  const skipped: string[] = []
  for (const name of BACKEND_ORDER) {
    try {
      await tryBackend(name)
      selected = withWasmStatus({ name, skipped })
      return selected
    } catch (error) {
      skipped.push(`${name}: ${((error as Error).message ?? String(error)).split('\n')[0]}`)
    }
  }
  throw new LabError('INTERNAL', `no tfjs backend could start: ${skipped.join('; ')}`)
}

function withWasmStatus(info: BackendInfo): BackendInfo {
  if (info.name !== 'wasm') return info
  const wasm = wasmBackendStatus()
  const kernels = wasmKernelsFor(tf.backend()) // bound now, so a failure shows in the backend line
  const off = kernels ? undefined : (wasmKernelsStatus() ?? 'turned off')
  const gemm = kernels && wasmGemmEnabled() ? { wasmGemm: { fused: kernels.gemm.fused, helpers: kernels.gemm.helperCount } } : {}
  return { ...info, ...(wasm ? { wasm } : {}), ...(off ? { wasmKernelsOff: off } : {}), ...gemm }
}

/** "wasm (threaded SIMD, 2 threads)", "tensorflow": the backend as the CLI reports it. */
export function describeBackend(info: BackendInfo): string {
  const gemm = info.wasmGemm ? `; lab GEMM${info.wasmGemm.fused ? ' with FMA' : ''}` : ''
  const kernels = info.wasmKernelsOff ? `; lab wasm kernels off: ${info.wasmKernelsOff}` : gemm
  if (!info.wasm) return kernels ? `${info.name} (${kernels.slice(2)})` : info.name
  const { threads, build, fallback } = info.wasm
  const count = `${threads} thread${threads === 1 ? '' : 's'}`
  if (build === 'threaded-simd') return `${info.name} (threaded SIMD, ${count}${kernels})`
  return fallback ? `${info.name} (${count}; threaded build failed: ${fallback}${kernels})` : `${info.name} (${count}${kernels})`
}

/**
 * Runs fn on another backend that loads here (the speed benchmark of each backend, side by side), then puts
 * the selected backend back. Tensors made before stay on their backend; fn must not use them.
 */
export async function onBackend<T>(name: BackendName, fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend()
  if (name === previous) return fn()
  try {
    await tryBackend(name)
  } catch (error) {
    await tf.setBackend(previous)
    throw new LabError('INPUT_INVALID', `backend "${name}" cannot start here: ${((error as Error).message ?? String(error)).split('\n')[0]}`, { field: 'backend' })
  }
  try {
    return await fn()
  } finally {
    await tf.setBackend(previous)
  }
}

export function currentBackend(): BackendName {
  if (!selected) throw new LabError('INTERNAL', 'initBackend() has not been called')
  return selected.name
}
