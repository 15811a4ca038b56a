// Large heat maps drawn as one image: a canvas with one block of pixels per cell, placed over the grid by
// a custom series. 262,144 cells (T = 512) as separate ECharts rectangles take seconds to draw and stall
// input; as an image they draw in milliseconds. The cell values stay exact in the option (`raster`), for
// the hover read-out, the exports and the test registry.
import type { CustomSeriesRenderItem } from 'echarts'

export interface RasterHeatmap {
  rows: number
  cols: number
  /** row-major values, values[i · cols + j] */
  values: ArrayLike<number>
  rowLabels: string[]
  colLabels: string[]
  range: [number, number]
  colors: string[]
  /** HTML of the read-out for cell (i, j), already escaped */
  tooltip(i: number, j: number): string
}

/** Linear interpolation through colour stops, for t in [0, 1]; returns [r, g, b]. */
export function interpolateColor(colors: string[], t: number): [number, number, number] {
  const rgb = colors.map((c) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)))
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (rgb.length - 1)
  const k = Math.min(rgb.length - 2, Math.floor(x))
  const f = x - k
  return [0, 1, 2].map((c) => Math.round(rgb[k][c] + (rgb[k + 1][c] - rgb[k][c]) * f)) as [number, number, number]
}

const canvases = new WeakMap<RasterHeatmap, HTMLCanvasElement>()

/** The image of a raster heat map (built once per result; needs a DOM). */
export function rasterCanvas(meta: RasterHeatmap): HTMLCanvasElement {
  const cached = canvases.get(meta)
  if (cached) return cached
  const canvas = document.createElement('canvas')
  canvas.width = meta.cols
  canvas.height = meta.rows
  const context = canvas.getContext('2d')
  if (!context) throw new Error('no 2D canvas context')
  const image = context.createImageData(meta.cols, meta.rows)
  const [min, max] = meta.range
  const span = max - min || 1
  // A 256-entry lookup table keeps the per-cell work to one multiply and one index.
  const lut = Array.from({ length: 256 }, (_, k) => interpolateColor(meta.colors, k / 255))
  for (let cell = 0; cell < meta.rows * meta.cols; cell++) {
    const value = meta.values[cell]
    const [r, g, b] = Number.isFinite(value) ? lut[Math.min(255, Math.max(0, Math.round(((value - min) / span) * 255)))] : [128, 128, 128]
    const offset = cell * 4
    image.data[offset] = r
    image.data[offset + 1] = g
    image.data[offset + 2] = b
    image.data[offset + 3] = 255
  }
  context.putImageData(image, 0, 0)
  canvases.set(meta, canvas)
  return canvas
}

/** The custom series' renderItem: one image spanning every category band of both axes. */
export function rasterRenderItem(meta: RasterHeatmap): CustomSeriesRenderItem {
  return (_params, api) => {
    const center = api.coord([0, 0]) // centre of cell (row 0, column 0); the y axis is inverted
    const size = api.size?.([1, 1]) as number[]
    return {
      type: 'image',
      silent: true,
      style: {
        image: rasterCanvas(meta),
        x: center[0] - size[0] / 2,
        y: center[1] - size[1] / 2,
        width: size[0] * meta.cols,
        height: size[1] * meta.rows,
      },
    }
  }
}

/** Values clamped to the map: the cell under a pixel, or null outside. */
export function cellAt(meta: RasterHeatmap, column: number, row: number): { i: number; j: number } | null {
  const i = Math.round(row)
  const j = Math.round(column)
  return i >= 0 && i < meta.rows && j >= 0 && j < meta.cols ? { i, j } : null
}
