// What every computing workspace shares: the window's model, a job runner, the current session id (so
// the lab records the run in the session), and the last result with the model and run behind it.
import { computed, ref, shallowRef, watch } from 'vue'
import type { ModelInfo, ModelRef } from '../../common/api'
import { toErrorData } from '../../common/errors'
import type { RunRecord } from '../../common/sessions'
import { useLab } from '../lab-context'
import { resultProvenance } from '../provenance'
import { recordedCheckpoint, weightsNotice, type LastRun } from '../workspace-state'
import { useJob } from './useJob'
import { refLabel, sameModel, useModel } from './useModel'
import { useSession } from './useSession'

export interface CommonRequest {
  model: ModelRef
  jobId: string
  sessionId?: string
}

/** @param label the workspace's name in a session named after its first run ("Attention: the small dog…") */
export function useWorkspaceRun<R>(label = 'Run') {
  const lab = useLab()
  const { model, info } = useModel(lab)
  const session = useSession(lab)
  const job = useJob(lab)
  const lastResult = shallowRef<R | null>(null)
  const lastModel = shallowRef<ModelRef | null>(null)
  const lastRun = shallowRef<LastRun | null>(null)
  /** the inputs the result on screen was computed from (the request without model and job fields) */
  const lastRequest = shallowRef<Record<string, unknown> | null>(null)
  /** true while a reopened session's stored result is being fetched */
  const loadingStored = ref(false)
  // An error from a run with another model no longer applies once the model changes.
  watch(model, () => {
    if (!job.state.running) job.clearError()
  })
  /** set when a restored result's checkpoint folder no longer holds the weights it was computed with */
  const weightsWarning = ref<string | null>(null)
  let checkGeneration = 0

  /** Compares a restored run's recorded weights hash with the checkpoint folder as it is now. */
  async function checkRestoredWeights(run: RunRecord | null): Promise<void> {
    const mine = ++checkGeneration
    weightsWarning.value = null
    const recorded = recordedCheckpoint(run?.model)
    if (!recorded) return
    let notice: string | null
    try {
      const described = await lab.api.describeModel(recorded.ref)
      notice = weightsNotice(recorded, { sha256: described.weightsSha256 })
    } catch (error) {
      notice = weightsNotice(recorded, { error: toErrorData(error) })
    }
    if (mine === checkGeneration) weightsWarning.value = notice
  }

  /**
   * Runs `start` with the current model (or `withModel`, e.g. the saved one when recomputing a restored
   * result); keeps its result, and `request` (the inputs it was sent, shown with the result), unless it failed
   * or was superseded by a newer run.
   */
  async function compute(start: (common: CommonRequest) => Promise<R>, withModel?: ModelRef | null, request: Record<string, unknown> | null = null): Promise<R | undefined> {
    const ref = withModel ?? model.value
    const sessionId = session.state.current?.id
    let started = ''
    const result = await job.run((jobId) => {
      started = jobId
      return start({ model: ref, jobId, sessionId })
    })
    // Another session was opened meanwhile: the result belongs to the old one (where the lab recorded it).
    if (session.state.current?.id !== sessionId) return undefined
    if (result !== undefined) {
      checkGeneration++
      weightsWarning.value = null
      lastResult.value = result
      lastModel.value = ref
      lastRequest.value = request
      loadingStored.value = false
      const runId = (result as { runId?: unknown }).runId
      lastRun.value = { jobId: started, runId: typeof runId === 'string' ? runId : undefined }
      if (typeof request?.text === 'string') void session.nameFromContent(label, request.text)
    }
    return result
  }

  /** Set when the shown result was computed with another model than the current one. */
  const staleModel = computed(() => (lastResult.value && lastModel.value && !sameModel(lastModel.value, model.value) ? refLabel(lastModel.value) : null))

  /** No session is open yet (the window is starting or switching): its results are about to be restored. */
  const opening = computed(() => session.state.opening || !session.state.current)

  /** Written into CSV/JSON exports of the result's charts. */
  const provenance = computed(() => resultProvenance(lastResult.value as { model?: ModelInfo; runId?: string } | null, lastRequest.value))

  return { provenance, opening, model, info, job, lastResult, lastModel, lastRun, lastRequest, loadingStored, compute, staleModel, weightsWarning, checkRestoredWeights }
}
