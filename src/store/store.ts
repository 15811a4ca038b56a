// The experiment store: one SQLite file holding sessions, workspace states, runs, metrics and artifacts.
// Every method is synchronous and short; each write is one IMMEDIATE transaction, committed on return.
import { randomUUID } from 'node:crypto'
import { LabError } from '../common/errors'
import type {
  ArtifactDescriptor,
  ImportMode,
  ImportOutcome,
  LatestMetric,
  MetricPoint,
  RunRecord,
  SessionSnapshot,
  StoredResultRef,
  SessionSummary,
  WorkspaceId,
  WorkspaceState,
} from '../common/sessions'
import { APP_VERSION } from '../common/version'
import { isStoredResultRef, STORED_BINARY_RESULT_ARTIFACT, STORED_RESULT_ARTIFACT } from '../common/sessions'
import { BINARY_RESULT_MIME, decodeResult, encodeResult, hasFloat32Arrays, isBinaryResult } from '../common/result-codec'
import { fromJson, toJson } from './json'
import type { StoreContext } from './context'
import { DEFAULT_BUSY_TIMEOUT_MS, type DbOptions, mapSqliteError, openDatabaseWithAccess, readTx, writeTx, type Db } from './db'
import { exportSessionFile } from './dlab/export'
import { importSessionFile, type ImportLimits, type ParsedSessionFile } from './dlab/import'
import { importSessionFileOffThread } from './dlab/off-thread'
import {
  type NewArtifact,
  findLink,
  listSessionArtifacts,
  prepareArtifact,
  readBlob,
  readSessionBlob,
  writeBlob,
  writeLink,
} from './repositories/artifacts'
import { type MetricInput, readLatestMetrics, readMetrics, validMetrics, writeMetrics } from './repositories/metrics'
import {
  type NewRun,
  type RunOutcome,
  getRun,
  insertRun,
  listRuns,
  findDeadOwnerRuns,
  hasOwnActiveRuns,
  markOwnRunsInterrupted,
  markRunsInterrupted,
  prepareOutcome,
  prepareRun,
  setRunFinished,
  setRunStarted,
} from './repositories/runs'
import {
  getSession,
  insertSession,
  listSessions,
  purgeSessionRows,
  requireActiveSession,
  setDeletedAt,
  setTags,
  touchSession,
  updateSessionFields,
  validName,
  validNotes,
  validTags,
} from './repositories/sessions'
import { prepareWorkspaceState, readWorkspaceState, writeWorkspaceState, type PreparedWorkspaceState } from './repositories/workspaces'
import { insertPortable, readSnapshot, toPortable, withNewIds } from './snapshot'

export type { NewRun, RunOutcome } from './repositories/runs'
export type { MetricInput } from './repositories/metrics'
export type { NewArtifact } from './repositories/artifacts'
export type { ImportLimits } from './dlab/import'

export interface OpenStoreOptions extends DbOptions {
  /** Clock for timestamps (tests); default: the system clock. */
  now?: () => Date
  /** Results whose JSON is larger are stored as the run's "result.json" artifact (default LARGE_RESULT_BYTES). */
  largeResultBytes?: number
}

/** Run results above 1 MiB of JSON are kept as an artifact, not in the runs row (see StoredResultRef). */
export const LARGE_RESULT_BYTES = 1 << 20

/** Whether a result holds Float32Arrays; a value too deep or cyclic to search is left to toJson, which refuses it. */
function holdsFloat32Arrays(value: unknown): boolean {
  try {
    return value !== undefined && value !== null && hasFloat32Arrays(value)
  } catch {
    return false
  }
}

/** Owner tokens of the store instances open in this process (see markInterruptedRuns). */
const LIVE_OWNER_TOKENS = new Set<string>()

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** One workspace state to write (autosave batches several in one transaction). */
export interface WorkspaceStateWrite {
  sessionId: string
  workspace: WorkspaceId
  state: WorkspaceState
}

export class ExperimentStore {
  /** The file path, or ':memory:'. */
  readonly path: string
  /** Runs this open found queued/running from a process that is gone, now 'interrupted'. */
  readonly interruptedAtOpen: readonly string[]
  private readonly ctx: StoreContext
  private readonly closeHooks = new Set<() => void>()
  private readonly largeResultBytes: number
  private closed = false

