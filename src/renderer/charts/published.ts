// The paper's published tables (resources/published-results.json, passed through api.getPublishedResults):
// a typed reading of the JSON, captions naming the source, the notebook figures checked against it, and
// grouped bars from zero (or a dot plot on a named, truncated axis) with an optional baseline row (SuperGLUE's
// human baseline) drawn as a line.
import type { PublishedResults } from '../../common/api'
import type { BarSeriesOption, ChartOption, LineSeriesOption, ScatterSeriesOption } from './types'
import { SERIES_COLORS, axisTooltip } from './common'

export interface PublishedRow {
  model: string
  values: Record<string, number | null>
  note?: string
  group?: string
  removed?: string[]
}
export interface PublishedTable {
  id: string
  title: string
  source: string
  metric_notes?: string
  columns: string[]
  rows: PublishedRow[]
}
export interface PublishedSource {
  title: string
  url: string
  where: string
  copy_read?: string
}
export type DiscrepancyVerdict = 'supported' | 'supported_with_qualification' | 'contradicted' | 'not_found' | 'wrong_model' | 'wrong_benchmark'
export interface SeedDiscrepancy {
  seed_figure: string
  seed_value: number
  verdict: DiscrepancyVerdict | string
  source_says: string
  sources: string[]
}
export interface PublishedData {
  tables: PublishedTable[]
  sources: Record<string, PublishedSource>
  discrepancies: SeedDiscrepancy[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Reads the published-results JSON; throws naming the first thing that is not as expected. */
export function parsePublished(raw: PublishedResults): PublishedData {
  if (!isObject(raw)) throw new Error('published results: not an object')
  const { tables, sources, seed_discrepancies: discrepancies } = raw as Record<string, unknown>
  if (!Array.isArray(tables)) throw new Error('published results: "tables" is not a list')
  if (!isObject(sources)) throw new Error('published results: "sources" is not an object')
  for (const table of tables as PublishedTable[]) {
    if (typeof table?.id !== 'string' || !Array.isArray(table.columns) || !Array.isArray(table.rows)) {
      throw new Error(`published results: table ${String(table?.id)} lacks id, columns or rows`)
    }
  }
  return {
    tables: tables as PublishedTable[],
    sources: sources as Record<string, PublishedSource>,
    discrepancies: Array.isArray(discrepancies) ? (discrepancies as SeedDiscrepancy[]) : [],
  }
}

export function findTable(data: PublishedData, id: string): PublishedTable {
  const table = data.tables.find((t) => t.id === id)
  if (!table) throw new Error(`published results: no table "${id}"`)
  return table
}

/** "Source: <title>, <where>." plus the URL, for the caption under a chart. */
export function sourceCaption(data: PublishedData, table: PublishedTable): { text: string; url?: string } {
  const source = data.sources[table.source]
  if (!source) return { text: `Source: ${table.source} (not described in the results file).` }
  return { text: `Source: ${source.title}, ${source.where}.`, url: source.url }
}

/**
 * The notebook ("seed") figures that concern a chart: those labelled with the chart's benchmark
 * (e.g. "GLUE: …" for prefix "GLUE") or citing the chart's source.
 */
export function discrepanciesFor(data: PublishedData, table: PublishedTable, prefix?: string): SeedDiscrepancy[] {
  return data.discrepancies.filter((d) => {
    if (prefix && d.seed_figure.startsWith(`${prefix}:`)) return true
    const labelled = /^[A-Za-z]+:/.test(d.seed_figure)
    return !labelled && d.sources.includes(table.source)
  })
}

/**
 * A checked figure as a sentence that stands on its own (the list of figures came from course material the
 * user never sees): "GLUE: BERT-Large 80.5" → "BERT-Large scores 80.5 on GLUE"; other figures are quoted.
 */
export function claimText(d: Pick<SeedDiscrepancy, 'seed_figure'>): string {
  const labelled = /^([A-Za-z0-9 .]+):\s*(.+?)\s+(\d+(?:\.\d+)?%?)$/.exec(d.seed_figure.trim())
  if (labelled) return `${labelled[2]} scores ${labelled[3]} on ${labelled[1]}`
  return `“${d.seed_figure}”`
}

/** True when the source does not back the notebook's figure as printed. */
export function isWrongFigure(d: SeedDiscrepancy): boolean {
  return d.verdict !== 'supported' && d.verdict !== 'supported_with_qualification'
}

export interface PublishedChartOptions {
  title?: string
  columns?: string[]
  /** rows to draw, by model name (default: all) */
  models?: string[]
  /** a row drawn as a dashed line across the columns (e.g. "Human") */
  baselineModel?: string
  /**
   * 'bars' (default): bars from zero, so their lengths compare honestly. 'dots': one marker per value on an
   * axis that starts a little below the smallest value (named on the axis), for tables whose rows differ by
   * tenths of a point; a bar on such an axis would turn 85.9 against 86.3 into a large difference.
   */
  style?: 'bars' | 'dots'
}

/** The y-axis minimum used for 'auto': 5 below the smallest value, rounded down to a multiple of 5, ≥ 0. */
export function autoAxisMin(values: Array<number | null>): number {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (finite.length === 0) return 0
  return Math.max(0, Math.floor((Math.min(...finite) - 5) / 5) * 5)
}

/** Horizontal distance between the dots of one column in a dot plot. */
export const DOT_SPACING_PX = 12

export function buildPublishedTableOption(table: PublishedTable, opts: PublishedChartOptions = {}): ChartOption {
  const columns = opts.columns ?? table.columns
  const rows = table.rows.filter((row) => (opts.models ? opts.models.includes(row.model) : true))
  const cell = (row: PublishedRow, column: string): number | null => {
    const value = row.values[column]
    return typeof value === 'number' ? value : null
  }
  const dots = opts.style === 'dots'
  const dotCount = rows.filter((row) => row.model !== opts.baselineModel).length
  let dotIndex = 0
  const series: Array<BarSeriesOption | LineSeriesOption | ScatterSeriesOption> = []
  let colorIndex = 0
  for (const row of rows) {
    if (row.model === opts.baselineModel) continue
    const color = SERIES_COLORS[colorIndex++ % SERIES_COLORS.length]
    const data = columns.map((c) => cell(row, c))
    // side by side within each column (12 px apart), like grouped bars, so equal values do not hide each other
    if (dots) series.push({ type: 'scatter', name: row.model, color, symbolSize: 10, symbolOffset: [(dotIndex++ - (dotCount - 1) / 2) * DOT_SPACING_PX, 0], data })
    else series.push({ type: 'bar', name: row.model, color, data })
  }
  const baseline = rows.find((row) => row.model === opts.baselineModel)
  if (baseline) {
    series.push({
      type: 'line',
      name: `${baseline.model} (baseline)`,
      color: '#333333',
      lineStyle: { type: 'dashed', width: 2 },
      symbol: 'diamond',
      symbolSize: 9,
      data: columns.map((c) => cell(baseline, c)),
      z: 5,
    })
  }
  const allValues = rows.flatMap((row) => columns.map((c) => cell(row, c)))
  const yMin = dots ? autoAxisMin(allValues) : 0
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    legend: { type: 'scroll', top: opts.title ? 24 : 0 },
    grid: { left: 8, right: 16, top: opts.title ? 60 : 36, bottom: 16 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, formatter: axisTooltip(columns) as never },
    // every column named; turned when they would collide in a narrow window (many columns or long names)
    xAxis: { type: 'category', data: columns.slice(), axisLabel: { interval: 0, rotate: columns.length > 8 || columns.join('').length > 48 ? 30 : 0 }, splitLine: { show: dots } },
    yAxis: { type: 'value', min: yMin, name: yMin > 0 ? `score (axis from ${yMin}, not 0)` : 'score', nameLocation: 'middle', nameGap: 36 },
    series,
  }
}
