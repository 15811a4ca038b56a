import { describe, expect, it } from 'vitest'
import type { DistanceProfileResult, ModelViewResult } from '../../src/common/api'
import { chartDataToCsv, extractChartData } from '../../src/renderer/charts/data'
import { csvWithProvenance, exportJson, isExportProvenance, provenanceCsvLines, resultProvenance } from '../../src/renderer/provenance'
import { buildDistanceProfileOption, bucketRuns, mergedRuns } from '../../src/renderer/charts/distance-profile'
import { buildModelViewOption, headShares, mixColor, modelViewTooltip, THUMBNAIL_BACKGROUND, thumbnailPixels } from '../../src/renderer/charts/model-view'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>
const list = (value: unknown): AnyRecord[] => (Array.isArray(value) ? value : [value]) as AnyRecord[]

const tokens = { tokens: ['[CLS]', 'a', 'b', '[SEP]'], inputIds: [1, 5, 6, 2], offsets: [] as Array<[number, number]> }
const info = {} as ModelViewResult['model']

function modelViewResult(): ModelViewResult {
  const layers = 2
  const heads = 3
  const n = layers * heads
  return {
    model: info,
    tokens,
    layers,
    heads,
    terms: ['c2c', 'c2p', 'p2c'],
    shares: Array.from({ length: n * 3 }, (_, k) => [0.5, 0.3, 0.2][k % 3]),
    entropy: Array.from({ length: n }, (_, k) => 0.1 * k),
    distance: Array.from({ length: n }, (_, k) => k + 0.5),
    thumbnails: { size: 4, values: Array.from({ length: n * 16 }, (_, k) => (k % 16) / 16) },
  }
}

describe('buildModelViewOption', () => {
  it('places one cell per layer × head and keeps every head’s numbers as the exported table', () => {
    const result = modelViewResult()
    result.shares[(1 * 3 + 2) * 3 + 1] = 0.9 // layer 1, head 2, c2p
    const option = buildModelViewOption(result, { provenance: { model: 'toy', text: 'a b' } }) as AnyRecord
    const series = list(option.series)[0]
    expect(series.type).toBe('custom')
    expect(series.data).toEqual([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]])
    expect(list(option.xAxis)[0].data).toEqual(['head 0', 'head 1', 'head 2'])
    expect(list(option.yAxis)[0].inverse).toBe(true)
    const data = extractChartData(option)
    expect(data.kind).toBe('table')
    if (data.kind !== 'table') return
    expect(data.columns).toEqual(['layer', 'head', 'share_c2c', 'share_c2p', 'share_p2c', 'entropy_nats', 'mean_distance'])
    expect(data.rows).toHaveLength(6)
    expect(data.rows[5]).toEqual([1, 2, 0.5, 0.9, 0.2, result.entropy[5], result.distance[5]])
    // the provenance is not in the drawn data: the chart's one provenance (BaseChart's prop) goes in front of the CSV
    expect('provenance' in data).toBe(false)
    const csv = csvWithProvenance(chartDataToCsv(data), { model: 'toy', text: 'a b' }).split('\n')
    expect(csv.slice(0, 3)).toEqual(['# model: toy', '# text: a b', 'layer,head,share_c2c,share_c2p,share_p2c,entropy_nats,mean_distance'])
    expect(csv[8]).toBe(`1,2,0.5,0.9,0.2,${result.entropy[5]},${result.distance[5]}`)
    expect(option.title.subtext).toBe('model: toy · text: a b')
  })

  it('mixes the term colours by share and describes a head with its numbers', () => {
    expect(mixColor([1, 0, 0], ['c2c', 'c2p', 'p2c'])).toEqual([0x4e, 0x79, 0xa7])
    expect(mixColor([0.5, 0.5], ['c2c', 'c2p'])).toEqual([Math.round((0x4e + 0xf2) / 2), Math.round((0x79 + 0x8e) / 2), Math.round((0xa7 + 0x2b) / 2)])
    expect(mixColor([0, 0, 0], ['c2c', 'c2p', 'p2c'])).toEqual([128, 128, 128])
    const result = modelViewResult()
    expect(headShares(result, 1, 1)).toEqual([0.5, 0.3, 0.2])
    const tip = modelViewTooltip(result, 1, 1)
    expect(tip).toContain('layer 1 · head 1')
    expect(tip).toContain('c2p: 30.0 %')
    expect(tip).toContain(`mean attended distance ${(4.5).toFixed(2)}`)
  })

  it('fades each thumbnail into the chart background of the theme: white in light, the dark background in dark', () => {
    const result = modelViewResult()
    // head (0, 0): values 0, 1/16, …, 15/16; pixel 0 has p = 0, pixel 15 the largest p
    const colour = mixColor(headShares(result, 0, 0), result.terms)
    const light = thumbnailPixels(result, 0, 0, THUMBNAIL_BACKGROUND.light)
    const dark = thumbnailPixels(result, 0, 0, THUMBNAIL_BACKGROUND.dark)
    expect(Array.from(light.subarray(0, 4))).toEqual([255, 255, 255, 255])
    expect(Array.from(dark.subarray(0, 4))).toEqual([0x15, 0x18, 0x1e, 255])
    expect(Array.from(light.subarray(60, 63))).toEqual(colour)
    expect(Array.from(dark.subarray(60, 63))).toEqual(colour)
    // in between: sqrt(p / max) of the way from the background to the colour
    const s = Math.sqrt(4 / 15)
    expect(dark[16]).toBe(Math.round(0x15 + (colour[0] - 0x15) * s))
  })

  it('refuses a result whose arrays do not match its layers × heads', () => {
    const result = modelViewResult()
    result.entropy.pop()
    expect(() => buildModelViewOption(result)).toThrow(/expected 2 × 3/)
  })
})

