import { describe, expect, it } from 'vitest'
import { buildBucketCurveOption, bucketRegions } from '../../src/renderer/charts/bucket-curve'
import { buildTopKBarOption, MAX_VALUE_LABELS, sharedProbabilityMax, topKChartHeight, topKLabelInterval } from '../../src/renderer/charts/topk'
import { buildBenchmarkOption, buildRunComparisonOption, spreadName, spreadRenderItem } from '../../src/renderer/charts/benchmark'
import { parseReferenceTimings, referencePointsFor } from '../../src/common/reference-timings'
import { buildTermShareOption, shareAt, buildSameWordOption, buildPairComparisonOption } from '../../src/renderer/charts/terms'
import { extractChartData, chartDataToCsv } from '../../src/renderer/charts/data'
import type { BenchmarkCase } from '../../src/common/api'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>

describe('buildBucketCurveOption', () => {
  const distances = [-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6]
  const buckets = [-5, -4, -4, -3, -2, -1, 0, 1, 2, 3, 4, 4, 5]
  const curve = { distances, buckets, exactLimit: 3, maxPosition: 64, kind: 'log-bucket' as const }

  it('plots (δ, bucket) pairs and shades the exact region |δ| ≤ exactLimit and the log regions beyond', () => {
    const option = buildBucketCurveOption(curve) as AnyRecord
    expect(option.series[0].data).toEqual(distances.map((d, k) => [d, buckets[k]]))
    const areas = option.series[0].markArea.data.map(([a, b]: AnyRecord[]) => [a.name, a.xAxis, b.xAxis])
    expect(areas).toEqual([
      ['log buckets', -6, -3],
      ['exact', -3, 3],
      ['log buckets', 3, 6],
    ])
  })

  it('names the outer region "clipped" for v1 clipping and adds the k control as a dashed series', () => {
    expect(bucketRegions({ ...curve, kind: 'clipped' }).map((r) => r.name)).toEqual(['clipped', 'exact', 'clipped'])
    const option = buildBucketCurveOption(curve, { k: 2, distances: [-3, 0, 3], ids: [-2, 0, 2] }) as AnyRecord
    expect(option.series[1].name).toBe('clipped at k = 2')
    expect(option.series[1].data).toEqual([[-3, -2], [0, 0], [3, 2]])
    expect(option.series[1].lineStyle.type).toBe('dashed')
  })
})

describe('buildTopKBarOption', () => {
  const plain = [
    { id: 7, token: 'store', probability: 0.4 },
    { id: 9, token: 'mall', probability: 0.1 },
  ]
  const emd = [{ id: 3, token: 'shop', probability: 0.62 }]

  it('lists the tokens rank 1 first with their probabilities', () => {
    const option = buildTopKBarOption(plain, { max: sharedProbabilityMax(plain, emd) }) as AnyRecord
    expect(option.yAxis.data).toEqual(['store', 'mall'])
    expect(option.yAxis.inverse).toBe(true)
    expect(option.series[0].data).toEqual([0.4, 0.1])
    expect(option.xAxis.max).toBe(0.7)
    expect(option.tooltip.formatter({ dataIndex: 1 })).toContain('p = 0.1')
    const data = extractChartData(option)
    expect(data.kind === 'series' && data.series[0].points).toEqual([
      { x: 'store', y: 0.4 },
      { x: 'mall', y: 0.1 },
    ])
  })

  it('keeps 100 predictions readable: a taller chart, thinned token labels and no per-bar percentages', () => {
    const many = Array.from({ length: 100 }, (_, k) => ({ id: k, token: `w${k}`, probability: (100 - k) / 5050 }))
    expect(topKChartHeight(10)).toBe(300)
    expect(topKChartHeight(48)).toBe(732)
    expect(topKChartHeight(100)).toBe(900)
    const option = buildTopKBarOption(many) as AnyRecord
    // (900 − 60) / 14 = 60 labels fit: every 2nd of 100 is drawn
    expect(option.yAxis.axisLabel.interval).toBe(topKLabelInterval(100, 900))
    expect(option.yAxis.axisLabel.interval).toBe(1)
    // 48 (the toy model's whole vocabulary without special tokens): every label
    expect((buildTopKBarOption(many.slice(0, 48)) as AnyRecord).yAxis.axisLabel.interval).toBe(0)
    expect(option.series[0].label.show).toBe(false)
    expect(option.yAxis.data).toHaveLength(100) // every token is still on the axis (hover)
    // ten predictions: every label and every percentage
    const few = buildTopKBarOption(many.slice(0, 10)) as AnyRecord
    expect(few.yAxis.axisLabel.interval).toBe(0)
    expect(few.series[0].label.show).toBe(true)
    expect(MAX_VALUE_LABELS).toBeLessThan(100)
  })

  it('rounds the shared maximum up and caps it at 1', () => {
    expect(sharedProbabilityMax([{ id: 0, token: 'a', probability: 0.0012 }])).toBe(0.002)
    expect(sharedProbabilityMax([{ id: 0, token: 'a', probability: 0.99 }])).toBe(1)
    expect(sharedProbabilityMax([])).toBe(1)
  })
})

