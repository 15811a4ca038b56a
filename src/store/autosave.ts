// Debounced autosave of workspace states. Runs need no autosaver: startRun and finishRun commit at once.
//
// Durable or reported: a write that fails because the store cannot take it now (another process holds the
// write lock, the store is read-only, the disk is full) keeps its states queued and is retried with backoff on
// a timer, never by waiting on the caller's thread: background writes use a busy timeout of a few
// milliseconds. Until a write succeeds again, the status says "not saved" and why (onStatus).
import { LabError, toErrorData, type ErrorCode, type ErrorData } from '../common/errors'
import type { WorkspaceId, WorkspaceState } from '../common/sessions'
import { fromJson } from './json'
import { prepareWorkspaceState, type PreparedWorkspaceState } from './repositories/workspaces'
import type { ExperimentStore } from './store'

export interface AutosaverOptions {
  /** Quiet time after the last change before writing (default 500 ms). */
  delayMs?: number
  /** Longest a change waits while changes keep coming (default 1000 ms). */
  maxWaitMs?: number
  /** Told about a write that failed for good (e.g. the session was deleted meanwhile); that change is dropped. */
  onError?: (error: ErrorData, write: { sessionId: string; workspace: WorkspaceId }) => void
  /** Told after each successful write, with what was written. */
  onSaved?: (writes: Array<{ sessionId: string; workspace: WorkspaceId }>) => void
  /** Told whenever `status.saved` or its reason changes. */
  onStatus?: (status: AutosaveStatus) => void
  /** Busy timeout of timer-driven writes (default 5 ms): a locked store is retried later, not waited for. */
  busyTimeoutMs?: number
  /** First retry after a failed write (default 100 ms), doubled each time up to maxRetryDelayMs (default 2 s). */
  retryDelayMs?: number
  maxRetryDelayMs?: number
}

export interface AutosaveStatus {
  /** false from a failed write until a write succeeds */
  saved: boolean
  /** why not saved: the error of the last failed write */
  reason?: string
  code?: ErrorCode
  /** workspace states waiting to be written */
  pending: number
}

export interface Autosaver {
  /**
   * Records the latest state of a workspace; it is written within delayMs of the last change and never later
   * than maxWaitMs after the first unsaved one. The state is validated and encoded now (INPUT_INVALID is
   * thrown here, where the bad value comes from), so later mutation of the object does not matter.
   */
  save(sessionId: string, workspace: WorkspaceId, state: WorkspaceState): void
  /**
   * Writes everything pending now. By default it waits for another process's write lock as every store write
   * does (the store's busy timeout): for user actions about to read or copy the session. `{ wait: false }`
   * tries once with the short timeout. What cannot be written stays queued and is retried.
   */
  flush(options?: { wait?: boolean }): void
  /** How many workspace states are waiting to be written. */
  readonly pending: number
  readonly status: AutosaveStatus
  /** The states of a session still waiting to be written (newer than what the store holds). */
  pendingStates(sessionId: string): Partial<Record<WorkspaceId, WorkspaceState>>
  /** Flushes (waiting for the lock) and stops; also happens when the store closes. */
  close(): void
}

type Write = { sessionId: string; prepared: PreparedWorkspaceState }

/** Failures that say nothing about the states themselves: the same write may succeed later. */
const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['STORE_BUSY', 'STORE_READONLY', 'STORE_UNUSABLE'])

const keyOf = (w: Write): string => `${w.sessionId}\u0000${w.prepared.workspace}`

