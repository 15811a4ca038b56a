// "Compare with…" in the Relative positions workspace: model B runs the request of every run of A (text, second
// sentence, clipping k), and the matrix shown (δ(i, j) or the ids used) is drawn A | B | B − A, token by token when
// both tokenized the text alike, else over the aligned spans read at each span's first token (relative-comparison.ts);
// both models' distance → id curves share one chart. A model without relative positions (BERT) is said, not run.
import { computed, type ShallowRef } from 'vue'
import type { RelativePositionsResult } from '../../common/api'
import { useLab } from '../lab-context'
import { buildComparisonCurveOption, buildComparisonHeatmapOption, sharedRange } from '../charts/compare'
import { comparisonProvenance, type ProvenanceEntries as Provenance } from '../provenance'
import { useComparison, type CompareView } from '../composables/useComparison'
import type { LastRun } from '../workspace-state'
import { alignedCurves, compareRelative, curveLimit, relativeRequestForB, type RelativeComparedMatrix } from './relative-comparison'

export interface RelativeComparisonParts {
  view: { compare: CompareView }
  selections: { matrix: RelativeComparedMatrix }
  lastResult: ShallowRef<RelativePositionsResult | null>
  lastRun: ShallowRef<LastRun | null>
  lastRequest: ShallowRef<Record<string, unknown> | null>
  isResult(value: unknown): value is RelativePositionsResult
}

/** A model label short enough for a chart title. */
const short = (label: string): string => (label.length > 30 ? `${label.slice(0, 29)}…` : label)

/** How a model turns δ into an id, in a few words (a chart title's second line). */
const curveShort = (curve: RelativePositionsResult['curve']): string => (curve.kind === 'log-bucket' ? `log buckets, exact |δ| ≤ ${curve.exactLimit}` : `clipped at k = ${curve.maxPosition}`)

/** How a model turns δ into an id (provenance). */
export const curveText = (curve: RelativePositionsResult['curve']): string =>
  curve.kind === 'log-bucket' ? `log buckets: exact for |δ| ≤ ${curve.exactLimit}, max position ${curve.maxPosition}` : `clipped at k = ${curve.maxPosition}`

export function useRelativeComparison(ws: RelativeComparisonParts) {
  const { api } = useLab()
  const comparison = useComparison<RelativePositionsResult>({
    view: ws.view,
    a: { lastResult: ws.lastResult, lastRun: ws.lastRun, lastRequest: ws.lastRequest },
    isResult: ws.isResult,
    requestFor(aRequest, info) {
      const planned = relativeRequestForB(aRequest, info)
      return { ...planned, start: (common) => api.runRelativePositions({ ...common, ...(planned.request as Omit<Parameters<typeof api.runRelativePositions>[0], 'model'>) }) }
    },
  })

  const data = computed(() => {
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    const text = ws.lastRequest.value?.text
    if (!a || !b || !comparison.paired.value || typeof text !== 'string') return null
    return { ...compareRelative(text, a, b, ws.selections.matrix), curves: alignedCurves(a.curve, b.curve, curveLimit(a, b)) }
  })

  const provenance = computed((): Provenance | null => {
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    const d = data.value
    if (!a || !b || !d) return null
    const text = String(ws.lastRequest.value?.text ?? '')
    return comparisonProvenance({ a: { result: a, run: ws.lastRun.value }, b: { result: b, run: comparison.run.lastRun.value } }, text, {
      matrix: ws.selections.matrix === 'delta' ? 'δ(i, j) = i − j' : 'relative id used',
      positions_a: curveText(a.curve),
      positions_b: curveText(b.curve),
      level: d.level === 'token' ? `tokens (${a.tokens.tokens.length})` : `${d.alignment.units.length} aligned spans, each read at its first token`,
    })
  })

  const options = computed(() => {
    const d = data.value
    const p = provenance.value
    const a = ws.lastResult.value
    const b = comparison.run.lastResult.value
    if (!d || !p || !a || !b) return null
    const delta = ws.selections.matrix === 'delta'
    const range = sharedRange([d.a.matrix.data, d.b.matrix.data], 'signed')
    const valueName = delta ? 'δ(i, j) = i − j' : 'relative id'
    const axis = d.level === 'token' ? 'token' : 'span'
    const shown = delta ? 'δ(i, j)' : 'ids used'
    const heatmap = (matrix: typeof d.a.matrix, labels: string[], title: string, fixed?: [number, number]) =>
      buildComparisonHeatmapOption(matrix, { rows: labels, cols: labels }, { title, provenance: p, valueName, signed: true, integer: true, range: fixed, rowAxisName: `query ${axis} i`, colAxisName: `key ${axis} j` })
    return {
      a: heatmap(d.a.matrix, d.a.labels, `A: ${short(a.model.label)}\n${shown} · ${curveShort(a.curve)}`, range),
      b: heatmap(d.b.matrix, d.b.labels, `B: ${short(b.model.label)}\n${shown} · ${curveShort(b.curve)}`, range),
      difference: d.difference ? heatmap(d.difference, d.a.labels, `B − A\n${shown}${d.level === 'word' ? ' · span level' : ' · token level'}`) : null,
      curve: buildComparisonCurveOption(d.curves, { a: `A: ${short(a.model.label)}`, b: `B: ${short(b.model.label)}` }, { title: 'Distance → relative id, A and B', provenance: p }),
    }
  })

  return { comparison, data, provenance, options }
}
