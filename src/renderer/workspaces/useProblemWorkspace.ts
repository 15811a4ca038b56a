// Problem demo: what adding absolute position embeddings to content (BERT) does, measured.
import { computed, reactive } from 'vue'
import type { AttentionTerm, ProblemDemoResult, ModelRef } from '../../common/api'
import { TOY_PROBLEM_TEXT } from '../../common/toy-texts'
import { useLab } from '../lab-context'
import { buildHeatmapOption } from '../charts/heatmap'
import { buildSameWordOption } from '../charts/terms'
import { useWorkspacePersistence } from '../composables/useWorkspacePersistence'
import { useWorkspaceRun } from '../composables/useWorkspaceRun'
import { compareViewDefaults } from '../composables/useComparison'
import { PROBLEM_INPUT_FIELDS, changedKeys, compareInputs } from '../result-inputs'
import { useProblemComparison } from './useProblemComparison'

export const PROBLEM_DEFAULT_TEXT = TOY_PROBLEM_TEXT
export type EmbeddingTable = 'content' | 'position' | 'sum'

const defaults = () => ({
  inputs: { text: PROBLEM_DEFAULT_TEXT },
  selections: { embedding: 'sum' as EmbeddingTable, term: 'c2p' as AttentionTerm },
  view: { showNumbers: false, ...compareViewDefaults() },
})

export function isProblemResult(value: unknown): value is ProblemDemoResult {
  const r = value as ProblemDemoResult | null
  return !!r && Array.isArray(r.tokens?.tokens) && !!r.sum && !!r.interference && !!r.bertAttention
}

export function useProblemWorkspace() {
  const { api } = useLab()
  const run = useWorkspaceRun<ProblemDemoResult>('Problem demo')
  const d = defaults()
  const inputs = reactive(d.inputs)
  const selections = reactive(d.selections)
  const view = reactive(d.view)

  const controlsRequest = () => ({ text: inputs.text })
  function compute(withModel?: ModelRef | null): Promise<unknown> {
    const request = controlsRequest()
    return run.compute((common) => api.runProblemDemo({ ...common, ...request }), withModel, request)
  }
  const resultInputs = computed(() => (run.lastResult.value ? compareInputs(PROBLEM_INPUT_FIELDS, run.lastRequest.value, controlsRequest()) : []))
  const changed = computed(() => changedKeys(resultInputs.value))
  useWorkspacePersistence('problem', { inputs, selections, view, lastResult: run.lastResult, lastModel: run.lastModel, lastRun: run.lastRun, lastRequest: run.lastRequest, loading: run.loadingStored, defaults, isResult: isProblemResult, recompute: () => void compute(run.lastModel.value), onRestored: (restored) => void run.checkRestoredWeights(restored) })

  const tokens = computed(() => run.lastResult.value?.tokens.tokens ?? [])
  const availableTerms = computed(() => Object.keys(run.lastResult.value?.debertaTerms ?? {}) as AttentionTerm[])
  const embeddingOption = computed(() => {
    const r = run.lastResult.value
    if (!r) return null
    const table = r[selections.embedding]
    const dims = Array.from({ length: table.cols }, (_, k) => String(k))
    return buildHeatmapOption(table, r.tokens.tokens, dims, { signed: true, valueName: `${selections.embedding} embedding`, rowAxisName: 'token i', colAxisName: 'dimension' })
  })
  const sameWordOption = computed(() => {
    const r = run.lastResult.value
    return r && r.interference.sameWord.length > 0 ? buildSameWordOption(r.interference.sameWord) : null
  })
  const bertOption = computed(() => {
    const r = run.lastResult.value
    return r ? buildHeatmapOption(r.bertAttention, tokens.value, tokens.value, { fromZero: true, valueName: 'attention probability' }) : null
  })
  const termOption = computed(() => {
    const matrix = run.lastResult.value?.debertaTerms[selections.term]
    return matrix ? buildHeatmapOption(matrix, tokens.value, tokens.value, { signed: true, valueName: `${selections.term} score` }) : null
  })

  const compare = useProblemComparison({ view, selections, lastResult: run.lastResult, lastRun: run.lastRun, lastRequest: run.lastRequest, isResult: isProblemResult })

  return { ...run, inputs, selections, view, compute, resultInputs, changed, tokens, availableTerms, embeddingOption, sameWordOption, bertOption, termOption, compare }
}
