// Attention decomposition: one layer and head (or the mean over heads), each disentangled term, their sum,
// the softmax, ablation by switching terms off, and every term's share per layer × head.
import { computed, reactive, watch } from 'vue'
import { ATTENTION_TERMS, type AblationScope, type AttentionResult, type AttentionTerm, type ModelRef } from '../../common/api'
import { useLab } from '../lab-context'
import { buildHeatmapOption } from '../charts/heatmap'
import { attentionCellDetail } from '../charts/attention-cell'
import { buildTermShareOption } from '../charts/terms'
import { useWorkspacePersistence } from '../composables/useWorkspacePersistence'
import { useWorkspaceRun } from '../composables/useWorkspaceRun'
import { relativeTerms, scoreScale } from '../model-text'
import { resultProvenance } from '../provenance'
import { ATTENTION_INPUT_FIELDS, attentionInputs, changedKeys, compareInputs } from '../result-inputs'
import { instrumentViewDefaults, useAttentionInstruments } from './useAttentionInstruments'
import { compareViewDefaults } from '../composables/useComparison'
import { useAttentionComparison } from './useAttentionComparison'
import { corpusViewDefaults } from './useCorpusInstrument'
import type { RowsMode } from '../charts/attention-rows'

export type AttentionView = AttentionTerm | 'scores' | 'probabilities'
export const ATTENTION_VIEWS: readonly AttentionView[] = [...ATTENTION_TERMS, 'scores', 'probabilities']
export const ATTENTION_DEFAULT_TEXT = 'the small dog sees the small ball near the house'
/** Changing layer, head or ablation re-runs after this pause (once a result is on screen). */
const RERUN_DELAY_MS = 250

const defaults = () => ({
  inputs: { text: ATTENTION_DEFAULT_TEXT, layer: 0, head: '0', disabledTerms: [] as AttentionTerm[], ablationScope: 'all' as AblationScope, p2p: false },
  /** rows / rowsMode: the query tokens whose rows are combined (AttentionWorkspaceRows) */
  selections: { term: 'probabilities' as AttentionView, rows: [] as number[], rowsMode: 'mean' as RowsMode },
  /** shownKey: the layer/head/ablation of the result on screen, so restoring a session does not re-run */
  view: { autoRun: true, shownKey: '', ...instrumentViewDefaults(), ...compareViewDefaults(), corpus: corpusViewDefaults() },
})

export function isAttentionResult(value: unknown): value is AttentionResult {
  const r = value as AttentionResult | null
  return !!r && Array.isArray(r.tokens?.tokens) && !!r.scores && !!r.probabilities && !!r.shares && typeof r.terms === 'object'
}

/** The matrix shown for a view: a term, the summed scores, or the probabilities. */
export function matrixFor(result: AttentionResult, view: AttentionView) {
  if (view === 'scores') return result.scores
  if (view === 'probabilities') return result.probabilities
  return result.terms[view] ?? null
}

/** The ablated terms of a recorded request. */
const disabledOf = (request: Record<string, unknown> | null): string[] => (Array.isArray(request?.disabledTerms) ? (request.disabledTerms as string[]) : [])

