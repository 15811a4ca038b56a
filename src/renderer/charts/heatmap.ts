// Heat map of a [rows, cols] matrix over token axes: attention terms, probabilities, δ(i, j), bucket ids,
// embedding tables. Row i is drawn top to bottom (query i), column j left to right (key j).
import type { Matrix } from '../../common/api'
import type { ChartOption, HeatmapSeriesOption } from './types'
import { DIVERGING, SEQUENTIAL, escapeHtml, formatExact, formatShort, labelInterval, finiteRange, symmetricRange, MAX_AXIS_LABELS } from './common'
import { rasterRenderItem, type RasterHeatmap } from './raster'

export interface HeatmapOptions {
  title?: string
  /** what a cell holds, e.g. "c2p score" (tooltip) */
  valueName?: string
  /** signed values: symmetric colour range around 0 and a diverging palette */
  signed?: boolean
  /** fixed colour range; default from the data */
  range?: [number, number]
  /** values ≥ 0 (probabilities): the colour range is [0, max] so that small maps of long texts stay visible */
  fromZero?: boolean
  rowAxisName?: string
  colAxisName?: string
  maxLabels?: number
  /** integer-valued cells (δ, bucket ids): tooltips and the colour scale show integers */
  integer?: boolean
  /** draw as one image (default: above RASTER_CELLS cells) */
  raster?: boolean
  /** more about cell (i, j) for the tooltip, as escaped HTML (e.g. every attention term and the bucket) */
  cellDetail?: (i: number, j: number) => string
}

/**
 * Above this many cells (T > 128) the map is drawn as one image (charts/raster.ts): one ECharts rectangle
 * per cell would take seconds for T = 512. Below it, cells are ECharts items with native hover.
 */
export const RASTER_CELLS = 128 * 128

/** Cells above this count are drawn progressively (chunks per frame) so a 512 × 512 map never blocks input. */
export const PROGRESSIVE_THRESHOLD = 5000
export const PROGRESSIVE_CHUNK = 20000

/**
 * The values a heat map draws: a result's Matrix (Float32Array) or plain numbers (results stored inline by
 * older versions, tests). Only indexed reads: no array method whose result type differs between the two.
 */
export interface MatrixValues extends Pick<Matrix, 'rows' | 'cols'> {
  data: ArrayLike<number>
}

