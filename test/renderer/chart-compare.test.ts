import { csvWithProvenance } from '../../src/renderer/provenance'
import { describe, expect, it } from 'vitest'
import type { AttentionResult, DecodingResult, ModelInfo } from '../../src/common/api'
import { buildComparisonCurveOption, buildComparisonHeatmapOption, buildComparisonTopKOption, sharedRange } from '../../src/renderer/charts/compare'
import { chartDataToCsv, extractChartData, type HeatmapData, type SeriesData } from '../../src/renderer/charts/data'
import { compareAttention } from '../../src/renderer/workspaces/attention-comparison'
import { compareDecoding } from '../../src/renderer/workspaces/decoding-comparison'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>

const PROVENANCE = { model_a: 'toy-deberta (bundled)', model_b: 'synthetic bert 4L/128H/4A seed 42', text: 'the dog', run_a: 'r1', run_b: 'r2' }

/** An attention result over `tokens` whose probabilities are f(i, j). */
function attentionResult(label: string, tokens: Array<[string, number, number]>, f: (i: number, j: number) => number): AttentionResult {
  const T = tokens.length
  const matrix = { rows: T, cols: T, data: Float32Array.from({ length: T * T }, (_, k) => f(Math.floor(k / T), k % T)) }
  return {
    model: { label } as ModelInfo,
    tokens: { tokens: tokens.map((t) => t[0]), inputIds: tokens.map((_, k) => k), offsets: tokens.map((t) => [t[1], t[2]] as [number, number]) },
    layer: 0,
    head: 0,
    terms: { c2c: matrix },
    scores: matrix,
    probabilities: matrix,
    shares: { layers: 1, heads: 1, terms: ['c2c'], values: [1] },
  }
}

describe('comparison charts', () => {
  it('a heat map draws exactly the matrix given, with both models in its subtitle and CSV', () => {
    const matrix = { rows: 2, cols: 2, data: Float64Array.from([0.25, -0.5, 0, 1]) }
    const option = buildComparisonHeatmapOption(matrix, { rows: ['a', 'b'], cols: ['a', 'b'] }, { title: 'B − A', signed: true, provenance: PROVENANCE }) as AnyRecord
    const data = extractChartData(option) as HeatmapData
    expect(data.values).toEqual([
      [0.25, -0.5],
      [0, 1],
    ])
    expect(option.title.text).toBe('B − A')
    expect(option.title.subtext).toContain('model_a: toy-deberta (bundled)')
    expect(option.title.subtext).toContain('model_b: synthetic bert')
    expect(option.visualMap.min).toBe(-1)
    expect('provenance' in data).toBe(false)
    const csv = csvWithProvenance(chartDataToCsv(data), PROVENANCE).split('\n')
    expect(csv.slice(0, 2)).toEqual(['# model_a: toy-deberta (bundled)', '# model_b: synthetic bert 4L/128H/4A seed 42'])
    expect(csv).toContain('row,row_label,col,col_label,value')
  })

  it('a top-k chart keeps its bars and names both models', () => {
    const option = buildComparisonTopKOption([{ id: 5, token: 'dog', probability: 0.5 }, { id: 6, token: 'cat', probability: 0.25 }], { title: 'B · plain', provenance: PROVENANCE }) as AnyRecord
    const data = extractChartData(option) as SeriesData
    expect(data.series[0].points).toEqual([
      { x: 'dog', y: 0.5 },
      { x: 'cat', y: 0.25 },
    ])
    expect(option.grid.top).toBeGreaterThan(32)
    expect(option.title.subtext).toContain('model_b: synthetic bert')
  })

  it('A and B share one colour range', () => {
    expect(sharedRange([[0.1, 0.4], [0.2, 0.9], null], 'probability')).toEqual([0, 0.9])
    expect(sharedRange([[-2, 0.5], [1, NaN]], 'signed')).toEqual([-2, 2])
    expect(sharedRange([null], 'plain')).toBeUndefined()
  })
})