  /**
   * Set when the store opened read-only (its file or folder cannot be written): why, naming the file. Reads
   * work; every write fails with STORE_READONLY.
   */
  readonly readOnly: string | undefined
  private readonly busyTimeoutMs: number

  /** @internal use openStore() */
  constructor(db: Db, path: string, options: OpenStoreOptions, readOnly?: string) {
    this.readOnly = readOnly
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
    const clock = options.now ?? (() => new Date())
    const token = randomUUID()
    this.ctx = { db, path, now: () => clock().toISOString(), owner: { pid: process.pid, token } }
    this.largeResultBytes = options.largeResultBytes ?? LARGE_RESULT_BYTES
    this.path = path
    LIVE_OWNER_TOKENS.add(token)
    try {
      this.interruptedAtOpen = this.markInterruptedRuns()
    } catch (error) {
      LIVE_OWNER_TOKENS.delete(token)
      throw error
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sessions

  /** Creates a session (UUID id, stamped with this app version). */
  createSession(input: { name: string; notes?: string; tags?: string[] }): SessionSummary {
    const name = validName(input?.name)
    const notes = validNotes(input?.notes ?? '')
    const tags = validTags(input?.tags ?? [])
    const id = randomUUID()
    return this.write('creating a session', () => {
      const now = this.ctx.now()
      insertSession(this.ctx, { id, name, notes, tags, createdAt: now, updatedAt: now, appVersion: APP_VERSION, deletedAt: null })
      return getSession(this.ctx, id)
    })
  }

  /** Sessions, most recently updated first; soft-deleted ones only with includeDeleted. */
  listSessions(options: { includeDeleted?: boolean } = {}): SessionSummary[] {
    return this.read('listing sessions', () => listSessions(this.ctx, options.includeDeleted === true))
  }

  /** One session; SESSION_NOT_FOUND when missing (or soft-deleted, unless includeDeleted). */
  getSession(id: string, options: { includeDeleted?: boolean } = {}): SessionSummary {
    return this.read('reading a session', () => getSession(this.ctx, id, options.includeDeleted === true))
  }

  /** Renames, edits notes and/or replaces the tags. */
  updateSession(id: string, patch: { name?: string; notes?: string; tags?: string[] }): SessionSummary {
    const name = patch.name === undefined ? undefined : validName(patch.name)
    const notes = patch.notes === undefined ? undefined : validNotes(patch.notes)
    const tags = patch.tags === undefined ? undefined : validTags(patch.tags)
    return this.write('updating a session', () => {
      requireActiveSession(this.ctx, id)
      updateSessionFields(this.ctx, id, { name, notes })
      if (tags !== undefined) {
        setTags(this.ctx, id, tags)
        touchSession(this.ctx, id)
      }
      return getSession(this.ctx, id)
    })
  }

  /** Soft delete (undo with restoreSession). Its runs and states stay until purgeSession. */
  deleteSession(id: string): SessionSummary {
    return this.write('deleting a session', () => {
      requireActiveSession(this.ctx, id)
      setDeletedAt(this.ctx, id, this.ctx.now())
      return getSession(this.ctx, id, true)
    })
  }

  /** Undoes deleteSession. */
  restoreSession(id: string): SessionSummary {
    return this.write('restoring a session', () => {
      getSession(this.ctx, id, true)
      setDeletedAt(this.ctx, id, null)
      return getSession(this.ctx, id)
    })
  }

  /** Deletes a session for good (deleted or not), with its runs, metrics and unshared artifact bytes. */
  purgeSession(id: string): void {
    this.write('purging a session', () => {
      getSession(this.ctx, id, true)
      purgeSessionRows(this.ctx, id)
    })
  }

  /**
   * Purges (for good, with their runs, metrics and no-longer-shared artifact bytes) the sessions soft-deleted
   * before `cutoff`. Returns their ids. The lab calls it at start with a 30-day cutoff.
   */
  purgeDeletedBefore(cutoff: Date): string[] {
    const iso = cutoff.toISOString()
    const ids = this.read('finding old deleted sessions', () =>
      this.ctx.db.prepare('SELECT id FROM sessions WHERE deleted_at IS NOT NULL AND deleted_at < ?').pluck().all(iso) as string[],
    )
    if (ids.length === 0) return []
    return this.write('purging old deleted sessions', () => {
      for (const id of ids) purgeSessionRows(this.ctx, id)
      return ids
    })
  }

  /** A copy with new session and run ids, named "<name> (copy)" unless a name is given. */
  duplicateSession(id: string, name?: string): SessionSummary {
    const newName = name === undefined ? undefined : validName(name)
    return this.write('duplicating a session', () => {
      const portable = toPortable(readSnapshot(this.ctx, id))
      const now = this.ctx.now()
      const copy = withNewIds(portable, {
        name: newName ?? withSuffix(portable.session.name, ' (copy)'),
        createdAt: now,
        updatedAt: now,
        appVersion: APP_VERSION,
      })
      insertPortable(this.ctx, copy)
      return getSession(this.ctx, copy.session.id)
    })
  }

  // ------------------------------------------------------------------------------------------
  // Workspace states

  /** Saves one workspace's state (validated: INPUT_INVALID names the problem). */
  saveWorkspaceState(sessionId: string, workspace: WorkspaceId, state: WorkspaceState): void {
    this.saveWorkspaceStates([{ sessionId, workspace, state }])
  }

  /** Saves several states in one transaction (all or nothing). */
  saveWorkspaceStates(writes: readonly WorkspaceStateWrite[]): void {
    const prepared = writes.map((w) => ({ sessionId: w.sessionId, prepared: prepareWorkspaceState(w.workspace, w.state) }))
    this.writePreparedStates(prepared)
  }

  /**
   * @internal autosave: states already validated and encoded by prepareWorkspaceState. `busyTimeoutMs` replaces
   * the store's busy timeout for this write only (the autosaver's background writes wait a few ms, then retry).
   */
  writePreparedStates(writes: ReadonlyArray<{ sessionId: string; prepared: PreparedWorkspaceState }>, options: { busyTimeoutMs?: number } = {}): void {
    if (writes.length === 0) return
    if (options.busyTimeoutMs === undefined) return this.writeStates(writes)
    this.ensureOpen()
    this.ctx.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs))}`)
    try {
      this.writeStates(writes)
    } finally {
      this.ctx.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`)
    }
  }

  private writeStates(writes: ReadonlyArray<{ sessionId: string; prepared: PreparedWorkspaceState }>): void {
    this.write('saving workspace state', () => {
      const touched = new Set<string>()
      for (const { sessionId, prepared } of writes) {
        requireActiveSession(this.ctx, sessionId)
        writeWorkspaceState(this.ctx, sessionId, prepared)
        touched.add(sessionId)
      }
      for (const id of touched) touchSession(this.ctx, id)
    })
  }

  /** The saved state of one workspace, or null if never saved. */
  getWorkspaceState(sessionId: string, workspace: WorkspaceId): WorkspaceState | null {
    return this.read('reading workspace state', () => {
      requireActiveSession(this.ctx, sessionId)
      return readWorkspaceState(this.ctx, sessionId, workspace)
    })
  }

  // ------------------------------------------------------------------------------------------
  // Runs and metrics

  /**
   * Records a run as running (or queued) and commits before returning: a crash after this leaves a trace.
   * `artifacts` are linked to the run in the same transaction (all or nothing), e.g. a corpus run's text.
   */
  startRun(input: NewRun, artifacts: ReadonlyArray<Omit<NewArtifact, 'sessionId' | 'runId'>> = []): RunRecord {
    const run = prepareRun(input)
    const prepared = artifacts.map((a) => prepareArtifact({ ...a, sessionId: run.sessionId, runId: run.id }))
    return this.write('recording a run', () => {
      requireActiveSession(this.ctx, run.sessionId)
      insertRun(this.ctx, run)
      for (const artifact of prepared) {
        writeBlob(this.ctx, artifact.sha256, artifact.data)
        writeLink(this.ctx, { ...artifact, createdAt: this.ctx.now() })
      }
      touchSession(this.ctx, run.sessionId)
      return getRun(this.ctx, run.id)
    })
  }

  /** queued → running. */
  markRunStarted(runId: string): RunRecord {
    return this.write('starting a run', () => {
      setRunStarted(this.ctx, runId)
      return getRun(this.ctx, runId)
    })
  }

  /**
   * Records the end of a run (done, failed or cancelled) with its result or error. A result that holds
   * Float32Arrays (workspace matrices) goes, whatever its size, into the run's "result.bin" artifact in the
   * binary form of result-codec.ts: only its small skeleton is written as JSON text, the arrays are copied as
   * bytes. Another result larger than largeResultBytes of JSON goes into the run's "result.json" artifact. Both
   * in the same transaction; the row keeps a StoredResultRef, which getRunResult resolves.
   */
  finishRun(runId: string, outcome: RunOutcome): RunRecord {
    const binary = holdsFloat32Arrays(outcome.result) ? encodeResult(outcome.result, (skeleton) => toJson(skeleton, 'the run result')) : null
    const prepared = prepareOutcome(binary ? { ...outcome, result: undefined } : outcome)
    const text = prepared.resultJson
    const large = binary ?? (text !== null && text.length > this.largeResultBytes ? Buffer.from(text, 'utf8') : null)
    return this.write('finishing a run', () => {
      if (large) {
        const { sessionId } = getRun(this.ctx, runId)
        const artifact = binary
          ? prepareArtifact({ sessionId, runId, name: STORED_BINARY_RESULT_ARTIFACT, kind: 'json', mime: BINARY_RESULT_MIME, data: binary })
          : prepareArtifact({ sessionId, runId, name: STORED_RESULT_ARTIFACT, kind: 'json', data: large })
        writeBlob(this.ctx, artifact.sha256, artifact.data)
        writeLink(this.ctx, { ...artifact, createdAt: this.ctx.now() })
        const ref: StoredResultRef = { $storedResult: artifact.sha256, bytes: large.byteLength }
        prepared.resultJson = JSON.stringify(ref)
      }
      setRunFinished(this.ctx, runId, prepared)
      const run = getRun(this.ctx, runId)
      touchSession(this.ctx, run.sessionId)
      return run
    })
  }

  /**
   * A run's result, read from its "result.bin" (binary: the arrays come back as Float32Array views of the
   * stored bytes) or "result.json" artifact when the row holds a StoredResultRef.
   */
  getRunResult(runId: string): unknown {
    return this.read('reading a run result', () => {
      const run = getRun(this.ctx, runId)
      if (!isStoredResultRef(run.result)) return run.result
      const data = readSessionBlob(this.ctx, run.sessionId, run.result.$storedResult)
      const binary = isBinaryResult(data)
      try {
        return binary ? decodeResult(data, fromJson) : fromJson(utf8.decode(data))
      } catch {
        // SyntaxError messages quote the text: never pass artifact bytes on.
        throw new LabError('STORE_CORRUPT', `the stored result of run ${runId} (artifact ${run.result.$storedResult}) is not ${binary ? 'a readable binary result' : 'UTF-8 JSON'}`, {
          runId,
          sha256: run.result.$storedResult,
        })
      }
    })
  }

  /** One run; RUN_NOT_FOUND when missing. */
  getRun(runId: string): RunRecord {
    return this.read('reading a run', () => getRun(this.ctx, runId))
  }

  /** The runs of a session, oldest first. */
  listRuns(sessionId: string): RunRecord[] {
    return this.read('listing runs', () => {
      getSession(this.ctx, sessionId, true)
      return listRuns(this.ctx, sessionId)
    })
  }

  /** Logs metric values of a run in one transaction; the same (key, step) again replaces the value. */
  logMetrics(runId: string, points: readonly MetricInput[]): void {
    const valid = validMetrics(points)
    this.write('logging metrics', () => {
      getRun(this.ctx, runId)
      writeMetrics(this.ctx, runId, valid)
    })
  }

  /** All values of a run's metrics, by key then step. */
  getMetrics(runId: string): MetricPoint[] {
    return this.read('reading metrics', () => {
      getRun(this.ctx, runId)
      return readMetrics(this.ctx, runId)
    })
  }

  /** The latest (highest-step) value of each metric key for each run: rows of a comparison table. */
  getLatestMetrics(runIds: readonly string[]): LatestMetric[] {
    return this.read('reading metrics', () => readLatestMetrics(this.ctx, runIds))
  }

  /**
   * Turns queued/running runs whose process is gone into 'interrupted' and returns their ids. Runs by live
   * processes (another CLI, the app) are left alone. Called by openStore; safe to call again.
   */
  markInterruptedRuns(): string[] {
    // Look first without the write lock: opening a store must not wait for another process's long write
    // (an import, say) unless there is something to mark.
    if (this.read('looking for interrupted runs', () => findDeadOwnerRuns(this.ctx, LIVE_OWNER_TOKENS)).length === 0) return []
    // A read-only store cannot record it: its runs stay as they are until it is opened writable.
    if (this.readOnly !== undefined) return []
    return this.write('marking interrupted runs', () => markRunsInterrupted(this.ctx, findDeadOwnerRuns(this.ctx, LIVE_OWNER_TOKENS)))
  }

  // ------------------------------------------------------------------------------------------
  // Artifacts

  /** Stores bytes content-addressed (once, however many links) and links them to a session or run. */
  putArtifact(input: NewArtifact): ArtifactDescriptor {
    const artifact = prepareArtifact(input)
    return this.write('storing an artifact', () => {
      requireActiveSession(this.ctx, artifact.sessionId)
      if (artifact.runId !== null) {
        const run = getRun(this.ctx, artifact.runId)
        if (run.sessionId !== artifact.sessionId) throw new LabError('INPUT_INVALID', `run ${artifact.runId} is not in session ${artifact.sessionId}`)
      }
      writeBlob(this.ctx, artifact.sha256, artifact.data)
      writeLink(this.ctx, { ...artifact, createdAt: this.ctx.now() })
      touchSession(this.ctx, artifact.sessionId)
      return findLink(this.ctx, artifact.sessionId, artifact.runId, artifact.name) as ArtifactDescriptor
    })
  }

  /** The bytes of an artifact; NOT_FOUND when no blob has that sha256. */
  getArtifactData(sha256: string): Uint8Array {
    return this.read('reading an artifact', () => readBlob(this.ctx, sha256))
  }

  /** The artifacts linked to a session (and its runs). */
  listArtifacts(sessionId: string): ArtifactDescriptor[] {
    return this.read('listing artifacts', () => {
      getSession(this.ctx, sessionId, true)
      return listSessionArtifacts(this.ctx, sessionId)
    })
  }

  // ------------------------------------------------------------------------------------------
  // Whole sessions

  /** Everything needed to reopen the session exactly: workspace states, runs, metrics, artifact descriptors. */
  getSessionSnapshot(sessionId: string): SessionSnapshot {
    return this.read('reading a session', () => readSnapshot(this.ctx, sessionId))
  }

  /** The session as a portable .dlab file (zip bytes). */
  exportSession(sessionId: string): Uint8Array {
    const { portable, blobs } = this.read('exporting a session', () => {
      const snapshot = readSnapshot(this.ctx, sessionId)
      const blobs = new Map<string, Uint8Array>()
      for (const a of snapshot.artifacts) if (!blobs.has(a.sha256)) blobs.set(a.sha256, readBlob(this.ctx, a.sha256))
      return { portable: toPortable(snapshot), blobs }
    })
    return exportSessionFile(portable, blobs, this.ctx.now())
  }

  /**
   * Imports a .dlab file. Everything is checked before the store is touched, then written in one
   * transaction: a failed import changes nothing. When the session id exists already: mode 'replace'
   * overwrites it, 'keep-both' imports a copy with new ids named "… (imported)", no mode → IMPORT_CONFLICT.
   */
  importSession(bytes: Uint8Array, options: { mode?: ImportMode; limits?: Partial<ImportLimits> } = {}): ImportOutcome {
    return this.insertImported(importSessionFile(bytes, options.limits, { largeResultBytes: this.largeResultBytes }), options.mode)
  }

  /**
   * importSession with the reading (inflate, checksums, parsing, validation) in a worker thread: the calling
   * thread only runs the one write transaction. For servers and the app, whose thread must stay responsive.
   */
  async importSessionAsync(bytes: Uint8Array, options: { mode?: ImportMode; limits?: Partial<ImportLimits> } = {}): Promise<ImportOutcome> {
    const file = await importSessionFileOffThread(bytes, options.limits, { largeResultBytes: this.largeResultBytes })
    return this.insertImported(file, options.mode)
  }

  private insertImported(file: ParsedSessionFile, requestedMode: ImportMode | undefined): ImportOutcome {
    const options = { mode: requestedMode }
    return this.write('importing a session', () => {
      const existing = this.ctx.db.prepare('SELECT id FROM sessions WHERE id = ?').get(file.portable.session.id)
      let portable = file.portable
      let mode: ImportOutcome['mode'] = 'new'
      if (existing) {
        if (options.mode === undefined) {
          throw new LabError('IMPORT_CONFLICT', `session ${portable.session.id} ("${portable.session.name}") is already in the store; import again with mode replace or keep-both`, {
            sessionId: portable.session.id,
          })
        }
        mode = options.mode
        if (mode === 'replace') purgeSessionRows(this.ctx, portable.session.id)
        else portable = withNewIds(portable, { name: withSuffix(portable.session.name, ' (imported)') })
      }
      // Run ids are global: a run id used by another session (a forged or hand-made file) would collide.
      const clash = portable.runs.find((run) => this.ctx.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(run.id))
      if (clash) {
        throw new LabError('IMPORT_CONFLICT', `run ${clash.id} of the imported session already belongs to another session; import with mode keep-both`, {
          sessionId: portable.session.id,
          runId: clash.id,
        })
      }
      insertPortable(this.ctx, portable, file.blobs)
      return { session: getSession(this.ctx, portable.session.id), mode }
    })
  }

  // ------------------------------------------------------------------------------------------
  // Maintenance

  /**
   * PRAGMA integrity_check ('full', reads every page and cross-checks indexes) or quick_check ('quick',
   * without the index cross-checks): [] when the file is sound, else SQLite's list of problems.
   */
  integrityCheck(mode: 'full' | 'quick' = 'full'): string[] {
    const pragma = mode === 'full' ? 'integrity_check' : 'quick_check'
    const rows = this.read('checking integrity', () => this.ctx.db.pragma(pragma, { simple: false }) as Array<Record<string, string>>)
    const problems = rows.map((r) => r[pragma])
    return problems.length === 1 && problems[0] === 'ok' ? [] : problems
  }

  /** Runs fn (e.g. an autosaver's flush) when the store closes, before the connection goes. Returns the remover. */
  onClose(fn: () => void): () => void {
    this.closeHooks.add(fn)
    return () => this.closeHooks.delete(fn)
  }

  get isOpen(): boolean {
    return !this.closed
  }

  /** Flushes the close hooks, marks this instance's unfinished runs interrupted, checkpoints and closes. */
  close(): void {
    if (this.closed) return
    try {
      for (const hook of [...this.closeHooks]) hook()
      this.closeHooks.clear()
      if (this.read('closing', () => hasOwnActiveRuns(this.ctx))) this.write('closing', () => markOwnRunsInterrupted(this.ctx))
    } finally {
      this.closed = true
      LIVE_OWNER_TOKENS.delete(this.ctx.owner.token)
      this.ctx.db.close()
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new LabError('INTERNAL', `the experiment store ${this.path} is closed`)
  }

  private write<T>(action: string, fn: () => T): T {
    this.ensureOpen()
    return writeTx(this.ctx.db, action, fn)
  }

  private read<T>(action: string, fn: () => T): T {
    this.ensureOpen()
    return readTx(this.ctx.db, action, fn)
  }
}

function withSuffix(name: string, suffix: string): string {
  const room = 200 - suffix.length
  return (name.length > room ? name.slice(0, room - 1) + '…' : name) + suffix
}

/**
 * Opens the experiment store at `path` (created with its folder if missing; ':memory:' for a throwaway
 * store): WAL journal, synchronous=NORMAL, foreign keys on, busy timeout 5 s, migrations applied, and runs
 * left queued/running by a dead process marked 'interrupted'.
 * Throws STORE_NEWER_VERSION (file untouched) for a store from a newer app, STORE_CORRUPT when the file
 * is not a usable SQLite database (openStoreSafely recovers from that), STORE_BUSY after the timeout.
 */
export function openStore(path: string, options: OpenStoreOptions = {}): ExperimentStore {
  const { db, readOnly } = openDatabaseWithAccess(path, options)
  try {
    return new ExperimentStore(db, path, options, readOnly)
  } catch (error) {
    db.close()
    throw mapSqliteError(error, `opening ${path}`)
  }
}
