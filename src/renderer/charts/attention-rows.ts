// Several query rows at once: the rows of the selected query tokens summed or averaged, for every term, the summed
// scores and the probabilities of the head on screen (BertViz #125: select several tokens). Pure, from the
// AttentionResult's matrices.
import type { AttentionResult, AttentionTerm } from '../../common/api'
import { ATTENTION_TERMS } from '../../common/api'
import type { ChartOption, LineSeriesOption } from './types'
import { TERM_COLORS, axisTooltip, displayToken, labelInterval } from './common'

/** A row-major matrix (a Matrix, or plain numbers). */
interface MatrixValues {
  rows: number
  cols: number
  data: ArrayLike<number>
}

export type RowsMode = 'sum' | 'mean'
export const ROWS_MODES: readonly RowsMode[] = ['mean', 'sum']

/** The selected rows that exist in a T-row matrix, sorted, each once. */
export function validRows(rows: readonly number[], T: number): number[] {
  return [...new Set(rows.filter((r) => Number.isInteger(r) && r >= 0 && r < T))].sort((a, b) => a - b)
}

/** Σ_i∈rows matrix[i, ·] (or its mean): one value per column. */
export function combineRows(matrix: MatrixValues, rows: readonly number[], mode: RowsMode): number[] {
  const out = new Array<number>(matrix.cols).fill(0)
  for (const i of rows) for (let j = 0; j < matrix.cols; j++) out[j] += matrix.data[i * matrix.cols + j]
  return mode === 'mean' && rows.length > 0 ? out.map((v) => v / rows.length) : out
}

/** The combined rows of every computed term, the scores and the probabilities, by name (series order). */
export function combinedRows(result: Pick<AttentionResult, 'terms' | 'scores' | 'probabilities'>, rows: readonly number[], mode: RowsMode): Array<{ name: AttentionTerm | 'scores' | 'probabilities'; values: number[] }> {
  const T = result.scores.rows
  const picked = validRows(rows, T)
  const out: Array<{ name: AttentionTerm | 'scores' | 'probabilities'; values: number[] }> = []
  for (const term of ATTENTION_TERMS) {
    const matrix = result.terms[term]
    if (matrix) out.push({ name: term, values: combineRows(matrix, picked, mode) })
  }
  out.push({ name: 'scores', values: combineRows(result.scores, picked, mode) })
  out.push({ name: 'probabilities', values: combineRows(result.probabilities, picked, mode) })
  return out
}

/** Key tokens on x; each term and the scores on the left axis, the probabilities as bars on the right axis. */
export function buildCombinedRowsOption(result: Pick<AttentionResult, 'terms' | 'scores' | 'probabilities' | 'tokens'>, rows: readonly number[], mode: RowsMode): ChartOption | null {
  const T = result.scores.rows
  const picked = validRows(rows, T)
  if (picked.length === 0) return null
  const categories = result.tokens.tokens.map((t, j) => `${j} ${displayToken(t)}`)
  const lines = combinedRows(result, picked, mode)
  const what = `${mode === 'sum' ? 'sum' : 'mean'} of query rows ${picked.map((i) => `${i} ${displayToken(result.tokens.tokens[i])}`).join(', ')}`
  return {
    animation: false,
    title: { text: what.length > 120 ? `${what.slice(0, 117)}…` : what, left: 'center', textStyle: { fontSize: 13 } },
    legend: { top: 24 },
    grid: { left: 56, right: 56, top: 60, bottom: 64 },
    tooltip: { trigger: 'axis', confine: true, formatter: axisTooltip(categories) as never },
    xAxis: { type: 'category', data: categories, name: 'key j', nameLocation: 'middle', nameGap: 48, axisLabel: { rotate: 45, interval: labelInterval(T) } },
    yAxis: [
      { type: 'value', name: 'score', nameLocation: 'middle', nameGap: 40 },
      { type: 'value', name: 'probability', nameLocation: 'middle', nameGap: 40, min: 0, splitLine: { show: false } },
    ],
    series: lines.map(({ name, values }) =>
      name === 'probabilities'
        ? { type: 'bar', name, yAxisIndex: 1, data: values, itemStyle: { opacity: 0.45 }, color: '#888888' }
        : ({ type: 'line', name, data: values, symbolSize: 4, color: TERM_COLORS[name] ?? '#e15759', lineStyle: name === 'scores' ? { type: 'dashed' } : undefined } as LineSeriesOption),
    ),
  }
}
