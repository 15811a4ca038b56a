// Sessions and their tags. Rows stay here: callers get SessionSummary objects.
import { LabError } from '../../common/errors'
import type { SessionSummary } from '../../common/sessions'
import type { StoreContext } from '../context'
import { nameSchema, notesSchema, parseWith, tagsSchema } from '../schemas'

interface SessionRow {
  id: string
  name: string
  notes: string
  created_at: string
  updated_at: string
  app_version: string
  deleted_at: string | null
  tags_json: string
  run_count: number
}

const SELECT_SESSION = `
  SELECT s.id, s.name, s.notes, s.created_at, s.updated_at, s.app_version, s.deleted_at,
         (SELECT json_group_array(tag) FROM (SELECT tag FROM session_tags WHERE session_id = s.id ORDER BY tag)) AS tags_json,
         (SELECT count(*) FROM runs WHERE session_id = s.id) AS run_count
  FROM sessions AS s`

function toSessionSummary(row: SessionRow): SessionSummary {
  return {
    id: row.id,
    name: row.name,
    notes: row.notes,
    tags: JSON.parse(row.tags_json) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    appVersion: row.app_version,
    deletedAt: row.deleted_at,
    runCount: row.run_count,
  }
}

export const validName = (name: unknown): string => parseWith(nameSchema, name, 'INPUT_INVALID', 'the session name')
export const validNotes = (notes: unknown): string => parseWith(notesSchema, notes, 'INPUT_INVALID', 'the session notes')
/** Tags come back trimmed, deduplicated and sorted. */
export function validTags(tags: unknown): string[] {
  const list = parseWith(tagsSchema, tags, 'INPUT_INVALID', 'the session tags')
  const clean = [...new Set(list.map((t) => t.trim()))]
  if (clean.some((t) => t.length === 0)) throw new LabError('INPUT_INVALID', 'a session tag is blank')
  return clean.sort()
}

export function findSession(ctx: StoreContext, id: string): SessionSummary | undefined {
  const row = ctx.db.prepare(`${SELECT_SESSION} WHERE s.id = ?`).get(id) as SessionRow | undefined
  return row && toSessionSummary(row)
}

/** The session, or SESSION_NOT_FOUND (also for soft-deleted sessions unless includeDeleted). */
export function getSession(ctx: StoreContext, id: string, includeDeleted = false): SessionSummary {
  const session = findSession(ctx, id)
  if (!session || (session.deletedAt !== null && !includeDeleted)) {
    throw new LabError('SESSION_NOT_FOUND', `no session ${id}${session ? ' (it is deleted; restore it first)' : ''}`, { sessionId: id })
  }
  return session
}

/** Throws SESSION_NOT_FOUND unless the session exists and is not deleted. */
export function requireActiveSession(ctx: StoreContext, id: string): void {
  const row = ctx.db.prepare('SELECT deleted_at FROM sessions WHERE id = ?').get(id) as { deleted_at: string | null } | undefined
  if (!row || row.deleted_at !== null) {
    throw new LabError('SESSION_NOT_FOUND', `no session ${id}${row ? ' (it is deleted; restore it first)' : ''}`, { sessionId: id })
  }
}

export function listSessions(ctx: StoreContext, includeDeleted: boolean): SessionSummary[] {
  const where = includeDeleted ? '' : ' WHERE s.deleted_at IS NULL'
  const rows = ctx.db.prepare(`${SELECT_SESSION}${where} ORDER BY s.updated_at DESC, s.id`).all() as SessionRow[]
  return rows.map(toSessionSummary)
}

export interface SessionRecord {
  id: string
  name: string
  notes: string
  tags: string[]
  createdAt: string
  updatedAt: string
  appVersion: string
  deletedAt: string | null
}

export function insertSession(ctx: StoreContext, record: SessionRecord): void {
  ctx.db
    .prepare(
      `INSERT INTO sessions (id, name, notes, created_at, updated_at, app_version, deleted_at)
       VALUES (@id, @name, @notes, @createdAt, @updatedAt, @appVersion, @deletedAt)`,
    )
    .run({
      id: record.id,
      name: record.name,
      notes: record.notes,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      appVersion: record.appVersion,
      deletedAt: record.deletedAt,
    })
  setTags(ctx, record.id, record.tags)
}

export function setTags(ctx: StoreContext, id: string, tags: string[]): void {
  ctx.db.prepare('DELETE FROM session_tags WHERE session_id = ?').run(id)
  const insert = ctx.db.prepare('INSERT INTO session_tags (session_id, tag) VALUES (?, ?)')
  for (const tag of tags) insert.run(id, tag)
}

export function updateSessionFields(ctx: StoreContext, id: string, fields: { name?: string; notes?: string }): void {
  const now = ctx.now()
  if (fields.name !== undefined) ctx.db.prepare('UPDATE sessions SET name = ?, updated_at = ? WHERE id = ?').run(fields.name, now, id)
  if (fields.notes !== undefined) ctx.db.prepare('UPDATE sessions SET notes = ?, updated_at = ? WHERE id = ?').run(fields.notes, now, id)
}

/** Marks the session as changed now. */
export function touchSession(ctx: StoreContext, id: string): void {
  ctx.db.prepare('UPDATE sessions SET updated_at = ? WHERE id = ?').run(ctx.now(), id)
}

export function setDeletedAt(ctx: StoreContext, id: string, deletedAt: string | null): void {
  ctx.db.prepare('UPDATE sessions SET deleted_at = ? WHERE id = ?').run(deletedAt, id)
}

/** Hard delete: cascades to tags, workspace states, runs, metrics and links; orphaned blobs are collected. */
export function purgeSessionRows(ctx: StoreContext, id: string): void {
  const shas = ctx.db.prepare('SELECT DISTINCT sha256 FROM artifact_links WHERE session_id = ?').pluck().all(id) as string[]
  ctx.db.prepare('DELETE FROM sessions WHERE id = ?').run(id)
  const collect = ctx.db.prepare('DELETE FROM artifacts WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM artifact_links WHERE sha256 = ?)')
  for (const sha of shas) collect.run(sha, sha)
}
