// The job tray's list (useJobList): kept current by the lab's 'job' events and refreshed by listJobs. A list taken
// before a job ended must not show that job running again when its answer arrives after the end's event.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { JobInfo, LabApi, LabEvent, LabHost } from '../../src/common/api'
import { useJobList } from '../../src/renderer/composables/useJob'
import type { Lab } from '../../src/renderer/lab-context'

function job(state: JobInfo['state'], extra: Partial<JobInfo> = {}): JobInfo {
  return { jobId: 'j1', method: 'describeModel', kind: 'interactive', label: 'model description (toy-deberta)', state, pausable: false, fraction: state === 'done' ? 1 : 0, message: '', queuedAt: 1, ...extra } as JobInfo
}

/** A lab whose listJobs answers when the test says, and whose events the test sends. */
function fakeLab() {
  const listeners = new Set<(event: LabEvent) => void>()
  const pending: Array<(jobs: JobInfo[]) => void> = []
  const api = {
    listJobs: () => new Promise<JobInfo[]>((resolve) => pending.push(resolve)),
    onEvent: (listener: (event: LabEvent) => void) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  } as unknown as LabApi
  const lab: Lab = { api, host: {} as LabHost }
  return {
    lab,
    emit: (event: LabEvent) => listeners.forEach((l) => l(event)),
    /** answers the oldest listJobs call still waiting */
    answer: async (jobs: JobInfo[]) => {
      pending.shift()!(jobs)
      await new Promise((r) => setTimeout(r, 0))
    },
    waiting: () => pending.length,
  }
}

afterEach(() => vi.useRealTimers())

describe('the job tray list', () => {
  it('keeps a job finished when a list taken before its end arrives after the end event', async () => {
    vi.useFakeTimers({ toFake: ['setInterval'] })
    const f = fakeLab()
    const list = useJobList(f.lab)
    await f.answer([]) // the first refresh
    f.emit({ type: 'job', job: job('running') } as LabEvent)
    expect(list.active.value.map((j) => j.jobId)).toEqual(['j1'])
    const refreshed = list.refresh() // e.g. the page became visible again
    expect(f.waiting()).toBe(1)
    f.emit({ type: 'job', job: job('done', { finishedAt: 5 }) } as LabEvent) // the job ends while the list is on its way
    expect(list.active.value).toEqual([])
    await f.answer([job('running')]) // the list was taken while it ran
    await refreshed
    expect(list.active.value).toEqual([])
    expect(list.finished.value.map((j) => [j.jobId, j.state])).toEqual([['j1', 'done']])
    // a list does bring news: a job it reports finished, and jobs this page had not heard of
    f.emit({ type: 'job', job: job('running', { jobId: 'j2' }) } as LabEvent)
    const again = list.refresh()
    await f.answer([job('done', { finishedAt: 5 }), job('done', { jobId: 'j2', finishedAt: 7 }), job('queued', { jobId: 'j3', queuedAt: 8 })])
    await again
    expect(list.active.value.map((j) => j.jobId)).toEqual(['j3'])
    expect(list.finished.value.map((j) => j.jobId)).toEqual(['j2', 'j1'])
  })
})
