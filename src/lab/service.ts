// The lab service: the one transport-agnostic implementation of LabApi.
// Compute runs in a worker thread (ComputePool); sessions live in the SQLite store on this thread
// (better-sqlite3 calls are short and synchronous). Electron IPC (src/main) and the HTTP server
// (src/cli/server) both expose exactly this object.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ACTIVE_JOB_STATES,
  LAB_METHODS,
  availableBackends,
  isLabApiMethod,
  type AppStatus,
  type AttentionRequest,
  type BenchmarkRequest,
  type BenchmarkResult,
  type DecodingRequest,
  type ExperimentRequest,
  type ExperimentResult,
  type JobInfo,
  type JobOptions,
  type LabApi,
  type LabEvent,
  type LabMethodSpec,
  type ModelRef,
  type ProblemDemoRequest,
  type PublishedResults,
  type RelativePositionsRequest,
  type WorkspaceId,
} from '../common/api'
import { LabError, toErrorData } from '../common/errors'
import { APP_VERSION } from '../common/version'
import { ComputePool } from './compute-pool'
import { EventHub } from './events'
import { JobRegistry } from './jobs'
import { createHubService } from './hub'
import type { SpinRequest, SpinValue, WorkerMethod, WorkerRequests, WorkerValues } from './protocol'
import { LabSessions, type RunHandle } from './sessions'

export interface LabServiceOptions {
  storePath: string
  resourcesDir: string
  host: 'electron' | 'browser'
  /** Electron-ABI better-sqlite3 binding (desktop app only) */
  nativeBinding?: string
  backend?: string
  /** Worker script override (tests) */
  workerPath?: string
  cancelGraceMs?: number
  /** Milliseconds the experiments/benchmarks worker may sit idle before it is stopped (tests) */
  longWorkerIdleMs?: number
  /** root of the folder picker's listing (default: the user's home) */
  homeDir?: string
  /** environment read for the Hugging Face cache and Hub (default process.env) */
  env?: NodeJS.ProcessEnv
}

export interface LabService extends LabApi {
  /** test-only: keeps the worker busy for ms milliseconds (cancellable) */
  spin(request: SpinRequest): Promise<SpinValue>
  close(): Promise<void>
}

/** Names the run recorded for a workspace computation: the registry's workspace of a `job` method. */
function runWorkspace(method: WorkerMethod): WorkspaceId | undefined {
  if (!isLabApiMethod(method)) return undefined
  const spec: LabMethodSpec = LAB_METHODS[method]
  return spec.kind === 'job' ? spec.workspace : undefined
}

