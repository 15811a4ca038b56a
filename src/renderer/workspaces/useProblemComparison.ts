// "Compare with…" in the Problem demo: model B runs the sentence of every run of A, and the demo's charts (the
// embedding rows shown, BERT's layer-0 baseline, the DeBERTa term shown) are drawn A | B | B − A, token by token when
// both tokenized the sentence alike, else over the aligned spans (problem-comparison.ts); the recovery R² and a
// repeated word's cosines go to an A | B | B − A table. A model the Problem demo refuses (no absolute position table,
// a sentence longer than it) is said instead of a chart.
import { computed, watch, type ShallowRef } from 'vue'
import type { AttentionTerm, ProblemDemoResult } from '../../common/api'
import { useLab } from '../lab-context'
import { buildComparisonHeatmapOption, sharedRange } from '../charts/compare'
import type { MatrixValues } from '../charts/heatmap'
import { comparisonProvenance, type ProvenanceEntries as Provenance } from '../provenance'
import { useComparison, type CompareView } from '../composables/useComparison'
import type { LastRun } from '../workspace-state'
import { compareProblem, problemRefusal, problemRequestForB, type ProblemEmbeddingTable } from './problem-comparison'

export interface ProblemComparisonParts {
  view: { compare: CompareView }
  selections: { embedding: ProblemEmbeddingTable; term: AttentionTerm }
  lastResult: ShallowRef<ProblemDemoResult | null>
  lastRun: ShallowRef<LastRun | null>
  lastRequest: ShallowRef<Record<string, unknown> | null>
  isResult(value: unknown): value is ProblemDemoResult
}

/** A model label short enough for a chart title. */
const short = (label: string): string => (label.length > 30 ? `${label.slice(0, 29)}…` : label)

export function useProblemComparison(ws: ProblemComparisonParts) {
  const { api } = useLab()
  const comparison = useComparison<ProblemDemoResult>({
    view: ws.view,
    a: { lastResult: ws.lastResult, lastRun: ws.lastRun, lastRequest: ws.lastRequest },
    isResult: ws.isResult,
    requestFor(aRequest) {
      const planned = problemRequestForB(aRequest)
      return { ...planned, start: (common) => api.runProblemDemo({ ...common, text: String(planned.request.text ?? '') }) }
    },
  })

  /** The Problem demo refused B (its job failed with a refusal): why, said in place of the charts. */
  const refused = computed(() => (comparison.model.value ? problemRefusal(comparison.run.job.state.error, comparison.label.value) : null))
  // another B (or none): the refusal of the previous one no longer applies
  watch(
    () => JSON.stringify(comparison.model.value),
    () => comparison.run.job.clearError(),
  )

  const data = computed(() => {
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    const text = ws.lastRequest.value?.text
    if (!a || !b || !comparison.paired.value || typeof text !== 'string') return null
    return compareProblem(text, a, b, ws.selections.embedding, ws.selections.term)
  })

  const provenance = computed((): Provenance | null => {
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    const d = data.value
    if (!a || !b || !d) return null
    const text = String(ws.lastRequest.value?.text ?? '')
    return comparisonProvenance({ a: { result: a, run: ws.lastRun.value }, b: { result: b, run: comparison.run.lastRun.value } }, text, {
      embedding: `${ws.selections.embedding} rows`,
      attention: `layer 0, head 0: BERT baseline probabilities, DeBERTa ${ws.selections.term} term`,
      level:
        d.level === 'token'
          ? `tokens (${a.tokens.tokens.length})`
          : `${d.alignment.units.length} aligned spans (mean over tokens; probabilities: sum over keys)`,
    })
  })

  const options = computed(() => {
    const d = data.value
    const p = provenance.value
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    if (!d || !p || !a || !b) return null
    const axis = d.level === 'token' ? 'token' : 'span'
    const dims = (width: number): string[] => Array.from({ length: width }, (_, k) => String(k))
    const level = d.level === 'word' ? ' · span level' : ' · token level'
    const heatmap = (matrix: MatrixValues, cols: string[], title: string, opts: { valueName: string; fromZero?: boolean; range?: [number, number]; embedding?: boolean }) =>
      buildComparisonHeatmapOption(matrix, { rows: d.labels, cols }, {
        title,
        provenance: p,
        valueName: opts.valueName,
        signed: !opts.fromZero,
        fromZero: opts.fromZero,
        range: opts.range,
        rowAxisName: `${axis} i`,
        colAxisName: opts.embedding ? 'dimension' : `${axis} j`,
        // a row has tens to hundreds of dimensions in a narrow chart: about as many labelled as there are rows (all of which are)
        ...(opts.embedding ? { maxLabels: Math.max(d.labels.length, 8) } : {}),
      })
    const table = ws.selections.embedding
    const term = ws.selections.term
    const embeddingRange = sharedRange([d.embedding.a?.data ?? null, d.embedding.b?.data ?? null], 'signed')
    const bertRange = sharedRange([d.bert.a?.data ?? null, d.bert.b?.data ?? null], 'probability')
    const termRange = sharedRange([d.term.a?.data ?? null, d.term.b?.data ?? null], 'signed')
    const embedding = (side: 'a' | 'b', label: string) => {
      const matrix = d.embedding[side]
      return matrix ? heatmap(matrix, dims(d.widths[side]), `${side.toUpperCase()}: ${short(label)}\n${table} embedding rows`, { valueName: `${table} embedding`, range: embeddingRange, embedding: true }) : null
    }
    const bert = (side: 'a' | 'b', label: string) => {
      const matrix = d.bert[side]
      return matrix ? heatmap(matrix, d.labels, `${side.toUpperCase()}: ${short(label)}\nBERT baseline, layer 0 head 0`, { valueName: 'attention probability', fromZero: true, range: bertRange }) : null
    }
    const termChart = (side: 'a' | 'b', label: string) => {
      const matrix = d.term[side]
      return matrix ? heatmap(matrix, d.labels, `${side.toUpperCase()}: ${short(label)}\nDeBERTa ${term} term, layer 0 head 0`, { valueName: `${term} score`, range: termRange }) : null
    }
    return {
      embedding: {
        a: embedding('a', a.model.label),
        b: embedding('b', b.model.label),
        difference: d.embedding.difference ? heatmap(d.embedding.difference, dims(d.widths.a), `B − A\n${table} embedding rows${level}`, { valueName: `${table} embedding, B − A`, embedding: true }) : null,
      },
      bert: {
        a: bert('a', a.model.label),
        b: bert('b', b.model.label),
        difference: d.bert.difference ? heatmap(d.bert.difference, d.labels, `B − A\nBERT baseline probabilities${level}`, { valueName: 'attention probability, B − A' }) : null,
      },
      term: {
        a: termChart('a', a.model.label),
        b: termChart('b', b.model.label),
        difference: d.term.difference ? heatmap(d.term.difference, d.labels, `B − A\nDeBERTa ${term} term${level}`, { valueName: `${term} score, B − A` }) : null,
      },
    }
  })

  return { comparison, refused, data, provenance, options }
}
