// The lab service: the one transport-agnostic implementation of LabApi.
// Compute runs in a worker thread (ComputePool); sessions live in the SQLite store on this thread
// (better-sqlite3 calls are short and synchronous). Electron IPC (src/main) and the HTTP server
// (src/cli/server) both expose exactly this object's LabApi methods; the command line (src/cli) is the third host
// and also calls its host methods (src/lab/host-methods.ts). Failures are written to the lab's log (logger.ts).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type {
  AppStatus,
  AttentionRequest,
  AttentionResult,
  BenchmarkRequest,
  BenchmarkResult,
  DecodingRequest,
  DecodingResult,
  ExperimentRequest,
  ExperimentResult,
  LabApi,
  LabEvent,
  ModelInfo,
  ModelRef,
  ProblemDemoRequest,
  ProblemDemoResult,
  PublishedResults,
  RelativePositionsRequest,
  RelativePositionsResult,
  TokenizedText,
} from '../common/api'
import { LabError, toErrorData } from '../common/errors'
import { APP_VERSION } from '../common/version'
import { ComputePool } from './compute-pool'
import { EventHub } from './events'
import { createHostMethods, type LabHostMethods } from './host-methods'
import { loggerForStore, type LogFields, type Logger } from './logger'
import type { WorkerMethod } from './protocol'
import { LabSessions, type RunHandle } from './sessions'
import type { ExperimentJobRequest, ExperimentJobValue } from './workspaces/experiment'

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
}

export interface LabService extends LabApi, LabHostMethods {
  /** the lab's log (the HTTP server writes its request errors there too) */
  readonly logger: Logger
  /** test-only: keeps the worker busy for ms milliseconds (cancellable) */
  spin(request: { ms: number; jobId?: string; trap?: boolean }): Promise<{ spunMs: number; threadId: number }>
  close(): Promise<void>
}

/** Names the run recorded for each workspace computation. */
const RUN_WORKSPACE: Partial<Record<WorkerMethod, string>> = {
  runProblemDemo: 'problem',
  runAttention: 'attention',
  runRelativePositions: 'relative',
  runDecoding: 'decoding',
  runBenchmark: 'benchmarks',
  runExperiment: 'experiments',
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
  const pool = new ComputePool({
    resourcesDir: options.resourcesDir,
    backend: options.backend,
    workerPath: options.workerPath,
    cancelGraceMs: options.cancelGraceMs,
    onProgress: (jobId, fraction, message, training) =>
      events.emit(training ? { type: 'progress', jobId, fraction, message, training } : { type: 'progress', jobId, fraction, message }),
  })
  // Start the worker now so the first computation does not pay for backend start-up (or on first use).
  let started: Promise<{ backend: string; notes: string[] }> | undefined
  const backendReady = (): Promise<{ backend: string; notes: string[] }> => {
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
  async function job<T, W = T>(
    method: WorkerMethod,
    request: { jobId?: string; sessionId?: string } & object,
    recordMetrics?: (run: RunHandle, value: T, raw: W) => void,
    toResult: (raw: W) => T = (raw) => raw as unknown as T,
  ): Promise<T> {
    const jobId = request.jobId ?? randomUUID()
    const workspace = RUN_WORKSPACE[method]
    // The backend is recorded with every run, so wait for the worker to have chosen it.
    const { backend } = await backendReady()
    const recorded = !!(request.sessionId && workspace)
    const sessions = recorded ? getSessions() : undefined
    // A run from files records the SHA-256 of the weights it used (the worker hashes them once per load), so a
    // reopened result can tell whether the folder still holds those weights. Same job id: Cancel reaches it.
    const model = (request as { model?: ModelRef }).model
    let weightsSha256: string | undefined
    if (recorded && model && model.kind !== 'synthetic') {
      try {
        weightsSha256 = (await pool.run<ModelInfo>('describeModel', model, jobId)).weightsSha256
      } catch (error) {
        if (error instanceof LabError && error.code === 'CANCELLED') {
          events.emit({ type: 'job-end', jobId, status: 'cancelled', error: toErrorData(error) })
          throw error
        }
        // the job itself fails the same way below, and is recorded as failed with that error
      }
    }
    const run = sessions ? sessions.startRun(request.sessionId!, workspace!, method, request, backend, weightsSha256) : undefined
    try {
      const raw = await pool.run<W>(method, request, jobId)
      let value = toResult(raw)
      if (run) {
        // The result names its run, so a workspace can point its saved state at it (lastResult.runId).
        if (value && typeof value === 'object' && !Array.isArray(value)) value = { ...value, runId: run.runId }
        recordMetrics?.(run, value, raw)
        sessions?.finishRun(run, 'done', value)
      }
      events.emit({ type: 'job-end', jobId, status: 'done' })
      return value
    } catch (error) {
      const data = toErrorData(error)
      const status = data.code === 'CANCELLED' ? 'cancelled' : 'failed'
      logFailure(`job ${method} ${status}`, error, { jobId, run: run?.runId })
      if (run && sessions) sessions.finishRun(run, status, undefined, data.message)
      events.emit({ type: 'job-end', jobId, status, error: data })
      throw error
    }
  }

  let publishedResults: PublishedResults | undefined

  const runExperiment = (request: ExperimentJobRequest): Promise<ExperimentResult> =>
    job<ExperimentResult, ExperimentJobValue>(
      'runExperiment',
      request,
      (run, value, raw) => {
        getSessions().logExperiment(run, value)
        getSessions().saveWeights(run, raw.weights ?? [])
      },
      ({ weights: _weights, ...result }) => result,
    )

  const service: LabService = {
    async getStatus(): Promise<AppStatus> {
      const info = await backendReady()
      const sessions = getSessions()
      return {
        appVersion: APP_VERSION,
        backend: info.backend,
        backendNotes: info.notes,
        storePath: sessions.path,
        storeNotice: sessions.notice,
        // AppStatus names the window hosts; the command line shows no status bar
        host: options.host === 'cli' ? 'browser' : options.host,
        platform: `${process.platform}-${process.arch}`,
      }
    },
    describeModel: (model: ModelRef) => pool.run<ModelInfo>('describeModel', model, randomUUID()),
    tokenize: (request) => pool.run<TokenizedText>('tokenize', request, randomUUID()),
    runProblemDemo: (request: ProblemDemoRequest) => job<ProblemDemoResult>('runProblemDemo', request),
    runAttention: (request: AttentionRequest) => job<AttentionResult>('runAttention', request),
    runRelativePositions: (request: RelativePositionsRequest) => job<RelativePositionsResult>('runRelativePositions', request),
    runDecoding: (request: DecodingRequest) => job<DecodingResult>('runDecoding', request),
    async runBenchmark(request: BenchmarkRequest): Promise<BenchmarkResult> {
      return job<BenchmarkResult>('runBenchmark', request)
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
    async cancelJob(jobId: string) {
      return pool.cancel(jobId)
    },
    async pauseJob({ jobId, paused }) {
      const done = pool.pause(jobId, paused)
      if (done) events.emit({ type: 'job-paused', jobId, paused })
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

    onEvent(listener: (event: LabEvent) => void) {
      return events.on(listener)
    },
    spin: (request) => job<{ spunMs: number; threadId: number }>('spin', request),
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
