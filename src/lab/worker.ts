// Compute worker thread: owns the tfjs backend and the loaded models; runs one job at a time.
import { parentPort, workerData } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs-core'
import { LabError, toErrorData } from '../common/errors'
import { ownedFloat32Buffers } from '../common/result-codec'
import type { ModelRef } from '../common/api'
import { describeBackend, initBackend } from '../core/backend'
import type { JobContext, LoadedLabModel } from './jobs'
import { ModelCache } from './models'
import { pauseIndex, type FromWorker, type ToWorker, type WorkerInit } from './protocol'
import { JOB_HANDLERS, runJobHandler } from './workspaces'

const PROGRESS_INTERVAL_MS = 100

/**
 * Methods whose results' Float32Arrays are copies made for the result (workspaces/common.ts), so their buffers
 * can be transferred. Other results may hold a backend's own tensor storage, which must stay here.
 */
const TRANSFERRED_RESULTS: ReadonlySet<string> = new Set(['runProblemDemo', 'runAttention', 'runRelativePositions'])

async function boot(): Promise<void> {
  const port = parentPort
  if (!port) throw new Error('worker.ts must run in a worker thread')
  const init = workerData as WorkerInit
  const flags = new Int32Array(init.cancelFlags)
  const send = (message: FromWorker): void => port.postMessage(message)

  let backend: string
  try {
    const info = await initBackend(init.backend)
    backend = info.name
    // tfjs-node's native runtime crashes the process at exit (SIGSEGV) when this thread loaded it but never ran an
    // op (e.g. `deberta-lab tokenize`): run one tiny op now.
    tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync())
    send({ type: 'ready', backend, notes: info.skipped, detail: describeBackend(info) })
  } catch (error) {
    send({ type: 'init-failed', error: toErrorData(error) })
    return
  }
  const models = new ModelCache(init.resourcesDir)

  // Jobs arrive one at a time (the pool serialises them), but keep a chain to be safe.
  let chain: Promise<void> = Promise.resolve()
  port.on('message', (message: ToWorker) => {
    if (message.type !== 'run') return
    chain = chain.then(() => runJob(message))
  })

  async function runJob(message: ToWorker): Promise<void> {
    const { jobId, slot, method, request } = message
    let lastProgress = 0
    const context: JobContext = {
      jobId,
      backend,
      resourcesDir: init.resourcesDir,
      getModel: (ref: ModelRef): Promise<LoadedLabModel> => models.get(ref, () => context.checkCancelled()),
      progress(fraction, text, training) {
        const now = Date.now()
        if (now - lastProgress < PROGRESS_INTERVAL_MS && fraction < 1) return
        lastProgress = now
        const clamped = Math.max(0, Math.min(1, fraction))
        send(training ? { type: 'progress', jobId, fraction: clamped, message: text, training } : { type: 'progress', jobId, fraction: clamped, message: text })
      },
      checkCancelled() {
        if (Atomics.load(flags, slot) !== 0) throw new LabError('CANCELLED', 'cancelled')
        // Paused: sleep here (the job's state stays as it is) until resumed or cancelled.
        const pause = pauseIndex(slot)
        while (Atomics.load(flags, pause) !== 0 && Atomics.load(flags, slot) === 0) Atomics.wait(flags, pause, 1, 1000)
        if (Atomics.load(flags, slot) !== 0) throw new LabError('CANCELLED', 'cancelled')
      },
      yieldToEvents: () => new Promise((resolve) => setImmediate(resolve)),
      checkpoint: (data) => send({ type: 'checkpoint', jobId, data }),
    }
    try {
      if (!Object.prototype.hasOwnProperty.call(JOB_HANDLERS, method)) throw new LabError('BAD_REQUEST', `unknown job method ${method}`)
      const value = await runJobHandler(method, context, request)
      // The result's matrices (each a Float32Array with its own buffer) move to the service's thread without a copy.
      port!.postMessage({ type: 'result', jobId, value } satisfies FromWorker, TRANSFERRED_RESULTS.has(method) ? ownedFloat32Buffers(value) : [])
    } catch (error) {
      const data = toErrorData(error)
      send({ type: 'error', jobId, error: data, stack: data.code === 'INTERNAL' && error instanceof Error ? error.stack : undefined })
    }
  }
}

void boot()
