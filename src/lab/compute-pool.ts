// Runs compute jobs in worker threads so the event loop that serves windows and HTTP stays free.
// Two workers ("lanes"): one for interactive work (workspace computations, model descriptions, tokenizing) and
// one for long jobs (experiments, benchmarks), started on first use. On each, jobs run one at a time (tfjs is
// synchronous inside a job) and queued jobs wait their turn; so a long or paused experiment never holds up a
// workspace, and a benchmark never shares its worker's core with a training job.
// Cancel: a shared flag the worker polls between steps; if the job does not stop within the grace
// period (stuck inside one long kernel), the worker is terminated and restarted.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { JobKind, TrainingProgress } from '../common/api'
import { LabError, fromErrorData } from '../common/errors'
import { enableArrayBufferTransfer, quietTensorflowLogs, tensorflowThreads } from '../core/backend-env'
import { JOB_SLOTS, PAUSABLE_METHODS, jobKind, pauseIndex, type FromWorker, type ToWorker, type WorkerInit, type WorkerMethod, type WorkerRequests, type WorkerValues } from './protocol'

/** The worker's backend: its name (the key runs record), why faster ones were skipped, and how people read it. */
export interface BackendReady {
  backend: string
  notes: string[]
  detail?: string
}

export interface ComputePoolOptions {
  resourcesDir: string
  /** Forces a backend (else DEBERTA_LAB_BACKEND or the default order) */
  backend?: string
  /** Milliseconds a cancelled job may take to stop before the worker is terminated */
  cancelGraceMs?: number
  /** Worker script; defaults to worker.js beside the built bundle, else worker.ts run through tsx */
  workerPath?: string
  onProgress?: (jobId: string, fraction: number, message: string, training?: TrainingProgress) => void
  /** A resumable job sent a checkpoint (before its result or error, in order) */
  onCheckpoint?: (jobId: string, data: Uint8Array) => void
  /** A job was handed to its worker (called again when a job id runs a second step, see LabService) */
  onStart?: (jobId: string) => void
  /** The jobs running or queued on a lane changed */
  onLaneChange?: (kind: JobKind) => void
  /** Milliseconds the long-jobs worker may sit idle before it is stopped (its memory given back); default 5 min */
  longIdleMs?: number
}

/** Where a queued job stands on its lane. */
export interface QueuePlace {
  kind: JobKind
  /** 1 = next */
  position: number
  /** the job running on the lane now (absent while its worker starts) */
  behind?: string
}

interface Job {
  jobId: string
  method: WorkerMethod
  request: WorkerRequests[WorkerMethod]
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  cancelled: boolean
  slot?: number
  graceTimer?: NodeJS.Timeout
}


export function resolveWorkerPath(): { path: string; execArgv: string[] } {
  const candidates = ['./worker.js', '../worker.js', '../main/worker.js']
  for (const candidate of candidates) {
    const path = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(path)) return { path, execArgv: [] }
  }
  // Running from sources (tests, tsx): a bootstrap registers tsx in the worker, then loads worker.ts.
  return { path: fileURLToPath(new URL('./worker-dev.mjs', import.meta.url)), execArgv: [] }
}

