// Messages between the lab service (main thread) and the compute worker thread.
import type { JobKind, LabArgs, LabResult, LabWorkerMethod, TrainingProgress } from '../common/api'
import type { ErrorData } from '../common/errors'
import type { ExperimentJobRequest, ExperimentJobValue } from './workspaces/experiment'
import type { CorpusJobRequest } from './workspaces/corpus'
import type {
  BenchCasesJob,
  BenchCasesValue,
  ExperimentConfig,
  FolderEncoding,
  FolderTokenizeRequest,
  ForwardFileJob,
  ForwardFileValue,
  PrepareExperimentJob,
} from './workspaces/host-jobs'

/** The test-only job: spins for `ms` milliseconds checking cancellation (proves responsiveness and cancel). */
export interface SpinRequest {
  ms: number
  jobId?: string
  trap?: boolean
  /** the worker to spin on (default long) */
  lane?: JobKind
}
export interface SpinValue {
  spunMs: number
  threadId: number
}

/** What each worker method is asked: the LabApi method's request (registry kinds compute and job), and spin's. */
export type WorkerRequests = Omit<{ [M in LabWorkerMethod]: LabArgs<M>[0] }, 'runExperiment' | 'runCorpus'> & {
  /** the app's request, with the checkpoint's bytes when it resumes an earlier run */
  runCorpus: CorpusJobRequest
  /** the app's request, or the command line's with a config file's experiment */
  runExperiment: ExperimentJobRequest
  spin: SpinRequest
  /** the command line's jobs (src/lab/workspaces/host-jobs.ts) */
  tokenizeFolder: FolderTokenizeRequest
  forwardToFile: ForwardFileJob
  benchCases: BenchCasesJob
  prepareExperiment: PrepareExperimentJob
}
/**
 * What each worker method answers: the LabApi result, except an experiment, which also carries its trained weights
 * for the service to store (and strip from the result).
 */
export type WorkerValues = Omit<{ [M in LabWorkerMethod]: LabResult<M> }, 'runExperiment'> & {
  runExperiment: ExperimentJobValue
  spin: SpinValue
  tokenizeFolder: FolderEncoding
  forwardToFile: ForwardFileValue
  benchCases: BenchCasesValue
  prepareExperiment: ExperimentConfig
}
export type WorkerMethod = keyof WorkerRequests

/**
 * Which worker runs a method. Experiments and benchmarks take seconds to minutes (and an experiment may sit
 * paused, its thread asleep on the pause flag), so they run on a worker of their own: workspace computations
 * never wait for them. The test job 'spin' runs where its request says (default: long).
 */
export function jobKind(method: WorkerMethod, request?: unknown): JobKind {
  if (method === 'spin') return (request as SpinRequest | undefined)?.lane === 'interactive' ? 'interactive' : 'long'
  return method === 'runExperiment' || method === 'runBenchmark' || method === 'benchCases' || method === 'runCorpus' ? 'long' : 'interactive'
}

/** Job slots: the shared flags hold a cancel flag per slot, then a pause flag per slot. */
export const JOB_SLOTS = 64
export const pauseIndex = (slot: number): number => JOB_SLOTS + slot
/** Jobs that may be paused: they check their flags between training steps, never inside a timed region. */
export const PAUSABLE_METHODS: ReadonlySet<WorkerMethod> = new Set(['runExperiment', 'runCorpus', 'spin'])

export interface WorkerInit {
  /**
   * Shared flags (2 × JOB_SLOTS Int32): cancel flags, then pause flags. The worker reads them synchronously
   * between steps and sleeps on a pause flag with Atomics.wait until it is cleared or the job is cancelled.
   */
  cancelFlags: SharedArrayBuffer
  backend?: string
  resourcesDir: string
}

export type ToWorker = { type: 'run'; jobId: string; slot: number; method: WorkerMethod; request: WorkerRequests[WorkerMethod] }

export type FromWorker =
  /** detail: the backend as people read it, e.g. "wasm (threaded SIMD, 2 threads)" */
  | { type: 'ready'; backend: string; notes: string[]; detail: string }
  | { type: 'init-failed'; error: ErrorData }
  | { type: 'progress'; jobId: string; fraction: number; message: string; training?: TrainingProgress }
  | { type: 'result'; jobId: string; value: unknown }
  /** a resumable job's checkpoint (JobContext.checkpoint), stored on its run */
  | { type: 'checkpoint'; jobId: string; data: Uint8Array }
  /** `stack`: the worker-side stack trace of an unexpected (INTERNAL) error, for the lab's log */
  | { type: 'error'; jobId: string; error: ErrorData; stack?: string }
