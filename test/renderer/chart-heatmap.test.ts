import { describe, expect, it } from 'vitest'
import { buildHeatmapOption, PROGRESSIVE_THRESHOLD, RASTER_CELLS, rasterOf, type MatrixValues } from '../../src/renderer/charts/heatmap'
import { cellAt, interpolateColor } from '../../src/renderer/charts/raster'
import { labelInterval, shownLabelIndices, symmetricRange, escapeHtml, formatExact } from '../../src/renderer/charts/common'
import { extractChartData, chartDataToCsv, staticOption, stretchSvgImages } from '../../src/renderer/charts/data'
import { attentionCellDetail } from '../../src/renderer/charts/attention-cell'
import { exportJson } from '../../src/renderer/provenance'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>
const first = (value: unknown): AnyRecord => (Array.isArray(value) ? value[0] : value) as AnyRecord

const tokens = ['[CLS]', 'a', 'new', 'store', '[SEP]']
const matrix = { rows: 5, cols: 5, data: Array.from({ length: 25 }, (_, k) => (k % 7) - 3 + k / 100) } satisfies MatrixValues

describe('buildHeatmapOption', () => {
  it('uses the tokens as axis labels and the matrix values as [j, i, value] triples', () => {
    const option = buildHeatmapOption(matrix, tokens, tokens, { signed: true }) as AnyRecord
    expect(first(option.xAxis).data).toEqual(tokens)
    expect(first(option.yAxis).data).toEqual(tokens)
    expect(first(option.yAxis).inverse).toBe(true)
    const data = first(option.series).data as Array<[number, number, number]>
    expect(data).toHaveLength(25)
    // row i = 2 ("new"), column j = 3 ("store") is matrix.data[2 * 5 + 3]
    expect(data.find(([j, i]) => i === 2 && j === 3)?.[2]).toBe(matrix.data[13])
    for (const [j, i, value] of data) expect(value).toBe(matrix.data[i * 5 + j])
  })

  it('makes the colour range symmetric around 0 for signed terms and data-bound otherwise', () => {
    const signed = first(buildHeatmapOption(matrix, tokens, tokens, { signed: true }).visualMap)
    const bound = Math.max(...matrix.data.map(Math.abs))
    expect(signed.min).toBe(-bound)
    expect(signed.max).toBe(bound)
    const probabilities: MatrixValues = { rows: 1, cols: 2, data: [0.25, 0.75] }
    const unsigned = first(buildHeatmapOption(probabilities, ['x'], ['a', 'b']).visualMap)
    expect([unsigned.min, unsigned.max]).toEqual([0.25, 0.75])
    const fixed = first(buildHeatmapOption(probabilities, ['x'], ['a', 'b'], { range: [0, 1] }).visualMap)
    expect([fixed.min, fixed.max]).toEqual([0, 1])
  })

  it('thins axis labels beyond 40 tokens and renders mid-size maps progressively', () => {
    const T = 100
    const mid: MatrixValues = { rows: T, cols: T, data: Array.from({ length: T * T }, (_, k) => k) }
    const labels = Array.from({ length: T }, (_, k) => `t${k}`)
    const option = buildHeatmapOption(mid, labels, labels) as AnyRecord
    expect(first(option.xAxis).axisLabel.interval).toBe(2) // every 3rd label: ceil(100 / 40) = 3
    expect(first(option.series).type).toBe('heatmap')
    expect(first(option.series).data).toHaveLength(T * T)
    expect(first(option.series).progressiveThreshold).toBe(PROGRESSIVE_THRESHOLD)
    expect(T * T).toBeGreaterThan(PROGRESSIVE_THRESHOLD)
    expect(rasterOf(option)).toBeNull()
  })

  it('draws a 512 × 512 map as one image with the exact values kept for read-out and export', () => {
    const T = 512
    const big: MatrixValues = { rows: T, cols: T, data: Array.from({ length: T * T }, (_, k) => Math.sin(k)) }
    const labels = Array.from({ length: T }, (_, k) => `t${k}`)
    const option = buildHeatmapOption(big, labels, labels, { signed: true, valueName: 'c2c score' }) as AnyRecord
    expect(T * T).toBeGreaterThan(RASTER_CELLS)
    expect(first(option.series).type).toBe('custom')
    expect(first(option.series).data).toHaveLength(1)
    expect(first(option.xAxis).axisLabel.interval).toBe(12) // ceil(512 / 40) = 13 → every 13th label
    const raster = rasterOf(option)!
    expect(raster.values).toBe(big.data)
    expect(raster.range).toEqual([-first(option.visualMap).max, first(option.visualMap).max])
    expect(raster.tooltip(300, 7)).toContain(`c2c score = ${big.data[300 * T + 7]}`)
    expect(raster.tooltip(300, 7)).toContain('t300')
    const data = extractChartData(option)
    expect(data.kind === 'heatmap' && data.values[300][7]).toBe(big.data[300 * T + 7])
    expect(option.tooltip.show).toBe(false) // BaseChart shows the raster read-out instead
    expect(first(option.visualMap).calculable).toBe(false)
  })

  it('maps values to colours through the palette stops and pixels to cells', () => {
    expect(interpolateColor(['#000000', '#ffffff'], 0)).toEqual([0, 0, 0])
    expect(interpolateColor(['#000000', '#ffffff'], 0.5)).toEqual([128, 128, 128])
    expect(interpolateColor(['#ff0000', '#00ff00', '#0000ff'], 0.75)).toEqual([0, 128, 128])
    expect(interpolateColor(['#000000', '#ffffff'], 2)).toEqual([255, 255, 255])
    const meta = { rows: 3, cols: 4 } as Parameters<typeof cellAt>[0]
    expect(cellAt(meta, 3.4, 1.6)).toEqual({ i: 2, j: 3 })
    expect(cellAt(meta, 4.6, 0)).toBeNull()
  })

  it('rejects labels that do not match the matrix', () => {
    expect(() => buildHeatmapOption(matrix, tokens.slice(1), tokens)).toThrow(/labels 4 × 5/)
  })

  it('shows exact values in the tooltip with the tokens escaped', () => {
    const m: MatrixValues = { rows: 1, cols: 2, data: [0.123456789012, -2] }
    const option = buildHeatmapOption(m, ['<b>'], ['x', 'y&z'], { valueName: 'c2p' }) as AnyRecord
    const html = option.tooltip.formatter({ value: [1, 0, -2] })
    expect(html).toContain('&lt;b&gt;')
    expect(html).toContain('y&amp;z')
    expect(html).toContain('c2p = -2')
    expect(option.tooltip.formatter({ value: [0, 0, 0.123456789012] })).toContain('0.123456789012')
  })
})

