// Artifacts: content-addressed blobs (artifacts) and what they are for each use (artifact_links).
import { createHash } from 'node:crypto'
import { LabError } from '../../common/errors'
import type { ArtifactDescriptor, ArtifactKind } from '../../common/sessions'
import { ARTIFACT_KINDS } from '../../common/sessions'
import type { StoreContext } from '../context'
import { nameSchema, parseWith, sha256Schema } from '../schemas'
import { z } from 'zod'

interface LinkRow {
  sha256: string
  session_id: string
  run_id: string | null
  name: string
  kind: ArtifactKind
  dtype: string | null
  shape_json: string | null
  mime: string
  size: number
  created_at: string
}

const LINK_SELECT = `SELECT l.sha256, l.session_id, l.run_id, l.name, l.kind, l.dtype, l.shape_json, l.mime, a.size, l.created_at
  FROM artifact_links AS l JOIN artifacts AS a ON a.sha256 = l.sha256`

function toArtifactDescriptor(row: LinkRow): ArtifactDescriptor {
  return {
    sha256: row.sha256,
    sessionId: row.session_id,
    runId: row.run_id,
    name: row.name,
    kind: row.kind,
    dtype: row.dtype,
    shape: row.shape_json === null ? null : (JSON.parse(row.shape_json) as number[]),
    mime: row.mime,
    size: row.size,
    createdAt: row.created_at,
  }
}

export const DEFAULT_MIME: Record<ArtifactKind, string> = {
  tensor: 'application/octet-stream',
  'chart-png': 'image/png',
  'chart-svg': 'image/svg+xml',
  json: 'application/json',
  weights: 'application/octet-stream',
}

/** Bytes per element of the dtypes whose size the store checks against the shape. */
const DTYPE_BYTES: Record<string, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
}

export interface NewArtifact {
  sessionId: string
  /** link to a run of that session (else the artifact belongs to the session) */
  runId?: string | null
  /** unique per (session, run): putting the same name again replaces the link */
  name: string
  kind: ArtifactKind
  data: Uint8Array
  dtype?: string | null
  shape?: number[] | null
  /** default by kind (image/png, image/svg+xml, application/json, application/octet-stream) */
  mime?: string
}

const newArtifactSchema = z.strictObject({
  sessionId: z.string().min(1).max(200),
  runId: z.string().min(1).max(200).nullable().optional(),
  name: nameSchema,
  kind: z.enum(ARTIFACT_KINDS),
  data: z.instanceof(Uint8Array),
  dtype: z.string().min(1).max(32).nullable().optional(),
  shape: z.array(z.number().int().min(0)).max(32).nullable().optional(),
  mime: z.string().min(1).max(200).optional(),
})

export interface PreparedArtifact {
  sha256: string
  data: Uint8Array
  sessionId: string
  runId: string | null
  name: string
  kind: ArtifactKind
  dtype: string | null
  shape: number[] | null
  mime: string
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

export function prepareArtifact(input: NewArtifact): PreparedArtifact {
  const valid = parseWith(newArtifactSchema, input, 'INPUT_INVALID', 'the artifact')
  const shape = valid.shape ?? null
  const dtype = valid.dtype ?? null
  if (valid.kind === 'tensor' && (dtype === null || shape === null)) {
    throw new LabError('INPUT_INVALID', `tensor artifact "${valid.name}" needs a dtype and a shape`)
  }
  if (dtype !== null && shape !== null && DTYPE_BYTES[dtype] !== undefined) {
    const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype]
    if (expected !== valid.data.byteLength) {
      throw new LabError('INPUT_INVALID', `artifact "${valid.name}": ${dtype} [${shape.join(', ')}] is ${expected} bytes, got ${valid.data.byteLength}`)
    }
  }
  return {
    sha256: sha256Hex(valid.data),
    data: valid.data,
    sessionId: valid.sessionId,
    runId: valid.runId ?? null,
    name: valid.name,
    kind: valid.kind,
    dtype,
    shape,
    mime: valid.mime ?? DEFAULT_MIME[valid.kind],
  }
}

