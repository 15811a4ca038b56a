// Reading small input files (configs, tokenizer files, CLI inputs) safely. Every reader of a file the user
// names goes through readRegularFile: it opens without blocking (a FIFO cannot hang the open), accepts only a
// regular file after the open (fstat on the descriptor, so a symlink swapped after a check cannot slip through:
// /dev/zero, a FIFO, a folder are refused), and reads at most `maxBytes` (a file that is or grows larger is
// refused, never read to the end).
import * as fs from 'node:fs'
import { LabError, type ErrorCode } from '../common/errors'

const MiB = 1024 * 1024

/** Size caps per kind of file, in bytes. Change them with configureFileLimits. */
export interface FileLimits {
  /** config.json / generator_config.json */
  config: number
  /** tokenizer.json (multilingual ones reach ~35 MB) */
  tokenizerJson: number
  /** spm.model, vocab.json, merges.txt, vocab.txt */
  vocabulary: number
  /** tokenizer_config.json, special_tokens_map.json, added_tokens.json */
  tokenizerSideFile: number
  /** files named on the command line: forward --inputs, bench --config, train --experiment */
  cliInput: number
}

export const DEFAULT_FILE_LIMITS: Readonly<FileLimits> = Object.freeze({
  config: 16 * MiB,
  tokenizerJson: 256 * MiB,
  vocabulary: 128 * MiB,
  tokenizerSideFile: 16 * MiB,
  cliInput: 64 * MiB,
})

const limits: FileLimits = { ...DEFAULT_FILE_LIMITS }

/** The caps in force. */
export function fileLimits(): Readonly<FileLimits> {
  return limits
}

/** Changes some caps (process-wide); returns the previous values so a caller can restore them. */
export function configureFileLimits(changes: Partial<FileLimits>): FileLimits {
  const previous = { ...limits }
  for (const [key, value] of Object.entries(changes) as Array<[keyof FileLimits, number | undefined]>) {
    if (value === undefined) continue
    if (!(key in DEFAULT_FILE_LIMITS)) throw new LabError('INPUT_INVALID', `unknown file limit "${key}"`)
    if (!Number.isSafeInteger(value) || value < 0) throw new LabError('INPUT_INVALID', `file limit ${key} must be a non-negative integer, not ${value}`)
    limits[key] = value
  }
  return previous
}

export interface ReadFileOptions {
  /** largest accepted size in bytes */
  maxBytes: number
  /** what the file is, for messages ("tokenizer_config.json", "the --inputs file") */
  what: string
  /** error code when the file does not exist (default INPUT_INVALID) */
  missingCode?: ErrorCode
  /** error code when it is not a regular file, too large or unreadable (default INPUT_INVALID) */
  invalidCode?: ErrorCode
}

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It does not change reads
// of regular files. (Windows has no such flag and no FIFOs to open this way.)
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0)

/** Kind of a non-regular file, for the message. */
function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a folder'
  if (stat.isFIFO()) return 'a FIFO (named pipe)'
  if (stat.isCharacterDevice()) return 'a character device'
  if (stat.isBlockDevice()) return 'a block device'
  if (stat.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * Opens `path` for reading as a regular file and returns the descriptor and its size. The caller closes it.
 * Throws missingCode when it does not exist, invalidCode when it is anything but a regular file.
 */
export function openRegularFile(path: string, options: Omit<ReadFileOptions, 'maxBytes'>): { fd: number; size: number } {
  const missing = options.missingCode ?? 'INPUT_INVALID'
  const invalid = options.invalidCode ?? 'INPUT_INVALID'
  let fd: number
  try {
    fd = fs.openSync(path, OPEN_FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LabError(missing, `${options.what} not found: ${path}`, { path })
    throw new LabError(invalid, `cannot open ${options.what} (${path}): ${(error as Error).message}`, { path })
  }
  let stat: fs.Stats
  try {
    stat = fs.fstatSync(fd)
  } catch (error) {
    fs.closeSync(fd)
    throw new LabError(invalid, `cannot read ${options.what} (${path}): ${(error as Error).message}`, { path })
  }
  if (!stat.isFile()) {
    fs.closeSync(fd)
    throw new LabError(invalid, `${options.what} (${path}) is ${kindOf(stat)}; only regular files are read`, { path })
  }
  return { fd, size: stat.size }
}

function tooLarge(path: string, size: number, options: ReadFileOptions, atLeast: boolean): LabError {
  return new LabError(
    options.invalidCode ?? 'INPUT_INVALID',
    `${options.what} (${path}) is ${atLeast ? 'more than ' : ''}${size} bytes; the limit for this file is ${options.maxBytes} bytes`,
    { path, size, maxBytes: options.maxBytes },
  )
}

/**
 * The bytes of a regular file of at most `maxBytes`. Refuses (typed, naming the file, its size and the cap)
 * FIFOs, devices, folders and files over the cap, including files that grow past it while being read.
 */
export function readRegularFile(path: string, options: ReadFileOptions): Buffer {
  const { fd, size } = openRegularFile(path, options)
  try {
    if (size > options.maxBytes) throw tooLarge(path, size, options, false)
    // Read to the end, not just `size` bytes (files in /proc report 0), but never past maxBytes + 1.
    let buffer = Buffer.allocUnsafe(Math.min(options.maxBytes + 1, Math.max(size + 1, 4096)))
    let filled = 0
    for (;;) {
      if (filled === buffer.length) {
        if (buffer.length > options.maxBytes) break
        const grown = Buffer.allocUnsafe(Math.min(options.maxBytes + 1, buffer.length * 2))
        buffer.copy(grown, 0, 0, filled)
        buffer = grown
      }
      let got: number
      try {
        got = fs.readSync(fd, buffer, filled, buffer.length - filled, null)
      } catch (error) {
        throw new LabError(options.invalidCode ?? 'INPUT_INVALID', `cannot read ${options.what} (${path}): ${(error as Error).message}`, { path })
      }
      if (got === 0) break
      filled += got
    }
    if (filled > options.maxBytes) throw tooLarge(path, options.maxBytes, options, true)
    return buffer.subarray(0, filled)
  } finally {
    fs.closeSync(fd)
  }
}

/** readRegularFile decoded as UTF-8 (a BOM is kept, as fs.readFileSync(path, 'utf8') keeps it). */
export function readRegularTextFile(path: string, options: ReadFileOptions): string {
  return readRegularFile(path, options).toString('utf8')
}

/**
 * Whether `path` names something (symlinks followed; a dangling link is nothing). Only a stat: it never opens
 * the file, so a FIFO is "there" (and then refused by readRegularFile) without blocking.
 */
export function pathExists(path: string): boolean {
  try {
    fs.statSync(path)
    return true
  } catch {
    return false
  }
}
