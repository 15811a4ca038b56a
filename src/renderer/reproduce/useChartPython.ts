// The Python exports of each workspace's charts, as computed refs next to the charts' options: each is null
// until a result is on screen (and for models a script cannot load, see pythonSupported).
import { computed, type Ref } from 'vue'
import type { AttentionResult, AttentionTerm, DecodingResult, DistanceProfileResult, ModelViewResult, ProblemDemoResult, RelativePositionsResult } from '../../common/api'
import { attentionPython, decodingPython, distanceProfilePython, modelViewPython, pairComparisonPython, problemPython, relativeCurvePython, relativeMatrixPython, sharesPython } from './views'

type Request = Ref<Record<string, unknown> | null>
interface RunParts<R> {
  lastResult: Ref<R | null>
  lastRequest: Request
}

export function useAttentionPython(ws: RunParts<AttentionResult> & { selections: { term: AttentionTerm | 'scores' | 'probabilities' } }) {
  return {
    main: computed(() => (ws.lastResult.value ? attentionPython(ws.lastResult.value, ws.lastRequest.value, ws.selections.term) : null)),
    shares: computed(() => (ws.lastResult.value ? sharesPython(ws.lastResult.value, ws.lastRequest.value) : null)),
  }
}

/** The instruments keep the text and ablation of their result in the workspace's saved view. */
export function useInstrumentPython(
  modelView: { result: Ref<ModelViewResult | null>; saved: () => { text: string; ablation: string } },
  distance: { result: Ref<DistanceProfileResult | null>; saved: () => { text: string; ablation: string } },
) {
  return {
    modelView: computed(() => (modelView.result.value ? modelViewPython(modelView.result.value, modelView.saved().text, modelView.saved().ablation) : null)),
    distance: computed(() => (distance.result.value ? distanceProfilePython(distance.result.value, distance.saved().text, distance.saved().ablation) : null)),
  }
}

export function useRelativePython(ws: RunParts<RelativePositionsResult>) {
  return {
    matrix: computed(() => (ws.lastResult.value ? relativeMatrixPython(ws.lastResult.value, ws.lastRequest.value) : null)),
    curve: computed(() => (ws.lastResult.value ? relativeCurvePython(ws.lastResult.value, ws.lastRequest.value) : null)),
    comparison: computed(() => (ws.lastResult.value ? pairComparisonPython(ws.lastResult.value, ws.lastRequest.value) : null)),
  }
}

/** One script per chart id (it recomputes every [MASK] of the text, both heads). */
export function useDecodingPython(ws: RunParts<DecodingResult>) {
  return (chartId: string) => (ws.lastResult.value ? decodingPython(ws.lastResult.value, ws.lastRequest.value, chartId) : null)
}

export function useProblemPython(ws: RunParts<ProblemDemoResult>) {
  return (chartId: string) => (ws.lastResult.value ? problemPython(ws.lastResult.value, ws.lastRequest.value, chartId) : null)
}
