// Per-workspace state of a session: one versioned JSON document per (session, workspace).
import type { WorkspaceId, WorkspaceState } from '../../common/sessions'
import type { StoreContext } from '../context'
import { LabError } from '../../common/errors'
import { fromJson, jsonShapeProblem, toJson } from '../json'
import { parseWith, workspaceIdSchema, workspaceStateSchema } from '../schemas'

interface WorkspaceRow {
  workspace: WorkspaceId
  state_json: string
}

/** A validated state and its JSON text, ready to write (validation happens before any transaction). */
export interface PreparedWorkspaceState {
  workspace: WorkspaceId
  version: number
  json: string
}

/** Deepest nesting a workspace state may have (the API allows the same; real states are a few levels deep). */
export const MAX_STATE_DEPTH = 64

export function prepareWorkspaceState(workspace: unknown, state: unknown): PreparedWorkspaceState {
  const id = parseWith(workspaceIdSchema, workspace, 'INPUT_INVALID', 'the workspace id')
  // Before the schema: zod's records would drop a "__proto__" key silently, and a deep value overflows SQLite's
  // JSON check (1000 levels) or the stack.
  const problem = jsonShapeProblem(state, MAX_STATE_DEPTH, 1_000_000)
  if (problem !== undefined) throw new LabError('INPUT_INVALID', `the ${id} workspace state ${problem}`, { workspace: id })
  const valid = parseWith(workspaceStateSchema, state, 'INPUT_INVALID', `the ${id} workspace state`)
  return { workspace: id, version: valid.version, json: toJson(valid, `the ${id} workspace state`) }
}

export function writeWorkspaceState(ctx: StoreContext, sessionId: string, prepared: PreparedWorkspaceState, updatedAt = ctx.now()): void {
  ctx.db
    .prepare(
      `INSERT INTO workspace_states (session_id, workspace, state_version, state_json, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id, workspace) DO UPDATE SET
         state_version = excluded.state_version, state_json = excluded.state_json, updated_at = excluded.updated_at`,
    )
    .run(sessionId, prepared.workspace, prepared.version, prepared.json, updatedAt)
}

function toWorkspaceState(row: WorkspaceRow): WorkspaceState {
  return fromJson(row.state_json) as WorkspaceState
}

export function readWorkspaceStates(ctx: StoreContext, sessionId: string): Partial<Record<WorkspaceId, WorkspaceState>> {
  const rows = ctx.db.prepare('SELECT workspace, state_json FROM workspace_states WHERE session_id = ? ORDER BY workspace').all(sessionId) as WorkspaceRow[]
  const states: Partial<Record<WorkspaceId, WorkspaceState>> = {}
  for (const row of rows) states[row.workspace] = toWorkspaceState(row)
  return states
}

export function readWorkspaceState(ctx: StoreContext, sessionId: string, workspace: WorkspaceId): WorkspaceState | null {
  const row = ctx.db.prepare('SELECT workspace, state_json FROM workspace_states WHERE session_id = ? AND workspace = ?').get(sessionId, workspace) as
    | WorkspaceRow
    | undefined
  return row ? toWorkspaceState(row) : null
}
