// The lab service: the one transport-agnostic implementation of LabApi.
// Compute runs in a worker thread (ComputePool); sessions live in the SQLite store on this thread
// (better-sqlite3 calls are short and synchronous). Electron IPC (src/main) and the HTTP server
// (src/cli/server) both expose exactly this object.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ACTIVE_JOB_STATES,
  availableBackends,
  type AppStatus,
  type AttentionRequest,
  type AttentionResult,
  type BenchmarkRequest,
  type BenchmarkResult,
  type DecodingRequest,
  type DecodingResult,
  type ExperimentRequest,
  type ExperimentResult,
  type LabApi,
  type LabEvent,
  type JobInfo,
  type ModelInfo,
  type ModelRef,
  type ProblemDemoRequest,
  type ProblemDemoResult,
  type PublishedResults,
  type RelativePositionsRequest,
  type RelativePositionsResult,
  type ModelViewRequest,
  type ModelViewResult,
  type DistanceProfileRequest,
  type DistanceProfileResult,
  type TokenizedText,
} from '../common/api'
import { LabError, toErrorData } from '../common/errors'
import { APP_VERSION } from '../common/version'
import { ComputePool } from './compute-pool'
import { EventHub } from './events'
import { JobRegistry } from './jobs'
import { createHubService } from './hub'
import type { WorkerMethod } from './protocol'
import { LabSessions, type RunHandle } from './sessions'
import type { ExperimentJobValue } from './workspaces/experiment'

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
  spin(request: { ms: number; jobId?: string; sessionId?: string; trap?: boolean; lane?: 'interactive' | 'long' }): Promise<{ spunMs: number; threadId: number }>
  close(): Promise<void>
}

/** Names the run recorded for each workspace computation. */
const RUN_WORKSPACE: Partial<Record<WorkerMethod, string>> = {
  runProblemDemo: 'problem',
  runAttention: 'attention',
  runRelativePositions: 'relative',
  runModelView: 'attention',
  runDistanceProfile: 'attention',
  runDecoding: 'decoding',
  runBenchmark: 'benchmarks',
  runExperiment: 'experiments',
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
  async function job<T, W = T>(
    method: WorkerMethod,
    request: { jobId?: string; sessionId?: string } & object,
    recordMetrics?: (run: RunHandle, value: T, raw: W) => void,
    toResult: (raw: W) => T = (raw) => raw as unknown as T,
  ): Promise<T> {
    const jobId = request.jobId ?? randomUUID()
    const workspace = RUN_WORKSPACE[method]
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
        weightsSha256 = (await runStep<ModelInfo>('describeModel', model, jobId)).weightsSha256
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
      const raw = await runStep<W>(method, request, jobId)
      let value = toResult(raw)
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

  function runStep<T>(method: WorkerMethod, request: unknown, jobId: string): Promise<T> {
    if (cancelRequested.delete(jobId)) return Promise.reject(new LabError('CANCELLED', 'cancelled before it started'))
    return pool.run<T>(method, request, jobId)
  }

  /** A computation that records no run (model description, tokenizing), listed as a job all the same. */
  async function tracked<T>(method: 'describeModel' | 'tokenize', request: unknown): Promise<T> {
    const jobId = randomUUID()
    jobs.add(jobId, method, request)
    try {
      const value = await runStep<T>(method, request, jobId)
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
      const info = await tracked<ModelInfo>('describeModel', model)
      hub.remember(model)
      return info
    },
    tokenize: (request) => tracked<TokenizedText>('tokenize', request),
    runProblemDemo: (request: ProblemDemoRequest) => job<ProblemDemoResult>('runProblemDemo', request),
    runAttention: (request: AttentionRequest) => job<AttentionResult>('runAttention', request),
    runRelativePositions: (request: RelativePositionsRequest) => job<RelativePositionsResult>('runRelativePositions', request),
    runModelView: (request: ModelViewRequest) => job<ModelViewResult>('runModelView', request),
    runDistanceProfile: (request: DistanceProfileRequest) => job<DistanceProfileResult>('runDistanceProfile', request),
    runDecoding: (request: DecodingRequest) => job<DecodingResult>('runDecoding', request),
    async runBenchmark(request: BenchmarkRequest): Promise<BenchmarkResult> {
      return job<BenchmarkResult>('runBenchmark', request)
    },
    runExperiment: (request: ExperimentRequest) =>
      job<ExperimentResult, ExperimentJobValue>(
        'runExperiment',
        request,
        (run, value, raw) => {
          sessions.logExperiment(run, value)
          sessions.saveWeights(run, raw.weights ?? [])
        },
        ({ weights: _weights, ...result }) => result,
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
    spin: (request) => job<{ spunMs: number; threadId: number }>('spin', request),
    async close() {
      await pool.close()
      sessions.close()
    },
  }
  return service
}