/** Errors after which the worker's tfjs backend cannot be trusted any more (wasm traps, heap exhaustion). */
export function backendBroken(error: { code: string; message: string }): boolean {
  return error.code === 'INTERNAL' && /memory access out of bounds|out of memory|unreachable|Aborted\(|RuntimeError|Cannot enlarge memory|Array buffer allocation failed/i.test(error.message)
}

/** One worker thread and its queue. */
class WorkerLane {
  private worker?: Worker
  private ready?: Promise<BackendReady>
  private readonly flags = new Int32Array(new SharedArrayBuffer(4 * 2 * JOB_SLOTS))
  private readonly queue: Job[] = []
  private current?: Job
  private nextSlot = 0
  private closed = false
  private info?: BackendReady
  private changePending = false
  private idleTimer?: NodeJS.Timeout

  constructor(
    private readonly options: ComputePoolOptions,
    readonly kind: JobKind,
    /** stop the worker after this long without jobs (undefined: keep it) */
    private readonly idleMs?: number,
  ) {}

  /** Starts the worker (if needed) and resolves with the backend it chose. */
  start(): Promise<BackendReady> {
    if (this.closed) return Promise.reject(new LabError('INTERNAL', 'compute pool is closed'))
    if (this.ready) return this.ready
    const { path, execArgv } = this.options.workerPath
      ? { path: this.options.workerPath, execArgv: [] }
      : resolveWorkerPath()
    const init: WorkerInit = {
      cancelFlags: this.flags.buffer as SharedArrayBuffer,
      backend: this.options.backend,
      resourcesDir: this.options.resourcesDir,
    }
    // libtensorflow (loaded in the worker) reads the process environment, which only this thread can change.
    quietTensorflowLogs()
    tensorflowThreads()
    enableArrayBufferTransfer()
    const worker = new Worker(path, { workerData: init, execArgv })
    this.worker = worker
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        if (message.type === 'ready') {
          this.info = { backend: message.backend, notes: message.notes, detail: message.detail }
          resolve(this.info)
          this.pump()
        } else if (message.type === 'init-failed') {
          reject(fromErrorData(message.error))
        } else {
          this.handle(message)
        }
      }
      worker.on('message', onMessage)
      worker.on('error', (error) => {
        reject(error)
        this.failCurrent(new LabError('INTERNAL', `compute worker crashed: ${error.message}`))
        this.restart()
      })
      worker.on('exit', (code) => {
        if (this.worker === worker && !this.closed) {
          this.failCurrent(new LabError('INTERNAL', `compute worker exited with code ${code}`))
          this.restart()
        }
      })
    })
    // Avoid unhandled rejections when nobody awaits start(); callers of run() see the error.
    this.ready.catch(() => undefined)
    return this.ready
  }

  get backendInfo(): BackendReady | undefined {
    return this.info
  }

  /** Runs a worker method; resolves with what its handler (src/lab/workspaces/index.ts) returned. */
  run<M extends WorkerMethod>(method: M, request: WorkerRequests[M], jobId: string): Promise<WorkerValues[M]> {
    if (this.closed) return Promise.reject(new LabError('INTERNAL', 'compute pool is closed'))
    if (this.current?.jobId === jobId || this.queue.some((job) => job.jobId === jobId)) {
      return Promise.reject(new LabError('BUSY', `a job with id ${jobId} is already running`))
    }
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    return new Promise<WorkerValues[M]>((resolve, reject) => {
      this.queue.push({ jobId, method, request, resolve: resolve as (v: unknown) => void, reject, cancelled: false })
      this.changed()
      this.start().then(
        () => this.pump(),
        (error: Error) => {
          const index = this.queue.findIndex((job) => job.jobId === jobId)
          if (index >= 0) this.queue.splice(index, 1)
          reject(error)
          this.changed()
        },
      )
    })
  }

  /** Cancels a queued or running job. Resolves true if the job existed. */
  cancel(jobId: string): boolean {
    const queuedIndex = this.queue.findIndex((job) => job.jobId === jobId)
    if (queuedIndex >= 0) {
      const [job] = this.queue.splice(queuedIndex, 1)
      job.reject(new LabError('CANCELLED', 'cancelled before it started'))
      this.changed()
      return true
    }
    const job = this.current
    if (!job || job.jobId !== jobId || job.slot === undefined) return false
    job.cancelled = true
    Atomics.store(this.flags, job.slot, 1)
    Atomics.notify(this.flags, pauseIndex(job.slot)) // wakes a paused job, which then sees the cancel
    job.graceTimer = setTimeout(() => {
      // The job did not reach a cancellation point in time: stop the thread itself.
      if (this.current === job) {
        this.failCurrent(new LabError('CANCELLED', 'cancelled (the computation was stopped)'))
        this.restart()
      }
    }, this.options.cancelGraceMs ?? 3000)
    return true
  }

  /** Pauses or resumes the running job when its method is pausable. Resolves true if the flag was set. */
  pause(jobId: string, paused: boolean): boolean {
    const job = this.current
    if (!job || job.jobId !== jobId || job.slot === undefined || job.cancelled || !PAUSABLE_METHODS.has(job.method)) return false
    Atomics.store(this.flags, pauseIndex(job.slot), paused ? 1 : 0)
    if (!paused) Atomics.notify(this.flags, pauseIndex(job.slot))
    return true
  }

  /** Where a queued job stands; undefined when it is not queued here. */
  place(jobId: string): QueuePlace | undefined {
    const index = this.queue.findIndex((job) => job.jobId === jobId)
    if (index < 0) return undefined
    return { kind: this.kind, position: index + 1, behind: this.current?.jobId }
  }

  has(jobId: string): boolean {
    return this.current?.jobId === jobId || this.queue.some((job) => job.jobId === jobId)
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.idleTimer) clearTimeout(this.idleTimer)
    for (const job of this.queue.splice(0)) job.reject(new LabError('CANCELLED', 'the lab is closing'))
    this.failCurrent(new LabError('CANCELLED', 'the lab is closing'))
    const worker = this.worker
    this.worker = undefined
    if (worker) await worker.terminate()
  }

  private pump(): void {
    if (this.current || !this.info || !this.worker) return
    const job = this.queue.shift()
    if (!job) {
      this.stopWhenIdle()
      return
    }
    job.slot = this.nextSlot
    this.nextSlot = (this.nextSlot + 1) % JOB_SLOTS
    Atomics.store(this.flags, job.slot, 0)
    Atomics.store(this.flags, pauseIndex(job.slot), 0)
    this.current = job
    const message: ToWorker = { type: 'run', jobId: job.jobId, slot: job.slot, method: job.method, request: job.request }
    this.worker.postMessage(message)
    this.options.onStart?.(job.jobId)
    this.changed()
  }

  /** Lets an idle worker go after idleMs (the next job starts a fresh one). */
  private stopWhenIdle(): void {
    if (this.idleMs === undefined || this.idleTimer) return
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      if (this.current || this.queue.length > 0 || !this.worker) return
      this.restart()
    }, this.idleMs)
    this.idleTimer.unref()
  }

  /** Announces a change of the lane's jobs once per tick (a job ending and the next starting are one change). */
  private changed(): void {
    if (this.changePending) return
    this.changePending = true
    queueMicrotask(() => {
      this.changePending = false
      this.options.onLaneChange?.(this.kind)
    })
  }

  private handle(message: FromWorker): void {
    if (message.type === 'progress') {
      this.options.onProgress?.(message.jobId, message.fraction, message.message, message.training)
      return
    }
    if (message.type === 'checkpoint') {
      if (this.current?.jobId === message.jobId) this.options.onCheckpoint?.(message.jobId, message.data)
      return
    }
    if (message.type !== 'result' && message.type !== 'error') return
    const job = this.current
    if (!job || job.jobId !== message.jobId) return
    this.finish(job)
    if (message.type === 'result') job.resolve(message.value)
    else {
      const error = fromErrorData(message.error)
      if (message.stack) error.stack = message.stack // where it happened in the worker, for the log
      job.reject(error)
    }
    if (message.type === 'error' && backendBroken(message.error)) {
      // A wasm abort (out of memory, out-of-bounds access) leaves the backend's heap unusable: every later
      // job would fail the same way. A fresh worker (fresh backend, models reloaded on demand) recovers.
      this.restart()
      return
    }
    this.pump()
  }

  private finish(job: Job): void {
    if (job.graceTimer) clearTimeout(job.graceTimer)
    if (this.current === job) this.current = undefined
    this.changed()
  }

  private failCurrent(error: Error): void {
    const job = this.current
    if (!job) return
    this.finish(job)
    job.reject(error)
  }

  private restart(): void {
    const old = this.worker
    this.worker = undefined
    this.ready = undefined
    this.info = undefined
    if (old) void old.terminate()
    if (!this.closed && this.queue.length > 0) void this.start().catch(() => undefined)
  }
}

