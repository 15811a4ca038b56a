// Files the user names to the lab from a command line: outputs are checked before any work and can never be an
// input (the store and its -wal/-shm, a model folder's files, an inputs file) — compared by real path and by
// inode, so a symlink, a hard link or `..` does not get around it; only a regular file or a new path is written,
// through a temporary file in the same folder that is renamed over the target. Inputs are regular files of
// bounded size (a FIFO would hang the read, /dev/zero would fill memory).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LabError } from '../common/errors'

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path)
  } catch {
    return null
  }
}

function realOrNull(path: string): string | null {
  try {
    return realpathSync(path)
  } catch {
    return null
  }
}

/** The same file on disk: same device and inode. */
const sameInode = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino

/** Files an output must not replace. */
export interface ProtectedFiles {
  /** files (existing or not yet: a store's -wal appears later) that must not be written */
  files?: readonly string[]
  /** folders whose contents must not be written (a model folder: its files, and new files that would change what it loads) */
  folders?: readonly string[]
}

/** Where `path` really is: its folder's real path joined with its own name (the name itself is not followed). */
function realLocation(path: string): string | null {
  const full = resolve(path)
  const folder = realOrNull(dirname(full))
  return folder === null ? null : join(folder, basename(full))
}

/** A protected file's identities: its path, the real path it leads to, its inode. */
function identities(path: string): { paths: Set<string>; stat: Stats | null } {
  const paths = new Set<string>([resolve(path)])
  const location = realLocation(path)
  if (location) paths.add(location)
  const real = realOrNull(path)
  if (real) paths.add(real)
  return { paths, stat: statOrNull(path) }
}

const isInside = (child: string, folder: string): boolean => {
  const rel = relative(folder, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * Checks an output path before any work: its folder exists; it is a regular file or a new path (not a folder,
 * a symlink, a FIFO or a device); it is none of the protected files and not inside a protected folder.
 * Throws BAD_REQUEST naming the path and the reason.
 */
export function checkOutputTarget(path: string, what: string, protect: ProtectedFiles = {}): string {
  if (path === '') throw new LabError('BAD_REQUEST', `the ${what} is an empty path: give a file name`)
  const full = resolve(path)
  const own = lstatOrNull(full)
  if (own?.isDirectory()) throw new LabError('BAD_REQUEST', `the ${what} ${path} is a folder: give a file name inside it`)
  const folder = statOrNull(dirname(full))
  if (!folder) throw new LabError('BAD_REQUEST', `the folder of the ${what} ${path} does not exist (${dirname(full)}): create it first`)
  if (!folder.isDirectory()) throw new LabError('BAD_REQUEST', `the ${what} ${path} is inside ${dirname(full)}, which is not a folder`)
  if (own?.isSymbolicLink()) throw new LabError('BAD_REQUEST', `the ${what} ${path} is a symbolic link: name the file itself, or a new file`)
  if (own && !own.isFile()) throw new LabError('BAD_REQUEST', `the ${what} ${path} is not a regular file (a device, FIFO or socket): give a regular file or a new path`)
  const location = realLocation(full) ?? full
  const target = own ? statOrNull(full) : null
  for (const file of protect.files ?? []) {
    const known = identities(file)
    if (known.paths.has(location) || known.paths.has(full) || (target && known.stat && sameInode(target, known.stat))) {
      throw new LabError('BAD_REQUEST', `the ${what} ${path} is ${file}, an input of this command: writing it would destroy it; choose another file`, { path })
    }
  }
  for (const dir of protect.folders ?? []) {
    const realDir = realOrNull(dir) ?? resolve(dir)
    if (isInside(location, realDir) || isInside(full, resolve(dir))) {
      throw new LabError('BAD_REQUEST', `the ${what} ${path} is inside the model folder ${dir}: write outputs elsewhere (a new file there could change what the folder loads)`, { path })
    }
    // the folder's files may be symlinks elsewhere (a Hugging Face cache points into ../blobs/): protect those too
    let entries: string[] = []
    try {
      entries = readdirSync(dir)
    } catch {
      entries = []
    }
    for (const entry of entries) {
      const known = identities(join(dir, entry))
      if (known.paths.has(location) || (target && known.stat && sameInode(target, known.stat))) {
        throw new LabError('BAD_REQUEST', `the ${what} ${path} is the model folder's ${entry}: writing it would destroy the model; choose another file`, { path })
      }
    }
  }
  return full
}

/** The store file and the files SQLite keeps beside it (beside the real file too, when the path is a symlink). */
export function storeFiles(storePath: string): string[] {
  const bases = new Set([storePath, realOrNull(storePath) ?? storePath])
  return [...bases].flatMap((base) => ['', '-wal', '-shm', '-journal'].map((suffix) => base + suffix))
}

/**
 * Writes bytes to `path` through a temporary file in the same folder renamed over it: a reader never sees half a
 * file, and a symlink or hard link at `path` is replaced, never written through.
 */
export function writeFileReplacing(path: string, bytes: Uint8Array | string): void {
  const full = resolve(path)
  const temp = join(dirname(full), `.${basename(full)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    writeFileSync(temp, bytes, { flag: 'wx' })
    renameSync(temp, full)
  } catch (error) {
    rmSync(temp, { force: true })
    throw new LabError('BAD_REQUEST', `could not write ${path}: ${(error as Error).message}`, { path })
  }
}

/**
 * Reads a regular file of at most maxBytes. A missing file is NOT_FOUND, anything else than a regular file
 * (folder, FIFO, device, a symlink to one) or a file over the limit is `code`. The file is opened without
 * blocking and checked on the open descriptor, so a FIFO cannot hang the read.
 */
export function readRegularFile(path: string, what: string, maxBytes: number, code: 'INPUT_INVALID' | 'IMPORT_INVALID' | 'CONFIG_INVALID' = 'INPUT_INVALID'): Buffer {
  const full = resolve(path)
  const before = statOrNull(full)
  if (!before) throw new LabError('NOT_FOUND', `the ${what} ${path} does not exist`, { path })
  if (!before.isFile()) throw new LabError(code, `the ${what} ${path} is ${before.isDirectory() ? 'a folder' : 'not a regular file'}: give a file`, { path })
  let fd: number
  try {
    fd = openSync(full, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (error) {
    throw new LabError('NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`, { path })
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new LabError(code, `the ${what} ${path} is not a regular file: give a file`, { path })
    if (stat.size > maxBytes) {
      throw new LabError(code === 'IMPORT_INVALID' ? 'IMPORT_TOO_LARGE' : code, `the ${what} ${path} is ${stat.size} bytes (limit ${maxBytes})`, { path, size: stat.size, max: maxBytes })
    }
    const buffer = Buffer.alloc(stat.size)
    let offset = 0
    while (offset < buffer.length) {
      const n = readSync(fd, buffer, offset, buffer.length - offset, offset)
      if (n === 0) break
      offset += n
    }
    return buffer.subarray(0, offset)
  } finally {
    closeSync(fd)
  }
}