describe('axis-label thinning and ranges', () => {
  it('shows every label up to the limit, then every ceil(n / max)-th', () => {
    expect(labelInterval(40)).toBe(0)
    expect(labelInterval(41)).toBe(1)
    expect(labelInterval(120)).toBe(2)
    expect(shownLabelIndices(100, 40)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 60, 63, 66, 69, 72, 75, 78, 81, 84, 87, 90, 93, 96, 99])
    expect(shownLabelIndices(100, 40).length).toBeLessThanOrEqual(40)
  })
  it('symmetric range ignores non-finite values and never collapses to zero width', () => {
    expect(symmetricRange([1, -3, NaN, Infinity])).toEqual([-3, 3])
    expect(symmetricRange([0, 0])).toEqual([-1, 1])
  })
  it('escapes HTML and prints exact numbers', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
    expect(formatExact(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(formatExact(null)).toBe('—')
  })
})

describe('chart data extraction', () => {
  it('reads a heat map back as the original matrix', () => {
    const data = extractChartData(buildHeatmapOption(matrix, tokens, tokens))
    expect(data.kind).toBe('heatmap')
    if (data.kind !== 'heatmap') return
    expect(data.rowLabels).toEqual(tokens)
    expect(data.values.flat()).toEqual(matrix.data)
  })
  it('writes long-format CSV with formula-looking text defused', () => {
    const m: MatrixValues = { rows: 1, cols: 2, data: [1.5, -0.25] }
    const csv = chartDataToCsv(extractChartData(buildHeatmapOption(m, ['=cmd'], ['a,b', '"q"'])))
    expect(csv).toBe(`row,row_label,col,col_label,value\n0,'=cmd,0,"a,b",1.5\n0,'=cmd,1,"""q""",-0.25\n`)
  })
  it('turns off progressive rendering and animation for the static (SVG) export', () => {
    const option = staticOption(buildHeatmapOption(matrix, tokens, tokens)) as AnyRecord
    expect(option.animation).toBe(false)
    expect(first(option.series).progressive).toBe(0)
    expect(first(option.series).data).toHaveLength(25)
  })
})

