// The lab service: the one transport-agnostic implementation of LabApi.
// Compute runs in a worker thread (ComputePool); sessions live in the SQLite store on this thread
// (better-sqlite3 calls are short and synchronous). Electron IPC (src/main) and the HTTP server
// (src/cli/server) both expose exactly this object's LabApi methods; the command line (src/cli) is the third host
// and also calls its host methods (src/lab/host-methods.ts). Failures are written to the lab's log (logger.ts).
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
  type AblationRequest,
  type HeadImportanceRequest,
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
  type ModelViewRequest,
  type DistanceProfileRequest,
} from '../common/api'
import type { CorpusPairRequest, CorpusRequest } from '../common/corpus'
import { LabError, toErrorData } from '../common/errors'
import { APP_VERSION } from '../common/version'
import { ComputePool, type BackendReady } from './compute-pool'
import { EventHub } from './events'
import { createHostMethods, type LabHostMethods } from './host-methods'
import { createHubService } from './hub'
import { JobRegistry } from './jobs'
import { loggerForStore, type LogFields, type Logger } from './logger'
import type { SpinRequest, SpinValue, WorkerMethod, WorkerRequests, WorkerValues } from './protocol'
import { LabSessions, type RunHandle } from './sessions'
import type { CorpusJobRequest } from './workspaces/corpus'
import type { ExperimentJobRequest } from './workspaces/experiment'

