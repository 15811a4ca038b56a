// Runs one lab computation at a time for a workspace: a fresh job id per run, progress from the lab's
// events, a progress bar only when the run takes longer than 300 ms, Cancel (and Pause/Resume for jobs the lab
// can pause: experiments), and the error where it happened.
import { reactive } from 'vue'
import type { ErrorData } from '../../common/errors'
import { toErrorData } from '../../common/errors'
import { useLab, type Lab } from '../lab-context'
import { useLabEvents } from './useLabEvents'

export const PROGRESS_DELAY_MS = 300

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

export function useJob(lab: Lab = useLab()) {
  const { onJobEvents } = useLabEvents(lab)
  const state = reactive<JobState>({ running: false, paused: false, showProgress: false, fraction: 0, message: '', jobId: null, error: null, cancelled: false, lastMs: null })
  let generation = 0

  /** Starts `start(jobId)`; resolves its value, or undefined when it failed, was cancelled or was superseded. */
  async function run<T>(start: (jobId: string) => Promise<T>): Promise<T | undefined> {
    if (state.running && state.jobId) void cancel()
    const mine = ++generation
    const jobId = newJobId()
    Object.assign(state, { running: true, paused: false, showProgress: false, fraction: 0, message: 'starting…', jobId, error: null, cancelled: false })
    const timer = setTimeout(() => {
      if (generation === mine && state.running) state.showProgress = true
    }, PROGRESS_DELAY_MS)
    const stop = onJobEvents(jobId, (event) => {
      if (generation !== mine) return
      if (event.type === 'job-paused') state.paused = event.paused
      if (event.type !== 'progress') return
      state.fraction = event.fraction
      state.message = event.message
    })
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
        state.showProgress = false
        state.lastMs = performance.now() - began
      }
    }
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

  return { state, run, cancel, setPaused, clearError }
}