export function useAttentionWorkspace() {
  const { api } = useLab()
  const run = useWorkspaceRun<AttentionResult>('Attention')
  const d = defaults()
  const inputs = reactive(d.inputs)
  const selections = reactive(d.selections)
  const view = reactive(d.view)

  const controlsKey = (): string => JSON.stringify([inputs.layer, inputs.head, [...inputs.disabledTerms].sort(), inputs.ablationScope, inputs.p2p])

  /** The request the controls describe (without model and job fields). */
  const controlsRequest = () => ({
    text: inputs.text,
    layer: inputs.layer,
    head: inputs.head === 'mean' ? ('mean' as const) : Number(inputs.head),
    disabledTerms: [...inputs.disabledTerms],
    // an ablation of one head needs a head: with the mean over heads it reaches the whole layer
    ...(inputs.ablationScope === 'all' ? {} : { ablationScope: inputs.ablationScope === 'head' && inputs.head === 'mean' ? ('layer' as const) : inputs.ablationScope }),
    p2p: inputs.p2p,
  })

  async function compute(withModel?: ModelRef | null): Promise<unknown> {
    const key = controlsKey()
    const request = controlsRequest()
    const result = await run.compute((common) => api.runAttention({ ...common, ...request }), withModel, request)
    if (result) view.shownKey = key
    return result
  }
  useWorkspacePersistence('attention', { inputs, selections, view, lastResult: run.lastResult, lastModel: run.lastModel, lastRun: run.lastRun, lastRequest: run.lastRequest, loading: run.loadingStored, defaults, isResult: isAttentionResult, recompute: () => void compute(run.lastModel.value), onRestored: (restored) => void run.checkRestoredWeights(restored) })

  // Keep layer/head inside the model's range when the model changes.
  watch(run.info, (info) => {
    if (!info) return
    if (inputs.layer >= info.layers) inputs.layer = info.layers - 1
    if (inputs.head !== 'mean' && Number(inputs.head) >= info.heads) inputs.head = '0'
  })

  let timer: ReturnType<typeof setTimeout> | undefined
  watch(controlsKey, (key) => {
    if (!view.autoRun || !run.lastResult.value || key === view.shownKey) return
    clearTimeout(timer)
    timer = setTimeout(() => void compute(), RERUN_DELAY_MS)
  })

  const tokens = computed(() => run.lastResult.value?.tokens.tokens ?? [])
  const available = computed(() => ATTENTION_VIEWS.filter((v) => (run.lastResult.value ? matrixFor(run.lastResult.value, v) : v !== 'p2p')))
  const mainOption = computed(() => {
    const r = run.lastResult.value
    const matrix = r && matrixFor(r, selections.term)
    if (!r || !matrix) return null
    const probabilities = selections.term === 'probabilities'
    const headText = r.head === 'mean' ? 'mean over heads' : `head ${r.head}`
    return buildHeatmapOption(matrix, tokens.value, tokens.value, {
      signed: !probabilities,
      fromZero: probabilities,
      valueName: probabilities ? 'probability' : selections.term === 'scores' ? 'score (sum of enabled terms)' : `${selections.term} score`,
      title: `${selections.term} · layer ${r.layer} · ${headText}`,
      cellDetail: attentionCellDetail({ ...r, disabledTerms: disabledOf(run.lastRequest.value) }, { name: selections.term, matrix }),
    })
  })
  /** The model whose texts are shown: the result's when one is on screen, else the chosen one. */
  const shownModel = computed(() => run.lastResult.value?.model ?? run.info.value)
  const scale = computed(() => scoreScale(shownModel.value, run.lastResult.value ? !!run.lastResult.value.terms.p2p : inputs.p2p))
  const headDim = computed(() => shownModel.value?.headDim ?? null)
  const bertLike = computed(() => !!shownModel.value && relativeTerms(shownModel.value).length === 0)
  /** The inputs of the result on screen beside the controls' (model terms from the result's model). */
  const resultInputs = computed(() => {
    const r = run.lastResult.value
    const request = run.lastRequest.value
    if (!r || !request) return []
    const modelTerms = r.model.posAttType
    return compareInputs(ATTENTION_INPUT_FIELDS, attentionInputs(request, modelTerms), attentionInputs(controlsRequest(), run.info.value?.posAttType ?? modelTerms))
  })
  const changed = computed(() => changedKeys(resultInputs.value))
  const provenance = computed(() => {
    const r = run.lastResult.value
    const request = run.lastRequest.value
    return resultProvenance(r, request, r && request ? { terms: String(attentionInputs(request, r.model.posAttType).terms) } : {})
  })
  const shareOption = computed(() => (run.lastResult.value ? buildTermShareOption(run.lastResult.value.shares) : null))

  const instruments = useAttentionInstruments({ inputs, view, lastResult: run.lastResult, compute })

  const compare = useAttentionComparison({ view, selections, lastResult: run.lastResult, lastRun: run.lastRun, lastRequest: run.lastRequest, isResult: isAttentionResult })

  return { ...run, inputs, selections, view, compute, tokens, available, mainOption, shareOption, scale, bertLike, headDim, resultInputs, changed, provenance, instruments, compare }
}
