// "Compare with…": a second model (B) beside the window's model (A) in a workspace. Every run of the workspace
// is followed by a run of B on the same inputs (its own job, recorded as a run of the same workspace in the
// session); the workspace's saved view keeps B's model and run id (`view.compare`), so reopening a session
// fetches B's stored result instead of computing it again. Clearing B returns the workspace to its single view.
import { computed, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue'
import type { ModelInfo, ModelRef } from '../../common/api'
import { toErrorData, type ErrorData } from '../../common/errors'
import { useLab } from '../lab-context'
import type { LastRun } from '../workspace-state'
import { refLabel } from './useModel'
import { useWorkspaceRun, type CommonRequest } from './useWorkspaceRun'

/** The comparison's part of a workspace's saved view. */
export const compareViewDefaults = () => ({
  compare: {
    /** model B; null: no comparison */
    model: null as ModelRef | null,
    /** B's run on screen, its job, and the job of A's run it was computed beside */
    runId: '',
    jobId: '',
    pairedJobId: '',
  },
})
export type CompareView = ReturnType<typeof compareViewDefaults>['compare']

/** A saved model reference this version can use (the saved view accepts any value where the default is null). */
export function isModelRef(value: unknown): value is ModelRef {
  const ref = value as ModelRef | null
  if (!ref || typeof ref !== 'object') return false
  if (ref.kind === 'bundled') return typeof ref.name === 'string'
  if (ref.kind === 'checkpoint') return typeof ref.path === 'string'
  return ref.kind === 'synthetic' && typeof ref.arch === 'string' && Number.isInteger(ref.layers) && Number.isInteger(ref.heads)
}

/** B's request for A's recorded inputs: what B can run, and notes on what had to change (e.g. a layer B lacks). */
export interface ComparisonRequest<R> {
  start(common: CommonRequest): Promise<R>
  request: Record<string, unknown>
  notes: string[]
  /** B cannot run this workspace (e.g. a BERT in Relative positions): why; nothing is run */
  unavailable?: string
}

export interface ComparisonParts<R> {
  view: { compare: CompareView }
  /** A: the workspace's result on screen, its run and inputs */
  a: { lastResult: ShallowRef<R | null>; lastRun: ShallowRef<LastRun | null>; lastRequest: ShallowRef<Record<string, unknown> | null> }
  isResult(value: unknown): value is R
  /** B's request from A's inputs and B's description */
  requestFor(aRequest: Record<string, unknown>, info: ModelInfo): ComparisonRequest<R>
}

/** What the picker of B uses. */
export interface ComparisonChooser {
  model: Readonly<Ref<ModelRef | null>>
  label: Readonly<Ref<string>>
  choosing: Ref<boolean>
  error: Ref<ErrorData | null>
  choose(ref: ModelRef): Promise<boolean>
  clear(): void
  dismissError(): void
}

export function useComparison<R>(parts: ComparisonParts<R>) {
  const lab = useLab()
  const run = useWorkspaceRun<R>()
  // read through the view each time: reopening a session replaces view.compare with the saved object
  const saved = (): CompareView => parts.view.compare
  /** B's description (loads and checks a checkpoint); set when B is chosen or first run */
  const info = shallowRef<ModelInfo | null>(null)
  const choosing = ref(false)
  const error = ref<ErrorData | null>(null)
  /** what B's request had to change, for the result on screen */
  const notes = ref<string[]>([])
  /** why B cannot run beside the A result on screen (set instead of a result) */
  const unavailable = ref<string | null>(null)

  const model = computed<ModelRef | null>(() => (isModelRef(saved().model) ? saved().model : null))
  const label = computed(() => run.lastResult.value && (run.lastResult.value as { model?: ModelInfo }).model?.label || info.value?.label || (model.value ? refLabel(model.value) : ''))
  /** A has a result of its own run on screen, so B can run beside it */
  const ready = computed(() => !!model.value && !!parts.a.lastResult.value && !!parts.a.lastRun.value && !!parts.a.lastRequest.value)
  /** B's result belongs to the A result on screen */
  const paired = computed(() => !!run.lastResult.value && !!parts.a.lastRun.value && saved().pairedJobId === parts.a.lastRun.value.jobId)

  async function describe(ref: ModelRef): Promise<ModelInfo> {
    const described = await lab.api.describeModel(ref)
    if (model.value && JSON.stringify(model.value) === JSON.stringify(ref)) info.value = described
    return described
  }

  /** Runs B beside the A result on screen. */
  async function runB(): Promise<void> {
    const ref = model.value
    const aRun = parts.a.lastRun.value
    const aRequest = parts.a.lastRequest.value
    if (!ref || !aRun || !aRequest || !parts.a.lastResult.value) return
    let described: ModelInfo
    try {
      described = info.value && JSON.stringify(info.value.ref) === JSON.stringify(ref) ? info.value : await describe(ref)
    } catch (caught) {
      error.value = toErrorData(caught)
      return
    }
    error.value = null
    const planned = parts.requestFor(aRequest, described)
    unavailable.value = planned.unavailable ?? null
    if (planned.unavailable) {
      notes.value = planned.notes
      run.lastResult.value = null
      run.lastRun.value = null
      return
    }
    const result = await run.compute(planned.start, ref, planned.request)
    if (!result || !sameRef(model.value, ref)) return
    notes.value = planned.notes
    Object.assign(saved(), { runId: (result as { runId?: string }).runId ?? '', jobId: run.lastRun.value?.jobId ?? '', pairedJobId: aRun.jobId })
  }

  /** Chooses B (described first, so a folder that cannot be loaded is refused with the reason). */
  async function choose(ref: ModelRef): Promise<boolean> {
    choosing.value = true
    error.value = null
    try {
      const described = await lab.api.describeModel(ref)
      Object.assign(saved(), { model: { ...ref }, runId: '', jobId: '', pairedJobId: '' })
      info.value = described
      unavailable.value = null
      run.lastResult.value = null
      run.lastRun.value = null
      // the watcher below runs B beside the A result on screen (or beside A's next run)
      return true
    } catch (caught) {
      error.value = toErrorData(caught)
      return false
    } finally {
      choosing.value = false
    }
  }

  /** Back to the single view. */
  function clear(): void {
    if (run.job.state.running) void run.job.cancel()
    Object.assign(saved(), compareViewDefaults().compare)
    info.value = null
    notes.value = []
    unavailable.value = null
    error.value = null
    run.lastResult.value = null
    run.lastRun.value = null
  }

  // A reopened session: fetch B's stored result by its run id (nothing is recomputed).
  watch(
    () => saved().runId,
    (runId) => {
      if (runId === (run.lastRun.value?.runId ?? '')) return
      if (!runId) {
        run.lastResult.value = null
        run.lastRun.value = null
        return
      }
      run.loadingStored.value = true
      lab.api.getRunResult(runId).then(
        (value) => {
          run.loadingStored.value = false
          if (saved().runId !== runId || !parts.isResult(value)) return
          run.lastResult.value = value
          run.lastModel.value = model.value
          run.lastRun.value = { jobId: saved().jobId, runId }
        },
        () => {
          run.loadingStored.value = false
        },
      )
    },
    { immediate: true },
  )

  // A new result of A (a run, not a restored one): run B beside it.
  watch(
    () => [parts.a.lastRun.value?.jobId ?? '', !!parts.a.lastResult.value, model.value ? JSON.stringify(model.value) : ''] as const,
    ([jobId, hasResult, modelKey], previous) => {
      if (!modelKey || !hasResult || !jobId || jobId === saved().pairedJobId) return
      if (previous && previous[0] === jobId && previous[2] === modelKey) return
      // a stored result of B paired with this A is on its way (a reopened session)
      if (saved().runId && saved().pairedJobId === jobId) return
      if (run.job.state.running && pendingFor === jobId) return
      pendingFor = jobId
      void runB()
    },
  )
  let pendingFor = ''

  const dismissError = (): void => {
    error.value = null
  }

  return { run, model, info, label, ready, paired, notes, unavailable, choosing, error, choose, clear, runB, dismissError }
}

function sameRef(a: ModelRef | null, b: ModelRef | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
