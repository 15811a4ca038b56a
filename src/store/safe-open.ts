// Opening a store that may be damaged: move the bad file aside, start fresh, and say where it went.
import { accessSync, closeSync, constants, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { LabError } from '../common/errors'
import type { StoreNotice } from '../common/sessions'
import { openStore, type ExperimentStore, type OpenStoreOptions } from './store'

export interface SafeOpenOptions extends OpenStoreOptions {
  /**
   * 'full' (default): PRAGMA integrity_check — reads every page and cross-checks indexes; 'quick':
   * PRAGMA quick_check — the same without the index cross-checks, faster on big stores; 'none'.
   */
  integrityCheck?: 'full' | 'quick' | 'none'
}

export interface SafeOpenResult {
  store: ExperimentStore
  /** set when the file was damaged and moved aside; show it to the user */
  notice?: StoreNotice
}

const SIDE_FILES = ['', '-wal', '-shm'] as const

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '')
}

/** Moves path (and its -wal/-shm) to `<path>.corrupt-<timestamp>`; returns the new main path. */
export function moveAside(path: string, now: Date = new Date()): string {
  let target = `${path}.corrupt-${stamp(now)}`
  for (let n = 2; SIDE_FILES.some((s) => existsSync(target + s)); n++) target = `${path}.corrupt-${stamp(now)}-${n}`
  // All or nothing: a store moved without its -wal (or the reverse) would lose or misapply committed pages.
  const moved: string[] = []
  try {
    for (const suffix of SIDE_FILES) {
      if (!existsSync(path + suffix)) continue
      renameSync(path + suffix, target + suffix)
      moved.push(suffix)
    }
  } catch (error) {
    for (const suffix of moved.reverse()) renameSync(target + suffix, path + suffix)
    throw error
  }
  return target
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Why the file at path is certainly not a store, judged without SQLite (which, on closing a file it could
 * not read, deletes the -wal beside it — and that -wal may hold the last transactions worth keeping).
 */
function notADatabase(path: string): string | undefined {
  let stat
  try {
    stat = statSync(path)
  } catch {
    return undefined
  }
  if (stat.isDirectory()) {
    // Never move a folder (a --store pointing at a work folder or at ~): the user must choose a file.
    throw new LabError('STORE_UNUSABLE', `${path} is a folder: the store is a file (e.g. ${join(path, 'lab.sqlite')}); nothing was changed`, { path })
  }
  if (!stat.isFile()) throw new LabError('STORE_UNUSABLE', `${path} is not a regular file; nothing was changed`, { path })
  if (stat.size === 0) return undefined
  const header = Buffer.alloc(SQLITE_MAGIC.length)
  try {
    const fd = openSync(path, 'r')
    try {
      readSync(fd, header, 0, header.length, 0)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    throw new LabError('STORE_UNUSABLE', `the experiment store ${path} cannot be read (${(error as Error).message}); nothing was changed`, { path })
  }
  if (header.equals(SQLITE_MAGIC)) return undefined
  // A store file whose header was destroyed is moved aside; any other file (a mistyped --store naming a
  // document) is not the lab's to move.
  if (!looksLikeStoreFile(path)) {
    throw new LabError('STORE_UNUSABLE', `${path} is not a SQLite database and not named like one (.sqlite, .sqlite3, .db): nothing was changed`, { path })
  }
  return 'the file is not a SQLite database (wrong header)'
}

/** A store file by its name, or by the SQLite journal files beside it. */
function looksLikeStoreFile(path: string): boolean {
  return /\.(sqlite3?|db)$/i.test(path) || existsSync(`${path}-wal`) || existsSync(`${path}-shm`)
}

/**
 * Opens the store like openStore, but when the store file is proven damaged — a store-named file whose header
 * is not SQLite's, SQLITE_CORRUPT/NOTADB, or a failed integrity check — moves it (with -wal/-shm) aside as
 * `<name>.corrupt-<timestamp>`, opens a fresh store and returns a notice saying where the old file went. A file
 * that merely cannot be opened or written (a -wal that is a folder, permissions) is not damaged: STORE_UNUSABLE
 * or STORE_READONLY names it and it stays, byte for byte; a read-only store opens read-only (store.readOnly).
 * A damaged store in a read-only folder is not moved either (STORE_CORRUPT). A store from a newer app
 * (STORE_NEWER_VERSION) is not damaged and is never moved: that error is thrown. So is STORE_BUSY, and
 * STORE_UNUSABLE for what is not the lab's to move: a folder, another program's database, a file that is
 * neither SQLite nor named like a store.
 */
export function openStoreSafely(path: string, options: SafeOpenOptions = {}): SafeOpenResult {
  const mode = options.integrityCheck ?? 'full'
  let reason = path === ':memory:' ? undefined : notADatabase(path)
  if (reason === undefined) {
    try {
      const store = openStore(path, options)
      if (mode === 'none' || path === ':memory:') return { store }
      let problems: string[]
      try {
        problems = store.integrityCheck(mode)
      } catch (error) {
        closeQuietly(store)
        throw error
      }
      if (problems.length === 0) return { store }
      closeQuietly(store)
      reason = `integrity check failed: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`
    } catch (error) {
      if (!(error instanceof LabError) || error.code !== 'STORE_CORRUPT') throw error
      reason = error.message
    }
  }
  // Only proven damage gets here: a header that is not SQLite's, SQLITE_CORRUPT/NOTADB, or a failed integrity
  // check. A file that cannot be opened, read or written is STORE_UNUSABLE/STORE_READONLY above, and stays.
  const folder = dirname(path)
  if (!writable(folder)) {
    throw new LabError('STORE_CORRUPT', `the experiment store ${path} is damaged (${reason}), and its folder ${folder} is read-only, so it was left as it is`, { path })
  }
  let movedTo: string
  try {
    movedTo = moveAside(path, options.now?.() ?? new Date())
  } catch (error) {
    throw new LabError('STORE_CORRUPT', `the experiment store ${path} is damaged (${reason}); moving it aside failed too: ${(error as Error).message}`, { path })
  }
  const store = openStore(path, options)
  return { store, notice: { kind: 'recovered', movedTo, reason } }
}

/** W_OK also fails for root on a read-only mount or an immutable folder. */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** Closing a damaged store may fail on its last write; the file is moved aside anyway. */
function closeQuietly(store: ExperimentStore): void {
  try {
    store.close()
  } catch {
    // the connection is closed by close()'s finally
  }
}
