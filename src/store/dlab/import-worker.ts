// Worker thread that reads a .dlab file (inflate, checksums, JSON parse, schema, large results moved out) so
// that the thread serving windows and HTTP requests only writes the result. Built as out/main/import-worker.js;
// from sources it is loaded through import-worker-dev.mjs.
import { parentPort } from 'node:worker_threads'
import { toErrorData } from '../../common/errors'
import { importSessionFile } from './import'
import type { ImportWorkerReply, ImportWorkerRequest } from './off-thread'

const port = parentPort
if (!port) throw new Error('import-worker.ts must run in a worker thread')
port.once('message', (request: ImportWorkerRequest) => {
  try {
    const parsed = importSessionFile(request.bytes, request.limits, request.options)
    // Blobs of stored entries are views into the file's buffer: give each its own buffer, then move them.
    const blobs = new Map<string, Uint8Array>()
    for (const [sha, data] of parsed.blobs) blobs.set(sha, data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice())
    const reply: ImportWorkerReply = { ok: true, manifest: parsed.manifest, portable: parsed.portable, blobs }
    port.postMessage(reply, [...new Set([...blobs.values()].map((b) => b.buffer as ArrayBuffer))])
  } catch (error) {
    const reply: ImportWorkerReply = { ok: false, error: toErrorData(error) }
    port.postMessage(reply)
  }
})
