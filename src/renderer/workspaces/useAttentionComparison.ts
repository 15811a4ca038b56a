// "Compare with…" in the Attention workspace: model B runs the request of every run of A (layer and head
// kept where B has them), and the view on screen (a term, the scores or the probabilities) is drawn A | B | B − A,
// token by token when both tokenized the text alike, else pooled to the aligned spans (see attention-comparison.ts).
import { computed, type ShallowRef } from 'vue'
import type { AttentionResult } from '../../common/api'
import { useLab } from '../lab-context'
import { buildComparisonHeatmapOption, sharedRange } from '../charts/compare'
import { comparisonProvenance, type ProvenanceEntries as Provenance } from '../provenance'
import { useComparison, type CompareView } from '../composables/useComparison'
import type { LastRun } from '../workspace-state'
import { attentionRequestForB, compareAttention, type ComparedView } from './attention-comparison'

export interface AttentionComparisonParts {
  view: { compare: CompareView }
  selections: { term: ComparedView }
  lastResult: ShallowRef<AttentionResult | null>
  lastRun: ShallowRef<LastRun | null>
  lastRequest: ShallowRef<Record<string, unknown> | null>
  isResult(value: unknown): value is AttentionResult
}

/** How the word level pools, in words (legend and provenance). */
export const POOLING_TEXT = {
  'sum-keys': 'summed over the key sub-tokens of a span, averaged over its query sub-tokens (rows still sum to 1)',
  mean: 'averaged over the query and key sub-tokens of a span',
} as const

/** The same, in the provenance (one short line). */
const POOLING_SHORT = { 'sum-keys': 'Σ over key sub-tokens, mean over query sub-tokens', mean: 'mean over query and key sub-tokens' } as const

/** A model label short enough for a chart title. */
const short = (label: string): string => (label.length > 44 ? `${label.slice(0, 43)}…` : label)

export function useAttentionComparison(ws: AttentionComparisonParts) {
  const { api } = useLab()
  const comparison = useComparison<AttentionResult>({
    view: ws.view,
    a: { lastResult: ws.lastResult, lastRun: ws.lastRun, lastRequest: ws.lastRequest },
    isResult: ws.isResult,
    requestFor(aRequest, info) {
      const { request, notes } = attentionRequestForB(aRequest, info)
      return { request, notes, start: (common) => api.runAttention({ ...common, ...(request as Omit<Parameters<typeof api.runAttention>[0], 'model'>) }) }
    },
  })

  const data = computed(() => {
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    const text = ws.lastRequest.value?.text
    if (!a || !b || !comparison.paired.value || typeof text !== 'string') return null
    return compareAttention(text, a, b, ws.selections.term)
  })

  const provenance = computed((): Provenance | null => {
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    const d = data.value
    if (!a || !b || !d) return null
    const text = String(ws.lastRequest.value?.text ?? '')
    const terms = (request: Record<string, unknown> | null): string => {
      const off = Array.isArray(request?.disabledTerms) ? (request.disabledTerms as string[]) : []
      return (off.length ? `without ${off.join(', ')}` : 'all terms') + (request?.p2p ? ', p2p on' : '')
    }
    return comparisonProvenance({ a: { result: a, run: ws.lastRun.value }, b: { result: b, run: comparison.run.lastRun.value } }, text, {
      view: ws.selections.term,
      layer_head_a: `${a.layer} / ${a.head}`,
      layer_head_b: `${b.layer} / ${b.head}`,
      terms_a: terms(ws.lastRequest.value),
      terms_b: terms(comparison.run.lastRequest.value),
      level: d.level === 'token' ? `tokens (${a.tokens.tokens.length})` : `${d.alignment.units.length} aligned spans, ${POOLING_SHORT[d.pooling!]}`,
    })
  })

  const options = computed(() => {
    const d = data.value
    const p = provenance.value
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    if (!d || !p || !a || !b) return null
    const view = ws.selections.term
    const probabilities = view === 'probabilities'
    const range = sharedRange([d.a.matrix?.data ?? null, d.b.matrix?.data ?? null], probabilities ? 'probability' : 'signed')
    const valueName = probabilities ? 'probability' : view === 'scores' ? 'score (sum of enabled terms)' : `${view} score`
    const axis = d.level === 'token' ? 'token' : 'span'
    const heatmap = (matrix: NonNullable<typeof d.a.matrix>, labels: string[], title: string, signed: boolean, fixed?: [number, number]) =>
      buildComparisonHeatmapOption(matrix, { rows: labels, cols: labels }, { title, provenance: p, valueName, signed, fromZero: !signed, range: fixed, rowAxisName: `query ${axis}`, colAxisName: `key ${axis}` })
    return {
      a: d.a.matrix ? heatmap(d.a.matrix, d.a.labels, `A: ${short(a.model.label)}\n${view} · layer ${a.layer} · ${a.head === 'mean' ? 'mean over heads' : `head ${a.head}`}`, !probabilities, range) : null,
      b: d.b.matrix ? heatmap(d.b.matrix, d.b.labels, `B: ${short(b.model.label)}\n${view} · layer ${b.layer} · ${b.head === 'mean' ? 'mean over heads' : `head ${b.head}`}`, !probabilities, range) : null,
      difference: d.difference ? heatmap(d.difference, d.a.labels, `B − A\n${view}${d.level === 'word' ? ' · word level' : ' · token level'}`, true) : null,
    }
  })

  return { comparison, data, provenance, options }
}