describe('float32 matrices (what the lab returns)', () => {
  const f32 = new Float32Array([0.1, -0.5, Number.NaN, 2.25])
  const m = { rows: 2, cols: 2, data: f32 }

  it('draws ECharts cells and exports CSV and JSON with plain numbers', () => {
    const option = buildHeatmapOption(m, ['a', 'b'], ['x', 'y'], { signed: true }) as AnyRecord
    const cells = first(option.series).data as Array<[number, number, number]>
    expect(cells.every((cell) => Array.isArray(cell) && typeof cell[2] === 'number')).toBe(true)
    expect(cells[3]).toEqual([1, 1, 2.25])
    const data = extractChartData(option)
    expect(chartDataToCsv(data)).toBe(`row,row_label,col,col_label,value\n0,a,0,x,${f32[0]}\n0,a,1,y,-0.5\n1,b,0,x,\n1,b,1,y,2.25\n`)
    expect(JSON.parse(exportJson({ chartId: 'c', workspace: 'w', exportedAt: 't', provenance: null, data })).data.values).toEqual([[f32[0], -0.5], [null, 2.25]])
    expect(first(option.visualMap).max).toBe(2.25)
  })

  it('draws a raster map whose exports hold lists of numbers, not typed arrays', () => {
    const option = buildHeatmapOption(m, ['a', 'b'], ['x', 'y'], { raster: true })
    expect(rasterOf(option)!.values).toBe(f32) // shared, not copied
    const data = extractChartData(option) as { values: unknown[][] }
    expect(data.values.every((row) => Array.isArray(row))).toBe(true)
    expect(data.values).toEqual([[f32[0], -0.5], [null, 2.25]])
    const text = exportJson({ chartId: 'c', workspace: 'w', exportedAt: 't', provenance: null, data: data as never })
    expect(text).toContain('0.10000000149011612')
    expect(text).not.toContain('"0":')
  })
})

describe('probability maps', () => {
  it('start the colour range at 0 and end it at the largest probability', () => {
    const m: MatrixValues = { rows: 2, cols: 2, data: [0.1, 0.9, 0.3, 0.7] }
    const option = buildHeatmapOption(m, ['a', 'b'], ['a', 'b'], { fromZero: true }) as AnyRecord
    expect([first(option.visualMap).min, first(option.visualMap).max]).toEqual([0, 0.9])
  })
})

describe('SVG export of raster heat maps', () => {
  it('stretches every embedded image to its box (zrender leaves the default xMidYMid meet, which letterboxes it)', () => {
    const svg = '<svg><rect x="0"/><image href="data:image/png;base64,AA" width="700" height="300" x="10" y="20"></image><image preserveAspectRatio="xMinYMin" href="b"/></svg>'
    const out = stretchSvgImages(svg)
    expect(out).toBe('<svg><rect x="0"/><image preserveAspectRatio="none" href="data:image/png;base64,AA" width="700" height="300" x="10" y="20"></image><image preserveAspectRatio="xMinYMin" href="b"/></svg>')
    expect(stretchSvgImages(out)).toBe(out)
  })
})

