import { describe, expect, it } from 'vitest'
import type { AttentionResult, Matrix } from '../../src/common/api'
import { buildCombinedRowsOption, combineRows, combinedRows, validRows } from '../../src/renderer/charts/attention-rows'
import { chartDataToCsv, extractChartData } from '../../src/renderer/charts/data'

const m = (f: (i: number, j: number) => number): Matrix => ({ rows: 3, cols: 3, data: Float32Array.from({ length: 9 }, (_, k) => f(Math.floor(k / 3), k % 3)) })
const result = {
  tokens: { tokens: ['[CLS]', 'a', '[SEP]'], inputIds: [1, 5, 2], offsets: [] as Array<[number, number]> },
  terms: { c2c: m((i, j) => 10 * i + j), c2p: m((i, j) => -i - j) },
  scores: m((i, j) => 10 * i + j - i - j),
  probabilities: m((i, j) => (i === j ? 0.5 : 0.25)),
} as unknown as AttentionResult

describe('combined query rows', () => {
  it('sums or averages the chosen rows column by column', () => {
    expect(combineRows(result.terms.c2c!, [0, 2], 'sum')).toEqual([20, 22, 24])
    expect(combineRows(result.terms.c2c!, [0, 2], 'mean')).toEqual([10, 11, 12])
    expect(combineRows(result.terms.c2c!, [], 'mean')).toEqual([0, 0, 0])
    expect(validRows([2, 0, 2, 7, -1, 1.5], 3)).toEqual([0, 2])
  })

  it('gives every computed term, the scores and the probabilities, and draws them with their exports', () => {
    const lines = combinedRows(result, [1, 2], 'mean')
    expect(lines.map((l) => l.name)).toEqual(['c2c', 'c2p', 'scores', 'probabilities'])
    expect(lines[3].values).toEqual([0.25, 0.375, 0.375])
    expect(buildCombinedRowsOption(result, [], 'sum')).toBeNull()
    expect(buildCombinedRowsOption(result, [9], 'sum')).toBeNull()
    const option = buildCombinedRowsOption(result, [2, 1], 'sum')!
    expect((option.title as { text: string }).text).toBe('sum of query rows 1 a, 2 [SEP]')
    const data = extractChartData(option)
    expect(data.kind).toBe('series')
    if (data.kind !== 'series') return
    expect(data.series.map((s) => s.name)).toEqual(['c2c', 'c2p', 'scores', 'probabilities'])
    expect(data.series[0].points).toEqual([{ x: '0 [CLS]', y: 30 }, { x: '1 a', y: 32 }, { x: '2 [SEP]', y: 34 }])
    expect(chartDataToCsv(data).split('\n')[1]).toBe('c2c,0 [CLS],30')
  })
})
