// The model every workspace computes with (one choice for the whole window, shown in the status bar).
import { computed, ref, shallowRef } from 'vue'
import { DEFAULT_MODEL, type ModelInfo, type ModelRef } from '../../common/api'
import { toErrorData, type ErrorData } from '../../common/errors'
import { perLab, useLab, type Lab } from '../lab-context'

/** A short label before the lab has described the model (or when it could not). */
export function refLabel(ref: ModelRef): string {
  if (ref.kind === 'bundled') return `${ref.name} (bundled)`
  if (ref.kind === 'checkpoint') return ref.path.split(/[\\/]/).filter(Boolean).pop() ?? ref.path
  return `synthetic ${ref.arch} ${ref.layers}L/${ref.hidden}H/${ref.heads}A seed ${ref.seed}`
}

export function sameModel(a: ModelRef | null | undefined, b: ModelRef | null | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function createModelStore(lab: Lab) {
  const model = shallowRef<ModelRef>({ ...DEFAULT_MODEL })
  const info = shallowRef<ModelInfo | null>(null)
  const describing = ref(false)
  const error = ref<ErrorData | null>(null)
  let generation = 0

  async function describe(): Promise<void> {
    const mine = ++generation
    describing.value = true
    error.value = null
    try {
      const described = await lab.api.describeModel(model.value)
      if (mine === generation) info.value = described
    } catch (caught) {
      if (mine === generation) {
        info.value = null
        error.value = toErrorData(caught)
      }
    } finally {
      if (mine === generation) describing.value = false
    }
  }

  return {
    model,
    info,
    describing,
    error,
    label: computed(() => info.value?.label ?? refLabel(model.value)),
    /**
     * Switches every workspace to `next` once the lab has described it (which loads and validates a checkpoint
     * folder). When it cannot be loaded, the current model stays and `error` says why. Resolves true on success.
     * With `immediate` (reopening a session) the model is switched first and described afterwards.
     */
    async setModel(next: ModelRef, options: { immediate?: boolean } = {}): Promise<boolean> {
      if (sameModel(next, model.value) && info.value) return true
      if (options.immediate) {
        // A reopened session's model: the workspaces use it at once (its results were computed with it), even
        // while the lab is busy; a failure to load shows as the model's error.
        model.value = next
        info.value = null
        await describe()
        return !error.value
      }
      const mine = ++generation
      describing.value = true
      error.value = null
      try {
        const described = await lab.api.describeModel(next)
        if (mine !== generation) return false
        model.value = next
        info.value = described
        return true
      } catch (caught) {
        if (mine === generation) error.value = toErrorData(caught)
        return false
      } finally {
        if (mine === generation) describing.value = false
      }
    },
    describe,
  }
}

const modelOf = perLab(createModelStore)

/** The model of the window (one per lab: the injected lab, or `lab`). */
export function useModel(lab: Lab = useLab()) {
  return modelOf(lab)
}
