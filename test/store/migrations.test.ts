// Migrations: from every earlier schema version to the current one, the newer-version guard, and rollback.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { migrate, openDatabase } from '../../src/store/db'
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations'
import { openStore, openStoreSafely } from '../../src/store'
import { schemaText } from './helpers/schema'
import { tempDir } from './helpers/fixtures'

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex')

function freshSchema(): string {
  const db = openDatabase(':memory:')
  const text = schemaText(db)
  db.close()
  return text
}

let dir: string
let cleanup: () => void
beforeEach(() => ({ dir, cleanup } = tempDir()))
afterEach(() => cleanup())

/** A database at schema `version` (built with the first migrations only), written as that version would. */
function buildAtVersion(path: string, version: number): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  migrate(db, path, MIGRATIONS.slice(0, version))
  expect(db.pragma('user_version', { simple: true })).toBe(version)
  return db
}

const SESSION = '11111111-1111-4111-8111-111111111111'
const RUN_DONE = '22222222-2222-4222-8222-222222222222'
const RUN_LEFT = '33333333-3333-4333-8333-333333333333'
const BLOB = 'ab'.repeat(32)

function seedV1(db: Database.Database): void {
  db.prepare(`INSERT INTO sessions (id, name, notes, created_at, updated_at, app_version) VALUES (?, 'from v1', 'notes ✓', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z', '0.0.9')`).run(SESSION)
  db.prepare(`INSERT INTO session_tags VALUES (?, 'old')`).run(SESSION)
  db.prepare(`INSERT INTO workspace_states VALUES (?, 'attention', 1, ?, '2025-01-02T00:00:00.000Z')`).run(
    SESSION,
    JSON.stringify({ version: 1, inputs: { text: 'hé' }, model: null, selections: {}, view: {}, lastResult: { runId: RUN_DONE } }),
  )
  const run = db.prepare(`INSERT INTO runs (id, session_id, kind, workspace, name, config_json, status, created_at, started_at, ended_at, result_json)
    VALUES (?, ?, 'workspace', 'attention', ?, '{"layer":1}', ?, '2025-01-01T00:00:01.000Z', '2025-01-01T00:00:01.000Z', ?, ?)`)
  run.run(RUN_DONE, SESSION, 'runAttention', 'done', '2025-01-01T00:00:02.000Z', '{"ok":true}')
  run.run(RUN_LEFT, SESSION, 'runAttention', 'running', null, null)
  db.prepare(`INSERT INTO metrics VALUES (?, 'loss', 0, 1.5), (?, 'loss', 3, 0.25)`).run(RUN_DONE, RUN_DONE)
  db.prepare(`INSERT INTO artifacts VALUES (?, 3, x'010203', '2025-01-01T00:00:00.000Z')`).run(BLOB)
  db.prepare(`INSERT INTO artifact_links (sha256, session_id, run_id, name, kind, mime, created_at) VALUES (?, ?, ?, 'blob', 'json', 'application/json', '2025-01-01T00:00:00.000Z')`).run(BLOB, SESSION, RUN_DONE)
}

describe('migrations', () => {
  it('creates the current schema on an empty file (version 0)', () => {
    const path = join(dir, 'empty.sqlite')
    new Database(path).close()
    const store = openStore(path)
    expect(store.listSessions()).toEqual([])
    store.close()
    const db = new Database(path, { readonly: true })
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(schemaText(db)).toBe(freshSchema())
    db.close()
  })

  for (let version = 1; version < SCHEMA_VERSION; version++) {
    it(`migrates a version ${version} store to ${SCHEMA_VERSION}, keeping its data`, () => {
      const path = join(dir, `v${version}.sqlite`)
      const db = buildAtVersion(path, version)
      seedV1(db)
      db.close()

      const store = openStore(path)
      const snapshot = store.getSessionSnapshot(SESSION)
      expect(snapshot.session).toMatchObject({ name: 'from v1', notes: 'notes ✓', tags: ['old'], appVersion: '0.0.9', runCount: 2 })
      expect(snapshot.workspaces.attention).toEqual({ version: 1, inputs: { text: 'hé' }, model: null, selections: {}, view: {}, lastResult: { runId: RUN_DONE } })
      expect(snapshot.runs.map((r) => [r.id, r.status, r.result])).toEqual([
        [RUN_DONE, 'done', { ok: true }],
        [RUN_LEFT, 'interrupted', null],
      ])
      // A run left running by a version without owners has no live owner: it is interrupted at open.
      expect(store.interruptedAtOpen).toEqual([RUN_LEFT])
      expect(store.getLatestMetrics([RUN_DONE])).toEqual([{ runId: RUN_DONE, key: 'loss', step: 3, value: 0.25 }])
      expect(Buffer.from(store.getArtifactData(BLOB))).toEqual(Buffer.from([1, 2, 3]))
      expect(store.integrityCheck()).toEqual([])
      store.close()

      const check = new Database(path, { readonly: true })
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
      expect(schemaText(check)).toBe(freshSchema())
      check.close()
    })
  }

  it('refuses a store from a newer app and leaves the file byte for byte untouched', () => {
    const path = join(dir, 'newer.sqlite')
    const db = new Database(path)
    db.exec('CREATE TABLE future (x INTEGER) STRICT; INSERT INTO future VALUES (42);')
    db.pragma(`user_version = ${SCHEMA_VERSION + 7}`)
    db.close()
    const before = sha(path)

    let error: unknown
    try {
      openStore(path)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(LabError)
    expect((error as LabError).code).toBe('STORE_NEWER_VERSION')
    expect((error as LabError).details).toMatchObject({ found: SCHEMA_VERSION + 7, supported: SCHEMA_VERSION })
    // Not damaged either: openStoreSafely must not move it aside.
    expect(() => openStoreSafely(path)).toThrow(expect.objectContaining({ code: 'STORE_NEWER_VERSION' }))
    expect(sha(path)).toBe(before)
    expect(existsSync(`${path}-wal`)).toBe(false)
    const check = new Database(path, { readonly: true })
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete')
    check.close()
  })

  it('refuses a newer WAL-mode store without touching the main file', () => {
    const path = join(dir, 'newer-wal.sqlite')
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.exec('CREATE TABLE future (x INTEGER) STRICT')
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const before = sha(path)
    expect(() => openStore(path)).toThrow(expect.objectContaining({ code: 'STORE_NEWER_VERSION' }))
    expect(sha(path)).toBe(before)
  })

  it('rolls a failing migration back whole, user_version included', () => {
    const path = join(dir, 'failing.sqlite')
    const db = buildAtVersion(path, 1)
    const broken = [...MIGRATIONS.slice(0, 1), { version: 2, name: 'broken', up: 'CREATE TABLE half_done (x INTEGER) STRICT; INSERT INTO no_such_table VALUES (1);' }]
    expect(() => migrate(db, path, broken)).toThrow(/no_such_table/)
    expect(db.pragma('user_version', { simple: true })).toBe(1)
    expect(db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'`).pluck().get()).toBe(0)
    db.close()
    // The real migrations still apply afterwards.
    const store = openStore(path)
    store.close()
  })

  it('applies each migration once even when run twice', () => {
    const db = openDatabase(':memory:')
    expect(migrate(db, ':memory:')).toBe(SCHEMA_VERSION)
    expect(schemaText(db)).toBe(freshSchema())
    db.close()
  })
})