/** How long the long-jobs worker stays without jobs before it is stopped (about 120 MB given back). */
export const LONG_WORKER_IDLE_MS = 5 * 60_000

/**
 * The two lanes: interactive (started at once: it tells the backend; kept) and long (started by its first job,
 * stopped after LONG_WORKER_IDLE_MS without jobs).
 */
export class ComputePool {
  private readonly lanes: Record<JobKind, WorkerLane>

  constructor(options: ComputePoolOptions) {
    this.lanes = { interactive: new WorkerLane(options, 'interactive'), long: new WorkerLane(options, 'long', options.longIdleMs ?? LONG_WORKER_IDLE_MS) }
  }

  /** Starts the interactive worker (if needed) and resolves with the backend it chose. */
  start(): Promise<BackendReady> {
    return this.lanes.interactive.start()
  }

  get backendInfo(): BackendReady | undefined {
    return this.lanes.interactive.backendInfo
  }

  run<M extends WorkerMethod>(method: M, request: WorkerRequests[M], jobId: string): Promise<WorkerValues[M]> {
    const other = this.lanes[jobKind(method, request) === 'long' ? 'interactive' : 'long']
    if (other.has(jobId)) return Promise.reject(new LabError('BUSY', `a job with id ${jobId} is already running`))
    return this.lanes[jobKind(method, request)].run(method, request, jobId)
  }

  cancel(jobId: string): boolean {
    return this.lanes.interactive.cancel(jobId) || this.lanes.long.cancel(jobId)
  }

  pause(jobId: string, paused: boolean): boolean {
    return this.lanes.interactive.pause(jobId, paused) || this.lanes.long.pause(jobId, paused)
  }

  place(jobId: string): QueuePlace | undefined {
    return this.lanes.interactive.place(jobId) ?? this.lanes.long.place(jobId)
  }

  async close(): Promise<void> {
    await Promise.all([this.lanes.interactive.close(), this.lanes.long.close()])
  }
}
