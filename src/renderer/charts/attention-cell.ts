// The hover read-out of one attention cell (i, j): every term's score there, their sum, the probability and the
// cell's share of its row, δ(i, j), the relative ids and the rel-embedding rows c2p and p2c read for it (exact,
// log bucket or clipped) — all from the AttentionResult (terms, scores, probabilities, relativeIds, relativeRows).
import type { AttentionResult, AttentionTerm } from '../../common/api'
import { escapeHtml, formatExact } from './common'
import type { MatrixValues } from './heatmap'

type CellSource = Pick<AttentionResult, 'relativeIds' | 'relativeRows'> & {
  terms: Partial<Record<AttentionTerm, MatrixValues>>
  scores: MatrixValues
  probabilities?: MatrixValues
  disabledTerms?: readonly string[]
}

const READ_KIND: Record<string, string> = { exact: 'exact', 'log-bucket': 'logarithmic bucket', clipped: 'clipped to the table’s end' }

/** |x_ij| / Σ_j |x_ij| over row i (0 when the row is all zero). */
export function rowShare(matrix: MatrixValues, i: number, j: number): number {
  let total = 0
  for (let c = 0; c < matrix.cols; c++) total += Math.abs(matrix.data[i * matrix.cols + c])
  return total > 0 ? Math.abs(matrix.data[i * matrix.cols + j]) / total : 0
}

const percent = (share: number): string => `${(share * 100).toFixed(share >= 0.1 ? 1 : 2)} %`

/** HTML lines (already escaped) appended to the heat map's tooltip for cell (i, j); `shown`: the matrix drawn. */
export function attentionCellDetail(result: CellSource, shown?: { name: string; matrix: MatrixValues }): (i: number, j: number) => string {
  const T = result.scores.rows
  const disabled = new Set(result.disabledTerms ?? [])
  return (i, j) => {
    const k = i * result.scores.cols + j
    const terms = Object.entries(result.terms)
      .filter(([, matrix]) => !!matrix)
      .map(([term, matrix]) => `${escapeHtml(term)} ${formatExact(matrix!.data[k])}${disabled.has(term) ? ' (ablated: not in the sum)' : ''}`)
    const lines = [terms.join(' · '), `sum of enabled terms ${formatExact(result.scores.data[k])}`]
    if (result.probabilities) lines.push(`probability ${formatExact(result.probabilities.data[k])} — ${percent(result.probabilities.data[k])} of row ${i}’s attention`)
    if (shown && shown.name !== 'probabilities') lines.push(`share of row ${i}: ${percent(rowShare(shown.matrix, i, j))} of Σ_j |${escapeHtml(shown.name)}|`)
    const delta = i - j
    const ids = result.relativeIds
    if (ids && ids.length === 2 * T - 1) {
      lines.push(`δ(i, j) = i − j = ${delta} · c2p reads bucket ${ids[delta + T - 1]} · p2c reads bucket ${ids[-delta + T - 1]} (of δ(j, i) = ${-delta})`)
    } else {
      lines.push(`δ(i, j) = i − j = ${delta}${ids ? '' : ' (no relative position ids: this model has none, or the result predates them)'}`)
    }
    const rows = result.relativeRows
    if (rows && rows.rows.length === 2 * T - 1) {
      const at = delta + T - 1
      lines.push(`rel-embedding row ${rows.rows[at]} of ${rows.tableRows} (${READ_KIND[rows.kinds[at]] ?? rows.kinds[at]}): c2p uses its key K<sub>r</sub>, p2c its query Q<sub>r</sub>`)
    }
    return lines.join('<br>')
  }
}
