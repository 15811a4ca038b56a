// The lab service: the one transport-agnostic implementation of LabApi.
// Compute runs in a worker thread (ComputePool); sessions live in the SQLite store on this thread
// (better-sqlite3 calls are short and synchronous). Electron IPC (src/main) and the HTTP server
// (src/cli/server) both expose exactly this object.
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
}

export interface LabService extends LabApi {
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
  const sessions = LabSessions.open({ storePath: options.storePath, nativeBinding: options.nativeBinding, events })
  const pool = new ComputePool({
    resourcesDir: options.resourcesDir,
    backend: options.backend,
    workerPath: options.workerPath,
    cancelGraceMs: options.cancelGraceMs,
    onProgress: (jobId, fraction, message, training) =>
      events.emit(training ? { type: 'progress', jobId, fraction, message, training } : { type: 'progress', jobId, fraction, message }),
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
    // The backend is recorded with every run, so wait for the worker to have chosen it.
    const { backend } = await ready
    const recorded = !!(request.sessionId && workspace)
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
    const run = recorded ? sessions.startRun(request.sessionId!, workspace!, method, request, backend, weightsSha256) : undefined
    try {
      const raw = await pool.run<W>(method, request, jobId)
      let value = toResult(raw)
      if (run) {
        // The result names its run, so a workspace can point its saved state at it (lastResult.runId).
        if (value && typeof value === 'object' && !Array.isArray(value)) value = { ...value, runId: run.runId }
        recordMetrics?.(run, value, raw)
        sessions.finishRun(run, 'done', value)
      }
      events.emit({ type: 'job-end', jobId, status: 'done' })
      return value
    } catch (error) {
      const data = toErrorData(error)
      const status = data.code === 'CANCELLED' ? 'cancelled' : 'failed'
      if (run) sessions.finishRun(run, status, undefined, data.message)
      events.emit({ type: 'job-end', jobId, status, error: data })
      throw error
    }
  }

  let publishedResults: PublishedResults | undefined

  const service: LabService = {
    async getStatus(): Promise<AppStatus> {
      const info = await ready
      return {
        appVersion: APP_VERSION,
        backend: info.backend,
        backendNotes: info.notes,
        storePath: sessions.path,
        storeNotice: sessions.notice,
        storeSave: sessions.saveStatus,
        host: options.host,
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
    async cancelJob(jobId: string) {
      return pool.cancel(jobId)
    },
    async pauseJob({ jobId, paused }) {
      const done = pool.pause(jobId, paused)
      if (done) events.emit({ type: 'job-paused', jobId, paused })
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
