// Runs: recorded when they start (status running, or queued) and again when they end.
import { randomUUID } from 'node:crypto'
import { LabError } from '../../common/errors'
import type { FinishedRunStatus, RunKind, RunModelRef, RunRecord, RunStatus, WorkspaceId } from '../../common/sessions'
import { RUN_KINDS } from '../../common/sessions'
import type { StoreContext } from '../context'
import { fromJson, fromJsonOrNull, toJson } from '../json'
import { LIMITS, nameSchema, parseWith, runModelRefSchema, workspaceIdSchema } from '../schemas'
import { z } from 'zod'

interface RunRow {
  id: string
  session_id: string
  kind: RunKind
  workspace: WorkspaceId | null
  name: string
  config_json: string
  seed: number | null
  backend: string | null
  model_json: string | null
  status: RunStatus
  created_at: string
  started_at: string | null
  ended_at: string | null
  error: string | null
  result_json: string | null
}

const RUN_COLUMNS = `id, session_id, kind, workspace, name, config_json, seed, backend, model_json, status,
  created_at, started_at, ended_at, error, result_json`

function toRunRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    kind: row.kind,
    workspace: row.workspace,
    name: row.name,
    config: fromJson(row.config_json),
    seed: row.seed,
    backend: row.backend,
    model: fromJsonOrNull(row.model_json) as RunModelRef | null,
    status: row.status,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    error: row.error,
    result: fromJsonOrNull(row.result_json),
  }
}

/** What startRun needs. config, model and result must be plain JSON (see JsonRecord). */
export interface NewRun {
  sessionId: string
  kind: RunKind
  /** the workspace that started it, if any */
  workspace?: WorkspaceId | null
  name: string
  /** the request or experiment configuration */
  config: unknown
  seed?: number | null
  backend?: string | null
  model?: RunModelRef | null
  /** 'running' (default) records it as started now; 'queued' waits for markRunStarted */
  status?: 'queued' | 'running'
}

export interface RunOutcome {
  status: FinishedRunStatus
  /** small JSON result (large data belongs in artifacts) */
  result?: unknown
  /** why it failed or was cancelled */
  error?: string | null
}

const newRunSchema = z.strictObject({
  sessionId: z.string().min(1).max(200),
  kind: z.enum(RUN_KINDS),
  workspace: workspaceIdSchema.nullable().optional(),
  name: nameSchema,
  config: z.unknown(),
  seed: z.number().int().nullable().optional(),
  backend: z.string().max(200).nullable().optional(),
  model: runModelRefSchema.nullable().optional(),
  status: z.enum(['queued', 'running']).optional(),
})

/** Validated insert parameters (validation and JSON encoding happen before the transaction). */
export interface PreparedRun {
  id: string
  sessionId: string
  kind: RunKind
  workspace: WorkspaceId | null
  name: string
  configJson: string
  seed: number | null
  backend: string | null
  modelJson: string | null
  status: 'queued' | 'running'
}

export function prepareRun(input: NewRun): PreparedRun {
  const valid = parseWith(newRunSchema, input, 'INPUT_INVALID', 'the run')
  return {
    id: randomUUID(),
    sessionId: valid.sessionId,
    kind: valid.kind,
    workspace: valid.workspace ?? null,
    name: valid.name,
    configJson: toJson(valid.config ?? null, 'the run config'),
    seed: valid.seed ?? null,
    backend: valid.backend ?? null,
    modelJson: valid.model ? toJson(valid.model, 'the run model') : null,
    status: valid.status ?? 'running',
  }
}

export function insertRun(ctx: StoreContext, run: PreparedRun): void {
  const now = ctx.now()
  ctx.db
    .prepare(
      `INSERT INTO runs (id, session_id, kind, workspace, name, config_json, seed, backend, model_json, status,
                         created_at, started_at, owner_pid, owner_token)
       VALUES (@id, @sessionId, @kind, @workspace, @name, @configJson, @seed, @backend, @modelJson, @status,
               @now, @startedAt, @pid, @token)`,
    )
    .run({ ...run, now, startedAt: run.status === 'running' ? now : null, pid: ctx.owner.pid, token: ctx.owner.token })
}

/** Inserts a run exactly as recorded elsewhere (import, duplicate); it has no live owner. */
export function insertRunRecord(ctx: StoreContext, run: RunRecord): void {
  ctx.db
    .prepare(
      `INSERT INTO runs (${RUN_COLUMNS})
       VALUES (@id, @sessionId, @kind, @workspace, @name, @configJson, @seed, @backend, @modelJson, @status,
               @createdAt, @startedAt, @endedAt, @error, @resultJson)`,
    )
    .run({
      id: run.id,
      sessionId: run.sessionId,
      kind: run.kind,
      workspace: run.workspace,
      name: run.name,
      configJson: toJson(run.config, 'the run config'),
      seed: run.seed,
      backend: run.backend,
      modelJson: run.model === null ? null : toJson(run.model, 'the run model'),
      status: run.status,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      endedAt: run.endedAt,
      error: run.error,
      resultJson: run.result === null || run.result === undefined ? null : toJson(run.result, 'the run result'),
    })
}

