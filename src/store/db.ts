// Opening the SQLite file: pragmas, the newer-version guard, migrations, and SQLite errors → LabError.
//
// Durability choice: journal_mode=WAL with synchronous=NORMAL.
//   - A committed transaction is in the WAL file (in the OS page cache) when commit returns, so it survives
//     the process being killed at any moment (SIGKILL, crash): test/store/fault-injection.test.ts kills a
//     writer 50+ times and checks every reported commit is there.
//   - On power loss or an OS crash, WAL+NORMAL never corrupts the database (the WAL is checksummed and
//     replayed up to the last complete commit); it may lose the last transactions committed since the last
//     checkpoint's fsync. FULL would fsync the WAL on every commit to keep those too, at a cost per autosave
//     and per metric batch. Losing the last second of autosaves on a power cut is acceptable for a lab
//     notebook; losing integrity is not, and NORMAL keeps integrity.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { LabError } from '../common/errors'
import { MIGRATIONS, type Migration } from './migrations'

export type Db = Database.Database

export interface DbOptions {
  /** Path of an Electron-ABI better_sqlite3.node (desktop app); default: the Node build. */
  nativeBinding?: string
  /** How long a writer waits for another process's write transaction (ms). Default 5000. */
  busyTimeoutMs?: number
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/** SQLite result codes (SqliteError.code) → LabError; anything else is returned unchanged. */
export function mapSqliteError(error: unknown, action: string): unknown {
  if (error instanceof LabError) return error
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new LabError('STORE_BUSY', `the experiment store is busy (another process holds a long write): ${action} failed: ${message}`)
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return new LabError('STORE_CORRUPT', `the experiment store is damaged: ${action} failed: ${message}`, { sqliteCode: code })
    }
    if (code.startsWith('SQLITE_CANTOPEN')) {
      return new LabError('STORE_CORRUPT', `the experiment store cannot be opened as a database: ${action} failed: ${message}`, { sqliteCode: code })
    }
  }
  return error
}

/** Runs fn in a BEGIN IMMEDIATE transaction (takes the write lock up front, so the busy timeout applies). */
export function writeTx<T>(db: Db, action: string, fn: () => T): T {
  try {
    return db.transaction(fn).immediate()
  } catch (error) {
    throw mapSqliteError(error, action)
  }
}

/** Runs fn in a read transaction: one consistent snapshot even while another process writes. */
export function readTx<T>(db: Db, action: string, fn: () => T): T {
  try {
    return db.transaction(fn).deferred()
  } catch (error) {
    throw mapSqliteError(error, action)
  }
}

function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

function userTables(db: Db): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'").pluck().all() as string[]
}

function newerVersionError(path: string, found: number, supported: number): LabError {
  return new LabError(
    'STORE_NEWER_VERSION',
    `the experiment store ${path} was written by a newer DeBERTa Lab (schema ${found}; this version knows up to ${supported}). Update the app; the file was left untouched.`,
    { path, found, supported },
  )
}

/**
 * Applies the pending migrations, each in its own IMMEDIATE transaction together with its user_version bump.
 * An up-to-date store takes no write lock. user_version is read again inside the transaction, so two
 * processes opening a fresh file at once apply each step exactly once. Throws STORE_NEWER_VERSION (nothing
 * written) for a database from a newer app.
 */
export function migrate(db: Db, path: string, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0
  const found = userVersion(db)
  if (found > latest) throw newerVersionError(path, found, latest)
  for (const migration of migrations) {
    // Up to date already: no write lock needed (another process may be in the middle of a long write).
    if (userVersion(db) >= migration.version) continue
    db.transaction(() => {
      const current = userVersion(db)
      if (current > latest) throw newerVersionError(path, current, latest)
      if (current >= migration.version) return
      if (current !== migration.version - 1) {
        throw new LabError('STORE_CORRUPT', `the experiment store ${path} is at schema ${current}, which no migration leads from to ${migration.version}`)
      }
      db.exec(migration.up)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
  return userVersion(db)
}

/**
 * Opens (creating if needed) a SQLite database with the store's pragmas and schema. Closes the handle
 * before throwing.
 */
export function openDatabase(path: string, options: DbOptions = {}, migrations: readonly Migration[] = MIGRATIONS): Db {
  const memory = path === ':memory:'
  if (!memory) mkdirSync(dirname(path), { recursive: true })
  let db: Db
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, nativeBinding: options.nativeBinding })
  } catch (error) {
    throw mapSqliteError(error, `opening ${path}`)
  }
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0
  try {
    // Read-only look first: a newer app's database must not even get its journal mode changed. Version and
    // tables are read in one snapshot: another process may create the schema (and bump the version in the
    // same transaction) between two separate reads, and its fresh store would look like a foreign database.
    const { found, tables } = db.transaction(() => ({ found: userVersion(db), tables: userTables(db) })).deferred()
    if (found > latest) throw newerVersionError(path, found, latest)
    if (found === 0) {
      // Not a lab store yet: it must be empty. Another program's SQLite database (a mistyped --store) is
      // refused before anything — journal mode, migrations — touches it.
      if (tables.length > 0) {
        throw new LabError(
          'STORE_UNUSABLE',
          `${path} is another program's SQLite database (tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}), not a DeBERTa Lab store: it was left untouched`,
          { path },
        )
      }
    }
    if (!memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true })
      if (mode !== 'wal') throw new LabError('STORE_CORRUPT', `could not switch ${path} to WAL mode (got ${String(mode)})`)
    }
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    // After a big import the WAL is truncated back to this size at the next checkpoint.
    db.pragma('journal_size_limit = 67108864')
    migrate(db, path, migrations)
    return db
  } catch (error) {
    db.close()
    throw mapSqliteError(error, `opening ${path}`)
  }
}