export interface LabServiceOptions {
  storePath: string
  resourcesDir: string
  host: AppStatus['host'] | 'cli'
  /**
   * Open the store and start the compute worker when first needed instead of at once (the command line:
   * `tokenize` never opens the store, `sessions` never starts the worker).
   */
  onFirstUse?: boolean
  /** Where failures are logged; default `<store folder>/logs/lab.log` (logger.ts) */
  logger?: Logger
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

export interface LabService extends LabApi, LabHostMethods {
  /** the lab's log (the HTTP server writes its request errors there too) */
  readonly logger: Logger
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
  const logger = options.logger ?? loggerForStore(options.storePath)
  // A failure is logged where it is first seen (a job, else the method the host called), once.
  const logged = new WeakSet<object>()
  const logFailure = (context: string, error: unknown, fields?: LogFields): void => {
    if (error && typeof error === 'object') {
      if (logged.has(error)) return
      logged.add(error)
    }
    logger.failure(context, error, fields)
  }
  let opened: LabSessions | undefined
  const getSessions = (): LabSessions => {
    if (!opened) {
      opened = LabSessions.open({ storePath: options.storePath, nativeBinding: options.nativeBinding, events })
      if (opened.notice) logger.warn(`the store was damaged and moved aside: ${opened.notice.reason}`, { store: options.storePath, movedTo: opened.notice.movedTo })
    }
    return opened
  }
  if (!options.onFirstUse) getSessions()
  /** Jobs cancelled before they reached a worker queue: they stop before their next step. */
  const cancelRequested = new Set<string>()
  /** Resumable jobs (corpus runs): the run their checkpoints go to, and the checkpoint a resumed one starts from. */
  const checkpointRuns = new Map<string, RunHandle>()
  const resumeCheckpoints = new Map<string, Uint8Array>()
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
    onCheckpoint: (jobId, data) => {
      const run = checkpointRuns.get(jobId)
      if (!run) return
      try {
        getSessions().saveCheckpoint(run, data)
      } catch (error) {
        logFailure('a corpus checkpoint was not stored', error, { jobId, run: run.runId })
      }
    },
    onLaneChange: (kind) => jobs.laneChanged(kind),
  })
  const jobs = new JobRegistry({
    emit: (job) => {
      if (!ACTIVE_JOB_STATES.includes(job.state)) cancelRequested.delete(job.jobId)
      events.emit({ type: 'job', job })
    },
    place: (jobId) => pool.place(jobId),
  })
  // Start the worker now so the first computation does not pay for backend start-up (or on first use).
  let started: Promise<BackendReady> | undefined
  const backendReady = (): Promise<BackendReady> => {
    if (!started) {
      started = pool.start()
      started.catch((error: unknown) => {
        started = undefined
        logger.failure('the compute worker did not start', error)
      })
    }
    return started
  }
  if (!options.onFirstUse) void backendReady().catch(() => undefined)
  logger.info('lab started', { host: options.host, store: options.storePath })

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
      backend = (await backendReady()).backend
    } catch (error) {
      jobs.finish(jobId, 'failed', { error: toErrorData(error) })
      throw error
    }
    const recorded = !!(request.sessionId && workspace)
    const sessions = recorded ? getSessions() : undefined
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
      // a benchmark may run on another backend than the lab's (request.backend): the run records the one it used
      const runBackend = (request as { backend?: string }).backend ?? backend
      // a corpus run records its text as an artifact of the run, not in its config
      run = !sessions
        ? undefined
        : method === 'runCorpus'
          ? sessions.startCorpusRun(request.sessionId!, workspace!, request as CorpusJobRequest, runBackend, weightsSha256)
          : sessions.startRun(request.sessionId!, workspace!, method, request, runBackend, weightsSha256)
      if (run) checkpointRuns.set(jobId, run)
      const raw = await runStep(method, request, jobId)
      let value = toResult ? toResult(raw) : raw
      if (run) {
        // The result names its run, so a workspace can point its saved state at it (lastResult.runId).
        if (value && typeof value === 'object' && !Array.isArray(value)) value = { ...value, runId: run.runId }
        recordMetrics?.(run, value, raw)
        sessions?.finishRun(run, 'done', value)
      }
      jobs.finish(jobId, 'done', { runId: run?.runId })
      events.emit({ type: 'job-end', jobId, status: 'done' })
      return value
    } catch (error) {
      const data = toErrorData(error)
      const status = data.code === 'CANCELLED' ? 'cancelled' : 'failed'
      logFailure(`job ${method} ${status}`, error, { jobId, run: run?.runId })
      if (run && sessions) sessions.finishRun(run, status, undefined, data.message)
      jobs.finish(jobId, status, { error: data })
      events.emit({ type: 'job-end', jobId, status, error: data })
      throw error
    } finally {
      checkpointRuns.delete(jobId)
      resumeCheckpoints.delete(jobId)
    }
  }

  function runStep<M extends WorkerMethod>(method: M, request: WorkerRequests[M], jobId: string): Promise<WorkerValues[M]> {
    if (cancelRequested.delete(jobId)) return Promise.reject(new LabError('CANCELLED', 'cancelled before it started'))
    const checkpoint = method === 'runCorpus' ? resumeCheckpoints.get(jobId) : undefined
    // the checkpoint goes to the worker only (the run records the request, which names the run it resumes)
    if (checkpoint) return pool.run(method, { ...request, checkpoint }, jobId)
    return pool.run(method, request, jobId)
  }

  /** A computation that records no run (model description, tokenizing), listed as a job all the same. */
  async function tracked<M extends 'describeModel' | 'tokenize' | 'exportPythonBundle'>(method: M, request: WorkerRequests[M]): Promise<WorkerValues[M]> {
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

  const runExperiment = (request: ExperimentJobRequest): Promise<ExperimentResult> =>
    job(
      'runExperiment',
      request,
      ({ weights: _weights, ...result }): ExperimentResult => result,
      (run, value, raw) => {
        getSessions().logExperiment(run, value)
        getSessions().saveWeights(run, raw.weights ?? [])
      },
    )

  const service: LabService = {
    async getStatus(): Promise<AppStatus> {
      const info = await backendReady()
      const sessions = getSessions()
      return {
        appVersion: APP_VERSION,
        backend: info.backend,
        backendDetail: info.detail ?? info.backend,
        backends: availableBackends(info.backend),
        backendNotes: info.notes,
        storePath: sessions.path,
        storeNotice: sessions.notice,
        storeSave: sessions.saveStatus,
        // AppStatus names the window hosts; the command line shows no status bar
        host: options.host === 'cli' ? 'browser' : options.host,
        platform: `${process.platform}-${process.arch}`,
      }
    },
    async describeModel(model: ModelRef) {
      const info = await tracked('describeModel', model)
      hub.remember(model)
      return info
    },
    tokenize: (request) => tracked('tokenize', request),
    exportPythonBundle: (request) => tracked('exportPythonBundle', request),
    runProblemDemo: (request: ProblemDemoRequest) => job('runProblemDemo', request),
    runAttention: (request: AttentionRequest) => job('runAttention', request),
    runRelativePositions: (request: RelativePositionsRequest) => job('runRelativePositions', request),
    runDecoding: (request: DecodingRequest) => job('runDecoding', request),
    runAblation: (request: AblationRequest) => job('runAblation', request),
    runHeadImportance: (request: HeadImportanceRequest) => job('runHeadImportance', request),
    runModelView: (request: ModelViewRequest) => job('runModelView', request),
    runDistanceProfile: (request: DistanceProfileRequest) => job('runDistanceProfile', request),
    async runCorpus(request: CorpusRequest) {
      const { text, name } = request.corpus
      if (request.resumeFrom) {
        if (!request.sessionId) throw new LabError('INPUT_INVALID', 'resuming a corpus run needs the session it was recorded in', { field: 'sessionId' })
        const jobId = request.jobId ?? randomUUID()
        const sessions = getSessions()
        const checkpoint = sessions.corpusCheckpoint(request.resumeFrom, request.sessionId)
        // without a text, the resumed run's own (the worker checks it against the checkpoint's SHA-256 either way)
        const corpus = { name, text: text ?? sessions.corpusText(request.resumeFrom, request.sessionId) }
        resumeCheckpoints.set(jobId, checkpoint)
        return job('runCorpus', { ...request, corpus, jobId })
      }
      if (text === undefined) throw new LabError('INPUT_INVALID', 'the corpus has no text: only a resumed run (resumeFrom) may leave it out', { field: 'corpus' })
      return job('runCorpus', { ...request, corpus: { name, text } })
    },
    runCorpusPairs: (request: CorpusPairRequest) => job('runCorpusPairs', request),
    async runBenchmark(request: BenchmarkRequest): Promise<BenchmarkResult> {
      return job('runBenchmark', request)
    },
    runExperiment: (request: ExperimentRequest) => runExperiment(request),
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

    listSessions: async () => getSessions().list(),
    createSession: async ({ name }) => getSessions().create(name),
    openSession: async (sessionId) => getSessions().open(sessionId),
    renameSession: async ({ sessionId, name }) => getSessions().rename(sessionId, name),
    duplicateSession: async (sessionId) => getSessions().duplicate(sessionId),
    deleteSession: async (sessionId) => getSessions().remove(sessionId),
    restoreSession: async (sessionId) => getSessions().restore(sessionId),
    saveWorkspaceState: async ({ sessionId, workspace, state }) => getSessions().saveWorkspace(sessionId, workspace, state),
    listRuns: async (sessionId) => getSessions().runs(sessionId),
    getRunResult: async (runId) => getSessions().runResult(runId),
    exportSession: async (sessionId) => getSessions().exportFile(sessionId),
    importSession: async ({ base64, mode }) => getSessions().importFile(base64, mode),
    saveChartSnapshot: async (request) => getSessions().saveChart(request),
    listModels: () => hub.listModels(),
    downloadModel: (request) => hub.downloadModel(request),
    listDirectory: (request) => hub.listDirectory(request),

    onEvent(listener: (event: LabEvent) => void) {
      return events.on(listener)
    },
    spin: (request) => job('spin', request),
    logger,
    ...createHostMethods({
      sessions: getSessions,
      backend: backendReady,
      run: (method, request, jobId) => pool.run(method, request, jobId),
      runExperiment,
      events,
    }),
    async close() {
      await pool.close()
      opened?.close()
    },
  }
  return logFailures(service, logFailure)
}

/** Not wrapped: no failure to log (onEvent) or nothing the user asked for (close). */
const UNLOGGED = new Set(['onEvent', 'close'])

/** The service with every method's failure written to the log (INTERNAL with its stack), then rethrown. */
function logFailures(service: LabService, logFailure: (context: string, error: unknown) => void): LabService {
  const wrapped: Record<string, unknown> = { ...service }
  for (const [name, value] of Object.entries(service)) {
    if (typeof value !== 'function' || UNLOGGED.has(name)) continue
    const method = value as (...args: unknown[]) => unknown
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(service, args)
      } catch (error) {
        logFailure(name, error)
        throw error
      }
    }
  }
  return wrapped as unknown as LabService
}
