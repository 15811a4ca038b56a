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
import { accessSync, constants, lstatSync, mkdirSync, type Stats } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { LabError } from '../common/errors'
import { MIGRATIONS, type Migration } from './migrations'

export type Db = Database.Database

// A WAL store in a read-only folder opens only as an immutable URI filename (file:…?immutable=1): SQLite cannot
// create its -shm there. better-sqlite3 enables URI filenames when its addon loads, from this variable.
process.env.SQLITE_USE_URI ??= '1'

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
    if (code.startsWith('SQLITE_READONLY')) {
      return new LabError('STORE_READONLY', `the experiment store is read-only: ${action} failed: ${message}`, { sqliteCode: code })
    }
    // Not proven damage (a file that cannot be opened or read is not a damaged one): never moved aside.
    if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_PERM' || code === 'SQLITE_FULL') {
      return new LabError('STORE_UNUSABLE', `the experiment store cannot be used: ${action} failed: ${message}`, { sqliteCode: code })
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

export interface OpenedDatabase {
  db: Db
  /**
   * Set when the store can be read but not written (the file or its folder is read-only): why, naming the
   * file. Every write then fails with STORE_READONLY.
   */
  readOnly?: string
}

/**
 * Opens (creating if needed) a SQLite database with the store's pragmas and schema. Closes the handle
 * before throwing.
 */
export function openDatabase(path: string, options: DbOptions = {}, migrations: readonly Migration[] = MIGRATIONS): Db {
  return openDatabaseWithAccess(path, options, migrations).db
}

/**
 * openDatabase, and whether the store can be written. A store that can only be read (a read-only file or
 * folder) opens read-only with the reason; one that cannot be opened at all (a -wal or -shm that is not a
 * file, a missing folder that cannot be created) is STORE_UNUSABLE naming the file. Neither is touched.
 */
export function openDatabaseWithAccess(path: string, options: DbOptions = {}, migrations: readonly Migration[] = MIGRATIONS): OpenedDatabase {
  const memory = path === ':memory:'
  if (memory) return { db: openAndSetUp(path, options, migrations, 'read-write') }
  for (const suffix of ['-wal', '-shm', '-journal']) {
    const side = lstatOrUndefined(path + suffix)
    if (side && !side.isFile()) {
      throw new LabError(
        'STORE_UNUSABLE',
        `the experiment store ${path} cannot be opened: ${path + suffix} is ${side.isDirectory() ? 'a folder' : 'not a regular file'}, where SQLite keeps the store's ${suffix.slice(1)} file; nothing was changed`,
        { path, file: path + suffix },
      )
    }
  }
  const folder = dirname(path)
  try {
    mkdirSync(folder, { recursive: true })
  } catch (error) {
    throw new LabError('STORE_UNUSABLE', `the folder of the experiment store ${path} cannot be created: ${(error as Error).message}`, { path })
  }
  const exists = lstatOrUndefined(path) !== undefined
  if (!exists && !writable(folder)) {
    throw new LabError('STORE_READONLY', `the experiment store ${path} cannot be created: the folder ${folder} is read-only`, { path })
  }
  let db: Db
  try {
    db = openRetryingBusy(() => openAndSetUp(path, options, migrations, 'read-write'))
  } catch (error) {
    // A WAL store in a read-only folder cannot even be read normally (SQLite cannot create its -shm): open it
    // as an immutable, read-only file. Nobody can write it meanwhile: a writer would need the folder too.
    const code = sqliteCodeOf(error)
    // (An immutable open ignores a -wal: with commits still in one, it would show an older store.)
    if (exists && code === 'SQLITE_CANTOPEN' && !writable(folder) && !((lstatOrUndefined(`${path}-wal`)?.size ?? 0) > 0)) {
      try {
        return { db: openAndSetUp(path, options, migrations, 'immutable'), readOnly: `the folder ${folder} is read-only` }
      } catch (readOnlyError) {
        if (readOnlyError instanceof LabError && readOnlyError.code !== 'STORE_UNUSABLE') throw readOnlyError
        throw new LabError('STORE_READONLY', `the experiment store ${path} cannot be opened: its folder ${folder} is read-only`, { path })
      }
    }
    if (exists && code === 'SQLITE_CANTOPEN' && !writable(folder)) {
      throw new LabError('STORE_READONLY', `the experiment store ${path} cannot be opened: its folder ${folder} is read-only and its -wal holds commits SQLite cannot read there`, { path })
    }
    throw error
  }
  const problem = writeProblem(db)
  if (problem === undefined) return { db }
  return { db, readOnly: writable(path) ? `${path} cannot be written (${problem})` : `the file ${path} is read-only` }
}