/** Stores the bytes once (no-op when that sha256 is already there). */
export function writeBlob(ctx: StoreContext, sha256: string, data: Uint8Array): void {
  ctx.db
    .prepare('INSERT INTO artifacts (sha256, size, data, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING')
    .run(sha256, data.byteLength, data, ctx.now())
}

export function hasBlob(ctx: StoreContext, sha256: string): boolean {
  return ctx.db.prepare('SELECT 1 FROM artifacts WHERE sha256 = ?').get(sha256) !== undefined
}

export interface LinkRecord {
  sha256: string
  sessionId: string
  runId: string | null
  name: string
  kind: ArtifactKind
  dtype: string | null
  shape: number[] | null
  mime: string
  createdAt: string
}

/** Links a stored blob; an existing link with the same (session, run, name) is replaced. */
export function writeLink(ctx: StoreContext, link: LinkRecord): void {
  const old = ctx.db
    .prepare(`SELECT id, sha256 FROM artifact_links WHERE session_id = ? AND ifnull(run_id, '') = ifnull(?, '') AND name = ?`)
    .get(link.sessionId, link.runId, link.name) as { id: number; sha256: string } | undefined
  if (old) ctx.db.prepare('DELETE FROM artifact_links WHERE id = ?').run(old.id)
  ctx.db
    .prepare(
      `INSERT INTO artifact_links (sha256, session_id, run_id, name, kind, dtype, shape_json, mime, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(link.sha256, link.sessionId, link.runId, link.name, link.kind, link.dtype, link.shape === null ? null : JSON.stringify(link.shape), link.mime, link.createdAt)
  if (old && old.sha256 !== link.sha256) collectBlob(ctx, old.sha256)
}

/** Deletes a blob nothing links to any more. */
export function collectBlob(ctx: StoreContext, sha256: string): void {
  ctx.db.prepare('DELETE FROM artifacts WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM artifact_links WHERE sha256 = ?)').run(sha256, sha256)
}

export function findLink(ctx: StoreContext, sessionId: string, runId: string | null, name: string): ArtifactDescriptor | undefined {
  const row = ctx.db.prepare(`${LINK_SELECT} WHERE l.session_id = ? AND ifnull(l.run_id, '') = ifnull(?, '') AND l.name = ?`).get(sessionId, runId, name) as
    | LinkRow
    | undefined
  return row && toArtifactDescriptor(row)
}

export function listSessionArtifacts(ctx: StoreContext, sessionId: string): ArtifactDescriptor[] {
  const rows = ctx.db.prepare(`${LINK_SELECT} WHERE l.session_id = ? ORDER BY l.id`).all(sessionId) as LinkRow[]
  return rows.map(toArtifactDescriptor)
}

export function readBlob(ctx: StoreContext, sha256: string): Uint8Array {
  const valid = parseWith(sha256Schema, sha256, 'INPUT_INVALID', 'the artifact sha256')
  const data = ctx.db.prepare('SELECT data FROM artifacts WHERE sha256 = ?').pluck().get(valid) as Buffer | undefined
  if (data === undefined) throw new LabError('NOT_FOUND', `no artifact ${valid}`, { sha256: valid })
  return data
}

/**
 * The bytes of a blob that the session links to (itself or one of its runs); NOT_FOUND otherwise, so a
 * reference written by hand (an imported run's `$storedResult`) cannot reach another session's artifacts.
 */
export function readSessionBlob(ctx: StoreContext, sessionId: string, sha256: string): Uint8Array {
  const valid = parseWith(sha256Schema, sha256, 'INPUT_INVALID', 'the artifact sha256')
  const data = ctx.db
    .prepare(
      `SELECT a.data FROM artifacts AS a
       WHERE a.sha256 = ? AND EXISTS (SELECT 1 FROM artifact_links AS l WHERE l.sha256 = a.sha256 AND l.session_id = ?)`,
    )
    .pluck()
    .get(valid, sessionId) as Buffer | undefined
  if (data === undefined) throw new LabError('NOT_FOUND', `session ${sessionId} has no artifact ${valid}`, { sessionId, sha256: valid })
  return data
}
