import { describe, expect, it } from 'vitest'
import type { ExperimentResult } from '../../src/common/api'
import {
  appendTrainingPoints,
  buildExperimentSummaryOption,
  buildLossOption,
  curvesFromResult,
  defaultMetric,
  errorBarRenderItem,
  metricKeys,
  paperValues,
  rotateLabels,
} from '../../src/renderer/charts/experiments'
import { extractChartData } from '../../src/renderer/charts/data'
import { findTable, parsePublished } from '../../src/renderer/charts/published'
import raw from '../../resources/published-results.json'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>
const ablation = findTable(parsePublished(raw as unknown as Record<string, unknown>), 'deberta_base_ablation')

const termsResult: ExperimentResult = {
  experiment: 'terms',
  budget: 'smoke',
  description: 'terms',
  task: 'mlm',
  seeds: [1, 2],
  steps: 3,
  backend: 'cpu',
  milliseconds: 1234,
  variantOrder: ['c2c', 'c2c+c2p', 'c2c+p2c', 'all'],
  variants: {
    c2c: { metrics: { probes_accuracy: { mean: 0.2, std: 0.05 }, final_loss: { mean: 3, std: 0.1 } } },
    'c2c+c2p': { metrics: { probes_accuracy: { mean: 0.3, std: 0.02 }, final_loss: { mean: 2.8, std: 0.1 } } },
    'c2c+p2c': { metrics: { probes_accuracy: { mean: 0.25, std: 0 }, final_loss: { mean: 2.9, std: 0.1 } } },
    all: { metrics: { probes_accuracy: { mean: 0.4, std: 0.1 }, final_loss: { mean: 2.5, std: 0.1 } } },
  },
  curves: [
    { variant: 'c2c', seed: 1, losses: [4, 3.5, 3], accuracies: [0.1, 0.2, 0.3], metrics: { probes_accuracy: 0.25 } },
    { variant: 'c2c', seed: 2, losses: [4.1, 3.6, 3.1], metrics: { probes_accuracy: 0.15 } },
  ],
}

