// Model view: every layer × head as a small multiple (BertViz's model view). Each head is a cell of a
// layer × head grid: its attention pattern pooled by the lab (at most 32 × 32 bins, whatever T is), tinted
// with the mix of the term colours weighted by the head's shares of Σ|term|, a stacked bar of those shares,
// and — when the cell is large enough — its entropy and mean attended distance. The numbers are kept as a
// table (`table` on the series: CSV, JSON, the e2e registry); the patterns are drawn as one small image per
// head, so drawing costs the same at T = 512 as at T = 10.
import type { CustomSeriesRenderItem } from 'echarts'
import type { ModelViewResult } from '../../common/api'
import type { ChartOption } from './types'
import type { TableData } from './data'
import { provenanceLines, type ProvenanceEntries } from '../provenance'
import { TERM_COLORS, escapeHtml, formatShort } from './common'

export interface ModelViewSelection {
  layer: number
  head: number
}

const hexRgb = (hex: string): [number, number, number] => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)) as [number, number, number]

/** A head's colour: the term colours mixed by its shares (shares summing to 0 give grey). */
export function mixColor(shares: number[], terms: string[]): [number, number, number] {
  const total = shares.reduce((a, b) => a + b, 0)
  if (!(total > 0)) return [128, 128, 128]
  const rgb = [0, 0, 0]
  terms.forEach((term, t) => hexRgb(TERM_COLORS[term] ?? '#808080').forEach((v, c) => (rgb[c] += (v * shares[t]) / total)))
  return rgb.map(Math.round) as [number, number, number]
}

/** Shares of head (layer, head), in result.terms order. */
export function headShares(result: ModelViewResult, layer: number, head: number): number[] {
  const index = layer * result.heads + head
  return result.terms.map((_, t) => result.shares[index * result.terms.length + t])
}

/** One row per head: layer, head, each term's share, entropy (nats), mean attended distance (tokens). */
export function modelViewTable(result: ModelViewResult): TableData {
  const rows: TableData['rows'] = []
  for (let layer = 0; layer < result.layers; layer++) {
    for (let head = 0; head < result.heads; head++) {
      const index = layer * result.heads + head
      rows.push([layer, head, ...headShares(result, layer, head), result.entropy[index], result.distance[index]])
    }
  }
  return { kind: 'table', columns: ['layer', 'head', ...result.terms.map((t) => `share_${t}`), 'entropy_nats', 'mean_distance'], rows }
}

export function modelViewTooltip(result: ModelViewResult, layer: number, head: number): string {
  const index = layer * result.heads + head
  const shares = headShares(result, layer, head)
  const T = result.tokens.tokens.length
  const lines = result.terms.map((term, t) => `${escapeHtml(term)}: ${(shares[t] * 100).toFixed(1)} %`)
  return (
    `<div class="chart-tip"><b>layer ${layer} · head ${head}</b><br>share of Σ|term| — ${lines.join(', ')}<br>` +
    `entropy ${result.entropy[index].toFixed(3)} nats (uniform: ${Math.log(T).toFixed(3)})<br>` +
    `mean attended distance ${result.distance[index].toFixed(2)} tokens<br><i>click to open it above</i></div>`
  )
}

/** The chart background a thumbnail fades into: the page's --chart-bg of each theme (styles.css). */
export const THUMBNAIL_BACKGROUND: Record<'light' | 'dark', [number, number, number]> = { light: [255, 255, 255], dark: [0x15, 0x18, 0x1e] }

/**
 * RGBA pixels of one head's pooled pattern: from the background (p = 0) to the head's term colour (its largest
 * p), with strength sqrt(p / max) so that faint spread-out attention stays visible next to a sharp diagonal.
 */
export function thumbnailPixels(result: ModelViewResult, layer: number, head: number, background: [number, number, number]): Uint8ClampedArray {
  const size = result.thumbnails.size
  const values = result.thumbnails.values
  const offset = (layer * result.heads + head) * size * size
  let max = 0
  for (let k = 0; k < size * size; k++) max = Math.max(max, values[offset + k])
  const colour = mixColor(headShares(result, layer, head), result.terms)
  const pixels = new Uint8ClampedArray(4 * size * size)
  for (let k = 0; k < size * size; k++) {
    const s = max > 0 ? Math.sqrt(values[offset + k] / max) : 0
    for (let c = 0; c < 3; c++) pixels[4 * k + c] = Math.round(background[c] + (colour[c] - background[c]) * s)
    pixels[4 * k + 3] = 255
  }
  return pixels
}

const canvases = new WeakMap<ModelViewResult, Map<string, HTMLCanvasElement>>()

/** The pooled pattern of one head as a size × size image (built once per result, head and background). */
export function thumbnailCanvas(result: ModelViewResult, layer: number, head: number, background: [number, number, number] = THUMBNAIL_BACKGROUND.light): HTMLCanvasElement {
  let cache = canvases.get(result)
  if (!cache) canvases.set(result, (cache = new Map()))
  const key = `${layer * result.heads + head}:${background.join(',')}`
  const cached = cache.get(key)
  if (cached) return cached
  const size = result.thumbnails.size
  const canvas = document.createElement('canvas')
  canvas.width = size
  canvas.height = size
  const context = canvas.getContext('2d')
  if (!context) throw new Error('no 2D canvas context')
  const image = context.createImageData(size, size)
  image.data.set(thumbnailPixels(result, layer, head, background))
  context.putImageData(image, 0, 0)
  cache.set(key, canvas)
  return canvas
}

