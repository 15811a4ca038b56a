// A test job: keeps the worker busy for `ms` milliseconds, reaching a cancellation point every few ms.
// Used by the responsiveness and cancel tests (the service must answer other calls meanwhile).
import type { JobHandler } from '../jobs'

export const spin: JobHandler<{ ms: number }, { spunMs: number }> = async (context, request) => {
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
  return { spunMs: Date.now() - start }
}
