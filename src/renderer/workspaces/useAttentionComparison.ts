// "Compare with…" in the Attention workspace: model B runs the request of every run of A (layer and head
// kept where B has them), and the view on screen (a term, the scores or the probabilities) is drawn A | B | B − A,
// token by token when both tokenized the text alike, else pooled to the aligned spans (see attention-comparison.ts).
import { computed, type ShallowRef } from 'vue'
import type { AttentionResult } from '../../common/api'
import { APP_VERSION } from '../../common/version'
import { useLab } from '../lab-context'
import { buildComparisonHeatmapOption, sharedRange } from '../charts/compare'
import type { Provenance } from '../charts/data'
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
    const sha = (label: string, model: AttentionResult['model']): string => (model.weightsSha256 ? `${label} (weights sha256 ${model.weightsSha256.slice(0, 12)}…)` : label)
    return {
      model_a: sha(a.model.label, a.model),
      model_b: sha(b.model.label, b.model),
      text: text.length > 120 ? `${text.slice(0, 117)}…` : text,
      view: ws.selections.term,
      layer_head_a: `${a.layer} / ${a.head}`,
      layer_head_b: `${b.layer} / ${b.head}`,
      terms_a: terms(ws.lastRequest.value),
      terms_b: terms(comparison.run.lastRequest.value),
      level: d.level === 'token' ? `tokens (${a.tokens.tokens.length})` : `words (${d.alignment.units.length} aligned spans; ${POOLING_TEXT[d.pooling!]})`,
      run_a: a.runId ?? ws.lastRun.value?.runId ?? 'not recorded',
      run_b: b.runId ?? comparison.run.lastRun.value?.runId ?? 'not recorded',
      app: `DeBERTa Lab ${APP_VERSION}`,
    }
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
      a: d.a.matrix ? heatmap(d.a.matrix, d.a.labels, `A · ${a.model.label} · ${view} · layer ${a.layer} · ${a.head === 'mean' ? 'mean' : `head ${a.head}`}`, !probabilities, range) : null,
      b: d.b.matrix ? heatmap(d.b.matrix, d.b.labels, `B · ${b.model.label} · ${view} · layer ${b.layer} · ${b.head === 'mean' ? 'mean' : `head ${b.head}`}`, !probabilities, range) : null,
      difference: d.difference ? heatmap(d.difference, d.a.labels, `B − A · ${view}${d.level === 'word' ? ' · word level' : ''}`, true) : null,
    }
  })

  return { comparison, data, provenance, options }
}
