// What a compute job sees inside the worker thread. Workspace computations (src/lab/workspaces/*)
// are functions (context, request) → result that run there, off the event loop that serves windows.
import { ACTIVE_JOB_STATES, type JobInfo, type JobKind, type JobMethod, type ModelInfo, type ModelRef, type TrainingProgress } from '../common/api'
import { LabError, type ErrorData } from '../common/errors'
import { PAUSABLE_METHODS, jobKind } from './protocol'
import type { DebertaModel } from '../core/model'
import type { Tokenizer } from '../core/tokenizer'

/** A model loaded (or synthesised) in the worker, cached by ModelInfo.key. */
export interface LoadedLabModel {
  info: ModelInfo
  model: DebertaModel
  tokenizer: Tokenizer
}

export interface JobContext {
  readonly jobId: string
  /** Loads or returns the cached model for a reference. */
  getModel(ref: ModelRef): Promise<LoadedLabModel>
  /**
   * Reports progress in [0, 1] with a short message (throttled by the worker: calls less than 100 ms after the
   * last one sent are dropped unless fraction is 1). Training jobs attach the losses of the steps since.
   */
  progress(fraction: number, message: string, training?: TrainingProgress): void
  /** Throws LabError('CANCELLED') when the job was cancelled; call between steps. */
  checkCancelled(): void
  /** Yields to the worker's message loop so a cancel message can arrive; call in long loops. */
  yieldToEvents(): Promise<void>
  readonly backend: string
  /**
   * Hands the service a checkpoint of a resumable job (a corpus run): it is stored on the job's run, replacing
   * the previous one, so the job can be continued after a cancel or a crash. Absent where nothing records it.
   */
  checkpoint?(data: Uint8Array): void
  /** the app's resources folder (bundled models, the synthetic models' tokenizer) */
  readonly resourcesDir?: string
}

export type JobHandler<Req, Res> = (context: JobContext, request: Req) => Promise<Res>

// ---------------------------------------------------------------------------------------------
// The lab's job list (main thread): every computation from the moment it is asked for until a while after it
// ended, so any window can list, follow, pause and cancel it (LabApi.listJobs and the 'job' event).

/** Finished jobs of each kind kept for listJobs after they end (so quick interactive jobs do not push out experiments). */
export const KEEP_FINISHED_JOBS = 20

interface JobEntry {
  info: Omit<JobInfo, 'waitingFor' | 'queuePosition' | 'training'>
  training?: { totalSteps: number; curves: Map<string, { variant: string; seed: number; losses: number[]; accuracies: number[] }> }
  /** the last info sent in a 'job' event (JSON), so unchanged queued jobs are not announced again */
  lastSent?: string
}

export interface JobRegistryOptions {
  /** Sends a 'job' event */
  emit: (info: JobInfo) => void
  /** Where a queued job stands on its worker (ComputePool.place) */
  place: (jobId: string) => { kind: JobKind; position: number; behind?: string } | undefined
  now?: () => number
}

export class JobRegistry {
  private readonly entries = new Map<string, JobEntry>()

  constructor(private readonly options: JobRegistryOptions) {}

  /** Registers a new job (queued). Throws BUSY when a job with this id is still active. */
  add(jobId: string, method: JobMethod, request: unknown): void {
    const existing = this.entries.get(jobId)
    if (existing && ACTIVE_JOB_STATES.includes(existing.info.state)) throw new LabError('BUSY', `a job with id ${jobId} is already running`)
    this.entries.delete(jobId)
    const sessionId = (request as { sessionId?: unknown } | undefined)?.sessionId
    const params = jobParams(method, request)
    const entry: JobEntry = {
      info: {
        jobId,
        method,
        kind: jobKind(method, request),
        ...(typeof sessionId === 'string' ? { sessionId } : {}),
        label: jobLabel(method, request),
        state: 'queued',
        pausable: PAUSABLE_METHODS.has(method),
        fraction: 0,
        message: '',
        queuedAt: this.now(),
        ...(params ? { params } : {}),
      },
    }
    this.entries.set(jobId, entry)
    this.announce(entry)
  }

