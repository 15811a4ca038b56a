// Saves a workspace's inputs, selections and view into the current session (debounced) with a reference
// to the run that produced the result on screen, and restores them when a session is opened. The result
// itself lives in the session's run record (the lab records every run made with a sessionId; a large result is
// kept as the run's artifact and fetched with getRunResult); when that run or its result cannot be found, the
// workspace recomputes it from the restored inputs.
import { onScopeDispose, toRaw, watch, type Ref, type ShallowRef } from 'vue'
import type { ModelRef } from '../../common/api'
import { isStoredResultRef, type RunRecord, type WorkspaceId, type WorkspaceState } from '../../common/sessions'
import { useLab } from '../lab-context'
import { findResultRun, mergeKnown, readSavedState, requestInputs, workspaceState, type LastRun } from '../workspace-state'
import { useSession } from './useSession'

export interface PersistedParts<I extends object, S extends object, V extends object, R> {
  inputs: I
  selections: S
  view: V
  lastResult: ShallowRef<R | null>
  lastModel: ShallowRef<ModelRef | null>
  /** the run behind lastResult */
  lastRun: ShallowRef<LastRun | null>
  /** the inputs behind lastResult: restored from the run's recorded request */
  lastRequest?: ShallowRef<Record<string, unknown> | null>
  /** set while a stored result is fetched (the workspace shows that it is loading, not "Press Run") */
  loading?: Ref<boolean>
  defaults(): { inputs: I; selections: S; view: V }
  /** rejects a stored result this version cannot draw */
  isResult(value: unknown): value is R
  /** recomputes lastResult from the restored inputs when the stored result is not available */
  recompute(): void
  /** told which stored run (if any) the restored result came from, e.g. to check its checkpoint */
  onRestored?(run: RunRecord | null): void
}

export function useWorkspacePersistence<I extends object, S extends object, V extends object, R>(workspace: WorkspaceId, parts: PersistedParts<I, S, V, R>): void {
  const lab = useLab()
  const collect = (): WorkspaceState =>
    workspaceState({
      inputs: toRaw(parts.inputs),
      selections: toRaw(parts.selections),
      view: toRaw(parts.view),
      model: parts.lastModel.value,
      lastRun: parts.lastRun.value,
    })
  // Reads the reactive objects themselves (not toRaw) so that the watcher below tracks every field.
  const fingerprint = (): string =>
    JSON.stringify([parts.inputs, parts.selections, parts.view, parts.lastModel.value, parts.lastRun.value?.jobId ?? null, parts.lastRun.value?.runId ?? null])

  let restoring = 0
  function apply(saved: WorkspaceState | undefined, runs: RunRecord[]): void {
    const mine = ++restoring
    const state = readSavedState(saved)
    const defaults = parts.defaults()
    Object.assign(parts.inputs, mergeKnown(defaults.inputs, state?.inputs))
    Object.assign(parts.selections, mergeKnown(defaults.selections, state?.selections))
    Object.assign(parts.view, mergeKnown(defaults.view, state?.view))
    parts.lastModel.value = state?.model ?? null
    const { run, lastRun } = findResultRun(state, runs)
    parts.lastRun.value = lastRun
    if (parts.lastRequest) parts.lastRequest.value = run ? requestInputs(run.config) : null
    if (parts.loading) parts.loading.value = false
    parts.onRestored?.(run)
    if (run && parts.isResult(run.result)) {
      parts.lastResult.value = run.result
      return
    }
    parts.lastResult.value = null
    if (run && isStoredResultRef(run.result)) {
      // A large result is kept apart from the run list: fetch it (unless another session or run came meanwhile).
      const current = (): boolean => mine === restoring && parts.lastRun.value?.runId === run.id && parts.lastResult.value === null
      if (parts.loading) parts.loading.value = true
      const done = (): void => {
        if (mine === restoring && parts.loading) parts.loading.value = false
      }
      lab.api
        .getRunResult(run.id)
        .then(
          (value) => {
            if (!current()) return done()
            done()
            if (parts.isResult(value)) parts.lastResult.value = value
            else parts.recompute()
          },
          () => {
            if (!current()) return done()
            done()
            parts.recompute()
          },
        )
      return
    }
    // A result was on screen when the session was saved, but its data is not in the session: recompute.
    if (lastRun) queueMicrotask(() => parts.recompute())
  }

  const { check, unbind } = useSession(lab).bindWorkspace(workspace, { collect, apply, fingerprint })
  watch(fingerprint, check)
  // the component's unmount (or the scope's end, in tests) saves what is pending and unbinds
  onScopeDispose(unbind)
}