describe('compareAttention on hand-made results', () => {
  const text = 'big dogs'
  const words: Array<[string, number, number]> = [['[CLS]', 0, 0], ['big', 0, 3], ['dogs', 4, 8], ['[SEP]', 0, 0]]
  const pieces: Array<[string, number, number]> = [['[CLS]', 0, 0], ['▁big', 0, 3], ['▁dog', 3, 7], ['s', 7, 8], ['[SEP]', 0, 0]]

  it('pools B’s pieces to A’s words and subtracts', () => {
    const a = attentionResult('A', words, (i, j) => (i === j ? 1 : 0))
    const b = attentionResult('B', pieces, (_i, j) => (j === 4 ? 1 : 0)) // every query on [SEP]
    const shown = compareAttention(text, a, b, 'probabilities')
    expect(shown.level).toBe('word')
    expect(shown.a.labels).toEqual(['[CLS]', 'big', 'dogs', '[SEP]'])
    expect(Array.from(shown.b.matrix!.data)).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1])
    expect(Array.from(shown.difference!.data)).toEqual([-1, 0, 0, 1, 0, -1, 0, 1, 0, 0, -1, 1, 0, 0, 0, 0])
  })

  it('the same tokens: token by token; a term B lacks: no difference, with the reason', () => {
    const a = attentionResult('A', words, () => 0.25)
    const b = attentionResult('B', words, () => 0.5)
    const shown = compareAttention(text, a, b, 'probabilities')
    expect(shown.level).toBe('token')
    expect(Array.from(shown.difference!.data)).toEqual(new Array(16).fill(0.25))
    const c2p = compareAttention(text, { ...a, terms: { ...a.terms, c2p: a.probabilities } }, b, 'c2p')
    expect(c2p.difference).toBeNull()
    expect(c2p.differenceReason).toBe('B (B) has no c2p term')
  })
})

describe('compareDecoding', () => {
  it('pairs the masks of A and B by the characters they cover', () => {
    const text = 'a [MASK] b [MASK]'
    const prediction = (token: string, probability: number) => ({ id: 0, token, probability })
    const result = (label: string, tokens: Array<[string, number, number]>, masks: number[], p: number): DecodingResult => ({
      model: { label } as ModelInfo,
      tokens: { tokens: tokens.map((t) => t[0]), inputIds: tokens.map((_, k) => k), offsets: tokens.map((t) => [t[1], t[2]] as [number, number]) },
      maskPositions: masks,
      predictions: masks.map((position) => ({ position, plain: [prediction('x', p), prediction(`only-${label}`, 0.1)], emd: [prediction('y', p)] })),
    })
    const a = result('A', [['[CLS]', 0, 0], ['a', 0, 1], ['[MASK]', 2, 8], ['b', 9, 10], ['[MASK]', 11, 17], ['[SEP]', 0, 0]], [2, 4], 0.5)
    const b = result('B', [['[CLS]', 0, 0], ['▁a', 0, 1], ['▁', 1, 2], ['[MASK]', 2, 8], ['▁b', 9, 10], ['▁', 10, 11], ['[MASK]', 11, 17], ['[SEP]', 0, 0]], [3, 6], 0.75)
    const slots = compareDecoding(text, a, b)
    expect(slots.map((s) => [s.label, s.start, s.a!.position, s.b!.position])).toEqual([
      ['[MASK]', 2, 2, 3],
      ['[MASK]', 11, 4, 6],
    ])
    expect(slots[0].shared.plain).toEqual([{ token: 'x', a: 0.5, b: 0.75, difference: 0.25 }])
    expect(slots[0].shared.emd).toEqual([{ token: 'y', a: 0.5, b: 0.75, difference: 0.25 }])
  })

  it('the distance → id curves of A and B share one chart; its CSV and subtitle name both models and runs', () => {
    const curves = { distances: [-2, -1, 0, 1, 2], a: [-2, -1, 0, 1, 2], b: [-1, -1, 0, 0, 0] }
    const option = buildComparisonCurveOption(curves, { a: 'A: toy', b: 'B: v1' }, { title: 'Distance → relative id, A and B', provenance: PROVENANCE }) as AnyRecord
    const data = extractChartData(option) as SeriesData
    expect(data.series.map((s) => [s.name, s.points.map((p) => [p.x, p.y])])).toEqual([
      ['A: toy', [[-2, -2], [-1, -1], [0, 0], [1, 1], [2, 2]]],
      ['B: v1', [[-2, -1], [-1, -1], [0, 0], [1, 0], [2, 0]]],
    ])
    expect(option.series[1].lineStyle.type).toBe('dashed')
    expect(option.title.subtext).toContain('model_b: synthetic bert 4L/128H/4A seed 42')
    const csv = csvWithProvenance(chartDataToCsv(data), PROVENANCE).split('\n')
    expect(csv.slice(0, 5)).toEqual(['# model_a: toy-deberta (bundled)', '# model_b: synthetic bert 4L/128H/4A seed 42', '# text: the dog', '# run_a: r1', '# run_b: r2'])
    expect(() => buildComparisonCurveOption({ ...curves, b: [0] }, { a: 'A', b: 'B' }, { title: 't', provenance: PROVENANCE })).toThrow(/differ in length/)
  })
})
