// The hover read-out of one attention cell (i, j): every term's score there, their sum, δ(i, j) and the
// relative ids c2p and p2c read for it — all from the AttentionResult (terms, scores, relativeIds).
import type { AttentionResult, AttentionTerm } from '../../common/api'
import { escapeHtml, formatExact } from './common'
import type { MatrixValues } from './heatmap'

type CellSource = Pick<AttentionResult, 'relativeIds'> & {
  terms: Partial<Record<AttentionTerm, MatrixValues>>
  scores: MatrixValues
  disabledTerms?: readonly string[]
}

/** HTML lines (already escaped) appended to the heat map's tooltip for cell (i, j). */
export function attentionCellDetail(result: CellSource): (i: number, j: number) => string {
  const T = result.scores.rows
  const disabled = new Set(result.disabledTerms ?? [])
  return (i, j) => {
    const k = i * result.scores.cols + j
    const terms = Object.entries(result.terms)
      .filter(([, matrix]) => !!matrix)
      .map(([term, matrix]) => `${escapeHtml(term)} ${formatExact(matrix!.data[k])}${disabled.has(term) ? ' (ablated: not in the sum)' : ''}`)
    const lines = [terms.join(' · '), `sum of enabled terms ${formatExact(result.scores.data[k])}`]
    const delta = i - j
    const ids = result.relativeIds
    if (ids && ids.length === 2 * T - 1) {
      lines.push(`δ(i, j) = i − j = ${delta} · c2p reads bucket ${ids[delta + T - 1]} · p2c reads bucket ${ids[-delta + T - 1]} (of δ(j, i) = ${-delta})`)
    } else {
      lines.push(`δ(i, j) = i − j = ${delta}${ids ? '' : ' (no relative position ids: this model has none, or the result predates them)'}`)
    }
    return lines.join('<br>')
  }
}
