// What a host other than a window needs from the lab: the command line writes results to files, reads inputs from
// files, shows deleted sessions and purges them, and runs jobs the app offers in another shape (any checkpoint
// folder's tokenizer, a forward pass to safetensors, the benchmark of any config, experiments from config files
// and at the 'full' budget). These are methods of the lab service object (LabService), not of LabApi: no window
// or page can call them. Compute runs in the service's worker like every job, with progress and cancel; runs
// are recorded by the same code as the app's, so a session trained from the command line is the app's record.
//
// This module is loaded on the host's main thread: it imports core and the worker's jobs for types only.
import { randomUUID } from 'node:crypto'
import type { ExperimentRequest, ExperimentResult, TrainingProgress } from '../common/api'
import { LabError } from '../common/errors'
import type { ImportMode, ImportOutcome, SessionSummary, StoreNotice } from '../common/sessions'
import { DEFAULT_IMPORT_LIMITS } from '../store'
import type { EventHub } from './events'
import { checkOutputTarget, readRegularFile, storeFiles, writeFileReplacing } from './host-files'
import type { WorkerMethod, WorkerRequests, WorkerValues } from './protocol'
import type { LabSessions } from './sessions'
import type { ExperimentJobRequest } from './workspaces/experiment'
import type {
  BenchCaseResult,
  BenchCasesJob,
  BenchCasesValue,
  ExperimentConfig,
  FolderEncoding,
  FolderTokenizeRequest,
  ForwardFileJob,
  ForwardFileValue,
  ForwardInputs,
} from './workspaces/host-jobs'

export type { BenchCaseResult, ExperimentConfig, FolderEncoding, ForwardInputs }

/** The benchmark presets (src/core/config.ts PRESETS; test/cli/host-methods.test.ts keeps the two lists equal). */
export const BENCH_PRESETS = ['xsmall', 'small', 'base', 'large', 'tiny'] as const
/** Experiment presets and budgets (src/core/train/experiments.ts; kept equal by the same test). */
export const TRAIN_EXPERIMENTS = ['attention', 'terms', 'emd', 'length', 'clipping'] as const
export const TRAIN_BUDGETS = ['smoke', 'default', 'full'] as const
export const TRAIN_DEFAULT_SEEDS = 3
/** Seeds per variant from the command line (the app offers up to MAX_EXPERIMENT_SEEDS). */
export const TRAIN_MAX_SEEDS = 20
export type BenchPart = 'attention' | 'layer' | 'model'
export type BenchVariant = 'disentangled' | 'standard'

/** Longest row and most tokens per forward call: forward writes every hidden state and attention map (T² per head). */
export const MAX_FORWARD_LENGTH = 2048
export const MAX_FORWARD_TOKENS = 8192
/** Largest inputs.json, HF config.json and experiment config read (far above what the limits above allow). */
const MAX_INPUT_FILE_BYTES = 64 * 1024 * 1024
const MAX_CONFIG_FILE_BYTES = 1024 * 1024

/** A job's id (so the host can cancel it) and its progress. */
export interface JobHooks {
  jobId: string
  /** once the inputs are checked and the worker is ready, before the job runs */
  onStart?: (info: { backend: string; sessionId?: string }) => void
  onProgress?: (progress: { fraction: number; message: string; training?: TrainingProgress }) => void
}

export interface ForwardFileRequest {
  dir: string
  inputsFile: string
  out: string
  variant: 'discriminator' | 'generator'
  components: boolean
  emd: boolean
  p2p: boolean
  maskId?: number
}
export interface ForwardFileResult extends ForwardFileValue {
  out: string
  backend: string
}

export interface BenchRequest {
  preset?: string
  configFile?: string
  seqs: number[]
  parts: BenchPart[]
  variants: BenchVariant[]
  repeats: number
  /** warm-up time per case, ms (default BENCH_WARMUP_MS, src/common/api.ts) */
  warmupMs?: number
}
export interface BenchReport extends BenchCasesValue {
  /** the preset name or the config file */
  label: string
}

