// Child process of test/core/wasm-threads.test.ts: starts the wasm backend (in this thread, or in a worker thread
// as the lab's compute worker does), checks a matmul across a heap growth, prints one JSON line, and then lets the
// process end by itself (the pool's threads must not keep it alive).
// usage: node --import tsx test/core/wasm-threads-probe.ts [main|worker|broken-worker]
//   broken-worker: the pthread workers fail to start, so the backend must fall back to tfjs's own build
import * as tf from '@tensorflow/tfjs-core'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { initBackend } from '../../src/core/backend'
import { installThreadedWasm, wasmThreadCount } from '../../src/core/wasm-threads'
import { fillNormalSeeded } from '../../src/core/synthetic'

export interface WasmThreadsProbe {
  thread: 'main' | 'worker'
  backend: string
  wasm?: { threads: number; build: string; fallback?: string }
  /** largest |wasm − plain JS| of a [96, 80]·[80, 112] matmul, before and after the heap grew */
  maxDiff: number
  heapGrewTo: number
  /** process 'uncaughtException' + 'unhandledRejection' listeners added by starting the backend */
  listenersAdded: number
  /** the pool XNNPACK saw (get_threads_count(): -1 = none, the calling thread alone) after a small and a big matmul */
  poolAfterSmallOp: number
  poolAfterBigOp: number
}

function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * k + p] * b[p * n + j]
  return out
}

const listenerCount = (): number => process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection')

async function probe(thread: 'main' | 'worker', brokenWorker = false): Promise<WasmThreadsProbe> {
  const listenersBefore = listenerCount()
  if (brokenWorker) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    installThreadedWasm(wasm, wasmThreadCount(), { pthreadWorker: new URL('data:text/javascript,throw new Error("no pthreads here")') })
  }
  const info = await initBackend('wasm')
  const listenersAdded = listenerCount() - listenersBefore
  const [m, k, n] = [96, 80, 112]
  let maxDiff = 0
  const check = (seed: number): void => {
    const a = fillNormalSeeded(new Float32Array(m * k), seed)
    const b = fillNormalSeeded(new Float32Array(k * n), seed + 1)
    const got = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])).dataSync())
    const want = reference(a, b, m, k, n)
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]))
  }
  check(1)
  // 256 MB more heap: the shared memory grows, and the backend must read and write through the new buffer
  const big = tf.zeros([64, 1024, 1024])
  check(3)
  const module = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array; tfjs: { getThreadsCount(): number } } }).wasm
  const heapGrewTo = module.HEAPU8.length
  big.dispose()
  const poolAfter = (size: number): number => {
    tf.tidy(() => {
      tf.matMul(tf.ones([size, size]) as tf.Tensor2D, tf.ones([size, size]) as tf.Tensor2D).dataSync()
    })
    return module.tfjs.getThreadsCount()
  }
  const poolAfterSmallOp = poolAfter(16)
  const poolAfterBigOp = poolAfter(256)
  return { thread, backend: info.name, wasm: info.wasm, maxDiff, heapGrewTo, listenersAdded, poolAfterSmallOp, poolAfterBigOp }
}

if (isMainThread) {
  if (process.argv[2] === 'worker') {
    // tsx's loader is registered per thread (as src/lab/worker-dev.mjs does for the compute worker)
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}) })`
    const worker = new Worker(boot, { eval: true, workerData: 'probe' })
    worker.on('message', (result: WasmThreadsProbe) => process.stdout.write(`${JSON.stringify(result)}\n`))
    worker.on('error', (error) => {
      console.error(error)
      process.exitCode = 1
    })
  } else {
    process.stdout.write(`${JSON.stringify(await probe('main', process.argv[2] === 'broken-worker'))}\n`)
  }
} else if (workerData === 'probe') {
  parentPort!.postMessage(await probe('worker'))
}
