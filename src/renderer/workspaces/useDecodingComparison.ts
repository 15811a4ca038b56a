// "Compare with…" in the Decoding workspace: model B decodes the same text with the same k after every run of A;
// each [MASK] slot shows A's and B's top-k side by side, plain head and EMD, on one probability axis per slot.
import { computed, type ShallowRef } from 'vue'
import type { DecodingResult } from '../../common/api'
import { useLab } from '../lab-context'
import { buildComparisonTopKOption } from '../charts/compare'
import { SERIES_COLORS } from '../charts/common'
import { comparisonProvenance, type ProvenanceEntries as Provenance } from '../provenance'
import { sharedProbabilityMax, topKChartHeight } from '../charts/topk'
import { useComparison, type CompareView } from '../composables/useComparison'
import type { LastRun } from '../workspace-state'
import { compareDecoding } from './decoding-comparison'

export interface DecodingComparisonParts {
  view: { compare: CompareView }
  lastResult: ShallowRef<DecodingResult | null>
  lastRun: ShallowRef<LastRun | null>
  lastRequest: ShallowRef<Record<string, unknown> | null>
  isResult(value: unknown): value is DecodingResult
}

export function useDecodingComparison(ws: DecodingComparisonParts) {
  const { api } = useLab()
  const comparison = useComparison<DecodingResult>({
    view: ws.view,
    a: { lastResult: ws.lastResult, lastRun: ws.lastRun, lastRequest: ws.lastRequest },
    isResult: ws.isResult,
    requestFor(aRequest) {
      const request = { text: String(aRequest.text ?? ''), topK: Number(aRequest.topK) || 10 }
      return { request, notes: [], start: (common) => api.runDecoding({ ...common, ...request }) }
    },
  })

  const slots = computed(() => {
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    const text = ws.lastRequest.value?.text
    if (!a || !b || !comparison.paired.value || typeof text !== 'string') return null
    const sides = { a: { result: a, run: ws.lastRun.value }, b: { result: b, run: comparison.run.lastRun.value } }
    return compareDecoding(text, a, b).map((slot, index) => {
      const provenance: Provenance = comparisonProvenance(
        sides,
        text,
        {
          top_k: String(ws.lastRequest.value?.topK ?? ''),
          slot: `${slot.label} at character ${slot.start} (A token ${slot.a?.position ?? '—'}, B token ${slot.b?.position ?? '—'})`,
        },
      )
      const lists = [slot.a?.plain, slot.a?.emd, slot.b?.plain, slot.b?.emd].filter((l): l is NonNullable<typeof l> => !!l)
      const max = sharedProbabilityMax(...lists)
      const height = topKChartHeight(Math.max(1, ...lists.map((l) => l.length))) + 60
      const chart = (side: 'a' | 'b', head: 'plain' | 'emd') => {
        const prediction = slot[side]
        if (!prediction) return null
        const model = side === 'a' ? a.model.label : b.model.label
        const title = `${side.toUpperCase()} · ${model} · ${head === 'plain' ? 'plain MLM head' : 'EMD'}`
        return buildComparisonTopKOption(prediction[head], { title, provenance, max, height, color: SERIES_COLORS[side === 'a' ? 0 : 1] })
      }
      return { index, slot, height, provenance, charts: { plainA: chart('a', 'plain'), plainB: chart('b', 'plain'), emdA: chart('a', 'emd'), emdB: chart('b', 'emd') } }
    })
  })

  return { comparison, slots }
}
