// The session side of the lab service: the experiment store, its autosaver, run recording, and
// session-changed events. Everything here is synchronous SQLite work on the service's thread.
import { createHash } from 'node:crypto'
import type { ExperimentResult, ModelRef, StoreSaveStatus } from '../common/api'
import { CORPUS_TEXT_ARTIFACT, CORPUS_TEXT_MIME, splitCorpusLines, type CorpusRequest, type RecordedCorpusRequest } from '../common/corpus'
import { float32Matrices } from '../common/result-codec'
import { LabError } from '../common/errors'
import type {
  ImportMode,
  ImportOutcome,
  RunRecord,
  SessionSnapshot,
  SessionSummary,
  StoreNotice,
  WorkspaceId,
  WorkspaceState,
} from '../common/sessions'
import { createAutosaver, openStoreSafely, type AutosaveStatus, type Autosaver, type ExperimentStore, type NewArtifact } from '../store'
import type { EventHub } from './events'

/** Autosave: coalesce bursts, never wait more than this before writing (the one-second promise). */
const AUTOSAVE_DELAY_MS = 250
const AUTOSAVE_MAX_WAIT_MS = 600

export interface RunHandle {
  runId: string
  sessionId: string
}

export interface MetricPointInput {
  key: string
  step: number
  value: number
}

/**
 * The metrics of an experiment run, keyed like the CLI's `deberta-lab train` records:
 * `<variant>/seed<k>/train/loss` and `train/accuracy` at every step, `<variant>/seed<k>/eval/<metric>` at the last step, and
 * `<variant>/<metric>/mean` and `…/std` over the seeds (step 0).
 */
export function experimentMetricPoints(result: ExperimentResult): MetricPointInput[] {
  const points: MetricPointInput[] = []
  for (const curve of result.curves) {
    const prefix = `${curve.variant}/seed${curve.seed}`
    curve.losses.forEach((value, k) => points.push({ key: `${prefix}/train/loss`, step: k + 1, value }))
    curve.accuracies?.forEach((value, k) => points.push({ key: `${prefix}/train/accuracy`, step: k + 1, value }))
    for (const [key, value] of Object.entries(curve.metrics)) points.push({ key: `${prefix}/eval/${key}`, step: curve.losses.length, value })
  }
  for (const variant of result.variantOrder) {
    for (const [key, m] of Object.entries(result.variants[variant]?.metrics ?? {})) {
      points.push({ key: `${variant}/${key}/mean`, step: 0, value: m.mean }, { key: `${variant}/${key}/std`, step: 0, value: m.std })
    }
  }
  return points
}

/** The autosaver's status, and "not saved" for good on a read-only store (ExperimentStore.readOnly says why). */
function saveStatusOf(store: ExperimentStore, status: AutosaveStatus): StoreSaveStatus {
  if (store.readOnly !== undefined) return { saved: false, reason: `${store.readOnly}: changes are not saved`, pending: status.pending }
  return status.saved ? { saved: true, pending: status.pending } : { saved: false, reason: status.reason, pending: status.pending }
}

/** The artifact holding a resumable run's last checkpoint (src/lab/workspaces/corpus.ts encodes it). */
export const CHECKPOINT_ARTIFACT = 'checkpoint.bin'
const CHECKPOINT_MIME = 'application/vnd.deberta-lab.checkpoint'

/** Days a deleted session can still be restored before the lab purges it at start. */
export const DELETED_SESSION_RETENTION_DAYS = 30

export class LabSessions {
  private constructor(
    private readonly store: ExperimentStore,
    private readonly autosaver: Autosaver,
    private readonly events: EventHub,
    readonly notice: StoreNotice | undefined,
  ) {}

  static open(options: { storePath: string; nativeBinding?: string; events: EventHub; autosave?: { retryDelayMs?: number; maxRetryDelayMs?: number } }): LabSessions {
    const { store, notice } = openStoreSafely(options.storePath, { nativeBinding: options.nativeBinding })
    const autosaver = createAutosaver(store, {
      delayMs: AUTOSAVE_DELAY_MS,
      maxWaitMs: AUTOSAVE_MAX_WAIT_MS,
      ...options.autosave,
      onSaved: (writes) => {
        for (const sessionId of new Set(writes.map((w) => w.sessionId))) options.events.emit({ type: 'session-changed', sessionId })
      },
      onStatus: (status) => options.events.emit({ type: 'save-status', status: saveStatusOf(store, status) }),
    })
    // Deleted sessions stay restorable (CLI `sessions restore`) for a while, then are purged for good.
    try {
      store.purgeDeletedBefore(new Date(Date.now() - DELETED_SESSION_RETENTION_DAYS * 86_400_000))
    } catch {
      // housekeeping only: a busy store (another process writing) is purged on a later start
    }
    return new LabSessions(store, autosaver, options.events, notice)
  }

