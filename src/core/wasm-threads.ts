// The wasm backend with a thread pool: tfjs-backend-wasm's threaded SIMD build (XNNPACK + pthreadpool) under Node.
//
// tfjs ships the build (wasm-out/tfjs-backend-wasm-threaded-simd.*) but never picks it under Node:
// flags_wasm.ts answers WASM_HAS_MULTITHREAD_SUPPORT = false when IS_NODE (tfjs issue #3830), and its init()
// hands emscripten the pthread worker as a Blob URL, which Node's worker_threads cannot start. The build itself
// runs in Node: its emscripten glue starts pthreads as worker_threads there. So this file instantiates it
// directly and registers it under the same backend name, 'wasm', with tfjs's own kernels and BackendWasm:
//
//   - the pthread worker is a data: URL module (Node's Worker accepts data: URLs) that evaluates the worker
//     source shipped in wasm-out/…worker.js with require/__filename of that folder; the main script reaches
//     the workers as a file path (their importScripts reads it with fs);
//   - emscripten_num_logical_cores answers 2 × the wanted threads: backend.cc caps the pool at that value / 2
//     (it assumes two hyper-threads per core), which on a 2-core machine would leave one thread;
//   - once the pool runs, emscripten's spare workers (it starts 8) are terminated and the pool's workers
//     unref'd (they wait for work forever and must not keep a CLI process alive);
//   - the process-wide 'uncaughtException'/'unhandledRejection' listeners the glue adds are removed;
//   - Module.HEAPU8 (tfjs reads the heap through it) re-views the memory when it grew, whichever thread grew it;
//   - small ops skip the pool (src/core/wasm-pool-switch.ts).
//
// If the threaded build cannot start (a worker error, a timeout), the factory falls back to tfjs's own
// single-threaded init and wasmBackendStatus() says why.
import * as tf from '@tensorflow/tfjs-core'
import { readFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { LabError } from '../common/errors'
import { poolSwitch, switchPoolPerKernel } from './wasm-pool-switch'

/** At most this many threads: backend.cc's max_num_threads (the size of emscripten's pthread pool). */
export const MAX_WASM_THREADS = 8
const THREADED_JS = 'tfjs-backend-wasm-threaded-simd.js'
const THREADED_WASM = 'tfjs-backend-wasm-threaded-simd.wasm'
const THREADED_WORKER = 'tfjs-backend-wasm-threaded-simd.worker.js'
/** Starting 8 workers that each instantiate the module takes ~0.15–0.6 s here; far beyond that it is stuck. */
const START_TIMEOUT_MS = 30_000

const require = createRequire(import.meta.url)
// The WebAssembly JS API (this project's Node typings do not declare it).
const { WebAssembly: webAssembly } = globalThis as unknown as {
  WebAssembly: { instantiate(binary: Uint8Array, imports: object): Promise<{ instance: object; module: object }> }
}

/**
 * Threads for the wasm backend: DEBERTA_LAB_THREADS (a positive integer) when set, else
 * os.availableParallelism(); at most MAX_WASM_THREADS.
 */
export function wasmThreadCount(env: NodeJS.ProcessEnv = process.env, cores: number = availableParallelism()): number {
  const value = env.DEBERTA_LAB_THREADS
  if (value === undefined || value === '') return Math.max(1, Math.min(cores, MAX_WASM_THREADS))
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new LabError('INPUT_INVALID', `DEBERTA_LAB_THREADS=${value} is not a positive integer`)
  }
  return Math.min(Number(value), MAX_WASM_THREADS)
}

export interface ThreadedWasmStatus {
  /** threads XNNPACK uses (tfjs-backend-wasm's getThreadsCount()) */
  threads: number
  /** which binary runs */
  build: 'threaded-simd' | 'tfjs default'
  /** why the threaded build is not running, when it was wanted */
  fallback?: string
  /** threaded: small ops run on the calling thread alone (src/core/wasm-pool-switch.ts) */
  poolPerOp?: boolean
}

interface WasmPackage {
  BackendWasm: new (module: never) => tf.KernelBackend
  setThreadsCount(n: number): void
  getThreadsCount(): number
}

