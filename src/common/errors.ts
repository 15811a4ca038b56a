// Error codes shared by every layer. Errors cross process and transport boundaries as data
// ({ code, message, details }), never as thrown objects, because only `message` survives IPC.

export const ERROR_CODES = [
  // configuration and model files
  'CONFIG_INVALID',
  'CONFIG_UNSUPPORTED',
  'CHECKPOINT_NOT_FOUND',
  'CHECKPOINT_FORMAT',
  'CHECKPOINT_TRUNCATED',
  'CHECKPOINT_UNSAFE',
  'CHECKPOINT_MISSING_KEY',
  'CHECKPOINT_EXTRA_KEY',
  'CHECKPOINT_SHAPE',
  'CHECKPOINT_DTYPE',
  /** loading the checkpoint would allocate more than the configured cap (CheckpointLimits.maxLoadBytes) */
  'CHECKPOINT_TOO_LARGE',
  'TOKENIZER_NOT_FOUND',
  'TOKENIZER_FORMAT',
  // the Hugging Face Hub and downloads
  /** the Hub cannot be reached (no network, HF_HUB_OFFLINE=1 and not in the cache) */
  'HUB_OFFLINE',
  /** 401: private or missing repository, or a wrong HF_TOKEN */
  'HUB_UNAUTHORIZED',
  /** 403: gated repository whose terms were not accepted with this token */
  'HUB_GATED',
  /** 404: no such repository, revision or file */
  'HUB_NOT_FOUND',
  /** any other unexpected answer from the Hub */
  'HUB_ERROR',
  'DISK_FULL',
  /** a downloaded file does not match the Hub's checksum (sha256 for LFS files, git blob sha1 otherwise) */
  'DOWNLOAD_CHECKSUM',
  // inputs to the model
  'INPUT_INVALID',
  'SEQUENCE_TOO_LONG',
  'TOKEN_OUT_OF_RANGE',
  'NO_MLM_HEAD',
  'NO_MASK_TOKEN',
  /** a result the lab would show holds NaN/±Inf (weights with NaN/Inf, or an overflow): refused, not ranked */
  'NOT_FINITE',
  // experiment store and sessions
  'STORE_NEWER_VERSION',
  'STORE_CORRUPT',
  'STORE_BUSY',
  /** the store path holds something that is not a DeBERTa Lab store (a folder, another program's file), or cannot be opened: left untouched */
  'STORE_UNUSABLE',
  /** the store can be read but not written (a read-only file or folder): nothing is saved */
  'STORE_READONLY',
  'SESSION_NOT_FOUND',
  'RUN_NOT_FOUND',
  'IMPORT_INVALID',
  'IMPORT_CHECKSUM',
  'IMPORT_FUTURE_FORMAT',
  'IMPORT_TOO_LARGE',
  'IMPORT_UNSAFE_PATH',
  'IMPORT_CONFLICT',
  // jobs and transports
  'CANCELLED',
  'BUSY',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'BAD_REQUEST',
  'NOT_FOUND',
  'INTERNAL',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ErrorData {
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
}

/** The one error type every layer throws for expected failures. */
export class LabError extends Error {
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'LabError'
    this.code = code
    this.details = details
  }

  toData(): ErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData }

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value)
}

/** Turns anything thrown into error data; unexpected errors become INTERNAL with their message. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof LabError) return error.toData()
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const { code, message } = error as { code: unknown; message: unknown }
    if (isErrorCode(code) && typeof message === 'string') return { code, message }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'INTERNAL', message }
}

/** Rebuilds a LabError from data received across a boundary. */
export function fromErrorData(data: ErrorData): LabError {
  return new LabError(data.code, data.message, data.details)
}