  get path(): string {
    return this.store.path
  }

  /** Whether changes reach the store (also sent as 'save-status' events when it changes). */
  get saveStatus(): StoreSaveStatus {
    return saveStatusOf(this.store, this.autosaver.status)
  }

  private changed(sessionId: string): void {
    this.events.emit({ type: 'session-changed', sessionId })
  }

  list(): SessionSummary[] {
    return this.store.listSessions()
  }

  create(name: string): SessionSummary {
    const session = this.store.createSession({ name })
    this.changed(session.id)
    return session
  }

  open(sessionId: string): SessionSnapshot {
    // Never wait for another process's lock here: what cannot be written yet is shown from the queue.
    this.autosaver.flush({ wait: false })
    const snapshot = this.store.getSessionSnapshot(sessionId)
    return { ...snapshot, workspaces: { ...snapshot.workspaces, ...this.autosaver.pendingStates(sessionId) } }
  }

  rename(sessionId: string, name: string): SessionSummary {
    const session = this.store.updateSession(sessionId, { name })
    this.changed(sessionId)
    return session
  }

  duplicate(sessionId: string): SessionSummary {
    this.autosaver.flush()
    const copy = this.store.duplicateSession(sessionId)
    this.changed(copy.id)
    return copy
  }

  remove(sessionId: string): void {
    this.autosaver.flush()
    this.store.deleteSession(sessionId)
    this.changed(sessionId)
  }

  restore(sessionId: string): SessionSummary {
    const session = this.store.restoreSession(sessionId)
    this.changed(sessionId)
    return session
  }

  saveWorkspace(sessionId: string, workspace: WorkspaceId, state: WorkspaceState): void {
    // Fail now (unknown or deleted session) rather than silently when the autosaver writes.
    this.store.getSession(sessionId)
    this.autosaver.save(sessionId, workspace, state)
  }

  runs(sessionId: string): RunRecord[] {
    this.store.getSession(sessionId)
    return this.store.listRuns(sessionId)
  }

  /**
   * A run's whole result (kept apart ones are read from the run's artifact). The matrices of results stored
   * before matrices were float32 (number[] in a result.json) come back as Float32Array like today's.
   */
  runResult(runId: string): unknown {
    return float32Matrices(this.store.getRunResult(runId))
  }

  exportFile(sessionId: string): { fileName: string; base64: string } {
    this.autosaver.flush()
    const session = this.store.getSession(sessionId)
    const bytes = this.store.exportSession(sessionId)
    const safeName = session.name.replace(/[^\p{L}\p{N} ._-]+/gu, '_').trim().slice(0, 80) || 'session'
    return { fileName: `${safeName}.dlab`, base64: Buffer.from(bytes).toString('base64') }
  }

