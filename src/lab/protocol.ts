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
  /** test-only job: spins for `ms` milliseconds checking cancellation (proves responsiveness and cancel) */
  | 'spin'

export interface WorkerInit {
  /** Shared cancel flags, one Int32 slot per job slot; the worker reads them synchronously between steps. */
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
  | { type: 'error'; jobId: string; error: ErrorData }