describe('benchmark charts', () => {
  const kase = (variant: 'disentangled' | 'standard', seq: number, medianMs: number, predictedMs: number): BenchmarkCase => ({
    part: 'attention',
    variant,
    seq,
    medianMs,
    minMs: medianMs - 1,
    maxMs: medianMs + 1,
    flops: 1,
    gflops: 1,
    predictedMs,
  })
  const cases = [kase('disentangled', 256, 8, 7), kase('disentangled', 128, 3, 2.5), kase('standard', 128, 2, 1.5), { ...kase('standard', 64, 1, 1), part: 'layer' as const }]

  it('draws measured (solid) and predicted (dashed) time against T, sorted by T, per variant', () => {
    const all = buildBenchmarkOption(cases, 'attention') as AnyRecord
    // the lines; the min–max whiskers are custom series (next test)
    const option: AnyRecord = { ...all, series: all.series.filter((s: AnyRecord) => s.type === 'line') }
    expect(option.series.map((s: AnyRecord) => s.name)).toEqual([
      'disentangled (DeBERTa) measured',
      'disentangled (DeBERTa) predicted',
      'standard (BERT) measured',
      'standard (BERT) predicted',
    ])
    expect(option.series[0].data).toEqual([[128, 3], [256, 8]])
    expect(option.series[1].data).toEqual([[128, 2.5], [256, 7]])
    expect(option.series[1].lineStyle.type).toBe('dashed')
    expect(option.series[2].data).toEqual([[128, 2]]) // the layer case is not in the attention chart
    expect(option.xAxis.type).toBe('log')
  })

  it('compares runs as one measured curve each', () => {
    const option = buildRunComparisonOption(
      [
        { label: 'run A', cases },
        { label: 'run B', cases: [kase('disentangled', 128, 5, 1)] },
      ],
      'attention',
      'disentangled',
    ) as AnyRecord
    expect(option.series.filter((s: AnyRecord) => s.type === 'line').map((s: AnyRecord) => [s.name, s.data])).toEqual([
      ['run A', [[128, 3], [256, 8]]],
      ['run B', [[128, 5]]],
    ])
    expect(chartDataToCsv(extractChartData(option))).toBe(
      'series,x,y\nrun A,128,3\nrun A,256,8\n' +
        'run A: min–max over the repeats (low),128,2\nrun A: min–max over the repeats (low),256,7\n' +
        'run A: min–max over the repeats (high),128,4\nrun A: min–max over the repeats (high),256,9\n' +
        'run B,128,5\nrun B: min–max over the repeats (low),128,4\nrun B: min–max over the repeats (high),128,6\n',
    )
  })

  it('draws a reference line (e.g. PyTorch on the same machine) dashed beside the compared runs', () => {
    const option = buildRunComparisonOption([{ label: 'wasm', cases }], 'attention', 'disentangled', {
      reference: { name: 'HF PyTorch', points: [{ seq: 128, ms: 2.5 }, { seq: 256, ms: 6 }] },
    }) as AnyRecord
    const line = option.series.find((s: AnyRecord) => s.name === 'HF PyTorch')
    expect(line.data).toEqual([[128, 2.5], [256, 6]])
    expect(line.lineStyle.type).toBe('dashed')
    expect(option.legend.data).toContain('HF PyTorch')
    expect(chartDataToCsv(extractChartData(option))).toContain('HF PyTorch,256,6\n')
  })

  it('reads reference timings as T:ms pairs or pytorch-reference.sh JSON lines, and says what it ignored', () => {
    expect(parseReferenceTimings('128:330, 512 = 1050ms')).toEqual({ points: [{ seq: 128, ms: 330 }, { seq: 512, ms: 1050 }], problems: [] })
    const json = '{"impl": "pytorch-hf", "preset": "base", "seq": 512, "median_ms": 966.5}\n{"seq": 128, "median_ms": 319}'
    expect(parseReferenceTimings(json).points).toEqual([{ seq: 128, ms: 319 }, { seq: 512, ms: 966.5, impl: 'pytorch-hf', preset: 'base' }])
    const bad = parseReferenceTimings('128:fast; 0:5; {oops; 64:10')
    expect(bad.points).toEqual([{ seq: 64, ms: 10 }])
    expect(bad.problems).toHaveLength(3)
  })

  it('keeps the part a JSON line timed: a reference line is drawn only on its own part, T:ms pairs on any', () => {
    const text = [
      '{"impl": "pytorch-hf", "preset": "base", "seq": 128, "part": "model", "median_ms": 330}',
      '{"impl": "pytorch-hf", "preset": "base", "seq": 128, "part": "attention", "median_ms": 17}',
      '{"impl": "pytorch-hf", "preset": "base", "seq": 512, "part": "attention", "median_ms": 41}',
      '512:1050',
    ].join('\n')
    const { points, problems } = parseReferenceTimings(text)
    expect(problems).toEqual([])
    expect(referencePointsFor(points, 'model').map((p) => [p.seq, p.ms])).toEqual([[128, 330], [512, 1050]])
    expect(referencePointsFor(points, 'attention').map((p) => [p.seq, p.ms])).toEqual([[128, 17], [512, 41]]) // its own line beats the pair
    expect(referencePointsFor(points, 'layer').map((p) => [p.seq, p.ms])).toEqual([[512, 1050]])
    // a later line of the same part and length replaces the earlier one; a part that is not a plain name is refused
    expect(parseReferenceTimings('128:300\n128:310').points).toEqual([{ seq: 128, ms: 310 }])
    const odd = parseReferenceTimings('{"seq": 128, "median_ms": 5, "part": {"x": 1}}\n{"seq": 64}')
    expect(odd.points).toEqual([])
    expect(odd.problems).toHaveLength(2)
  })

  it('draws the spread of the repeats (min–max) as whiskers with each measured line, outside the legend', () => {
    const option = buildBenchmarkOption(cases, 'attention') as AnyRecord
    const spread = option.series.find((s: AnyRecord) => s.name === spreadName('disentangled (DeBERTa) measured'))
    expect(spread.type).toBe('custom')
    expect(spread.data).toEqual([
      [128, 2, 4],
      [256, 7, 9],
    ])
    expect(spread.color).toBe(option.series[0].color)
    expect(spread.encode).toEqual({ x: 0, y: [1, 2] }) // the axis covers the slowest repeat
    expect(option.legend.data).toEqual(['disentangled (DeBERTa) measured', 'disentangled (DeBERTa) predicted', 'standard (BERT) measured', 'standard (BERT) predicted'])
    // a whisker from min to max with 10 px caps, in the series colour
    const values = [128, 2, 4]
    const api = { value: (k: number) => values[k], coord: ([x, y]: number[]) => [x, 100 - y * 10], visual: () => '#123456' }
    const shape = spreadRenderItem({} as never, api as never) as AnyRecord
    expect(shape.children.map((c: AnyRecord) => c.shape)).toEqual([
      { x1: 128, y1: 80, x2: 128, y2: 60 },
      { x1: 123, y1: 80, x2: 133, y2: 80 },
      { x1: 123, y1: 60, x2: 133, y2: 60 },
    ])
    expect(shape.children[0].style.stroke).toBe('#123456')
    // the axis tooltip leaves the whiskers out
    const html = option.tooltip.formatter([
      { seriesName: 'disentangled (DeBERTa) measured', seriesType: 'line', value: [128, 3] },
      { seriesName: spread.name, seriesType: 'custom', value: [128, 2, 4] },
    ])
    expect(html).toContain('min 2, max 4')
    expect(html).not.toContain('min–max over the repeats')
  })
})