export function buildHeatmapOption(matrix: MatrixValues, rowTokens: string[], colTokens: string[], opts: HeatmapOptions = {}): ChartOption {
  const { rows, cols, data: values } = matrix
  if (values.length !== rows * cols) throw new Error(`matrix data has ${values.length} values, expected ${rows} × ${cols}`)
  if (rowTokens.length !== rows || colTokens.length !== cols) {
    throw new Error(`labels ${rowTokens.length} × ${colTokens.length} do not match the matrix ${rows} × ${cols}`)
  }
  const maxLabels = opts.maxLabels ?? MAX_AXIS_LABELS
  const range = opts.range ?? (opts.signed ? symmetricRange(values) : opts.fromZero ? ([0, finiteRange(values)[1]] as [number, number]) : finiteRange(values))
  const valueName = opts.valueName ?? 'value'
  const rowName = opts.rowAxisName ?? 'query i'
  const colName = opts.colAxisName ?? 'key j'
  const colors = opts.signed ? DIVERGING : SEQUENTIAL
  const tooltip = (i: number, j: number, value: number): string =>
    `<div class="chart-tip"><b>${escapeHtml(rowName)} ${i}</b> ${escapeHtml(rowTokens[i] ?? '')} → ` +
    `<b>${escapeHtml(colName)} ${j}</b> ${escapeHtml(colTokens[j] ?? '')}<br>${escapeHtml(valueName)} = ${formatExact(value)}` +
    `${opts.cellDetail ? `<br>${opts.cellDetail(i, j)}` : ''}</div>`
  const raster = opts.raster ?? rows * cols > RASTER_CELLS
  let series: HeatmapSeriesOption | Record<string, unknown>
  if (raster) {
    const meta: RasterHeatmap = { rows, cols, values, rowLabels: rowTokens.slice(), colLabels: colTokens.slice(), range, colors, tooltip: (i, j) => tooltip(i, j, values[i * cols + j]) }
    // One data item; the image spans the whole grid. `raster` carries the exact values (see rasterOf).
    series = { type: 'custom', name: valueName, data: [[0, 0]], silent: true, clip: true, renderItem: rasterRenderItem(meta), raster: meta }
  } else {
    // Data items are [col j, row i, value]; the y axis is inverted so row 0 is at the top.
    const data: Array<[number, number, number]> = new Array(rows * cols)
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) data[i * cols + j] = [j, i, values[i * cols + j]]
    }
    series = {
      type: 'heatmap',
      name: valueName,
      data,
      progressive: PROGRESSIVE_CHUNK,
      progressiveThreshold: PROGRESSIVE_THRESHOLD,
      emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } },
    } satisfies HeatmapSeriesOption
  }
  return {
    animation: false,
    // The key axis is on top, so the title goes under the map.
    title: opts.title ? { text: opts.title, left: 'center', bottom: 0, textStyle: { fontSize: 13 } } : undefined,
    // ECharts 6 grids shrink to keep axis labels and names inside the chart (outerBoundsMode 'auto').
    // The draggable colour-bar handles (non-raster maps) label their values to the left of the bar: leave
    // room for them so that they do not overlap the map's right edge.
    grid: { left: 8, right: raster ? 72 : 100, top: 12, bottom: opts.title ? 28 : 8 },
    // Raster maps have no items to hover: BaseChart shows the same read-out from rasterOf(option).tooltip.
    tooltip: {
      show: !raster,
      trigger: 'item',
      confine: true,
      formatter: (params) => {
        const [j, i, value] = (Array.isArray(params) ? params[0] : params).value as [number, number, number]
        return tooltip(i, j, value)
      },
    },
    xAxis: {
      type: 'category',
      name: colName,
      nameLocation: 'middle',
      nameGap: 28,
      data: colTokens.slice(),
      position: 'top',
      splitArea: { show: false },
      // hideOverlap: in a narrow chart ECharts also drops labels that would still collide after thinning
      axisLabel: { interval: labelInterval(cols, maxLabels), rotate: cols > 6 ? 60 : 0, fontSize: 11, hideOverlap: true },
    },
    yAxis: {
      type: 'category',
      name: rowName,
      nameLocation: 'middle',
      nameGap: 40,
      data: rowTokens.slice(),
      inverse: true,
      splitArea: { show: false },
      axisLabel: { interval: labelInterval(rows, maxLabels), fontSize: 11, hideOverlap: true },
    },
    visualMap: {
      type: 'continuous',
      min: range[0],
      max: range[1] === range[0] ? range[0] + 1 : range[1],
      // Dragging the handles filters ECharts items; a raster image cannot be filtered that way.
      calculable: !raster,
      seriesIndex: raster ? [] : undefined,
      // without handles the bar shows no numbers, so label its ends
      text: raster ? [formatShort(range[1]), formatShort(range[0])] : undefined,
      precision: opts.integer ? 0 : undefined,
      orient: 'vertical',
      right: 4,
      top: 'middle',
      itemHeight: 160,
      formatter: ((value: number) => (opts.integer ? String(Math.round(value)) : formatShort(value))) as never,
      inRange: { color: colors },
    },
    series: [series as HeatmapSeriesOption],
  }
}

/** The raster description of a heat map drawn as an image, or null for an ordinary chart. */
export function rasterOf(option: ChartOption | null): RasterHeatmap | null {
  const series = option?.series
  const first = (Array.isArray(series) ? series[0] : series) as { raster?: RasterHeatmap } | undefined
  return first?.raster ?? null
}