  async importFile(base64: string, mode?: ImportMode): Promise<SessionSummary> {
    const bytes = Buffer.from(base64, 'base64')
    if (bytes.length === 0) throw new LabError('IMPORT_INVALID', 'the file is empty')
    this.autosaver.flush()
    // read in a worker thread: a large file must not freeze the windows or the browser-mode server
    const outcome = await this.store.importSessionAsync(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), { mode })
    this.changed(outcome.session.id)
    return outcome.session
  }

  saveChart(request: { sessionId: string; workspace: WorkspaceId; chartId: string; format: 'png' | 'svg'; base64: string }): { sha256: string } {
    const data = Buffer.from(request.base64, 'base64')
    const artifact = this.store.putArtifact({
      sessionId: request.sessionId,
      name: `${request.workspace}/${request.chartId}.${request.format}`,
      kind: request.format === 'png' ? 'chart-png' : 'chart-svg',
      mime: request.format === 'png' ? 'image/png' : 'image/svg+xml',
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    })
    this.changed(request.sessionId)
    return { sha256: artifact.sha256 }
  }

  /**
   * Records a workspace or benchmark run as started (committed at once, so a crash leaves it 'interrupted'),
   * with the model reference and, for a model loaded from files, the SHA-256 of its weights file.
   */
  startRun(
    sessionId: string,
    workspace: string,
    method: string,
    request: object,
    backend: string | undefined,
    weightsSha256?: string,
    artifacts: ReadonlyArray<Omit<NewArtifact, 'sessionId' | 'runId'>> = [],
  ): RunHandle {
    const requested = (request as { model?: ModelRef }).model ?? null
    const model = requested && weightsSha256 ? { ...requested, weightsSha256 } : requested
    const run = this.store.startRun(
      {
        sessionId,
        kind: workspace === 'benchmarks' ? 'benchmark' : workspace === 'experiments' ? 'experiment' : 'workspace',
        workspace: workspace as WorkspaceId,
        name: method,
        config: request,
        backend: backend ?? null,
        model,
      },
      artifacts,
    )
    this.changed(sessionId)
    return { runId: run.id, sessionId }
  }

  /**
   * Records a corpus run as startRun does, but with its text stored as the run's CORPUS_TEXT_ARTIFACT and the
   * config holding the corpus without it (RecordedCorpusRequest): a session's run list stays small however large
   * its corpora. The text is stored even when the job will refuse it (binary, too large), as the failed run's input.
   */
  startCorpusRun(
    sessionId: string,
    workspace: string,
    request: CorpusRequest & { corpus: { text: string } },
    backend: string | undefined,
    weightsSha256?: string,
  ): RunHandle {
    const { text, name } = request.corpus
    const data = Buffer.from(text, 'utf8')
    const config: RecordedCorpusRequest = {
      ...request,
      corpus: { name, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length, lines: splitCorpusLines(text).lines.length, textArtifact: CORPUS_TEXT_ARTIFACT },
    }
    // the run and its text in one transaction: no run without its text, even after a crash
    return this.startRun(sessionId, workspace, 'runCorpus', config, backend, weightsSha256, [
      {
        name: CORPUS_TEXT_ARTIFACT,
        // the store's kind for data other than tensors, charts and weights (checkpoint.bin, result.bin); the mime says text
        kind: 'json',
        mime: CORPUS_TEXT_MIME,
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      },
    ])
  }

  /** Logs a run's metric values (one transaction; the same key and step again replaces the value). */
  logMetrics(handle: RunHandle, points: readonly MetricPointInput[]): void {
    if (points.length > 0) this.store.logMetrics(handle.runId, points)
  }

  /** Logs an experiment's loss curves, final eval metrics and per-variant summaries on its run. */
  logExperiment(handle: RunHandle, result: ExperimentResult): void {
    this.logMetrics(handle, experimentMetricPoints(result))
  }

  /** Stores trained weights (safetensors blobs) as 'weights' artifacts linked to the run. */
  saveWeights(handle: RunHandle, weights: ReadonlyArray<{ name: string; data: Uint8Array }>): void {
    for (const w of weights) this.store.putArtifact({ sessionId: handle.sessionId, runId: handle.runId, name: w.name, kind: 'weights', data: w.data })
  }

  /** Stores a resumable job's checkpoint on its run (replacing the previous one; the old bytes are collected). */
  saveCheckpoint(handle: RunHandle, data: Uint8Array): void {
    this.store.putArtifact({ sessionId: handle.sessionId, runId: handle.runId, name: CHECKPOINT_ARTIFACT, kind: 'json', mime: CHECKPOINT_MIME, data })
  }

  /**
   * The last checkpoint of a corpus run of this session that did not finish (cancelled, failed or interrupted):
   * RUN_NOT_FOUND for another session's run, INPUT_INVALID for a finished run or one without a checkpoint.
   */
  corpusCheckpoint(runId: string, sessionId: string): Uint8Array {
    const run = this.store.getRun(runId)
    if (run.sessionId !== sessionId) throw new LabError('RUN_NOT_FOUND', `no run ${runId} in this session`, { runId })
    if (run.name !== 'runCorpus') throw new LabError('INPUT_INVALID', `run ${runId} is not a corpus run`, { field: 'resumeFrom' })
    if (run.status === 'done' || run.status === 'running' || run.status === 'queued') {
      throw new LabError('INPUT_INVALID', `run ${runId} is ${run.status}: only a cancelled, failed or interrupted corpus run is resumed`, { field: 'resumeFrom' })
    }
    const link = this.store.listArtifacts(sessionId).find((a) => a.runId === runId && a.name === CHECKPOINT_ARTIFACT)
    if (!link) throw new LabError('INPUT_INVALID', `run ${runId} stopped before its first checkpoint: start it again`, { field: 'resumeFrom' })
    return this.store.getArtifactData(link.sha256)
  }

  /**
   * The text a corpus run of this session was computed on: its CORPUS_TEXT_ARTIFACT, checked against the SHA-256
   * its config records, or, for a run recorded before the text went into an artifact, its config's corpus.text.
   * RUN_NOT_FOUND for another session's run; INPUT_INVALID when the run holds no text.
   */
  corpusText(runId: string, sessionId: string): string {
    const run = this.store.getRun(runId)
    if (run.sessionId !== sessionId) throw new LabError('RUN_NOT_FOUND', `no run ${runId} in this session`, { runId })
    if (run.name !== 'runCorpus') throw new LabError('INPUT_INVALID', `run ${runId} is not a corpus run`, { field: 'resumeFrom' })
    const recorded = (run.config as { corpus?: { text?: unknown; sha256?: unknown } } | null)?.corpus
    if (typeof recorded?.text === 'string') return recorded.text
    const link = this.store.listArtifacts(sessionId).find((a) => a.runId === runId && a.name === CORPUS_TEXT_ARTIFACT)
    if (!link) throw new LabError('INPUT_INVALID', `run ${runId} holds no corpus text: open the file and run it again`, { field: 'resumeFrom' })
    if (typeof recorded?.sha256 === 'string' && recorded.sha256 !== link.sha256) {
      throw new LabError('INPUT_INVALID', `the corpus text stored with run ${runId} is not the one it recorded (SHA-256 ${link.sha256.slice(0, 12)}…, recorded ${recorded.sha256.slice(0, 12)}…)`, {
        field: 'resumeFrom',
      })
    }
    return new TextDecoder('utf-8').decode(this.store.getArtifactData(link.sha256))
  }

  finishRun(handle: RunHandle, status: 'done' | 'failed' | 'cancelled', result?: unknown, error?: string): string {
    this.store.finishRun(handle.runId, { status, result, error: error ?? null })
    this.changed(handle.sessionId)
    return handle.runId
  }

  // The command line's session commands (src/lab/host-methods.ts): deleted sessions, id prefixes, purge, and
  // export/import as bytes with the import's outcome.

  /** Sessions, most recently changed first; with deleted ones when asked. */
  listAll(includeDeleted: boolean): SessionSummary[] {
    return this.store.listSessions({ includeDeleted })
  }

  /** A session's summary (deleted ones too). */
  summary(sessionId: string): SessionSummary {
    return this.store.getSession(sessionId, { includeDeleted: true })
  }

  /** An exact session id, or a unique prefix of at least 4 characters (deleted sessions included). */
  findId(given: string): string {
    const all = this.store.listSessions({ includeDeleted: true })
    if (all.some((s) => s.id === given)) return given
    const matches = given.length >= 4 ? all.filter((s) => s.id.startsWith(given)) : []
    if (matches.length === 1) return matches[0].id
    if (matches.length > 1) throw new LabError('BAD_REQUEST', `"${given}" matches ${matches.length} sessions: ${matches.map((s) => s.id).join(', ')}`)
    throw new LabError('SESSION_NOT_FOUND', `no session ${given}`, { sessionId: given })
  }

  /** Removes a session, its runs and the artifacts no other session shares, for good. */
  purge(sessionId: string): void {
    this.autosaver.flush()
    this.store.purgeSession(sessionId)
    this.changed(sessionId)
  }

  exportBytes(sessionId: string): Uint8Array {
    this.autosaver.flush()
    return this.store.exportSession(sessionId)
  }

  importBytes(bytes: Uint8Array, mode?: ImportMode): ImportOutcome {
    if (bytes.length === 0) throw new LabError('IMPORT_INVALID', 'the file is empty')
    this.autosaver.flush()
    const outcome = this.store.importSession(bytes, { mode })
    this.changed(outcome.session.id)
    return outcome
  }

  close(): void {
    this.autosaver.close()
    this.store.close()
  }
}