describe('experiment charts', () => {
  it('accumulates streamed step losses and accuracies per variant × seed without mutating the previous curves', () => {
    const first = appendTrainingPoints([], [
      { variant: 'relative', seed: 1, step: 1, loss: 4, accuracy: 0.1 },
      { variant: 'relative', seed: 1, step: 2, loss: 3.5, accuracy: 0.2 },
    ])
    const second = appendTrainingPoints(first, [
      { variant: 'relative', seed: 1, step: 3, loss: 3, accuracy: 0.3 },
      { variant: 'absolute', seed: 1, step: 1, loss: 4.2, accuracy: 0 },
    ])
    expect(first[0].points).toEqual([[1, 4], [2, 3.5]])
    expect(first[0].accuracy).toEqual([[1, 0.1], [2, 0.2]])
    expect(second).toEqual([
      { variant: 'relative', seed: 1, points: [[1, 4], [2, 3.5], [3, 3]], accuracy: [[1, 0.1], [2, 0.2], [3, 0.3]] },
      { variant: 'absolute', seed: 1, points: [[1, 4.2]], accuracy: [[1, 0]] },
    ])
  })

  it('draws the training accuracy instead of the loss on request, on a 0–1 axis; old results without accuracies draw empty lines', () => {
    const option = buildLossOption(curvesFromResult(termsResult), { totalSteps: 3, measure: 'accuracy' }) as AnyRecord
    expect(option.series[0].data).toEqual([[1, 0.1], [2, 0.2], [3, 0.3]])
    expect(option.series[1].data).toEqual([])
    expect([option.yAxis.min, option.yAxis.max]).toEqual([0, 1])
    expect(option.yAxis.name).toMatch(/accuracy/)
    expect((buildLossOption(curvesFromResult(termsResult)) as AnyRecord).yAxis.name).toBe('training loss')
  })

  it('draws one loss line per variant × seed, coloured by variant, with steps from 1', () => {
    const option = buildLossOption(curvesFromResult(termsResult), { totalSteps: 3 }) as AnyRecord
    expect(option.series.map((s: AnyRecord) => s.name)).toEqual(['c2c · seed 1', 'c2c · seed 2'])
    expect(option.series[0].color).toBe(option.series[1].color)
    expect(option.series[1].data).toEqual([[1, 4.1], [2, 3.6], [3, 3.1]])
    expect(option.xAxis.max).toBe(3)
    const data = extractChartData(option as never)
    expect(data.kind === 'series' && data.series[0].points).toEqual([{ x: 1, y: 4 }, { x: 2, y: 3.5 }, { x: 3, y: 3 }])
  })

  it('picks the metric the task is judged by and lists every metric', () => {
    expect(defaultMetric(termsResult)).toBe('probes_accuracy')
    expect(defaultMetric({ task: 'offset' })).toBe('test_accuracy')
    expect(metricKeys(termsResult)).toEqual(['probes_accuracy', 'final_loss'])
  })

  it('maps the terms variants to Table 4 rows (all = DeBERTa_base, c2c+p2c = −C2P, c2c+c2p = −P2C) and c2c to none', () => {
    expect(paperValues('terms', termsResult.variantOrder, ablation)).toEqual([
      { model: null, value: null },
      { model: '-P2C', value: 86.0 },
      { model: '-C2P', value: 85.9 },
      { model: 'DeBERTa_base', value: 86.3 },
    ])
    expect(paperValues('emd', ['no-emd', 'emd'], ablation)).toEqual([
      { model: '-EMD', value: 86.1 },
      { model: 'DeBERTa_base', value: 86.3 },
    ])
    expect(paperValues('length', ['relative', 'absolute'], ablation)).toBeNull()
    expect(paperValues('terms', termsResult.variantOrder, null)).toBeNull()
  })

  it('draws mean bars with ± std error bars and the paper’s numbers on a second axis from 0 to 100 %', () => {
    const paper = paperValues('terms', termsResult.variantOrder, ablation)
    const option = buildExperimentSummaryOption(termsResult, 'probes_accuracy', paper) as AnyRecord
    const [bars, errors, published] = option.series
    expect(bars.type).toBe('bar')
    expect(bars.data).toEqual([0.2, 0.3, 0.25, 0.4])
    expect(errors.type).toBe('custom')
    expect(errors.data[0][0]).toBe(0)
    expect(errors.data[0][1]).toBeCloseTo(0.15)
    expect(errors.data[0][2]).toBeCloseTo(0.25)
    expect(errors.data[3][1]).toBeCloseTo(0.3)
    expect(errors.data[3][2]).toBeCloseTo(0.5)
    expect(published).toMatchObject({ type: 'bar', yAxisIndex: 1, data: [null, 86.0, 85.9, 86.3] })
    // two gapless bars per category: the whisker sits on the lab's bar (17.5 % left of the centre)
    expect([bars.barGap, bars.barCategoryGap, published.barGap, published.barCategoryGap]).toEqual(['0%', '30%', '0%', '30%'])
    expect(errors.data.map((d: number[]) => d[3])).toEqual([-0.175, -0.175, -0.175, -0.175])
    expect(option.yAxis).toHaveLength(2)
    expect(option.yAxis[0].max).toBe(1)
    // the paper's axis is the lab's 0–1 in percent, from zero: 85.9 against 86.3 stays a small difference
    expect([option.yAxis[1].min, option.yAxis[1].max]).toEqual([0, 100])
    expect(option.xAxis.data).toEqual(['c2c', 'c2c+c2p\n(-P2C)', 'c2c+p2c\n(-C2P)', 'all\n(DeBERTa_base)'])
  })

  it('marks a smoke-budget result beside the paper as few steps and noisy (name, hatching, a label on each bar)', () => {
    const paper = paperValues('terms', termsResult.variantOrder, ablation)
    const smoke = buildExperimentSummaryOption(termsResult, 'probes_accuracy', paper) as AnyRecord
    expect(smoke.series[0].name).toMatch(/smoke budget, 3 steps: few steps, noisy/)
    expect(smoke.legend.data[0]).toBe(smoke.series[0].name)
    expect(smoke.series[0].itemStyle.decal).toBeDefined()
    expect(smoke.series[0].label).toMatchObject({ show: true, formatter: 'noisy' })
    // the default budget, or no paper beside it: no mark
    const full = buildExperimentSummaryOption({ ...termsResult, budget: 'default' }, 'probes_accuracy', paper) as AnyRecord
    expect(full.series[0].name).not.toMatch(/noisy/)
    expect(full.series[0].label).toBeUndefined()
    expect((buildExperimentSummaryOption(termsResult, 'probes_accuracy', null) as AnyRecord).series[0].name).not.toMatch(/noisy/)
  })

  it('turns the variant labels when they would collide, and shows every one', () => {
    const paper = paperValues('terms', termsResult.variantOrder, ablation)
    const option = buildExperimentSummaryOption(termsResult, 'probes_accuracy', paper) as AnyRecord
    // four two-line labels ("all" over "(DeBERTa_base)") fit upright; five variants turn
    expect(option.xAxis.axisLabel).toMatchObject({ interval: 0, rotate: 0, hideOverlap: false, lineHeight: 14 })
    expect(rotateLabels(['no-emd', 'emd'], null)).toBe(0)
    expect(rotateLabels(['k=2', 'k=5', 'k=6', 'k=16', 'buckets=8'], null)).toBe(30)
    expect(rotateLabels(['a', 'an-unusually-long-variant'], null)).toBe(30)
  })

  it('has one axis and no paper series when no variant corresponds to the paper', () => {
    const option = buildExperimentSummaryOption(termsResult, 'final_loss', null) as AnyRecord
    expect(option.series.map((s: AnyRecord) => s.type)).toEqual(['bar', 'custom'])
    expect(option.yAxis).toHaveLength(1)
    expect(option.yAxis[0].max).toBeUndefined()
    expect(option.series[0].data).toEqual([3, 2.8, 2.9, 2.5])
    expect(option.series[1].data[0][3]).toBe(0) // a lone bar: the whisker is centred
  })

  it('shows the paper’s accuracy only beside accuracy metrics, and no whiskers for a single seed', () => {
    const paper = paperValues('terms', termsResult.variantOrder, ablation)
    const loss = buildExperimentSummaryOption(termsResult, 'final_loss', paper) as AnyRecord
    expect(loss.series.map((s: AnyRecord) => s.type)).toEqual(['bar', 'custom'])
    expect(loss.xAxis.data).toEqual(['c2c', 'c2c+c2p', 'c2c+p2c', 'all'])
    const single = buildExperimentSummaryOption({ ...termsResult, seeds: [1] }, 'probes_accuracy', null) as AnyRecord
    expect(single.series[0].name).toMatch(/1 seed: no spread/)
    expect(single.series[1].data.every((d: Array<number | null>) => d[1] === null && d[2] === null)).toBe(true)
  })

  it('clips whiskers to the axis: no accuracy below 0 or above 1', () => {
    const wide: ExperimentResult = { ...termsResult, variants: { ...termsResult.variants, c2c: { metrics: { probes_accuracy: { mean: 0.05, std: 0.2 } } }, all: { metrics: { probes_accuracy: { mean: 0.9, std: 0.3 } } } } }
    const errors = (buildExperimentSummaryOption(wide, 'probes_accuracy', null) as AnyRecord).series[1]
    expect(errors.data[0].slice(1, 3)).toEqual([0, expect.closeTo(0.25)])
    expect(errors.data[3].slice(1, 3)).toEqual([expect.closeTo(0.6), 1])
  })

  it('renders an error bar as a vertical line between low and high with two caps', () => {
    const values = [2, 0.1, 0.3]
    const api = { value: (i: number) => values[i], coord: ([x, y]: number[]) => [x * 100, 1000 - y * 1000], size: () => [50, 0] }
    const shape = errorBarRenderItem({} as never, api as never) as AnyRecord
    expect(shape.type).toBe('group')
    expect(shape.children[0].shape).toEqual({ x1: 200, y1: 900, x2: 200, y2: 700 })
    expect(shape.children[1].shape).toEqual({ x1: 196, y1: 900, x2: 204, y2: 900 })
    expect(shape.children[2].shape).toEqual({ x1: 196, y1: 700, x2: 204, y2: 700 })
    // shifted by a fraction of the category width
    const shifted = errorBarRenderItem({} as never, { ...api, value: (i: number) => [2, 0.1, 0.3, -0.2][i] } as never) as AnyRecord
    expect(shifted.children[0].shape).toEqual({ x1: 190, y1: 900, x2: 190, y2: 700 })
  })
})