/** The SQLite result code of an error, also when mapSqliteError has wrapped it. */
function sqliteCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return code
  const wrapped = error instanceof LabError ? error.details?.sqliteCode : undefined
  return typeof wrapped === 'string' ? wrapped : undefined
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/** W_OK also fails for root on a read-only mount or an immutable (chattr +i) file or folder. */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Why a write to db fails, or undefined: a real write (user_version set to itself) rolled back at once, without
 * waiting for another process's lock (busy means writable). SQLite opens a write-protected file read-only
 * without a word, and even BEGIN IMMEDIATE succeeds on it: only a write tells.
 */
function writeProblem(db: Db): string | undefined {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number
  db.pragma('busy_timeout = 0')
  try {
    db.exec('BEGIN IMMEDIATE')
    try {
      db.pragma(`user_version = ${userVersion(db)}`)
    } finally {
      db.exec('ROLLBACK')
    }
    return undefined
  } catch (error) {
    const code = String((error as { code?: unknown }).code)
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return undefined
    return (error as Error).message
  } finally {
    db.pragma(`busy_timeout = ${timeout}`)
  }
}

/** Attempts of an open that met another opener's lock (SQLite answers some of those at once, past busy_timeout). */
const OPEN_BUSY_ATTEMPTS = 6
const OPEN_BUSY_PAUSE_MS = 50

/**
 * Opens again when SQLite said busy: a moment where another process creates, migrates or recovers the store (e.g.
 * two windows starting together) can answer SQLITE_BUSY without waiting (WAL recovery, the switch to WAL). The
 * pause is a synchronous sleep: opening is synchronous and happens once, at start.
 */
function openRetryingBusy(open: () => Db): Db {
  for (let attempt = 1; ; attempt++) {
    try {
      return open()
    } catch (error) {
      const busy = (error instanceof LabError && error.code === 'STORE_BUSY') || /^SQLITE_BUSY/.test(sqliteCodeOf(error) ?? '')
      if (!busy || attempt >= OPEN_BUSY_ATTEMPTS) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, OPEN_BUSY_PAUSE_MS * 2 ** (attempt - 1))
    }
  }
}

function openAndSetUp(path: string, options: DbOptions, migrations: readonly Migration[], access: 'read-write' | 'immutable'): Db {
  const memory = path === ':memory:'
  let db: Db
  try {
    db =
      access === 'immutable'
        ? new Database(`file:${encodeURI(path).replace(/[?#]/g, encodeURIComponent)}?mode=ro&immutable=1`, { readonly: true, fileMustExist: true, nativeBinding: options.nativeBinding })
        : // a relative path starting with "file:" would be read as a URI filename
          new Database(path.startsWith('file:') ? `./${path}` : path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS, nativeBinding: options.nativeBinding })
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
    if (access === 'immutable') {
      if (found < latest) throw new LabError('STORE_READONLY', `the experiment store ${path} needs an upgrade (schema ${found} → ${latest}) but is read-only`, { path })
      return db
    }
    if (!memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true })
      if (mode !== 'wal') throw new LabError('STORE_UNUSABLE', `could not switch ${path} to WAL mode (got ${String(mode)})`, { path })
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