describe('term charts', () => {
  it('stacks each term share per layer × head using values[(layer·heads + head)·terms + t]', () => {
    const shares = { layers: 2, heads: 2, terms: ['c2c', 'c2p', 'p2c'] as const, values: Array.from({ length: 12 }, (_, k) => k / 100) }
    const option = buildTermShareOption({ ...shares, terms: [...shares.terms] }) as AnyRecord
    expect(option.xAxis.data).toEqual(['L0 H0', 'L0 H1', 'L1 H0', 'L1 H1'])
    expect(option.series.map((s: AnyRecord) => s.name)).toEqual(['c2c', 'c2p', 'p2c'])
    // layer 1 head 0, term p2c = values[(1·2 + 0)·3 + 2] = values[8]
    expect(option.series[2].data[2]).toBe(0.08)
    expect(shareAt({ ...shares, terms: [...shares.terms] }, 1, 0, 2)).toBe(0.08)
    expect(option.series.every((s: AnyRecord) => s.stack === 'share')).toBe(true)
  })

  it('compares a repeated word with and without position', () => {
    const option = buildSameWordOption([{ token: 'new', positions: [2, 7], cosineContent: 1, cosineSum: 0.41 }]) as AnyRecord
    expect(option.xAxis.data).toEqual(['new @2,7'])
    expect(option.series[0].data).toEqual([1])
    expect(option.series[1].data).toEqual([0.41])
  })

  it('puts c2p and p2c of sentence A beside sentence B for each pair', () => {
    const option = buildPairComparisonOption(
      { tokensB: { tokens: ['x', 'new', 'mall'], inputIds: [], offsets: [] }, pairs: [{ a: [1, 2], b: [1, 2], c2pA: 0.5, c2pB: 0.5, p2cA: -1, p2cB: -1.25 }] },
      ['y', 'new', 'mall'],
    ) as AnyRecord
    expect(option.xAxis.data).toEqual(['new→mall A(1,2) B(1,2)'])
    expect(option.series.map((s: AnyRecord) => s.data[0])).toEqual([0.5, 0.5, -1, -1.25])
  })
})

