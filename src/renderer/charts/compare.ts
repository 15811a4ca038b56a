// Charts of a two-model comparison: a heat map (A, B, or B − A) or a top-k bar chart that carries its
// provenance (both models, the text, the runs) as a subtitle, so PNG and SVG show it; CSV and JSON take the same
// entries from BaseChart's `provenance` prop.
import type { TokenPrediction } from '../../common/api'
import { buildHeatmapOption, type HeatmapOptions, type MatrixValues } from './heatmap'
import { buildTopKBarOption, type TopKOptions } from './topk'
import { provenanceLines, type ProvenanceEntries as Provenance } from '../provenance'
import type { ChartOption, LineSeriesOption } from './types'
import { SERIES_COLORS, escapeHtml, formatExact } from './common'

const LINE_PX = 13
const TITLE_LINE_PX = 17

/** The option with `provenance` as subtitle lines under its title (PNG, SVG); CSV and JSON take it from BaseChart's prop. */
function withProvenance(option: ChartOption, title: string, provenance: Provenance, at: 'top' | 'bottom'): ChartOption {
  const lines = provenanceLines(provenance, 72)
  // the subtitle's lines, the title's lines beyond the first, the title's padding (5 px each side) and its gap to the subtitle (10 px), with room to spare
  const extra = LINE_PX * lines.length + 24 + TITLE_LINE_PX * (title.split('\n').length - 1)
  const grid = { ...(option.grid as Record<string, number>) }
  if (at === 'bottom') grid.bottom = (grid.bottom ?? 8) + extra
  else grid.top = (grid.top ?? 8) + extra
  return {
    ...option,
    title: {
      text: title,
      subtext: lines.join('\n'),
      left: 'center',
      ...(at === 'bottom' ? { bottom: 0 } : { top: 0 }),
      textStyle: { fontSize: 13, lineHeight: TITLE_LINE_PX },
      subtextStyle: { fontSize: 10, lineHeight: LINE_PX },
    },
    grid,
  }
}

export function buildComparisonHeatmapOption(matrix: MatrixValues, labels: { rows: string[]; cols: string[] }, opts: HeatmapOptions & { title: string; provenance: Provenance }): ChartOption {
  const { provenance, title, ...heatmap } = opts
  return withProvenance(buildHeatmapOption(matrix, labels.rows, labels.cols, heatmap), title, provenance, 'bottom')
}

export function buildComparisonTopKOption(predictions: TokenPrediction[], opts: TopKOptions & { title: string; provenance: Provenance }): ChartOption {
  const { provenance, title, ...topk } = opts
  // the series keeps the title as its name (the CSV's series column)
  const option = buildTopKBarOption(predictions, { ...topk, title })
  return withProvenance(option, title, provenance, 'top')
}

/** Two distance → id curves over the same distances (the Relative positions comparison). */
export interface ComparedCurves {
  distances: number[]
  a: number[]
  b: number[]
}

/** Both models' distance → relative id curves on one chart (A solid, B dashed), with the provenance as subtitle. */
export function buildComparisonCurveOption(curves: ComparedCurves, names: { a: string; b: string }, opts: { title: string; provenance: Provenance }): ChartOption {
  if (curves.a.length !== curves.distances.length || curves.b.length !== curves.distances.length) throw new Error('curve distances and ids differ in length')
  const line = (name: string, ids: number[], side: 0 | 1): LineSeriesOption => ({
    type: 'line',
    name,
    step: 'middle',
    showSymbol: false,
    color: SERIES_COLORS[side],
    lineStyle: side === 1 ? { type: 'dashed', width: 2 } : { width: 2 },
    data: curves.distances.map((d, k) => [d, ids[k]]),
  })
  const option: ChartOption = {
    animation: false,
    legend: { bottom: 0 },
    // the legend under the axis name
    grid: { left: 8, right: 16, top: 8, bottom: 64 },
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params]
        const first = list[0]?.value as [number, number] | undefined
        const lines = list.map((p) => `${escapeHtml(p.seriesName ?? '')}: ${formatExact((p.value as [number, number])[1])}`)
        return `<div class="chart-tip"><b>δ = ${first ? first[0] : ''}</b><br>${lines.join('<br>')}</div>`
      },
    },
    xAxis: { type: 'value', name: 'relative distance δ = i − j', nameLocation: 'middle', nameGap: 26, min: 'dataMin', max: 'dataMax', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'relative id', nameLocation: 'middle', nameGap: 36 },
    series: [line(names.a, curves.a, 0), line(names.b, curves.b, 1)],
  }
  return withProvenance(option, opts.title, opts.provenance, 'top')
}

/** The range both charts of a pair share, so equal colours mean equal values in A and B. */
export function sharedRange(values: Array<ArrayLike<number> | null>, kind: 'probability' | 'signed' | 'plain'): [number, number] | undefined {
  let low = Infinity
  let high = -Infinity
  for (const list of values) {
    if (!list) continue
    for (let k = 0; k < list.length; k++) {
      const v = list[k]
      if (!Number.isFinite(v)) continue
      if (v < low) low = v
      if (v > high) high = v
    }
  }
  if (low > high) return undefined
  if (kind === 'probability') return [0, high]
  if (kind === 'signed') {
    const m = Math.max(Math.abs(low), Math.abs(high))
    return [-m, m]
  }
  return [low, high]
}
