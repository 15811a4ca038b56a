// The lab's log: one line per event in `<store folder>/logs/lab.log` (the app's data folder), rotated by size.
// Levels error < warn < info < debug; DEBERTA_LAB_LOG_LEVEL picks the most detailed level written (default warn:
// unexpected failures and damaged stores; info adds every failed call and start-up, debug adds cancellations).
// The log never writes to stdout or stderr (the CLI's stdout is its result), and a failure to log is
// swallowed: logging must never break what it observes. INTERNAL errors keep their stack trace.
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { toErrorData } from '../common/errors'

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Rotate when the file passes this size: lab.log → lab.log.1 → … → lab.log.<LOG_FILES_KEPT>. */
export const LOG_MAX_BYTES = 4 * 1024 * 1024
export const LOG_FILES_KEPT = 3

export interface Logger {
  readonly level: LogLevel
  /** the file written, or null for a logger that writes nothing */
  readonly file: string | null
  error(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  debug(message: string, fields?: LogFields): void
  /** Logs a thrown value: INTERNAL (unexpected) at error with its stack, CANCELLED at debug, other codes (answers to a bad input) at info. */
  failure(context: string, error: unknown, fields?: LogFields): void
}

export type LogFields = Record<string, string | number | boolean | null | undefined>

export interface FileLoggerOptions {
  file: string
  level?: LogLevel
  maxBytes?: number
  filesKept?: number
  now?: () => Date
}

/** DEBERTA_LAB_LOG_LEVEL, when it names a level; else `fallback`. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env, fallback: LogLevel = 'warn'): LogLevel {
  const value = env.DEBERTA_LAB_LOG_LEVEL?.trim().toLowerCase()
  return (LOG_LEVELS as readonly string[]).includes(value ?? '') ? (value as LogLevel) : fallback
}

/** The log file of a store: `<store folder>/logs/lab.log`; none for an in-memory store. */
export function logFileForStore(storePath: string): string | null {
  if (storePath === ':memory:' || storePath === '') return null
  return join(dirname(storePath), 'logs', 'lab.log')
}

/** Control characters (and line breaks) in logged text become visible escapes: one event, one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return ''
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
  return parts.length ? ' ' + oneLine(parts.join(' ')) : ''
}

export function createFileLogger(options: FileLoggerOptions): Logger {
  const level = options.level ?? logLevelFromEnv()
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES
  const filesKept = Math.max(1, options.filesKept ?? LOG_FILES_KEPT)
  const now = options.now ?? (() => new Date())
  const file = options.file
  let size: number | undefined

  function rotate(): void {
    rmSync(`${file}.${filesKept}`, { force: true })
    for (let k = filesKept - 1; k >= 1; k--) if (existsSync(`${file}.${k}`)) renameSync(`${file}.${k}`, `${file}.${k + 1}`)
    renameSync(file, `${file}.1`)
    size = 0
  }

  function write(at: LogLevel, message: string, fields?: LogFields, stack?: string): void {
    if (LOG_LEVELS.indexOf(at) > LOG_LEVELS.indexOf(level)) return
    try {
      let line = `${now().toISOString()} ${at.toUpperCase().padEnd(5)} ${oneLine(message)}${formatFields(fields)}\n`
      if (stack) line += stack.split('\n').slice(1).map((l) => `    ${oneLine(l.trim())}\n`).join('')
      if (size === undefined) {
        mkdirSync(dirname(file), { recursive: true })
        size = existsSync(file) ? statSync(file).size : 0
      }
      if (size > 0 && size + line.length > maxBytes) rotate()
      appendFileSync(file, line)
      size += Buffer.byteLength(line)
    } catch {
      // a full disk or a read-only data folder: the lab goes on without its log
    }
  }

  return {
    level,
    file,
    error: (message, fields) => write('error', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    info: (message, fields) => write('info', message, fields),
    debug: (message, fields) => write('debug', message, fields),
    failure(context, error, fields) {
      const data = toErrorData(error)
      const all = { ...fields, code: data.code }
      const text = `${context}: ${data.message}`
      if (data.code === 'INTERNAL') write('error', text, all, error instanceof Error ? error.stack : undefined)
      else if (data.code === 'CANCELLED') write('debug', text, all)
      else write('info', text, all)
    },
  }
}

/** A logger that writes nothing (in-memory stores, tests that do not look at the log). */
export const NULL_LOGGER: Logger = {
  level: 'error',
  file: null,
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  failure: () => undefined,
}

/** The log of the lab whose store is `storePath` (nothing for an in-memory store). */
export function loggerForStore(storePath: string, level?: LogLevel): Logger {
  const file = logFileForStore(storePath)
  return file ? createFileLogger({ file, level }) : NULL_LOGGER
}