describe('attention cell read-out', () => {
  const T = 3
  const m = (base: number): MatrixValues => ({ rows: T, cols: T, data: Array.from({ length: T * T }, (_, k) => base + k) })
  const result = { terms: { c2c: m(0), c2p: m(100), p2c: m(200) }, scores: m(300), relativeIds: [-2, -1, 0, 1, 2] }

  it('lists every term at (i, j), their sum, δ(i, j) and the relative ids c2p and p2c read', () => {
    const detail = attentionCellDetail(result)(2, 0)
    // cell (2, 0) is data[6]
    expect(detail).toContain('c2c 6 · c2p 106 · p2c 206')
    expect(detail).toContain('sum of enabled terms 306')
    // δ = 2: ids[2 + T − 1] = ids[4] = 2 for c2p, ids[−2 + 2] = −2 for p2c
    expect(detail).toContain('δ(i, j) = i − j = 2 · c2p reads bucket 2 · p2c reads bucket -2 (of δ(j, i) = -2)')
  })

  it('gives the probability and the cell’s share of its row, and the rel-embedding row with how δ reaches it', () => {
    const rows = { rows: [0, 1, 2, 3, 3], kinds: ['clipped', 'exact', 'exact', 'exact', 'log-bucket'] as Array<'exact' | 'log-bucket' | 'clipped'>, tableRows: 4 }
    const probabilities: MatrixValues = { rows: T, cols: T, data: [0.5, 0.25, 0.25, 0.1, 0.8, 0.1, 0, 0, 1] }
    const shown = { name: 'c2p', matrix: { rows: T, cols: T, data: [1, -3, 0, 2, 2, 4, 0, 0, 0] } }
    const read = attentionCellDetail({ ...result, probabilities, relativeRows: rows }, shown)
    // (0, 1): δ = −1 → index 1; |−3| / (1 + 3 + 0)
    expect(read(0, 1)).toContain('probability 0.25 — 25.0 % of row 0’s attention')
    expect(read(0, 1)).toContain('share of row 0: 75.0 % of Σ_j |c2p|')
    expect(read(0, 1)).toContain('rel-embedding row 1 of 4 (exact): c2p uses its key K<sub>r</sub>, p2c its query Q<sub>r</sub>')
    expect(read(2, 0)).toContain('rel-embedding row 3 of 4 (logarithmic bucket)')
    expect(read(0, 2)).toContain('rel-embedding row 0 of 4 (clipped to the table’s end)')
    expect(read(2, 2)).toContain('share of row 2: 0.00 %') // an all-zero row
    expect(attentionCellDetail({ ...result, probabilities }, { name: 'probabilities', matrix: probabilities })(1, 1)).not.toContain('share of row')
  })

  it('marks ablated terms and says when the result has no relative ids', () => {
    const detail = attentionCellDetail({ terms: { c2c: m(0) }, scores: m(300), disabledTerms: ['c2c'] })(0, 1)
    expect(detail).toContain('c2c 1 (ablated: not in the sum)')
    expect(detail).toContain('δ(i, j) = i − j = -1 (no relative position ids')
  })

  it('is part of the heat map tooltip, for ECharts cells and raster read-outs alike', () => {
    const tokens = ['a', 'b', 'c']
    const small = buildHeatmapOption(result.scores, tokens, tokens, { cellDetail: attentionCellDetail(result) }) as AnyRecord
    expect(small.tooltip.formatter({ value: [0, 2, 306] })).toContain('c2p reads bucket 2')
    const raster = rasterOf(buildHeatmapOption(result.scores, tokens, tokens, { raster: true, cellDetail: attentionCellDetail(result) }))!
    expect(raster.tooltip(2, 0)).toContain('c2c 6 · c2p 106 · p2c 206')
  })
})
