// One subscription to the lab's events, fanned out by job id (progress) or by type (session changes).
import type { LabEvent } from '../../common/api'
import { getLab } from '../get-lab'

type Listener = (event: LabEvent) => void
const byJob = new Map<string, Listener>()
const general = new Set<Listener>()
let unsubscribe: (() => void) | undefined

function ensure(): void {
  if (unsubscribe) return
  unsubscribe = getLab().api.onEvent((event) => {
    if (event.type === 'progress' || event.type === 'job-end' || event.type === 'job-paused') byJob.get(event.jobId)?.(event)
    if (event.type === 'job') byJob.get(event.job.jobId)?.(event)
    for (const listener of general) listener(event)
  })
}

/** Routes this job's progress, pause, state and end events to `listener` until the returned function is called. */
export function onJobEvents(jobId: string, listener: Listener): () => void {
  ensure()
  byJob.set(jobId, listener)
  return () => {
    if (byJob.get(jobId) === listener) byJob.delete(jobId)
  }
}

export function onLabEvent(listener: Listener): () => void {
  ensure()
  general.add(listener)
  return () => {
    general.delete(listener)
  }
}