export interface TrainRequest {
  /** a preset name (TRAIN_EXPERIMENTS) or a .json config file */
  experiment: string
  budget: (typeof TRAIN_BUDGETS)[number]
  seeds: number
  /** record into this session; else a new session "train: <experiment>" */
  sessionId?: string
}
export interface TrainPlan {
  request: TrainRequest
  config: ExperimentConfig
  /** from a config file: the config travels with the request; a preset is rebuilt by the worker from its name, as for the app */
  fromFile: boolean
}

export interface LabHostMethods {
  /** The worker's backend (starts the worker). */
  backendInfo(): Promise<{ backend: string; notes: string[] }>
  /** The store file, and what happened when it was opened (opens the store, not the worker). */
  storeInfo(): Promise<{ path: string; notice?: StoreNotice }>
  listAllSessions(options: { includeDeleted: boolean }): Promise<SessionSummary[]>
  /** An exact id or a unique prefix of at least 4 characters. */
  findSessionId(given: string): Promise<string>
  getSessionSummary(sessionId: string): Promise<SessionSummary>
  purgeSession(sessionId: string): Promise<void>
  /** Writes the session's .dlab to a file; never onto the store or its -wal/-shm. */
  exportSessionToFile(sessionId: string, file: string): Promise<{ sessionId: string; file: string; size: number }>
  importSessionFromFile(file: string, mode?: ImportMode): Promise<ImportOutcome>
  tokenizeFolder(request: FolderTokenizeRequest, hooks: JobHooks): Promise<FolderEncoding>
  /** A forward pass written as golden-named safetensors; the output is never one of the inputs. */
  forwardToFile(request: ForwardFileRequest, hooks: JobHooks): Promise<ForwardFileResult>
  benchmarkCases(request: BenchRequest, hooks: JobHooks): Promise<BenchReport>
  /** The experiment's full config, validated (nothing recorded yet). */
  prepareExperiment(request: TrainRequest): Promise<TrainPlan>
  /** Trains and records the experiment exactly as the app's runExperiment does (one run, its metrics and weights). */
  trainExperiment(plan: TrainPlan, hooks: JobHooks): Promise<{ sessionId: string; result: ExperimentResult }>
}

export interface HostMethodDeps {
  sessions: () => LabSessions
  backend: () => Promise<{ backend: string; notes: string[]; detail?: string }>
  run: <M extends WorkerMethod>(method: M, request: WorkerRequests[M], jobId: string) => Promise<WorkerValues[M]>
  runExperiment: (request: ExperimentJobRequest) => Promise<ExperimentResult>
  events: EventHub
}

function isMatrix(value: unknown): value is number[][] {
  return Array.isArray(value) && value.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number'))
}

function asMatrix(value: unknown, field: string): number[][] | undefined {
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return [value as number[]]
  if (isMatrix(value)) return value
  throw new LabError('INPUT_INVALID', `inputs: ${field} must be a list of integer lists`, { field })
}

