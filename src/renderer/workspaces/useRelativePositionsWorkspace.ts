// Relative positions: δ(i, j), the ids the model uses for them (log buckets or clipping), the distance →
// id curve, a clipping-k control, and the same word pair at the same distance in two sentences.
import { computed, reactive } from 'vue'
import type { RelativePositionsResult, ModelRef } from '../../common/api'
import { useLab } from '../lab-context'
import { buildHeatmapOption } from '../charts/heatmap'
import { buildBucketCurveOption } from '../charts/bucket-curve'
import { buildPairComparisonOption } from '../charts/terms'
import { useWorkspacePersistence } from '../composables/useWorkspacePersistence'
import { useWorkspaceRun } from '../composables/useWorkspaceRun'
import { compareViewDefaults } from '../composables/useComparison'
import { RELATIVE_INPUT_FIELDS, changedKeys, compareInputs } from '../result-inputs'
import { useRelativeComparison } from './useRelativeComparison'

export type RelativeMatrix = 'delta' | 'buckets'
export const RELATIVE_DEFAULT_TEXT = 'the small dog sees the small ball near the house'
export const RELATIVE_DEFAULT_COMPARE = 'quietly the small dog sees the small ball near the house'

const defaults = () => ({
  inputs: { text: RELATIVE_DEFAULT_TEXT, compareText: RELATIVE_DEFAULT_COMPARE, clipK: 4, clipOn: true },
  selections: { matrix: 'buckets' as RelativeMatrix },
  view: { ...compareViewDefaults() },
})

export function isRelativeResult(value: unknown): value is RelativePositionsResult {
  const r = value as RelativePositionsResult | null
  return !!r && Array.isArray(r.tokens?.tokens) && !!r.delta && !!r.buckets && Array.isArray(r.curve?.distances)
}

export function useRelativePositionsWorkspace() {
  const { api } = useLab()
  const run = useWorkspaceRun<RelativePositionsResult>('Relative positions')
  const d = defaults()
  const inputs = reactive(d.inputs)
  const selections = reactive(d.selections)
  const view = reactive(d.view)

  const controlsRequest = () => {
    const k = Math.round(inputs.clipK)
    return { text: inputs.text, compareText: inputs.compareText.trim() ? inputs.compareText : undefined, clipK: inputs.clipOn && k >= 1 ? k : undefined }
  }
  function compute(withModel?: ModelRef | null): Promise<unknown> {
    const request = controlsRequest()
    return run.compute((common) => api.runRelativePositions({ ...common, ...request }), withModel, request)
  }
  // a recorded request has no compareText / clipK key when they were off: read them as absent, not unknown
  const resultInputs = computed(() =>
    run.lastResult.value && run.lastRequest.value ? compareInputs(RELATIVE_INPUT_FIELDS, { compareText: undefined, clipK: undefined, ...run.lastRequest.value }, controlsRequest()) : [],
  )
  const changed = computed(() => changedKeys(resultInputs.value))
  useWorkspacePersistence('relative', { inputs, selections, view, lastResult: run.lastResult, lastModel: run.lastModel, lastRun: run.lastRun, lastRequest: run.lastRequest, loading: run.loadingStored, defaults, isResult: isRelativeResult, recompute: () => void compute(run.lastModel.value), onRestored: (restored) => void run.checkRestoredWeights(restored) })

  const tokens = computed(() => run.lastResult.value?.tokens.tokens ?? [])
  const matrixOption = computed(() => {
    const r = run.lastResult.value
    if (!r) return null
    const delta = selections.matrix === 'delta'
    return buildHeatmapOption(delta ? r.delta : r.buckets, tokens.value, tokens.value, {
      signed: true,
      integer: true,
      valueName: delta ? 'δ(i, j) = i − j' : r.curve.kind === 'log-bucket' ? 'bucket id' : 'clipped δ',
    })
  })
  const curveOption = computed(() => (run.lastResult.value ? buildBucketCurveOption(run.lastResult.value.curve, run.lastResult.value.clipping) : null))
  const comparisonOption = computed(() => {
    const r = run.lastResult.value
    return r?.comparison && r.comparison.pairs.length > 0 ? buildPairComparisonOption(r.comparison, tokens.value) : null
  })
  /** Largest |c2pA − c2pB| and |p2cA − p2cB| over the compared pairs (0 means identical). */
  const comparisonGap = computed(() => {
    const pairs = run.lastResult.value?.comparison?.pairs ?? []
    if (pairs.length === 0) return null
    return {
      c2p: Math.max(...pairs.map((p) => Math.abs(p.c2pA - p.c2pB))),
      p2c: Math.max(...pairs.map((p) => Math.abs(p.p2cA - p.p2cB))),
    }
  })

  const compare = useRelativeComparison({ view, selections, lastResult: run.lastResult, lastRun: run.lastRun, lastRequest: run.lastRequest, isResult: isRelativeResult })

  return { ...run, inputs, selections, view, compute, resultInputs, changed, tokens, matrixOption, curveOption, comparisonOption, comparisonGap, compare }
}
