// A test job: keeps the worker busy for `ms` milliseconds, reaching a cancellation point every few ms.
// Used by the responsiveness, cancel and pause tests (the service must answer other calls meanwhile); with
// `trap` it ends with the error a wasm trap gives (to test that the pool replaces a broken worker).
import { threadId } from 'node:worker_threads'
import { LabError } from '../../common/errors'
import type { JobHandler } from '../jobs'
import type { SpinRequest, SpinValue } from '../protocol'

export const spin: JobHandler<SpinRequest, SpinValue> = async (context, request) => {
  const start = Date.now()
  const ms = Math.min(Math.max(0, Number(request.ms) || 0), 60_000)
  while (Date.now() - start < ms) {
    const stepEnd = Date.now() + 5
    while (Date.now() < stepEnd) {
      // busy: a stand-in for a synchronous tfjs kernel
    }
    context.checkCancelled()
    context.progress((Date.now() - start) / ms, 'spinning')
  }
  if (request.trap) throw new LabError('INTERNAL', 'RuntimeError: memory access out of bounds (simulated by the spin test job)')
  return { spunMs: Date.now() - start, threadId }
}
