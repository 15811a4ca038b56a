// Top-k predictions for one [MASK] as horizontal bars, rank 1 at the top.
import type { TokenPrediction } from '../../common/api'
import type { ChartOption } from './types'
import { SERIES_COLORS, escapeHtml, formatExact, labelInterval } from './common'

export interface TopKOptions {
  title?: string
  color?: string
  /** shared probability-axis maximum, so plain and EMD charts side by side use one scale */
  max?: number
  /** the chart's height in px (default topKChartHeight(k)): how many token labels fit */
  height?: number
}

/** A probability-axis maximum covering both lists, rounded up to a readable step. */
export function sharedProbabilityMax(...lists: TokenPrediction[][]): number {
  let max = 0
  for (const list of lists) for (const p of list) max = Math.max(max, p.probability)
  if (max <= 0) return 1
  const exponent = Math.floor(Math.log10(max))
  const step = 10 ** exponent
  // toFixed removes the binary noise of ceil(x) · 10^e (7 · 0.1 = 0.7000000000000001)
  return Math.min(1, Number((Math.ceil(max / step) * step).toFixed(Math.max(0, -exponent))))
}

/** Pixels per bar a top-k chart needs for one readable token label. */
const ROW_PX = 14
/** Bars whose percentage is printed beside them; beyond this the numbers would touch (hover for them). */
export const MAX_VALUE_LABELS = 25

/** The height of a top-k chart: 300 px up to ~17 predictions, growing with k, at most 900 px. */
export function topKChartHeight(k: number): number {
  return Math.min(900, Math.max(300, ROW_PX * k + 60))
}

/** Token labels that fit in a chart of `height` px: every label, or every n-th (the rest on hover). */
export function topKLabelInterval(k: number, height: number): number {
  return labelInterval(k, Math.max(1, Math.floor((height - 60) / ROW_PX)))
}

export function buildTopKBarOption(predictions: TokenPrediction[], opts: TopKOptions = {}): ChartOption {
  const tokens = predictions.map((p) => p.token)
  const height = opts.height ?? topKChartHeight(predictions.length)
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    // room on the right for the longest bar's percentage label
    grid: { left: 8, right: 56, top: opts.title ? 32 : 8, bottom: 8 },
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (params) => {
        const p = Array.isArray(params) ? params[0] : params
        const prediction = predictions[p.dataIndex]
        return `<div class="chart-tip"><b>#${p.dataIndex + 1} ${escapeHtml(prediction.token)}</b> (id ${prediction.id})<br>p = ${formatExact(prediction.probability)}</div>`
      },
    },
    xAxis: { type: 'value', name: 'probability', nameLocation: 'middle', nameGap: 24, min: 0, max: opts.max },
    yAxis: { type: 'category', data: tokens, inverse: true, axisLabel: { interval: topKLabelInterval(predictions.length, height), hideOverlap: true } },
    series: [
      {
        type: 'bar',
        name: opts.title ?? 'probability',
        color: opts.color ?? SERIES_COLORS[0],
        data: predictions.map((p) => p.probability),
        label: { show: predictions.length <= MAX_VALUE_LABELS, position: 'right', fontSize: 10, formatter: (p) => `${(Number(p.value) * 100).toFixed(2)}%` },
      },
    ],
  }
}