  /** The job was handed to its worker. */
  started(jobId: string): void {
    const entry = this.entries.get(jobId)
    if (!entry || entry.info.state !== 'queued') return
    entry.info.state = 'running'
    entry.info.startedAt = this.now()
    this.announce(entry)
  }

  paused(jobId: string, paused: boolean): void {
    const entry = this.entries.get(jobId)
    if (!entry || (entry.info.state !== 'running' && entry.info.state !== 'paused')) return
    entry.info.state = paused ? 'paused' : 'running'
    this.announce(entry)
  }

  progress(jobId: string, fraction: number, message: string, training?: TrainingProgress): void {
    const entry = this.entries.get(jobId)
    if (!entry || !ACTIVE_JOB_STATES.includes(entry.info.state)) return
    entry.info.fraction = fraction
    entry.info.message = message
    if (!training) return
    entry.training ??= { totalSteps: training.totalSteps, curves: new Map() }
    entry.training.totalSteps = training.totalSteps
    for (const point of training.points) {
      const key = `${point.variant}\u0000${point.seed}`
      let curve = entry.training.curves.get(key)
      if (!curve) entry.training.curves.set(key, (curve = { variant: point.variant, seed: point.seed, losses: [], accuracies: [] }))
      curve.losses[point.step - 1] = point.loss
      curve.accuracies[point.step - 1] = point.accuracy
    }
  }

  finish(jobId: string, state: 'done' | 'failed' | 'cancelled', extra: { runId?: string; error?: ErrorData } = {}): void {
    const entry = this.entries.get(jobId)
    if (!entry || !ACTIVE_JOB_STATES.includes(entry.info.state)) return
    entry.info.state = state
    entry.info.finishedAt = this.now()
    if (state === 'done') entry.info.fraction = 1
    if (extra.runId) entry.info.runId = extra.runId
    if (extra.error) entry.info.error = extra.error
    entry.training = undefined
    // newest last in the map, so the oldest finished ones go first
    this.entries.delete(jobId)
    this.entries.set(jobId, entry)
    this.announce(entry)
    this.prune()
  }

  /** The running or queued jobs of a worker changed: announce the queued ones whose place changed. */
  laneChanged(kind: JobKind): void {
    for (const entry of this.entries.values()) {
      if (entry.info.state === 'queued' && entry.info.kind === kind) this.announce(entry, true)
    }
  }

  get(jobId: string): JobInfo | undefined {
    const entry = this.entries.get(jobId)
    return entry && this.describe(entry)
  }

  /** Active jobs in the order they were asked for, then finished ones, newest first. */
  list(): JobInfo[] {
    const entries = [...this.entries.values()]
    const active = entries.filter((e) => ACTIVE_JOB_STATES.includes(e.info.state))
    const finished = entries.filter((e) => !ACTIVE_JOB_STATES.includes(e.info.state)).reverse()
    return [...active.map((e) => this.describe(e, true)), ...finished.map((e) => this.describe(e))]
  }

  private describe(entry: JobEntry, withTraining = false): JobInfo {
    const info: JobInfo = { ...entry.info }
    if (info.state === 'queued') {
      const place = this.options.place(info.jobId)
      if (place) {
        info.queuePosition = place.position
        const behind = place.behind ? this.entries.get(place.behind) : undefined
        if (behind) info.waitingFor = { jobId: behind.info.jobId, label: behind.info.label, state: behind.info.state }
      }
    }
    if (withTraining && entry.training) {
      info.training = { totalSteps: entry.training.totalSteps, curves: [...entry.training.curves.values()].map((c) => ({ ...c, losses: [...c.losses], accuracies: [...c.accuracies] })) }
    }
    return info
  }

  private announce(entry: JobEntry, onlyIfChanged = false): void {
    const info = this.describe(entry)
    const text = JSON.stringify(info)
    if (onlyIfChanged && text === entry.lastSent) return
    entry.lastSent = text
    this.options.emit(info)
  }