/** Draws one head in its cell: pattern, share bar, and its numbers when the cell is wide enough. */
export function modelViewRenderItem(result: ModelViewResult, selected: ModelViewSelection | null, theme: 'light' | 'dark' = 'light'): CustomSeriesRenderItem {
  return (_params, api) => {
    const head = Number(api.value(0))
    const layer = Number(api.value(1))
    const [cx, cy] = api.coord([head, layer])
    const [w, h] = api.size?.([1, 1]) as number[]
    const withText = w >= 72 && h >= 60
    const barHeight = Math.max(3, Math.min(8, h * 0.08))
    const textHeight = withText ? 12 : 0
    const side = Math.max(4, Math.min(w - 6, h - 8 - barHeight - textHeight))
    const x = cx - side / 2
    const y = cy - (side + barHeight + textHeight + 2) / 2
    const shares = headShares(result, layer, head)
    const total = shares.reduce((a, b) => a + b, 0) || 1
    let barX = x
    const bars = result.terms.map((term, t) => {
      const width = (side * shares[t]) / total
      const rect = { type: 'rect' as const, shape: { x: barX, y: y + side + 1, width, height: barHeight }, style: { fill: TERM_COLORS[term] } }
      barX += width
      return rect
    })
    const isSelected = !!selected && selected.layer === layer && selected.head === head
    const index = layer * result.heads + head
    const children: unknown[] = [
      { type: 'image', style: { image: thumbnailCanvas(result, layer, head, THUMBNAIL_BACKGROUND[theme]), x, y, width: side, height: side } },
      { type: 'rect', shape: { x: x - 1, y: y - 1, width: side + 2, height: side + 2 }, style: { fill: 'none', stroke: isSelected ? '#e15759' : '#9a9a9a', lineWidth: isSelected ? 3 : 0.5 } },
      ...bars,
    ]
    if (withText) {
      children.push({
        type: 'text',
        style: { text: `H ${formatShort(result.entropy[index])} · d ${formatShort(result.distance[index])}`, x: cx, y: y + side + barHeight + 3, align: 'center', verticalAlign: 'top', fontSize: 10, fill: '#777' },
      })
    }
    return { type: 'group', children } as ReturnType<CustomSeriesRenderItem>
  }
}

/** theme: the thumbnails fade into the chart background of that theme (light: white, dark: the dark --chart-bg). */
export function buildModelViewOption(result: ModelViewResult, opts: { selected?: ModelViewSelection | null; provenance?: ProvenanceEntries; title?: string; theme?: 'light' | 'dark' } = {}): ChartOption {
  const expected = result.layers * result.heads
  if (result.entropy.length !== expected || result.distance.length !== expected || result.shares.length !== expected * result.terms.length) {
    throw new Error(`model view holds ${result.entropy.length} heads, expected ${result.layers} × ${result.heads}`)
  }
  const size = result.thumbnails.size
  if (result.thumbnails.values.length !== expected * size * size) throw new Error('model view thumbnails do not match the heads')
  const data: Array<[number, number]> = []
  for (let layer = 0; layer < result.layers; layer++) for (let head = 0; head < result.heads; head++) data.push([head, layer])
  const provenance = opts.provenance
  const lines = provenance ? provenanceLines(provenance) : []
  /** below the title and the provenance lines */
  const top = 34 + 13 * lines.length
  const option: ChartOption & { provenance?: ProvenanceEntries } = {
    animation: false,
    title: {
      text: opts.title ?? `Every head: pattern tinted by term shares (${result.terms.join(' / ')})`,
      subtext: lines.join('\n') || undefined,
      left: 'center',
      textStyle: { fontSize: 13 },
      subtextStyle: { fontSize: 10, lineHeight: 13 },
    },
    grid: { left: 56, right: 12, top: top + 20, bottom: 8 },
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (params) => {
        const value = (Array.isArray(params) ? params[0] : params).value as [number, number]
        return modelViewTooltip(result, value[1], value[0])
      },
    },
    xAxis: { type: 'category', data: Array.from({ length: result.heads }, (_, h) => `head ${h}`), position: 'top', axisTick: { show: false }, splitLine: { show: false } },
    yAxis: { type: 'category', data: Array.from({ length: result.layers }, (_, l) => `layer ${l}`), inverse: true, axisTick: { show: false } },
    series: [
      {
        type: 'custom',
        name: 'heads',
        data,
        renderItem: modelViewRenderItem(result, opts.selected ?? null, opts.theme ?? 'light'),
        // the numbers behind the cells: CSV/JSON export and the e2e registry
        table: modelViewTable(result),
      } as never,
    ],
  }
  return option
}