export function findRun(ctx: StoreContext, id: string): RunRecord | undefined {
  const row = ctx.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(id) as RunRow | undefined
  return row && toRunRecord(row)
}

export function getRun(ctx: StoreContext, id: string): RunRecord {
  const run = findRun(ctx, id)
  if (!run) throw new LabError('RUN_NOT_FOUND', `no run ${id}`, { runId: id })
  return run
}

export function listRuns(ctx: StoreContext, sessionId: string): RunRecord[] {
  const rows = ctx.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE session_id = ? ORDER BY created_at, rowid`).all(sessionId) as RunRow[]
  return rows.map(toRunRecord)
}

export function setRunStarted(ctx: StoreContext, id: string): void {
  const run = getRun(ctx, id)
  if (run.status !== 'queued') throw new LabError('INPUT_INVALID', `run ${id} is ${run.status}, not queued`, { runId: id })
  ctx.db
    .prepare(`UPDATE runs SET status = 'running', started_at = ?, owner_pid = ?, owner_token = ? WHERE id = ?`)
    .run(ctx.now(), ctx.owner.pid, ctx.owner.token, id)
}

export interface PreparedOutcome {
  status: FinishedRunStatus
  resultJson: string | null
  error: string | null
}

const outcomeSchema = z.strictObject({
  status: z.enum(['done', 'failed', 'cancelled']),
  result: z.unknown().optional(),
  error: z.string().nullable().optional(),
})

export function prepareOutcome(outcome: RunOutcome): PreparedOutcome {
  const valid = parseWith(outcomeSchema, outcome, 'INPUT_INVALID', 'the run outcome')
  const error = valid.error ?? null
  return {
    status: valid.status,
    resultJson: valid.result === undefined || valid.result === null ? null : toJson(valid.result, 'the run result'),
    error: error !== null && error.length > LIMITS.errorLength ? error.slice(0, LIMITS.errorLength - 1) + '…' : error,
  }
}

/** Ends a queued/running run (or records the late outcome of an interrupted one). */
export function setRunFinished(ctx: StoreContext, id: string, outcome: PreparedOutcome): void {
  const run = getRun(ctx, id)
  if (run.status !== 'queued' && run.status !== 'running' && run.status !== 'interrupted') {
    throw new LabError('INPUT_INVALID', `run ${id} already ended (${run.status})`, { runId: id })
  }
  ctx.db
    .prepare(
      `UPDATE runs SET status = ?, ended_at = ?, error = ?, result_json = ?, owner_pid = NULL, owner_token = NULL WHERE id = ?`,
    )
    .run(outcome.status, ctx.now(), outcome.error, outcome.resultJson, id)
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const INTERRUPTED_MESSAGE = 'the process running it ended before it finished'

/**
 * Turns queued/running runs whose owning process is gone into 'interrupted'. A run's owner is alive when
 * it is a live store instance of this process (liveTokens) or another process that still exists.
 * Returns the ids it changed.
 */
export function findDeadOwnerRuns(ctx: StoreContext, liveTokens: ReadonlySet<string>): string[] {
  const rows = ctx.db
    .prepare(`SELECT id, owner_pid, owner_token FROM runs WHERE status IN ('queued', 'running')`)
    .all() as Array<{ id: string; owner_pid: number | null; owner_token: string | null }>
  const dead = rows.filter((row) => {
    if (row.owner_pid === null || row.owner_token === null) return true
    if (row.owner_pid === process.pid) return !liveTokens.has(row.owner_token)
    return !processAlive(row.owner_pid)
  })
  return dead.map((row) => row.id)
}

/** Marks the given runs interrupted if they are still queued/running (call inside a write transaction). */
export function markRunsInterrupted(ctx: StoreContext, ids: readonly string[]): string[] {
  const update = ctx.db.prepare(
    `UPDATE runs SET status = 'interrupted', ended_at = ?, error = ?, owner_pid = NULL, owner_token = NULL
     WHERE id = ? AND status IN ('queued', 'running')`,
  )
  if (ids.length === 0) return []
  const now = ctx.now()
  return ids.filter((id) => update.run(now, INTERRUPTED_MESSAGE, id).changes === 1)
}

export function hasOwnActiveRuns(ctx: StoreContext): boolean {
  return ctx.db.prepare(`SELECT 1 FROM runs WHERE owner_token = ? AND status IN ('queued', 'running')`).get(ctx.owner.token) !== undefined
}

/** At close: this instance's unfinished runs will never finish. */
export function markOwnRunsInterrupted(ctx: StoreContext): number {
  return ctx.db
    .prepare(
      `UPDATE runs SET status = 'interrupted', ended_at = ?, error = ?, owner_pid = NULL, owner_token = NULL
       WHERE owner_token = ? AND status IN ('queued', 'running')`,
    )
    .run(ctx.now(), 'the store was closed before it finished', ctx.owner.token).changes
}
