// Speed benchmarks: measured median time against sequence length (with the min–max of the repeats as whiskers)
// beside the FLOP model's prediction, and the same curve compared across stored runs.
import type { BenchmarkCase, BenchmarkPart } from '../../common/api'
import type { CustomSeriesRenderItem } from 'echarts'
import type { CustomSeriesOption } from 'echarts/charts'
import type { ChartOption, LineSeriesOption } from './types'
import { SERIES_COLORS, escapeHtml, formatExact } from './common'

type Variant = BenchmarkCase['variant']
const VARIANT_LABEL: Record<Variant, string> = { disentangled: 'disentangled (DeBERTa)', standard: 'standard (BERT)' }

/** Cases of one part and variant, ordered by sequence length. */
export function casesFor(cases: BenchmarkCase[], part: BenchmarkPart, variant: Variant): BenchmarkCase[] {
  return cases.filter((c) => c.part === part && c.variant === variant).sort((a, b) => a.seq - b.seq)
}

/** Name of the min–max whiskers drawn for a measured series. */
export const spreadName = (measured: string): string => `${measured}: min–max over the repeats`

/**
 * Vertical min–max whiskers with caps at each sequence length: data items are [seq, minMs, maxMs] (the spread
 * of the repeated timings around the median the line goes through).
 */
export const spreadRenderItem: CustomSeriesRenderItem = (_params, api) => {
  const [x, low] = api.coord([api.value(0), api.value(1)])
  const [, high] = api.coord([api.value(0), api.value(2)])
  const half = 5
  const style = { stroke: api.visual('color') as string, lineWidth: 1.5 }
  return {
    type: 'group',
    children: [
      { type: 'line', shape: { x1: x, y1: low, x2: x, y2: high }, style },
      { type: 'line', shape: { x1: x - half, y1: low, x2: x + half, y2: low }, style },
      { type: 'line', shape: { x1: x - half, y1: high, x2: x + half, y2: high }, style },
    ],
  }
}

function spreadSeries(name: string, color: string, rows: BenchmarkCase[]): CustomSeriesOption {
  // rangeData: exports list both ends of each whisker (charts/data.ts)
  // encode y over both ends: the value axis then covers the slowest repeat too
  const series = {
    type: 'custom',
    name: spreadName(name),
    color,
    renderItem: spreadRenderItem,
    encode: { x: 0, y: [1, 2] },
    data: rows.map((r) => [r.seq, r.minMs, r.maxMs]),
    z: 3,
    tooltip: { show: false },
    rangeData: true,
  }
  return series as CustomSeriesOption
}

const legendNames = (series: Array<{ type?: string; name?: unknown }>): string[] => series.filter((s) => s.type !== 'custom').map((s) => String(s.name))

function tooltipFor(lookup: Map<string, BenchmarkCase>) {
  return (params: unknown): string => {
    const list = ((Array.isArray(params) ? params : [params]) as Array<{ seriesName?: string; seriesType?: string; value: [number, number] }>).filter((p) => p.seriesType !== 'custom')
    const lines = list.map((p) => {
      const found = lookup.get(`${p.seriesName}@${p.value[0]}`)
      const extra = found && !p.seriesName?.includes('predicted') ? ` (min ${formatExact(found.minMs)}, max ${formatExact(found.maxMs)}, ${formatExact(found.gflops)} GFLOP/s)` : ''
      return `${escapeHtml(p.seriesName ?? '')}: ${formatExact(p.value[1])} ms${extra}`
    })
    return `<div class="chart-tip"><b>T = ${list[0]?.value[0] ?? ''}</b><br>${lines.join('<br>')}</div>`
  }
}

const axes = (part: BenchmarkPart) =>
  ({
    xAxis: { type: 'log', logBase: 2, name: 'sequence length T', nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'value', name: `${part} time (ms)`, nameLocation: 'middle', nameGap: 44 },
  }) as const

/** Measured median (solid) and FLOP-model prediction (dashed) per attention variant, for one part. */
export function buildBenchmarkOption(cases: BenchmarkCase[], part: BenchmarkPart, opts: { title?: string } = {}): ChartOption {
  const series: Array<LineSeriesOption | CustomSeriesOption> = []
  const lookup = new Map<string, BenchmarkCase>()
  const variants: Variant[] = ['disentangled', 'standard']
  variants.forEach((variant, index) => {
    const rows = casesFor(cases, part, variant)
    if (rows.length === 0) return
    const name = `${VARIANT_LABEL[variant]} measured`
    for (const row of rows) lookup.set(`${name}@${row.seq}`, row)
    series.push({ type: 'line', name, color: SERIES_COLORS[index], symbol: 'circle', data: rows.map((r) => [r.seq, r.medianMs]) })
    series.push(spreadSeries(name, SERIES_COLORS[index], rows))
    series.push({
      type: 'line',
      name: `${VARIANT_LABEL[variant]} predicted`,
      color: SERIES_COLORS[index],
      lineStyle: { type: 'dashed' },
      // a line needs two points: a single-T run shows its prediction as a hollow marker instead
      symbol: rows.length > 1 ? 'none' : 'emptyCircle',
      data: rows.map((r) => [r.seq, r.predictedMs]),
    })
  })
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    // the whiskers go with their line (named in the caption), not in the legend
    legend: { top: opts.title ? 24 : 0, data: legendNames(series) },
    grid: { left: 8, right: 16, top: opts.title ? 60 : 36, bottom: 8 },
    tooltip: { trigger: 'axis', confine: true, formatter: tooltipFor(lookup) as never },
    ...axes(part),
    series,
  }
}

export interface RunCurve {
  label: string
  cases: BenchmarkCase[]
}

/** A reference timing per sequence length (e.g. HF PyTorch on the same machine), drawn as a dashed line. */
export interface ReferenceLine {
  name: string
  points: Array<{ seq: number; ms: number }>
}

/** One measured curve per stored run (same part and variant), to compare backends, presets or machines. */
export function buildRunComparisonOption(runs: RunCurve[], part: BenchmarkPart, variant: Variant, opts: { title?: string; reference?: ReferenceLine | null } = {}): ChartOption {
  const lookup = new Map<string, BenchmarkCase>()
  const series: Array<LineSeriesOption | CustomSeriesOption> = runs.flatMap((run, index) => {
    const rows = casesFor(run.cases, part, variant)
    for (const row of rows) lookup.set(`${run.label}@${row.seq}`, row)
    const color = SERIES_COLORS[index % SERIES_COLORS.length]
    return [{ type: 'line' as const, name: run.label, color, symbol: 'circle', data: rows.map((r) => [r.seq, r.medianMs]) }, spreadSeries(run.label, color, rows)]
  })
  if (opts.reference && opts.reference.points.length > 0) {
    series.push({
      type: 'line' as const,
      name: opts.reference.name,
      color: '#888888',
      symbol: 'diamond',
      lineStyle: { type: 'dashed' },
      data: opts.reference.points.map((p) => [p.seq, p.ms]),
    })
  }
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    legend: { type: 'scroll', top: opts.title ? 24 : 0, data: legendNames(series) },
    grid: { left: 8, right: 16, top: opts.title ? 60 : 36, bottom: 8 },
    tooltip: { trigger: 'axis', confine: true, formatter: tooltipFor(lookup) as never },
    ...axes(part),
    series,
  }
}