interface EmscriptenWorker {
  terminate(): void
  unref(): void
  onerror?: (e: unknown) => void
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number
  HEAPU8: Uint8Array
  wasmMemory: { buffer: ArrayBufferLike }
  PThread: { unusedWorkers: EmscriptenWorker[]; runningWorkers: EmscriptenWorker[]; terminateAllThreads(): void }
  tfjs?: Record<string, unknown>
}

interface RegistryEntry {
  factory: () => tf.KernelBackend | Promise<tf.KernelBackend>
  priority: number
}

let installed = false
let pkg: WasmPackage | undefined
let threaded: Omit<ThreadedWasmStatus, 'threads'> | undefined
let poolPerOp = false

/** What the wasm backend runs, once it has started in this thread (undefined before). */
export function wasmBackendStatus(): ThreadedWasmStatus | undefined {
  if (!pkg || !(tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm) return undefined
  return { threads: pkg.getThreadsCount(), ...(threaded ?? { build: 'tfjs default' }) }
}

/** Resolves a path inside app.asar to its unpacked copy (electron-builder's asarUnpack) when that exists. */
export function unpackedPath(path: string): string {
  const marker = `app.asar${sep}`
  if (!path.includes(marker)) return path
  const real = path.replace(marker, `app.asar.unpacked${sep}`)
  return existsSync(real) ? real : path
}

function workerUrl(folder: string, mainScript: string): URL {
  // The shipped file is `module.exports.wasmWorkerContents = \`…\`` whose "\n" escapes became real newlines
  // inside string literals; escape them back, as tfjs's init() does.
  const { wasmWorkerContents } = require(join(folder, THREADED_WORKER)) as { wasmWorkerContents: string }
  const source = [
    "import { createRequire } from 'node:module';",
    `globalThis.require = createRequire(${JSON.stringify(mainScript)});`,
    `globalThis.__filename = ${JSON.stringify(join(folder, THREADED_WORKER))};`,
    `(0, eval)(${JSON.stringify(wasmWorkerContents.replace(/\n/g, '\\n'))});`,
  ].join('\n')
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`)
}

export interface ThreadedWasmOptions {
  /** the pthread worker script instead of the shipped one (tests: a worker that fails) */
  pthreadWorker?: URL
  /** every op uses the pool, small ones too (measurements of src/core/wasm-pool-switch.ts) */
  poolForEveryOp?: boolean
}

/** Instantiates the threaded build with `threads` pool threads; rejects (and cleans up) if it cannot start. */
async function startThreadedModule(threads: number, options: ThreadedWasmOptions): Promise<{ module: ThreadedModule; binary: Uint8Array }> {
  const mainScript = unpackedPath(require.resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${THREADED_JS}`))
  const folder = dirname(mainScript)
  const factory = require(mainScript) as (config: object) => Promise<ThreadedModule>
  const binary = readFileSync(join(folder, THREADED_WASM))
  const worker = options.pthreadWorker ?? workerUrl(folder, mainScript)

  const uncaughtBefore = process.listeners('uncaughtException')
  const rejectionBefore = process.listeners('unhandledRejection')
  let fail: (error: Error) => void = () => {}
  const failed = new Promise<never>((_, reject) => {
    fail = reject
  })
  const config = {
    locateFile: (path: string) => (path.endsWith('.worker.js') ? worker : join(folder, path)),
    mainScriptUrlOrBlob: mainScript,
    instantiateWasm(info: { env: Record<string, unknown> }, receive: (instance: object, module: object) => void) {
      info.env.emscripten_num_logical_cores = () => 2 * threads
      webAssembly.instantiate(binary, info).then(
        (result) => receive(result.instance, result.module),
        (error: Error) => fail(error),
      )
      return {}
    },
    onAbort: (what: unknown) => fail(new Error(`threaded wasm aborted: ${String(what)}`)),
  } as Record<string, unknown>

  let module: ThreadedModule | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    const ready = factory(config)
    // The glue has created its worker pool synchronously. A worker that fails to start makes emscripten
    // throw from its 'error' listener (an uncaught exception); until the module is ready, reject instead.
    const pthread = (config as unknown as ThreadedModule).PThread
    let started = false
    for (const w of pthread.unusedWorkers) guardWorkerErrors(w, () => started, fail)
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`threaded wasm did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS)
    })
    module = await Promise.race([ready, failed, timeout])
    started = true
    return { module, binary }
  } catch (error) {
    ;(config as unknown as Partial<ThreadedModule>).PThread?.terminateAllThreads()
    throw error
  } finally {
    clearTimeout(timer)
    for (const listener of process.listeners('uncaughtException')) {
      if (!uncaughtBefore.includes(listener)) process.removeListener('uncaughtException', listener)
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!rejectionBefore.includes(listener)) process.removeListener('unhandledRejection', listener)
    }
  }
}

/** Routes a worker's errors to `fail` until the module has started; emscripten's own handler after that. */
function guardWorkerErrors(worker: EmscriptenWorker, started: () => boolean, fail: (error: Error) => void): void {
  let emscriptenHandler: ((e: unknown) => void) | undefined
  Object.defineProperty(worker, 'onerror', {
    configurable: true,
    get: () => (e: unknown) => {
      if (started() && emscriptenHandler) emscriptenHandler(e)
      else fail(e instanceof Error ? e : new Error(`threaded wasm worker failed: ${String(e)}`))
    },
    set: (handler: (e: unknown) => void) => {
      emscriptenHandler = handler
    },
  })
}

/** Module.HEAPU8 as a view that follows memory growth (a pthread may grow the shared memory). */
function followMemoryGrowth(module: ThreadedModule): void {
  let view = module.HEAPU8
  Object.defineProperty(module, 'HEAPU8', {
    configurable: true,
    enumerable: true,
    get: () => {
      const buffer = module.wasmMemory.buffer
      if (view.buffer !== buffer) view = new Uint8Array(buffer)
      return view
    },
    set: (next: Uint8Array) => {
      view = next
    },
  })
}

async function createThreadedBackend(wasm: WasmPackage, threads: number, options: ThreadedWasmOptions): Promise<tf.KernelBackend> {
  const { module, binary } = await startThreadedModule(threads, options)
  followMemoryGrowth(module)
  // The same bridge tfjs's init() builds (backend_wasm.ts).
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  }
  let backend: tf.KernelBackend
  try {
    backend = new wasm.BackendWasm(module as never) // creates the pthread pool (init_with_threads_count)
  } catch (error) {
    module.PThread.terminateAllThreads()
    throw error
  }
  for (const w of module.PThread.unusedWorkers) w.terminate()
  module.PThread.unusedWorkers = []
  for (const w of module.PThread.runningWorkers) w.unref()
  const pool = options.poolForEveryOp ? undefined : poolSwitch(binary, module, module.tfjs.getThreadsCount as () => number, threads)
  if (pool) switchPoolPerKernel('wasm', pool)
  poolPerOp = pool !== undefined
  return backend
}

/**
 * Replaces the 'wasm' backend factory that importing tfjs-backend-wasm registered with one that starts the
 * threaded SIMD build with `threads` threads, falling back to tfjs's own factory. With one thread, or once
 * the wasm backend exists, the factory stays tfjs's. Call after importing @tensorflow/tfjs-backend-wasm.
 */
export function installThreadedWasm(wasm: WasmPackage, threads: number, options: ThreadedWasmOptions = {}): void {
  const engine = tf.engine() as unknown as { registry: Record<string, unknown>; registryFactory: Record<string, RegistryEntry | undefined> }
  if (installed || engine.registry.wasm) return
  const stock = engine.registryFactory.wasm
  if (!stock) throw new Error('@tensorflow/tfjs-backend-wasm did not register the wasm backend')
  installed = true
  pkg = wasm
  wasm.setThreadsCount(threads)
  if (threads <= 1) return
  tf.removeBackend('wasm')
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        const backend = await createThreadedBackend(wasm, threads, options)
        threaded = { build: 'threaded-simd', poolPerOp }
        return backend
      } catch (error) {
        const reason = ((error as Error).message ?? String(error)).split('\n')[0]
        threaded = { build: 'tfjs default', fallback: reason }
        return stock.factory()
      }
    },
    stock.priority,
  )
}
