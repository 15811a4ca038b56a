// Debounced autosave of workspace states. Runs need no autosaver: startRun and finishRun commit at once.
import { toErrorData, type ErrorData } from '../common/errors'
import type { WorkspaceId, WorkspaceState } from '../common/sessions'
import { prepareWorkspaceState, type PreparedWorkspaceState } from './repositories/workspaces'
import type { ExperimentStore } from './store'

export interface AutosaverOptions {
  /** Quiet time after the last change before writing (default 500 ms). */
  delayMs?: number
  /** Longest a change waits while changes keep coming (default 1000 ms). */
  maxWaitMs?: number
  /** Told about a write that failed (e.g. the session was deleted meanwhile); the change is dropped. */
  onError?: (error: ErrorData, write: { sessionId: string; workspace: WorkspaceId }) => void
  /** Told after each successful write, with what was written. */
  onSaved?: (writes: Array<{ sessionId: string; workspace: WorkspaceId }>) => void
}

export interface Autosaver {
  /**
   * Records the latest state of a workspace; it is written within delayMs of the last change and never later
   * than maxWaitMs after the first unsaved one. The state is validated and encoded now (INPUT_INVALID is
   * thrown here, where the bad value comes from), so later mutation of the object does not matter.
   */
  save(sessionId: string, workspace: WorkspaceId, state: WorkspaceState): void
  /** Writes everything pending now, synchronously. */
  flush(): void
  /** How many workspace states are waiting to be written. */
  readonly pending: number
  /** Flushes and stops; also happens when the store closes. */
  close(): void
}

/** A debounced workspace-state writer bound to a store (flushed on store.close()). */
export function createAutosaver(store: ExperimentStore, options: AutosaverOptions = {}): Autosaver {
  const delayMs = options.delayMs ?? 500
  const maxWaitMs = Math.max(options.maxWaitMs ?? 1000, delayMs)
  const queue = new Map<string, { sessionId: string; prepared: PreparedWorkspaceState }>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let firstPendingAt = 0
  let closed = false

  const arm = (): void => {
    const now = Date.now()
    if (queue.size === 1 && timer === undefined) firstPendingAt = now
    const due = Math.min(now + delayMs, firstPendingAt + maxWaitMs)
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(flush, Math.max(0, due - now))
    timer.unref?.()
  }

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    if (queue.size === 0 || !store.isOpen) return
    const writes = [...queue.values()]
    queue.clear()
    try {
      store.writePreparedStates(writes)
      options.onSaved?.(writes.map((w) => ({ sessionId: w.sessionId, workspace: w.prepared.workspace })))
    } catch {
      // One bad write (a deleted session) must not sink the others: retry one by one and report failures.
      for (const w of writes) {
        try {
          store.writePreparedStates([w])
          options.onSaved?.([{ sessionId: w.sessionId, workspace: w.prepared.workspace }])
        } catch (error) {
          options.onError?.(toErrorData(error), { sessionId: w.sessionId, workspace: w.prepared.workspace })
        }
      }
    }
  }

  const removeHook = store.onClose(flush)

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
    close() {
      if (closed) return
      flush()
      closed = true
      removeHook()
    },
  }
}
