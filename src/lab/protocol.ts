// Messages between the lab service (main thread) and the compute worker thread.
import type { JobKind, JobMethod, TrainingProgress } from '../common/api'
import type { ErrorData } from '../common/errors'

/** The LabApi computations, plus 'spin': a test-only job that spins for `ms` milliseconds checking its flags. */
export type WorkerMethod = JobMethod

/**
 * Which worker runs a method. Experiments and benchmarks take seconds to minutes (and an experiment may sit
 * paused, its thread asleep on the pause flag), so they run on a worker of their own: workspace computations
 * never wait for them. The test job 'spin' runs where its request says (default: long).
 */
export function jobKind(method: WorkerMethod, request?: unknown): JobKind {
  if (method === 'spin') return (request as { lane?: JobKind } | undefined)?.lane === 'interactive' ? 'interactive' : 'long'
  return method === 'runExperiment' || method === 'runBenchmark' ? 'long' : 'interactive'
}

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
  | { type: 'error'; jobId: string; error: ErrorData }