function profileResult(): DistanceProfileResult {
  const T = 7
  const distances = Array.from({ length: 2 * T - 1 }, (_, k) => k - (T - 1))
  const heads = 2
  const rows = (f: (h: number, d: number) => number) => Array.from({ length: heads + 1 }, (_, h) => distances.map((d) => f(h, d)))
  return {
    model: info,
    tokens,
    layer: 1,
    heads,
    terms: ['c2c', 'c2p', 'p2c'],
    distances,
    pairs: distances.map((d) => T - Math.abs(d)),
    probability: rows((h, d) => (h + 1) / (10 + Math.abs(d))),
    scores: { c2c: rows((h, d) => h - d), c2p: rows((h, d) => h * d), p2c: rows((h, d) => d / (h + 1)) },
    // exact for |δ| ≤ 2; δ = 3, 4 share id 3 and δ = 5, 6 share id 4 (and mirrored)
    buckets: { ids: distances.map((d) => Math.sign(d) * [0, 1, 2, 3, 3, 4, 4][Math.abs(d)]), kind: 'log-bucket', exactLimit: 2, span: 4 },
  }
}

describe('buildDistanceProfileOption', () => {
  it('finds the distances that share a bucket', () => {
    expect(bucketRuns([-2, -1, 0, 1, 2], [-1, -1, 0, 1, 1])).toEqual([
      { id: -1, from: -2, to: -1 },
      { id: 0, from: 0, to: 0 },
      { id: 1, from: 1, to: 2 },
    ])
    expect(mergedRuns(profileResult())).toEqual([
      { id: -4, from: -6, to: -5 },
      { id: -3, from: -4, to: -3 },
      { id: 3, from: 3, to: 4 },
      { id: 4, from: 5, to: 6 },
    ])
  })

  it('draws the head’s probability, the mean over heads and each term by δ, with the log region and merged buckets shaded', () => {
    const result = profileResult()
    const option = buildDistanceProfileOption(result, 1) as AnyRecord
    const series = list(option.series)
    expect(series.map((s) => s.name)).toEqual(['probability, head 1', 'probability, mean over heads', 'c2c, head 1', 'c2p, head 1', 'p2c, head 1'])
    expect(series[0].data).toEqual(result.distances.map((d, k) => [d, result.probability[1][k]]))
    expect(series[1].data.map((p: number[]) => p[1])).toEqual(result.probability[2])
    expect(series[3].data.map((p: number[]) => p[1])).toEqual(result.scores.c2p![1])
    expect(series.slice(2).every((s) => s.xAxisIndex === 1)).toBe(true)
    const areas = series[0].markArea.data as Array<[AnyRecord, AnyRecord]>
    // two log regions (|δ| > 2), then the four merged buckets
    expect(areas.map(([a, b]) => [a.xAxis, b.xAxis])).toEqual([[-6.5, -2.5], [2.5, 6.5], [-6.5, -4.5], [-4.5, -2.5], [2.5, 4.5], [4.5, 6.5]])
    expect(areas[0][0].name).toBe('log buckets')
    const tip = option.tooltip.formatter([{ seriesName: 'probability, head 1', value: [4, 0.1] }]) as string
    expect(tip).toContain('δ = 4')
    expect(tip).toContain('relative id 3 — shared by δ 3 … 4')
    expect(option.tooltip.formatter([{ seriesName: 'x', value: [1, 0.1] }])).toContain('relative id 1 (exact)')
  })

  it('exports one row per δ with the relative id, the head and the mean over heads', () => {
    const result = profileResult()
    const data = extractChartData(buildDistanceProfileOption(result, 'mean', { provenance: { layer: '1' } }))
    expect(data.kind).toBe('table')
    if (data.kind !== 'table') return
    expect(data.columns).toEqual(['delta', 'pairs', 'relative_id', 'probability_mean', 'c2c_mean', 'c2p_mean', 'p2c_mean'])
    expect(data.rows[10]).toEqual([4, 3, 3, result.probability[2][10], result.scores.c2c![2][10], result.scores.c2p![2][10], result.scores.p2c![2][10]])
    const one = extractChartData(buildDistanceProfileOption(result, 0))
    if (one.kind === 'table') expect(one.rows[0]).toEqual([-6, 1, -4, result.probability[0][0], 6, -0, -6, result.probability[2][0]])
    expect(csvWithProvenance(chartDataToCsv(data), { layer: '1' }).startsWith('# layer: 1\ndelta,pairs')).toBe(true)
    expect(chartDataToCsv(data).startsWith('delta,pairs')).toBe(true)
    expect(() => buildDistanceProfileOption(result, 2)).toThrow(/head 2/)
  })
})

describe('one provenance per chart', () => {
  it('writes plain entries and a model result’s provenance through the same CSV and JSON functions', () => {
    const entries = { model: 'toy', text: 'a\nb', run: 'r1', app: 'DeBERTa Lab 0.1.0' }
    expect(isExportProvenance(entries)).toBe(false)
    expect(provenanceCsvLines(entries)).toEqual(['# model: toy', '# text: a b', '# run: r1', '# app: DeBERTa Lab 0.1.0'])
    const result = resultProvenance({ model: { label: 'toy', ref: { kind: 'bundled', name: 'toy-deberta' } } as never, runId: 'r2' }, { text: 't' })!
    expect(isExportProvenance(result)).toBe(true)
    expect(provenanceCsvLines(result)[0]).toMatch(/^# DeBERTa Lab /)
    expect(JSON.parse(exportJson({ chartId: 'c', workspace: 'attention', exportedAt: 't', provenance: entries, data: { kind: 'series', series: [] } })).provenance).toEqual(entries)
  })
})
