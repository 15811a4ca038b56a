// The data a chart draws, read back from its option: what the CSV and JSON exports contain and what the
// e2e tests compare with the API's answer (window.__debertaLabCharts[chartId].data).
import type { ChartOption } from './types'
import type { RasterHeatmap } from './raster'

export interface HeatmapData {
  kind: 'heatmap'
  rowLabels: string[]
  colLabels: string[]
  /** values[i][j] for row i, column j */
  values: Array<Array<number | null>>
}
export interface SeriesPoint {
  x: string | number
  y: number | null
}
export interface SeriesData {
  kind: 'series'
  series: Array<{ name: string; type: string; points: SeriesPoint[] }>
}
/** A chart whose numbers are a table (model view: one row per head), carried by its first series as `table`. */
export interface TableData {
  kind: 'table'
  columns: string[]
  rows: Array<Array<string | number | null>>
}
/** The numbers a chart draws. Where they come from is not part of them: see ChartProvenance (../provenance.ts). */
export type ChartData = HeatmapData | SeriesData | TableData

type AnyRecord = Record<string, unknown>
const asList = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

function categoryData(axis: unknown): string[] | undefined {
  const first = asList(axis as AnyRecord | AnyRecord[])[0]
  if (!first || first.type !== 'category' || !Array.isArray(first.data)) return undefined
  return (first.data as unknown[]).map((d) => (typeof d === 'object' && d !== null ? String((d as AnyRecord).value) : String(d)))
}

function toNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isNaN(value) ? null : value
  if (typeof value === 'object' && value !== null && 'value' in value) return toNumber((value as AnyRecord).value)
  return null
}

/**
 * A series of [x, low, high] whiskers (marked `rangeData: true` by its builder) as two series, "<name> (low)" and
 * "<name> (high)", so that exports keep both ends.
 */
function rangeSeries(s: AnyRecord): AnyRecord[] {
  const items = ((s.data as unknown[]) ?? []).filter(Array.isArray) as unknown[][]
  return [
    { name: `${String(s.name ?? '')} (low)`, type: s.type, data: items.map((item) => [item[0], item[1]]) },
    { name: `${String(s.name ?? '')} (high)`, type: s.type, data: items.map((item) => [item[0], item[2]]) },
  ]
}

export function extractChartData(option: ChartOption): ChartData {
  const series = asList(option.series as AnyRecord | AnyRecord[])
  const table = series[0]?.table as TableData | undefined
  if (table) return { kind: 'table', columns: table.columns.slice(), rows: table.rows.map((row) => row.slice()) }
  const raster = series[0]?.raster as RasterHeatmap | undefined
  if (raster) {
    const values = Array.from({ length: raster.rows }, (_, i) => Array.from({ length: raster.cols }, (_, j) => toNumber(raster.values[i * raster.cols + j])))
    return { kind: 'heatmap', rowLabels: raster.rowLabels.slice(), colLabels: raster.colLabels.slice(), values }
  }
  const xCategories = categoryData(option.xAxis)
  const yCategories = categoryData(option.yAxis)
  const heatmap = series.find((s) => s.type === 'heatmap')
  if (heatmap && xCategories && yCategories) {
    const values = yCategories.map(() => xCategories.map((): number | null => null))
    for (const item of (heatmap.data as Array<[number, number, number]>) ?? []) values[item[1]][item[0]] = toNumber(item[2])
    return { kind: 'heatmap', rowLabels: yCategories, colLabels: xCategories, values }
  }
  // Horizontal bars put the categories on y; everything else on x (or none, for value axes).
  const horizontal = !xCategories && !!yCategories
  const categories = horizontal ? yCategories : xCategories
  return {
    kind: 'series',
    series: series.flatMap((s) => (s.rangeData ? rangeSeries(s) : [s])).map((s) => ({
      name: String(s.name ?? ''),
      type: String(s.type),
      points: ((s.data as unknown[]) ?? []).map((item, index) => {
        if (Array.isArray(item)) return { x: item[0] as number, y: toNumber(item[1]) }
        return { x: categories?.[index] ?? index, y: toNumber(item) }
      }),
    })),
  }
}

/** A CSV cell: quoted when needed; text that a spreadsheet would run as a formula gets a leading '. */
export function csvCell(value: string | number | null): string {
  if (value === null) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/**
 * Long format: heat maps as row,row_label,col,col_label,value; series as series,x,y; tables as they are. The
 * provenance lines go in front (csvWithProvenance, ../provenance.ts).
 */
export function chartDataToCsv(data: ChartData): string {
  const lines: string[] = []
  if (data.kind === 'table') {
    lines.push(data.columns.map(csvCell).join(','))
    for (const row of data.rows) lines.push(row.map(csvCell).join(','))
  } else if (data.kind === 'heatmap') {
    lines.push('row,row_label,col,col_label,value')
    data.values.forEach((row, i) =>
      row.forEach((value, j) => lines.push([i, csvCell(data.rowLabels[i]), j, csvCell(data.colLabels[j]), csvCell(value)].join(','))),
    )
  } else {
    lines.push('series,x,y')
    for (const s of data.series) for (const p of s.points) lines.push([csvCell(s.name), csvCell(p.x), csvCell(p.y)].join(','))
  }
  return lines.join('\n') + '\n'
}

/** The option used for the SVG export: everything drawn at once, no animation. */
export function staticOption(option: ChartOption): ChartOption {
  const series = asList(option.series as AnyRecord | AnyRecord[]).map((s) => (s.type === 'custom' ? { ...s, animation: false } : { ...s, progressive: 0, animation: false }))
  return { ...option, animation: false, series: series as ChartOption['series'] }
}

/**
 * The SVG export with every embedded image stretched to the box it is drawn in. zrender writes <image> with
 * x, y, width and height but no preserveAspectRatio, whose default (xMidYMid meet) keeps the bitmap's own aspect:
 * a raster heat map (one pixel per cell, T × T) in a plot area that is not square would shrink to a centred
 * square away from the axes. The canvas renderer stretches it to the box; this makes the SVG do the same.
 */
export function stretchSvgImages(svg: string): string {
  return svg.replace(/<image\b(?![^>]*\bpreserveAspectRatio=)/g, '<image preserveAspectRatio="none"')
}