  private prune(): void {
    for (const kind of ['interactive', 'long'] as const) {
      const finished = [...this.entries.values()].filter((e) => e.info.kind === kind && !ACTIVE_JOB_STATES.includes(e.info.state))
      for (const entry of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED_JOBS))) this.entries.delete(entry.info.jobId)
    }
  }

  private now(): number {
    return this.options.now?.() ?? Date.now()
  }
}

function modelName(ref: unknown): string {
  const model = ref as ModelRef | undefined
  if (!model || typeof model !== 'object') return 'model'
  if (model.kind === 'bundled') return model.name
  if (model.kind === 'synthetic') return `synthetic ${model.arch}, ${model.layers} layers`
  const parts = String(model.path).split(/[\\/]+/).filter(Boolean)
  return parts[parts.length - 1] ?? model.path
}

/** What a job computes, in a few words (the tray and the "waits for" notes). */
export function jobLabel(method: JobMethod, request: unknown): string {
  const r = (request ?? {}) as Record<string, unknown>
  switch (method) {
    case 'describeModel':
      return `model description (${modelName(request)})`
    case 'tokenize':
      return `tokenize (${modelName(r.model)})`
    case 'runProblemDemo':
      return `problem demo (${modelName(r.model)})`
    case 'runAttention':
      return `attention, layer ${String(r.layer)}, head ${String(r.head)} (${modelName(r.model)})`
    case 'runRelativePositions':
      return `relative positions (${modelName(r.model)})`
    case 'runModelView':
      return `model view, every layer × head (${modelName(r.model)})`
    case 'runDistanceProfile':
      return `attention by distance, layer ${String(r.layer)} (${modelName(r.model)})`
    case 'runCorpus': {
      const corpus = r.corpus as { name?: unknown } | undefined
      return `corpus statistics, ${String(corpus?.name ?? 'a corpus')}${r.resumeFrom ? ' (resumed)' : ''} (${modelName(r.model)})`
    }
    case 'runCorpusPairs':
      return `corpus search, layer ${String(r.layer)}, head ${String(r.head)}: ${String(r.from)} → ${String(r.to)} (${modelName(r.model)})`
    case 'runDecoding':
      return `decoding, top ${String(r.topK)} (${modelName(r.model)})`
    case 'runAblation': {
      const a = (r.ablation ?? {}) as Record<string, unknown>
      const what = a.kind === 'head' ? `head ${String(a.layer)}.${String(a.head)}` : `${String(a.term)}${a.layer === undefined ? '' : ` in layer ${String(a.layer)}${a.head === undefined ? '' : ` head ${String(a.head)}`}`}`
      return `ablate ${what} (${modelName(r.model)})`
    }
    case 'runHeadImportance':
      return `head importance, every head removed in turn (${modelName(r.model)})`
    case 'exportPythonBundle':
      return `Python reproduction with the weights (${modelName(r.model)})`
    case 'runBenchmark':
      return `benchmark ${String(r.preset)}, T = ${Array.isArray(r.seqs) ? r.seqs.join(', ') : '?'}`
    case 'runExperiment': {
      const seeds = Number(r.seeds)
      return `experiment ${String(r.experiment)} (${String(r.budget)}, ${seeds} seed${seeds === 1 ? '' : 's'})`
    }
    case 'spin':
      return `spin ${String(r.ms)} ms`
    case 'tokenizeFolder':
      return 'tokenize (command line)'
    case 'forwardToFile':
      return `forward to ${String(r.outPath ?? 'a file')} (command line)`
    case 'benchCases':
      return 'benchmark (command line)'
    case 'prepareExperiment':
      return 'experiment set-up (command line)'
  }
}

function jobParams(method: JobMethod, request: unknown): Record<string, unknown> | undefined {
  const r = (request ?? {}) as Record<string, unknown>
  if (method === 'runExperiment') return { experiment: r.experiment, budget: r.budget, seeds: r.seeds }
  if (method === 'runBenchmark') return { preset: r.preset, seqs: r.seqs, parts: r.parts, variants: r.variants, repeats: r.repeats }
  return undefined
}