export async function createLabService(options: LabServiceOptions): Promise<LabService> {
  const events = new EventHub()
  const sessions = LabSessions.open({ storePath: options.storePath, nativeBinding: options.nativeBinding, events })
  /** Jobs cancelled before they reached a worker queue: they stop before their next step. */
  const cancelRequested = new Set<string>()
  const pool: ComputePool = new ComputePool({
    resourcesDir: options.resourcesDir,
    backend: options.backend,
    workerPath: options.workerPath,
    cancelGraceMs: options.cancelGraceMs,
    longIdleMs: options.longWorkerIdleMs,
    onProgress: (jobId, fraction, message, training) => {
      jobs.progress(jobId, fraction, message, training)
      events.emit(training ? { type: 'progress', jobId, fraction, message, training } : { type: 'progress', jobId, fraction, message })
    },
    onStart: (jobId) => jobs.started(jobId),
    onLaneChange: (kind) => jobs.laneChanged(kind),
  })
  const jobs = new JobRegistry({
    emit: (job) => {
      if (!ACTIVE_JOB_STATES.includes(job.state)) cancelRequested.delete(job.jobId)
      events.emit({ type: 'job', job })
    },
    place: (jobId) => pool.place(jobId),
  })
  // Start the worker now so the first computation does not pay for backend start-up.
  const ready = pool.start()
  ready.catch(() => undefined)

  /**
   * Runs a worker method; with a session, records the run (and `recordMetrics` logs its metrics on this thread).
   * `toResult` turns the worker's value into the LabApi result (recorded with the run): it drops what only the
   * recording needs, such as an experiment's trained weights.
   */
  function job<M extends WorkerMethod>(method: M, request: WorkerRequests[M] & JobOptions): Promise<WorkerValues[M]>
  function job<M extends WorkerMethod, T>(
    method: M,
    request: WorkerRequests[M] & JobOptions,
    toResult: (raw: WorkerValues[M]) => T,
    recordMetrics: (run: RunHandle, value: T, raw: WorkerValues[M]) => void,
  ): Promise<T>
  async function job<M extends WorkerMethod>(
    method: M,
    request: WorkerRequests[M] & JobOptions,
    toResult?: (raw: WorkerValues[M]) => unknown,
    recordMetrics?: (run: RunHandle, value: unknown, raw: WorkerValues[M]) => void,
  ): Promise<unknown> {
    const jobId = request.jobId ?? randomUUID()
    const workspace = runWorkspace(method)
    jobs.add(jobId, method, request)
    // The backend is recorded with every run, so wait for the worker to have chosen it.
    let backend: string
    try {
      backend = (await ready).backend
    } catch (error) {
      jobs.finish(jobId, 'failed', { error: toErrorData(error) })
      throw error
    }
    const recorded = !!(request.sessionId && workspace)
    // A run from files records the SHA-256 of the weights it used (the worker hashes them once per load), so a
    // reopened result can tell whether the folder still holds those weights. Same job id: Cancel reaches it.
    const model = (request as { model?: ModelRef }).model
    let weightsSha256: string | undefined
    if (recorded && model && model.kind !== 'synthetic') {
      try {
        weightsSha256 = (await runStep('describeModel', model, jobId)).weightsSha256
      } catch (error) {
        if (error instanceof LabError && error.code === 'CANCELLED') {
          jobs.finish(jobId, 'cancelled', { error: toErrorData(error) })
          events.emit({ type: 'job-end', jobId, status: 'cancelled', error: toErrorData(error) })
          throw error
        }
        // the job itself fails the same way below, and is recorded as failed with that error
      }
    }
    let run: RunHandle | undefined
    try {
      run = recorded ? sessions.startRun(request.sessionId!, workspace!, method, request, backend, weightsSha256) : undefined
      const raw = await runStep(method, request, jobId)
      let value = toResult ? toResult(raw) : raw
      if (run) {
        // The result names its run, so a workspace can point its saved state at it (lastResult.runId).
        if (value && typeof value === 'object' && !Array.isArray(value)) value = { ...value, runId: run.runId }
        recordMetrics?.(run, value, raw)
        sessions.finishRun(run, 'done', value)
      }
      jobs.finish(jobId, 'done', { runId: run?.runId })
      events.emit({ type: 'job-end', jobId, status: 'done' })
      return value
    } catch (error) {
      const data = toErrorData(error)
      const status = data.code === 'CANCELLED' ? 'cancelled' : 'failed'
      if (run) sessions.finishRun(run, status, undefined, data.message)
      jobs.finish(jobId, status, { error: data })
      events.emit({ type: 'job-end', jobId, status, error: data })
      throw error
    }
  }

  function runStep<M extends WorkerMethod>(method: M, request: WorkerRequests[M], jobId: string): Promise<WorkerValues[M]> {
    if (cancelRequested.delete(jobId)) return Promise.reject(new LabError('CANCELLED', 'cancelled before it started'))
    return pool.run(method, request, jobId)
  }

  /** A computation that records no run (model description, tokenizing), listed as a job all the same. */
  async function tracked<M extends 'describeModel' | 'tokenize'>(method: M, request: WorkerRequests[M]): Promise<WorkerValues[M]> {
    const jobId = randomUUID()
    jobs.add(jobId, method, request)
    try {
      const value = await runStep(method, request, jobId)
      jobs.finish(jobId, 'done')
      return value
    } catch (error) {
      const data = toErrorData(error)
      jobs.finish(jobId, data.code === 'CANCELLED' ? 'cancelled' : 'failed', { error: data })
      throw error
    }
  }

  let publishedResults: PublishedResults | undefined
  const hub = createHubService({ resourcesDir: options.resourcesDir, storePath: options.storePath, events, homeDir: options.homeDir, env: options.env })

  const service: LabService = {
    async getStatus(): Promise<AppStatus> {
      const info = await ready
      return {
        appVersion: APP_VERSION,
        backend: info.backend,
        backends: availableBackends(info.backend),
        backendNotes: info.notes,
        storePath: sessions.path,
        storeNotice: sessions.notice,
        host: options.host,
        platform: `${process.platform}-${process.arch}`,
      }
    },
    async describeModel(model: ModelRef) {
      const info = await tracked('describeModel', model)
      hub.remember(model)
      return info
    },
    tokenize: (request) => tracked('tokenize', request),
    runProblemDemo: (request: ProblemDemoRequest) => job('runProblemDemo', request),
    runAttention: (request: AttentionRequest) => job('runAttention', request),
    runRelativePositions: (request: RelativePositionsRequest) => job('runRelativePositions', request),
    runDecoding: (request: DecodingRequest) => job('runDecoding', request),
    async runBenchmark(request: BenchmarkRequest): Promise<BenchmarkResult> {
      return job('runBenchmark', request)
    },
    runExperiment: (request: ExperimentRequest) =>
      job(
        'runExperiment',
        request,
        ({ weights: _weights, ...result }): ExperimentResult => result,
        (run, value, raw) => {
          sessions.logExperiment(run, value)
          sessions.saveWeights(run, raw.weights ?? [])
        },
      ),
    async getPublishedResults(): Promise<PublishedResults> {
      if (!publishedResults) {
        try {
          publishedResults = JSON.parse(readFileSync(join(options.resourcesDir, 'published-results.json'), 'utf8')) as PublishedResults
        } catch (error) {
          throw new LabError('NOT_FOUND', `published-results.json could not be read from ${options.resourcesDir}: ${(error as Error).message}`)
        }
      }
      return publishedResults
    },
    async listJobs(): Promise<JobInfo[]> {
      return jobs.list()
    },
    async cancelJob(jobId: string) {
      if (hub.cancel(jobId) || pool.cancel(jobId)) return true
      // Asked for but not yet handed to a worker (waiting for the backend, or between its two steps).
      const state = jobs.get(jobId)?.state
      if (state !== 'queued' && state !== 'running') return false
      cancelRequested.add(jobId)
      return true
    },
    async pauseJob({ jobId, paused }) {
      const done = pool.pause(jobId, paused)
      if (done) {
        jobs.paused(jobId, paused)
        events.emit({ type: 'job-paused', jobId, paused })
      }
      return done
    },

    listSessions: async () => sessions.list(),
    createSession: async ({ name }) => sessions.create(name),
    openSession: async (sessionId) => sessions.open(sessionId),
    renameSession: async ({ sessionId, name }) => sessions.rename(sessionId, name),
    duplicateSession: async (sessionId) => sessions.duplicate(sessionId),
    deleteSession: async (sessionId) => sessions.remove(sessionId),
    restoreSession: async (sessionId) => sessions.restore(sessionId),
    saveWorkspaceState: async ({ sessionId, workspace, state }) => sessions.saveWorkspace(sessionId, workspace, state),
    listRuns: async (sessionId) => sessions.runs(sessionId),
    getRunResult: async (runId) => sessions.runResult(runId),
    exportSession: async (sessionId) => sessions.exportFile(sessionId),
    importSession: async ({ base64, mode }) => sessions.importFile(base64, mode),
    saveChartSnapshot: async (request) => sessions.saveChart(request),
    listModels: () => hub.listModels(),
    downloadModel: (request) => hub.downloadModel(request),
    listDirectory: (request) => hub.listDirectory(request),

    onEvent(listener: (event: LabEvent) => void) {
      return events.on(listener)
    },
    spin: (request) => job('spin', request),
    async close() {
      await pool.close()
      sessions.close()
    },
  }
  return service
}