describe('tooltips under the Content Security Policy', () => {
  it('every builder writes its own tooltip markup, without inline style attributes', async () => {
    const { buildHeatmapOption } = await import('../../src/renderer/charts/heatmap')
    const { buildPublishedTableOption } = await import('../../src/renderer/charts/published')
    const options = [
      buildHeatmapOption({ rows: 1, cols: 1, data: [1] }, ['a'], ['b']),
      buildBucketCurveOption({ distances: [0], buckets: [0], exactLimit: 1, maxPosition: 4, kind: 'clipped' }),
      buildTopKBarOption([{ id: 1, token: 'x', probability: 0.5 }]),
      buildBenchmarkOption([], 'attention'),
      buildTermShareOption({ layers: 1, heads: 1, terms: ['c2c'], values: [1] }),
      buildSameWordOption([{ token: 't', positions: [1, 2], cosineContent: 1, cosineSum: 0.5 }]),
      buildPublishedTableOption({ id: 't', title: 't', source: 's', columns: ['A'], rows: [{ model: 'm', values: { A: 1 } }] }),
    ] as AnyRecord[]
    for (const option of options) expect(typeof option.tooltip.formatter).toBe('function')
    const html = (options[5].tooltip.formatter as (p: unknown) => string)([
      { seriesName: 'content only', value: 1, dataIndex: 0 },
      { seriesName: 'content + position', value: 0.5, dataIndex: 0 },
    ])
    expect(html).toBe('<div class="chart-tip"><b>t @1,2</b><br>content only: 1<br>content + position: 0.5</div>')
    expect(html).not.toContain('style=')
  })
})