/** An inputs.json of `deberta-lab forward`: token ids (and optional mask, type ids, [MASK] id). */
export function readInputsFile(path: string): ForwardInputs {
  let raw: unknown
  try {
    raw = JSON.parse(readRegularFile(path, 'inputs file', MAX_INPUT_FILE_BYTES).toString('utf8'))
  } catch (error) {
    if (error instanceof LabError) throw error
    throw new LabError('INPUT_INVALID', `cannot read ${path}: ${(error as Error).message}`, { path })
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new LabError('INPUT_INVALID', `${path} must hold a JSON object`, { path })
  let obj = raw as Record<string, unknown>
  if (obj.inputs && typeof obj.inputs === 'object' && !Array.isArray(obj.inputs)) obj = obj.inputs as Record<string, unknown>
  const pick = (...names: string[]): unknown => names.map((n) => (Object.hasOwn(obj, n) ? obj[n] : undefined)).find((v) => v !== undefined)
  const inputIds = asMatrix(pick('input_ids', 'inputIds'), 'input_ids')
  if (!inputIds) throw new LabError('INPUT_INVALID', `${path}: input_ids is missing`, { field: 'input_ids', path })
  const maskTokenId = pick('mask_token_id', 'maskTokenId')
  if (maskTokenId !== undefined && maskTokenId !== null && !Number.isInteger(maskTokenId)) {
    throw new LabError('INPUT_INVALID', `${path}: mask_token_id must be an integer`, { field: 'mask_token_id' })
  }
  return {
    inputIds,
    attentionMask: asMatrix(pick('attention_mask', 'attentionMask'), 'attention_mask'),
    tokenTypeIds: asMatrix(pick('token_type_ids', 'tokenTypeIds'), 'token_type_ids'),
    maskTokenId: maskTokenId === null ? undefined : (maskTokenId as number | undefined),
  }
}

/** Runs `work` with the job's progress events passed to hooks.onProgress. */
async function withProgress<T>(events: EventHub, hooks: JobHooks, work: () => Promise<T>): Promise<T> {
  const off = hooks.onProgress
    ? events.on((event) => {
        if (event.type === 'progress' && event.jobId === hooks.jobId) hooks.onProgress!({ fraction: event.fraction, message: event.message, training: event.training })
      })
    : () => undefined
  try {
    return await work()
  } finally {
    off()
  }
}

export function createHostMethods(deps: HostMethodDeps): LabHostMethods {
  const { events } = deps
  return {
    backendInfo: () => deps.backend(),
    async storeInfo() {
      const sessions = deps.sessions()
      return sessions.notice ? { path: sessions.path, notice: sessions.notice } : { path: sessions.path }
    },
    listAllSessions: async ({ includeDeleted }) => deps.sessions().listAll(includeDeleted),
    findSessionId: async (given) => deps.sessions().findId(given),
    getSessionSummary: async (sessionId) => deps.sessions().summary(sessionId),
    purgeSession: async (sessionId) => deps.sessions().purge(sessionId),

    async exportSessionToFile(sessionId, file) {
      const sessions = deps.sessions()
      sessions.summary(sessionId)
      const target = checkOutputTarget(file, 'export file', { files: storeFiles(sessions.path) })
      const bytes = sessions.exportBytes(sessionId)
      writeFileReplacing(target, bytes)
      return { sessionId, file: target, size: bytes.byteLength }
    },

    async importSessionFromFile(file, mode) {
      const sessions = deps.sessions()
      const bytes = readRegularFile(file, 'session file', DEFAULT_IMPORT_LIMITS.maxFileBytes, 'IMPORT_INVALID')
      return sessions.importBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), mode)
    },

    tokenizeFolder: (request, hooks) => withProgress(events, hooks, () => deps.run('tokenizeFolder', request, hooks.jobId)),

    async forwardToFile(request, hooks) {
      const out = checkOutputTarget(request.out, '--out file', { files: [request.inputsFile], folders: [request.dir] })
      const inputs = readInputsFile(request.inputsFile)
      const T = Math.max(...inputs.inputIds.map((row) => row.length))
      if (T > MAX_FORWARD_LENGTH) {
        throw new LabError('SEQUENCE_TOO_LONG', `${request.inputsFile}: rows of ${T} tokens; forward takes at most ${MAX_FORWARD_LENGTH} (it writes every attention map)`, { length: T, max: MAX_FORWARD_LENGTH })
      }
      const total = inputs.inputIds.length * T
      if (total > MAX_FORWARD_TOKENS) {
        throw new LabError('INPUT_INVALID', `${request.inputsFile}: ${inputs.inputIds.length} rows × ${T} tokens; forward takes at most ${MAX_FORWARD_TOKENS} tokens in all: split the batch`)
      }
      const job: ForwardFileJob = { dir: request.dir, variant: request.variant, inputs, out, components: request.components, emd: request.emd, p2p: request.p2p, maskId: request.maskId }
      const { backend } = await deps.backend()
      hooks.onStart?.({ backend })
      const value = await withProgress(events, hooks, () => deps.run('forwardToFile', job, hooks.jobId))
      return { ...value, out: request.out, backend }
    },

    async benchmarkCases(request, hooks) {
      if (request.preset !== undefined && !(BENCH_PRESETS as readonly string[]).includes(request.preset)) {
        throw new LabError('INPUT_INVALID', `--preset must be one of ${BENCH_PRESETS.join(', ')} (got "${request.preset}")`, { field: 'preset', value: request.preset })
      }
      const label = request.configFile ?? request.preset ?? 'base'
      const job: BenchCasesJob = {
        label,
        preset: request.configFile === undefined ? label : undefined,
        configText: request.configFile === undefined ? undefined : readRegularFile(request.configFile, 'config file', MAX_CONFIG_FILE_BYTES, 'CONFIG_INVALID').toString('utf8'),
        seqs: request.seqs,
        parts: ['matmul', ...request.parts],
        variants: request.variants,
        repeats: request.repeats,
        warmupMs: request.warmupMs,
      }
      const ready = await deps.backend()
      hooks.onStart?.({ backend: ready.detail ?? ready.backend })
      const value = await withProgress(events, hooks, () => deps.run('benchCases', job, hooks.jobId))
      return { ...value, label }
    },

    async prepareExperiment(request) {
      const isPreset = (TRAIN_EXPERIMENTS as readonly string[]).includes(request.experiment)
      if (!isPreset && !request.experiment.endsWith('.json')) {
        throw new LabError('BAD_REQUEST', `--experiment "${request.experiment}" is neither an experiment (${TRAIN_EXPERIMENTS.join(', ')}) nor a .json file`)
      }
      let raw: unknown
      if (!isPreset) {
        try {
          raw = JSON.parse(readRegularFile(request.experiment, 'experiment config', MAX_CONFIG_FILE_BYTES, 'CONFIG_INVALID').toString('utf8'))
        } catch (error) {
          if (error instanceof LabError && error.code === 'CONFIG_INVALID') throw error
          throw new LabError('CONFIG_INVALID', `cannot read ${request.experiment}: ${(error as Error).message}`)
        }
      }
      const config = await deps.run('prepareExperiment', isPreset ? { preset: request.experiment, budget: request.budget, seeds: request.seeds } : { raw, budget: request.budget, seeds: request.seeds }, randomUUID())
      return { request, config, fromFile: !isPreset }
    },

    async trainExperiment(plan, hooks) {
      const sessions = deps.sessions()
      let sessionId: string
      if (plan.request.sessionId) {
        const session = sessions.summary(plan.request.sessionId)
        if (session.deletedAt !== null) throw new LabError('SESSION_NOT_FOUND', `session ${session.id} is deleted (restore it first)`, { sessionId: session.id })
        sessionId = session.id
      } else {
        sessionId = sessions.create(`train: ${plan.config.name}`).id
      }
      // The app's request (experiment, budget, seeds); a config file's experiment travels whole in `config`.
      // The 'full' budget and config files go beyond what the app offers (ExperimentRequest's types); the
      // record has the same shape.
      const request = {
        jobId: hooks.jobId,
        sessionId,
        experiment: plan.config.name as ExperimentRequest['experiment'],
        budget: plan.request.budget as ExperimentRequest['budget'],
        seeds: plan.config.seeds.length,
        ...(plan.fromFile ? { config: plan.config } : {}),
      }
      hooks.onStart?.({ backend: (await deps.backend()).backend, sessionId })
      const result = await withProgress(events, hooks, () => deps.runExperiment(request))
      return { sessionId, result }
    },
  }
}
