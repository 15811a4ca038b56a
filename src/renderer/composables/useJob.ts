// Runs one lab computation at a time for a workspace: a fresh job id per run, progress from the lab's
// events, a progress bar only when the run takes longer than 300 ms, Cancel (and Pause/Resume for jobs the lab
// can pause: experiments), what a queued run waits for, and the error where it happened. `attach` follows a job
// this page did not start (after a reload, or from another window). useJobList keeps the lab's job list for
// the job tray.
import { computed, reactive, ref, type Ref } from 'vue'
import { ACTIVE_JOB_STATES, type JobInfo, type LabEvent } from '../../common/api'
import type { ErrorData } from '../../common/errors'
import { toErrorData } from '../../common/errors'
import { perLab, useLab, type Lab } from '../lab-context'
import { useLabEvents } from './useLabEvents'

export const PROGRESS_DELAY_MS = 300
/** How often a followed job (attach) and the job tray's list are checked against the lab, in case an event was lost */
const ATTACH_CHECK_MS = 5000
const LIST_REFRESH_MS = 10_000

export interface JobState {
  running: boolean
  /** true once the running job has taken longer than PROGRESS_DELAY_MS */
  showProgress: boolean
  fraction: number
  message: string
  jobId: string | null
  error: ErrorData | null
  /** the running job is paused (it waits before its next step) */
  paused: boolean
  /** the job waits for its worker (behind another job) */
  queued: boolean
  /** set when the last run ended by Cancel */
  cancelled: boolean
  /** wall time of the last finished run */
  lastMs: number | null
}

export function newJobId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export const isActive = (job: Pick<JobInfo, 'state'>): boolean => ACTIVE_JOB_STATES.includes(job.state)

/** What a queued job waits for, in words: "waiting for experiment terms (default, 3 seeds) (paused), 2nd in line". */
export function queuedMessage(job: Pick<JobInfo, 'waitingFor' | 'queuePosition'>): string {
  if (!job.waitingFor) return job.queuePosition ? 'waiting for the compute worker to start' : 'queued'
  const paused = job.waitingFor.state === 'paused' ? ' (paused)' : ''
  const place = job.queuePosition && job.queuePosition > 1 ? `, ${ordinal(job.queuePosition)} in line` : ''
  return `waiting for ${job.waitingFor.label}${paused}${place}`
}

