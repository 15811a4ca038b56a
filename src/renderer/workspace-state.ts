// The saved shape of a workspace (common/sessions WorkspaceState, version 1):
//   {version: 1, inputs, model, selections, view: {..., resultJobId}, lastResult: {runId} | null}
// and the defensive reading used when a session is opened: a saved field is taken only if the default has
// the same kind of value, so an older or damaged state can never put a workspace into a shape it cannot draw.
import type { ModelRef } from '../common/api'
import type { ErrorData } from '../common/errors'
import type { RunModelRef, RunRecord, WorkspaceState } from '../common/sessions'

export const WORKSPACE_STATE_VERSION = 1

/** The run behind the result on screen: its job id (always known) and run id (when the lab returned it). */
export interface LastRun {
  jobId: string
  runId?: string
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/**
 * Returns `defaults` with every field replaced by the saved one of the same kind (recursively for plain
 * objects). Arrays are taken whole when their items have the kind of the default's first item (or the
 * default is empty). Fields whose default is null accept anything (optional values).
 */
export function mergeKnown<T>(defaults: T, saved: unknown): T {
  if (kindOf(defaults) === 'object' && kindOf(saved) === 'object') {
    const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) }
    for (const key of Object.keys(out)) {
      if (key in (saved as Record<string, unknown>)) out[key] = mergeKnown(out[key], (saved as Record<string, unknown>)[key])
    }
    return out as T
  }
  if (defaults === null) return (saved === undefined ? null : saved) as T
  if (kindOf(defaults) !== kindOf(saved)) return defaults
  if (Array.isArray(defaults)) {
    const list = saved as unknown[]
    if (defaults.length === 0) return list.slice() as T
    return (list.every((item) => kindOf(item) === kindOf(defaults[0])) ? list.slice() : defaults) as T
  }
  if (typeof defaults === 'number' && !Number.isFinite(saved as number)) return defaults
  return saved as T
}

/** A saved state of this version, or null (missing, another version, not an object). */
export function readSavedState(saved: unknown): (Partial<WorkspaceState> & { model?: ModelRef | null }) | null {
  if (kindOf(saved) !== 'object') return null
  const state = saved as Partial<WorkspaceState>
  if (state.version !== WORKSPACE_STATE_VERSION) return null
  const model = state.model
  return { ...state, model: model && kindOf(model) === 'object' && 'kind' in model ? model : null }
}

/**
 * The run a saved state points at: by lastResult.runId, else by the job id the run was started with
 * (the run's config is the request, which carries jobId). lastRun is null when no result was on screen.
 */
export function findResultRun(state: Partial<WorkspaceState> | null, runs: RunRecord[]): { run: RunRecord | null; lastRun: LastRun | null } {
  const runId = typeof state?.lastResult?.runId === 'string' ? state.lastResult.runId : undefined
  const jobId = typeof state?.view?.resultJobId === 'string' ? (state.view.resultJobId as string) : undefined
  if (!runId && !jobId) return { run: null, lastRun: null }
  const run =
    (runId ? runs.find((r) => r.id === runId) : undefined) ??
    (jobId ? runs.find((r) => (r.config as { jobId?: unknown } | null)?.jobId === jobId) : undefined) ??
    null
  const found = run && run.status === 'done' ? run : null
  return { run: found, lastRun: { jobId: jobId ?? runId ?? '', runId: runId ?? found?.id } }
}

/** The checkpoint a restored run used, without the recorded hash (as describeModel takes it), or null. */
export function recordedCheckpoint(model: RunModelRef | null | undefined): { ref: ModelRef & { kind: 'checkpoint' }; sha256: string } | null {
  if (!model || model.kind !== 'checkpoint' || typeof model.weightsSha256 !== 'string') return null
  const ref: ModelRef & { kind: 'checkpoint' } = { kind: 'checkpoint', path: model.path }
  if (model.variant) ref.variant = model.variant
  return { ref, sha256: model.weightsSha256 }
}

/**
 * What to tell the user about a restored result computed from a checkpoint folder, given what that folder
 * holds now: null when its weights file has the recorded SHA-256, else why the folder no longer matches.
 */
export function weightsNotice(recorded: { ref: { path: string }; sha256: string }, now: { sha256?: string } | { error: ErrorData }): string | null {
  const path = recorded.ref.path
  if ('error' in now) {
    return `The checkpoint this result was computed with (${path}) cannot be opened here: ${now.error.message}. The stored result is shown; choose a model to compute again.`
  }
  if (now.sha256 === recorded.sha256) return null
  return `The checkpoint at ${path} has changed since this result was computed (its weights file has another SHA-256: ${recorded.sha256.slice(0, 12)}… then, ${(now.sha256 ?? 'unknown').slice(0, 12)}… now). The stored result is shown; running again uses the file as it is now.`
}

/** The saved state of a workspace showing the result of `lastRun` (what a session stores per workspace). */
export function workspaceState(parts: { inputs: object; selections: object; view: object; model: ModelRef | null; lastRun: LastRun | null }): WorkspaceState {
  return {
    version: WORKSPACE_STATE_VERSION,
    inputs: { ...parts.inputs } as Record<string, unknown>,
    model: parts.model,
    selections: { ...parts.selections } as Record<string, unknown>,
    // resultJobId: how the run is found when the lab does not return its runId with the result
    view: { ...parts.view, resultJobId: parts.lastRun?.jobId ?? null } as Record<string, unknown>,
    lastResult: parts.lastRun?.runId ? { runId: parts.lastRun.runId } : null,
  }
}

/** The user's inputs in a recorded request (a run's config): everything but the model and the job fields. */
export function requestInputs(config: unknown): Record<string, unknown> | null {
  if (kindOf(config) !== 'object') return null
  const { model: _model, jobId: _jobId, sessionId: _sessionId, ...inputs } = config as Record<string, unknown>
  return inputs
}
