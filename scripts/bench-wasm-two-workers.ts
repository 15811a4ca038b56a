// The alternative to wasm threads, measured: two single-threaded wasm backends (this thread and one worker thread)
// splitting a dense layer's matmul by output columns, the input sent to the worker and its half of the output sent
// back per call. Compared with the whole matmul on one thread and on the threaded SIMD build (DEBERTA_LAB_THREADS).
// usage: npx tsx scripts/bench-wasm-two-workers.ts [--seq 128,512] [--repeats 7]
// Prints one line per shape: ms for one thread, two workers (with transfer), the threaded build, and the transfer
// alone (input out + half the output back, plus the host copies in and out of the wasm heap).
import * as tf from '@tensorflow/tfjs-core'
import { parseArgs } from 'node:util'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { initBackend } from '../src/core/backend'
import { fillNormalSeeded } from '../src/core/synthetic'

interface Job { type: 'matmul' | 'echo'; x: Float32Array; rows: number }

async function workerMain(): Promise<void> {
  process.env.DEBERTA_LAB_THREADS = '1'
  await initBackend('wasm')
  const { w, k, n } = workerData as { w: Float32Array; k: number; n: number }
  const weight = tf.tensor2d(w, [k, n])
  parentPort!.on('message', (job: Job) => {
    const out = job.type === 'echo'
      ? new Float32Array(job.rows * n) // the transfer alone: a result of the right size, not computed
      : matmulData(tf.tensor2d(job.x, [job.rows, k]), weight, true)
    parentPort!.postMessage(out, [out.buffer as ArrayBuffer])
  })
  parentPort!.postMessage('ready')
}

/** x·w read back to the host (a tf.tidy returning a typed array would walk its every element: not used here). */
function matmulData(x: tf.Tensor2D, w: tf.Tensor2D, disposeX = false): Float32Array {
  const y = tf.matMul(x, w)
  const data = y.dataSync() as Float32Array
  y.dispose()
  if (disposeX) x.dispose()
  return data
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function time(repeats: number, run: () => Promise<void> | void): Promise<number> {
  await run()
  const ts: number[] = []
  for (let r = 0; r < repeats; r++) {
    const t = performance.now()
    await run()
    ts.push(performance.now() - t)
  }
  return median(ts)
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seq: { type: 'string', default: '128,512' }, repeats: { type: 'string', default: '7' } } })
  const seqs = values.seq!.split(',').map(Number)
  const repeats = Number(values.repeats)
  const threaded = await initBackend('wasm')
  const threads = threaded.wasm?.threads ?? 1
  const shapes: Array<[number, number]> = [[768, 3072], [3072, 768], [768, 768]]
  console.log(`wasm ${threaded.wasm?.build} ${threads} thread(s) in this thread; the split uses two single-threaded backends`)
  console.log('shape                 one thread   two workers  threaded   transfer')
  for (const [k, n] of shapes) {
    const half = n / 2
    const w = fillNormalSeeded(new Float32Array(k * n), 7)
    const wLeft = new Float32Array(k * half)
    const wRight = new Float32Array(k * half)
    for (let r = 0; r < k; r++) {
      wLeft.set(w.subarray(r * n, r * n + half), r * half)
      wRight.set(w.subarray(r * n + half, (r + 1) * n), r * half)
    }
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}) })`
    const worker = new Worker(boot, { eval: true, workerData: { w: wRight, k, n: half } })
    await new Promise<void>((resolve) => worker.once('message', () => resolve()))
    const call = (job: Job): Promise<Float32Array> => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage(job) })
    for (const seq of seqs) {
      const x = fillNormalSeeded(new Float32Array(seq * k), 3)
      const xT = tf.tensor2d(x, [seq, k])
      const full = tf.tensor2d(w, [k, n])
      const left = tf.tensor2d(wLeft, [k, half])
      const threadedMs = await time(repeats, () => void matmulData(xT, full))
      let splitMs = NaN
      let oneMs = NaN
      // one thread / two workers: the split's own half runs on this thread's backend, which is single-threaded
      // only when DEBERTA_LAB_THREADS=1; run the script twice (see README) or read the threaded column then.
      if (threads === 1) {
        oneMs = threadedMs
        splitMs = await time(repeats, async () => {
          const theirs = call({ type: 'matmul', x: xT.dataSync() as Float32Array, rows: seq })
          const mine = matmulData(xT, left)
          const other = await theirs
          tf.tidy(() => { tf.concat([tf.tensor2d(mine, [seq, half]), tf.tensor2d(other, [seq, half])], 1).dataSync() })
        })
      }
      const transferMs = await time(repeats, async () => {
        const back = await call({ type: 'echo', x: xT.dataSync() as Float32Array, rows: seq })
        tf.tidy(() => { tf.tensor2d(back, [seq, half]).dataSync() }) // the returned half into the heap
      })
      const f = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(1)).padStart(10)
      console.log(`[${seq},${k}]·[${k},${n}]`.padEnd(22), f(oneMs), '  ', f(splitMs), f(threads > 1 ? threadedMs : NaN), f(transferMs))
      tf.dispose([xT, full, left])
    }
    await worker.terminate()
  }
}

if (isMainThread) await main()
else await workerMain()
