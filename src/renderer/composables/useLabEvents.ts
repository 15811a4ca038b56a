// One subscription to the lab's events per lab, fanned out by job id (progress) or by type (session changes).
import type { LabEvent } from '../../common/api'
import { perLab, useLab, type Lab } from '../lab-context'

type Listener = (event: LabEvent) => void

export interface LabEvents {
  /** Routes this job's progress, pause, state and end events to `listener` until the returned function is called. */
  onJobEvents(jobId: string, listener: Listener): () => void
  onLabEvent(listener: Listener): () => void
}

const eventsOf = perLab((lab): LabEvents => {
  const byJob = new Map<string, Listener>()
  const general = new Set<Listener>()
  let unsubscribe: (() => void) | undefined

  function ensure(): void {
    if (unsubscribe) return
    unsubscribe = lab.api.onEvent((event) => {
      if (event.type === 'progress' || event.type === 'job-end' || event.type === 'job-paused') byJob.get(event.jobId)?.(event)
      if (event.type === 'job') byJob.get(event.job.jobId)?.(event)
      for (const listener of general) listener(event)
    })
  }

  return {
    onJobEvents(jobId, listener) {
      ensure()
      byJob.set(jobId, listener)
      return () => {
        if (byJob.get(jobId) === listener) byJob.delete(jobId)
      }
    },
    onLabEvent(listener) {
      ensure()
      general.add(listener)
      return () => {
        general.delete(listener)
      }
    },
  }
})

/** The lab's events (the injected lab, or `lab`). */
export function useLabEvents(lab: Lab = useLab()): LabEvents {
  return eventsOf(lab)
}
