// A whole session as data: read it (getSessionSnapshot), and write one back (import, duplicate).
import { randomUUID } from 'node:crypto'
import { LabError } from '../common/errors'
import type { ArtifactDescriptor, MetricPoint, RunRecord, SessionSnapshot, WorkspaceId, WorkspaceState } from '../common/sessions'
import type { StoreContext } from './context'
import { hasBlob, listSessionArtifacts, writeBlob, writeLink } from './repositories/artifacts'
import { readSessionMetrics, writeMetrics } from './repositories/metrics'
import { insertRunRecord, listRuns } from './repositories/runs'
import { getSession, insertSession } from './repositories/sessions'
import { prepareWorkspaceState, readWorkspaceStates, writeWorkspaceState } from './repositories/workspaces'

/** Call inside a read transaction for a consistent picture. */
export function readSnapshot(ctx: StoreContext, sessionId: string): SessionSnapshot {
  const session = getSession(ctx, sessionId)
  return {
    session,
    workspaces: readWorkspaceStates(ctx, sessionId),
    runs: listRuns(ctx, sessionId),
    metrics: readSessionMetrics(ctx, sessionId),
    artifacts: listSessionArtifacts(ctx, sessionId),
  }
}

/** A session detached from any store: what a .dlab file holds (session ids implied). */
export interface PortableSession {
  session: { id: string; name: string; notes: string; tags: string[]; createdAt: string; updatedAt: string; appVersion: string }
  workspaces: Partial<Record<WorkspaceId, WorkspaceState>>
  runs: Array<Omit<RunRecord, 'sessionId'>>
  metrics: MetricPoint[]
  artifacts: Array<Omit<ArtifactDescriptor, 'sessionId'>>
}

export function toPortable(snapshot: SessionSnapshot): PortableSession {
  const { id, name, notes, tags, createdAt, updatedAt, appVersion } = snapshot.session
  return {
    session: { id, name, notes, tags, createdAt, updatedAt, appVersion },
    workspaces: snapshot.workspaces,
    runs: snapshot.runs.map(({ sessionId: _sessionId, ...run }) => run),
    metrics: snapshot.metrics,
    artifacts: snapshot.artifacts.map(({ sessionId: _sessionId, ...artifact }) => artifact),
  }
}

/** Replaces every string (and object key) equal to a key of `map`, anywhere in a JSON value. */
function replaceIds(value: unknown, map: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return map.get(value) ?? value
  if (Array.isArray(value)) return value.map((item) => replaceIds(item, map))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[map.get(key) ?? key] = replaceIds(item, map)
    return out
  }
  return value
}

/**
 * The same session under a new id with new run ids. Run ids are global keys, so a second copy needs its own;
 * workspace states that mention an old run id (lastResult, selections of compared runs…) are rewritten.
 */
export function withNewIds(portable: PortableSession, changes: Partial<PortableSession['session']>): PortableSession {
  const runIds = new Map(portable.runs.map((run) => [run.id, randomUUID()]))
  const workspaces: PortableSession['workspaces'] = {}
  for (const [id, state] of Object.entries(portable.workspaces) as Array<[WorkspaceId, WorkspaceState]>) {
    workspaces[id] = replaceIds(state, runIds) as WorkspaceState
  }
  const mapRun = (id: string | null): string | null => (id === null ? null : (runIds.get(id) ?? id))
  return {
    session: { ...portable.session, id: randomUUID(), ...changes },
    workspaces,
    runs: portable.runs.map((run) => ({ ...run, id: runIds.get(run.id) as string })),
    metrics: portable.metrics.map((m) => ({ ...m, runId: mapRun(m.runId) as string })),
    artifacts: portable.artifacts.map((a) => ({ ...a, runId: mapRun(a.runId) })),
  }
}

/**
 * Writes a whole session (call inside a write transaction). Blobs come from `blobs` or must already be
 * stored. Runs that were queued/running where the session came from cannot be running here: they become
 * 'interrupted'.
 */
export function insertPortable(ctx: StoreContext, portable: PortableSession, blobs?: ReadonlyMap<string, Uint8Array>): void {
  const sessionId = portable.session.id
  insertSession(ctx, { ...portable.session, deletedAt: null })
  for (const [workspace, state] of Object.entries(portable.workspaces)) {
    writeWorkspaceState(ctx, sessionId, prepareWorkspaceState(workspace, state), portable.session.updatedAt)
  }
  for (const run of portable.runs) {
    const unfinished = run.status === 'queued' || run.status === 'running'
    insertRunRecord(ctx, {
      ...run,
      sessionId,
      ...(unfinished ? { status: 'interrupted' as const, endedAt: run.endedAt ?? run.startedAt ?? run.createdAt, error: run.error ?? 'it was still running when the session was copied' } : {}),
    })
  }
  const byRun = new Map<string, Array<{ key: string; step: number; value: number }>>()
  for (const m of portable.metrics) {
    const list = byRun.get(m.runId) ?? []
    list.push({ key: m.key, step: m.step, value: m.value })
    byRun.set(m.runId, list)
  }
  for (const [runId, points] of byRun) writeMetrics(ctx, runId, points)
  for (const artifact of portable.artifacts) {
    const data = blobs?.get(artifact.sha256)
    if (data) writeBlob(ctx, artifact.sha256, data)
    else if (!hasBlob(ctx, artifact.sha256)) throw new LabError('IMPORT_INVALID', `artifact ${artifact.sha256} has no bytes`)
    writeLink(ctx, { ...artifact, sessionId })
  }
}