function ordinal(n: number): string {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${suffix}`
}

export function useJob(lab: Lab = useLab()) {
  const { onJobEvents } = useLabEvents(lab)
  const state = reactive<JobState>({ running: false, paused: false, queued: false, showProgress: false, fraction: 0, message: '', jobId: null, error: null, cancelled: false, lastMs: null })
  let generation = 0

  /** Follows the lab's events for this job: progress, pause, what it waits for. */
  function follow(jobId: string, mine: number, onEnd?: (job: JobInfo) => void): () => void {
    return onJobEvents(jobId, (event: LabEvent) => {
      if (generation !== mine) return
      if (event.type === 'job-paused') state.paused = event.paused
      if (event.type === 'job') {
        const job = event.job
        state.queued = job.state === 'queued'
        if (job.state === 'queued') state.message = queuedMessage(job)
        else if (job.state === 'running' && state.message.startsWith('waiting for')) state.message = 'starting…'
        if (job.state === 'paused' || job.state === 'running') state.paused = job.state === 'paused'
        if (!isActive(job)) onEnd?.(job)
      }
      if (event.type !== 'progress') return
      state.queued = false
      state.fraction = event.fraction
      state.message = event.message
    })
  }

  /** Starts `start(jobId)`; resolves its value, or undefined when it failed, was cancelled or was superseded. */
  async function run<T>(start: (jobId: string) => Promise<T>): Promise<T | undefined> {
    if (state.running && state.jobId) void cancel()
    const mine = ++generation
    const jobId = newJobId()
    Object.assign(state, { running: true, paused: false, queued: false, showProgress: false, fraction: 0, message: 'starting…', jobId, error: null, cancelled: false })
    const timer = setTimeout(() => {
      if (generation === mine && state.running) state.showProgress = true
    }, PROGRESS_DELAY_MS)
    const stop = follow(jobId, mine)
    const began = performance.now()
    try {
      const value = await start(jobId)
      return generation === mine ? value : undefined
    } catch (error) {
      if (generation !== mine) return undefined
      const data = toErrorData(error)
      if (data.code === 'CANCELLED') state.cancelled = true
      else state.error = data
      return undefined
    } finally {
      clearTimeout(timer)
      stop()
      if (generation === mine) {
        state.running = false
        state.paused = false
        state.queued = false
        state.showProgress = false
        state.lastMs = performance.now() - began
      }
    }
  }

  /**
   * Follows a job of the lab this page did not start (after a reload, or started in another window): progress,
   * Pause and Cancel as for a run of its own. Resolves with the job as it ended (or undefined when superseded).
   */
  async function attach(job: JobInfo): Promise<JobInfo | undefined> {
    const mine = ++generation
    Object.assign(state, {
      running: true,
      paused: job.state === 'paused',
      queued: job.state === 'queued',
      showProgress: true,
      fraction: job.fraction,
      message: job.state === 'queued' ? queuedMessage(job) : job.message || 'running…',
      jobId: job.jobId,
      error: null,
      cancelled: false,
    })
    let stop = (): void => undefined
    let timer: ReturnType<typeof setInterval> | undefined
    const ended = await new Promise<JobInfo | undefined>((resolve) => {
      stop = follow(job.jobId, mine, resolve)
      // It may have ended between the list this came from and the subscription, or while the event stream was
      // down (its end event lost): ask now and then.
      const check = (): void => {
        if (generation !== mine) return resolve(undefined)
        lab.api
          .listJobs()
          .then((jobs) => {
            const now = jobs.find((j) => j.jobId === job.jobId)
            if (!now || !isActive(now)) resolve(now ?? { ...job, state: 'failed', error: { code: 'NOT_FOUND', message: 'the lab no longer knows this job (was it restarted?)' } })
          })
          .catch(() => undefined)
      }
      check()
      timer = setInterval(check, ATTACH_CHECK_MS)
    })
    clearInterval(timer)
    stop()
    if (generation !== mine) return undefined
    state.running = false
    state.paused = false
    state.queued = false
    state.showProgress = false
    if (ended?.state === 'cancelled') state.cancelled = true
    else if (ended?.state === 'failed') state.error = ended.error ?? { code: 'INTERNAL', message: 'the job failed' }
    return ended
  }

  async function cancel(): Promise<void> {
    const jobId = state.jobId
    if (!state.running || !jobId) return
    state.message = 'cancelling…'
    try {
      await lab.api.cancelJob(jobId)
    } catch {
      // the job ended meanwhile
    }
  }

  /** Pauses or resumes the running job; false when the lab cannot pause it (state.paused follows the lab's event). */
  async function setPaused(paused: boolean): Promise<boolean> {
    const jobId = state.jobId
    if (!state.running || !jobId) return false
    try {
      const done = await lab.api.pauseJob({ jobId, paused })
      if (done && state.jobId === jobId) state.paused = paused
      return done
    } catch {
      return false // the job ended meanwhile
    }
  }

  function clearError(): void {
    state.error = null
    state.cancelled = false
  }

  return { state, run, attach, cancel, setPaused, clearError }
}

// ---------------------------------------------------------------------------------------------
// The lab's job list (the job tray): fetched once, then kept current by 'job' and 'progress' events.

interface JobListStore {
  jobs: Ref<JobInfo[]>
  refresh(): Promise<void>
}

const jobListOf = perLab((lab): JobListStore => {
  const jobs = ref<JobInfo[]>([])
  const { onLabEvent } = useLabEvents(lab)

  async function refresh(): Promise<void> {
    try {
      const snapshot = (await lab.api.listJobs()).map(({ training: _training, ...job }) => job)
      // A job's end is final. The list may have been taken before an end whose event arrived while it was on its way
      // (a model description that runs for 20 ms right after a reload): it must not show that job running again —
      // until the next refresh, 10 s later, the tray would say a finished job is running.
      const known = new Map(jobs.value.map((j) => [j.jobId, j]))
      jobs.value = snapshot.map((job) => {
        const local = known.get(job.jobId)
        return local && !isActive(local) && isActive(job) ? local : job
      })
    } catch {
      // the tray keeps what it had; the next event brings it up to date
    }
  }

  onLabEvent((event) => {
    if (event.type === 'job') {
      const index = jobs.value.findIndex((j) => j.jobId === event.job.jobId)
      const previous = index >= 0 ? jobs.value[index] : undefined
      // keep the latest progress: a state change carries the fraction known when it happened
      const job = previous && isActive(event.job) ? { ...event.job, fraction: Math.max(previous.fraction, event.job.fraction), message: event.job.message || previous.message } : event.job
      const next = jobs.value.filter((j) => j.jobId !== job.jobId)
      jobs.value = [job, ...next].slice(0, 50)
    } else if (event.type === 'progress') {
      const index = jobs.value.findIndex((j) => j.jobId === event.jobId)
      if (index < 0 || !isActive(jobs.value[index])) return
      const next = jobs.value.slice()
      next[index] = { ...next[index], fraction: event.fraction, message: event.message }
      jobs.value = next
    }
  })
  void refresh()
  // Events lost while the event stream reconnected would leave a finished job shown as running.
  setInterval(() => {
    const visible = typeof document === 'undefined' || document.visibilityState === 'visible'
    if (visible && jobs.value.some(isActive)) void refresh()
  }, LIST_REFRESH_MS)
  if (typeof document !== 'undefined') {
    // events missed while the page was hidden or the connection dropped
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void refresh()
    })
  }
  return { jobs, refresh }
})

/** The lab's jobs for the tray: active ones in the order they were asked for, then finished ones, newest first. */
export function useJobList(lab: Lab = useLab()) {
  const { jobs: jobList, refresh: refreshJobList } = jobListOf(lab)
  const byQueued = (a: JobInfo, b: JobInfo): number => a.queuedAt - b.queuedAt
  const active = computed(() => jobList.value.filter(isActive).sort(byQueued))
  const finished = computed(() => jobList.value.filter((j) => !isActive(j)).sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0)))
  async function cancel(jobId: string): Promise<void> {
    try {
      await lab.api.cancelJob(jobId)
    } catch {
      // it ended meanwhile
    }
  }
  async function setPaused(jobId: string, paused: boolean): Promise<void> {
    try {
      await lab.api.pauseJob({ jobId, paused })
    } catch {
      // it ended meanwhile
    }
  }
  return { jobs: jobList, active, finished, cancel, setPaused, refresh: refreshJobList }
}
