// Messages between the lab service (main thread) and the compute worker thread.
import type { TrainingProgress } from '../common/api'
import type { ErrorData } from '../common/errors'

export type WorkerMethod =
  | 'describeModel'
  | 'tokenize'
  | 'runProblemDemo'
  | 'runAttention'
  | 'runRelativePositions'
  | 'runDecoding'
  | 'runBenchmark'
  | 'runExperiment'
  /** the command line's jobs (src/lab/workspaces/host-jobs.ts) */
  | 'tokenizeFolder'
  | 'forwardToFile'
  | 'benchCases'
  | 'prepareExperiment'
  /** test-only job: spins for `ms` milliseconds checking cancellation (proves responsiveness and cancel) */
  | 'spin'

/** Job slots: the shared flags hold a cancel flag per slot, then a pause flag per slot. */
export const JOB_SLOTS = 64
export const pauseIndex = (slot: number): number => JOB_SLOTS + slot
/** Jobs that may be paused: they check their flags between training steps, never inside a timed region. */
export const PAUSABLE_METHODS: ReadonlySet<WorkerMethod> = new Set(['runExperiment', 'spin'])

export interface WorkerInit {
  /**
   * Shared flags (2 × JOB_SLOTS Int32): cancel flags, then pause flags. The worker reads them synchronously
   * between steps and sleeps on a pause flag with Atomics.wait until it is cleared or the job is cancelled.
   */
  cancelFlags: SharedArrayBuffer
  backend?: string
  resourcesDir: string
}

export type ToWorker = { type: 'run'; jobId: string; slot: number; method: WorkerMethod; request: unknown }

export type FromWorker =
  | { type: 'ready'; backend: string; notes: string[] }
  | { type: 'init-failed'; error: ErrorData }
  | { type: 'progress'; jobId: string; fraction: number; message: string; training?: TrainingProgress }
  | { type: 'result'; jobId: string; value: unknown }
  /** `stack`: the worker-side stack trace of an unexpected (INTERNAL) error, for the lab's log */
  | { type: 'error'; jobId: string; error: ErrorData; stack?: string }