/** A debounced workspace-state writer bound to a store (flushed on store.close()). */
export function createAutosaver(store: ExperimentStore, options: AutosaverOptions = {}): Autosaver {
  const delayMs = options.delayMs ?? 500
  const maxWaitMs = Math.max(options.maxWaitMs ?? 1000, delayMs)
  const busyTimeoutMs = options.busyTimeoutMs ?? 5
  const retryDelayMs = options.retryDelayMs ?? 100
  const maxRetryDelayMs = Math.max(options.maxRetryDelayMs ?? 2000, retryDelayMs)
  const queue = new Map<string, Write>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let failures = 0
  let firstPendingAt = 0
  let closed = false
  let failure: ErrorData | undefined

  const status = (): AutosaveStatus =>
    failure === undefined ? { saved: true, pending: queue.size } : { saved: false, reason: failure.message, code: failure.code, pending: queue.size }

  const setFailure = (next: ErrorData | undefined): void => {
    const changed = next?.message !== failure?.message || next?.code !== failure?.code
    failure = next
    if (changed) options.onStatus?.(status())
  }

  const arm = (): void => {
    // While a retry is scheduled, it writes the new state too: no earlier attempt on a store that just failed.
    if (retryTimer !== undefined) return
    const now = Date.now()
    if (queue.size === 1 && timer === undefined) firstPendingAt = now
    const due = Math.min(now + delayMs, firstPendingAt + maxWaitMs)
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => flush({ wait: false }), Math.max(0, due - now))
    timer.unref?.()
  }

  /** Puts writes back unless a newer state of the same workspace arrived meanwhile. */
  const requeue = (writes: readonly Write[]): void => {
    for (const w of writes) if (!queue.has(keyOf(w))) queue.set(keyOf(w), w)
  }

  const scheduleRetry = (): void => {
    if (retryTimer !== undefined || closed) return
    const delay = Math.min(retryDelayMs * 2 ** Math.min(failures - 1, 20), maxRetryDelayMs)
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      flush({ wait: false })
    }, delay)
    // Like the debounce timer, no reason to keep a process alive: closing the store flushes and reports.
    retryTimer.unref?.()
  }

  const write = (writes: readonly Write[], wait: boolean): void => {
    store.writePreparedStates(writes, wait ? {} : { busyTimeoutMs })
    options.onSaved?.(writes.map((w) => ({ sessionId: w.sessionId, workspace: w.prepared.workspace })))
  }

  const retriable = (error: unknown): boolean => error instanceof LabError && RETRIABLE.has(error.code)

  function flush(flushOptions: { wait?: boolean } = {}): void {
    const wait = flushOptions.wait ?? true
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (retryTimer !== undefined) clearTimeout(retryTimer)
    retryTimer = undefined
    if (queue.size === 0 || !store.isOpen) return
    const writes = [...queue.values()]
    queue.clear()
    let later: ErrorData | undefined
    let dropped: ErrorData | undefined
    try {
      write(writes, wait)
    } catch (error) {
      if (retriable(error)) {
        later = toErrorData(error)
        requeue(writes)
      } else {
        // One bad write (a deleted session) must not sink the others: retry one by one and report failures.
        for (const w of writes) {
          try {
            write([w], wait)
          } catch (single) {
            const data = toErrorData(single)
            if (retriable(single)) {
              later = data
              requeue([w])
            } else {
              dropped = data
              options.onError?.(data, { sessionId: w.sessionId, workspace: w.prepared.workspace })
            }
          }
        }
      }
    }
    if (later !== undefined) {
      failures++
      setFailure({ ...later, message: `${later.message} (${queue.size} workspace state${queue.size === 1 ? '' : 's'} waiting; retrying)` })
      scheduleRetry()
      return
    }
    failures = 0
    if (dropped !== undefined) setFailure({ ...dropped, message: `a workspace state was not saved: ${dropped.message}` })
    else setFailure(undefined)
  }

  const removeHook = store.onClose(() => {
    flush({ wait: true })
    stop()
  })

  function stop(): void {
    if (timer !== undefined) clearTimeout(timer)
    if (retryTimer !== undefined) clearTimeout(retryTimer)
    timer = retryTimer = undefined
    // What the store could not take by now is lost: say so, once per workspace.
    for (const w of queue.values()) {
      options.onError?.(failure ?? { code: 'INTERNAL', message: 'the store closed before it was written' }, { sessionId: w.sessionId, workspace: w.prepared.workspace })
    }
    queue.clear()
  }

  return {
    save(sessionId, workspace, state) {
      if (closed) throw new Error('the autosaver is closed')
      const prepared = prepareWorkspaceState(workspace, state)
      queue.set(`${sessionId}\u0000${prepared.workspace}`, { sessionId, prepared })
      arm()
    },
    flush,
    get pending() {
      return queue.size
    },
    get status() {
      return status()
    },
    pendingStates(sessionId) {
      const states: Partial<Record<WorkspaceId, WorkspaceState>> = {}
      for (const w of queue.values()) if (w.sessionId === sessionId) states[w.prepared.workspace] = fromJson(w.prepared.json) as WorkspaceState
      return states
    },
    close() {
      if (closed) return
      flush({ wait: true })
      stop()
      closed = true
      removeHook()
    },
  }
}
