// Reading a .dlab file in a worker thread: inflating, hashing, parsing and validating a large session take
// seconds, which must not freeze the thread that serves the app's windows and browser-mode requests. The
// worker has its own heap limit, so a file that still manages to exhaust it ends that thread, not the app.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { fromErrorData, LabError, type ErrorData } from '../../common/errors'
import { DEFAULT_IMPORT_LIMITS, type ImportLimits, type ImportOptions, type ParsedSessionFile } from './import'

export interface ImportWorkerRequest {
  bytes: Uint8Array
  limits: Partial<ImportLimits>
  options: ImportOptions
}

export type ImportWorkerReply =
  | { ok: true; manifest: ParsedSessionFile['manifest']; portable: ParsedSessionFile['portable']; blobs: Map<string, Uint8Array> }
  | { ok: false; error: ErrorData }

/** out/main/import-worker.js next to the bundle that runs this code; else the tsx bootstrap beside this file. */
function workerPath(): string {
  for (const candidate of ['./import-worker.js', '../import-worker.js', '../main/import-worker.js']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url))
    if (existsSync(path)) return path
  }
  return fileURLToPath(new URL('./import-worker-dev.mjs', import.meta.url))
}

/** importSessionFile in a worker thread; the same checks and errors. */
export function importSessionFileOffThread(bytes: Uint8Array, limits: Partial<ImportLimits> = {}, options: ImportOptions = {}): Promise<ParsedSessionFile> {
  const heapMb = limits.maxWorkerHeapMb ?? DEFAULT_IMPORT_LIMITS.maxWorkerHeapMb
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerPath(), { resourceLimits: { maxOldGenerationSizeMb: heapMb } })
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      fn()
      void worker.terminate()
    }
    worker.once('message', (reply: ImportWorkerReply) => {
      settle(() => (reply.ok ? resolve({ manifest: reply.manifest, portable: reply.portable, blobs: reply.blobs }) : reject(fromErrorData(reply.error))))
    })
    worker.once('error', (error: Error & { code?: string }) => {
      settle(() =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new LabError('IMPORT_TOO_LARGE', `reading the session file needed more than ${heapMb} MB of memory`)
            : new LabError('INTERNAL', `the import worker failed: ${error.message}`),
        ),
      )
    })
    worker.once('exit', (code) => settle(() => reject(new LabError('INTERNAL', `the import worker ended (exit code ${code}) without an answer`))))
    const request: ImportWorkerRequest = { bytes, limits, options }
    worker.postMessage(request)
  })
}
