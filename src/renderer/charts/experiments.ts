// Experiments (the paper's ablations trained small in the lab): the training loss or accuracy of every variant × seed —
// live from progress events, then from the result — and each variant's metric mean ± std (error bars) beside
// the paper's Table 4 number for the variant it corresponds to.
import type { CustomSeriesRenderItem } from 'echarts'
import type { ExperimentId, ExperimentResult, TrainingProgress } from '../../common/api'
import type { BarSeriesOption, ChartOption, LineSeriesOption } from './types'
import { SERIES_COLORS, escapeHtml, formatExact } from './common'
import type { PublishedTable } from './published'

/** One variant × seed's training curves: [step, loss] points and [step, accuracy] points. */
export interface LossCurve {
  variant: string
  seed: number
  points: Array<[number, number]>
  accuracy: Array<[number, number]>
}

export type CurveMeasure = 'loss' | 'accuracy'

/** Appends streamed step losses to the curves (a new array; curves are created in arrival order). */
export function appendTrainingPoints(curves: LossCurve[], points: TrainingProgress['points']): LossCurve[] {
  const next = curves.map((c) => ({ ...c, points: c.points.slice(), accuracy: c.accuracy.slice() }))
  for (const p of points) {
    let curve = next.find((c) => c.variant === p.variant && c.seed === p.seed)
    if (!curve) next.push((curve = { variant: p.variant, seed: p.seed, points: [], accuracy: [] }))
    curve.points.push([p.step, p.loss])
    if (typeof p.accuracy === 'number') curve.accuracy.push([p.step, p.accuracy])
  }
  return next
}

/** The result's full curves (every step). */
export function curvesFromResult(result: ExperimentResult): LossCurve[] {
  return result.curves.map((c) => ({
    variant: c.variant,
    seed: c.seed,
    points: c.losses.map((loss, k): [number, number] => [k + 1, loss]),
    accuracy: (c.accuracies ?? []).map((acc, k): [number, number] => [k + 1, acc]),
  }))
}

/** Training loss (or training-batch accuracy) against step: one colour per variant, one line per seed. */
export function buildLossOption(curves: LossCurve[], opts: { totalSteps?: number; measure?: CurveMeasure } = {}): ChartOption {
  const measure = opts.measure ?? 'loss'
  const variants = [...new Set(curves.map((c) => c.variant))]
  const series: LineSeriesOption[] = curves.map((c) => ({
    type: 'line',
    name: `${c.variant} · seed ${c.seed}`,
    color: SERIES_COLORS[variants.indexOf(c.variant) % SERIES_COLORS.length],
    showSymbol: false,
    lineStyle: { width: 1.5 },
    data: (measure === 'loss' ? c.points : c.accuracy).map((p) => [p[0], p[1]]),
  }))
  return {
    animation: false,
    legend: { type: 'scroll', top: 0 },
    grid: { left: 8, right: 16, top: 36, bottom: 8 },
    tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'value', name: 'training step', nameLocation: 'middle', nameGap: 26, min: 0, max: opts.totalSteps },
    yAxis:
      measure === 'loss'
        ? { type: 'value', name: 'training loss', nameLocation: 'middle', nameGap: 40, scale: true }
        : { type: 'value', name: 'training accuracy (masked tokens)', nameLocation: 'middle', nameGap: 40, min: 0, max: 1 },
    series,
  }
}

/** The metric a task is judged by: probe accuracy after MLM, accuracy on the long test sequences for offset. */
export function defaultMetric(result: Pick<ExperimentResult, 'task'>): string {
  return result.task === 'mlm' ? 'probes_accuracy' : 'test_accuracy'
}

/** Every metric of the result, in the order of its first variant. */
export function metricKeys(result: ExperimentResult): string[] {
  return [...new Set(result.variantOrder.flatMap((v) => Object.keys(result.variants[v]?.metrics ?? {})))]
}

/** Which row of Table 4 (deberta_base_ablation) each lab variant stands for; other experiments have none. */
export const PAPER_ROWS: Partial<Record<ExperimentId, Record<string, string>>> = {
  terms: { all: 'DeBERTa_base', 'c2c+p2c': '-C2P', 'c2c+c2p': '-P2C' },
  emd: { emd: 'DeBERTa_base', 'no-emd': '-EMD' },
}
export const PAPER_COLUMN = 'MNLI-m'

/** The paper's number per lab variant (null when no row corresponds), or null when the experiment has none. */
export function paperValues(experiment: ExperimentId, variants: string[], table: PublishedTable | null, column = PAPER_COLUMN): Array<{ model: string | null; value: number | null }> | null {
  const rows = PAPER_ROWS[experiment]
  if (!rows || !table) return null
  return variants.map((variant) => {
    const model = rows[variant] ?? null
    const value = model ? table.rows.find((r) => r.model === model)?.values[column] : null
    return { model, value: typeof value === 'number' ? value : null }
  })
}

/**
 * Vertical error bars with caps: data items are [category index, low, high, shift], shift being the bar's
 * offset from the category centre as a fraction of the category width (0 when the bar is alone).
 */
export const errorBarRenderItem: CustomSeriesRenderItem = (_params, api) => {
  const x = api.value(0) as number
  const band = (api.size?.([1, 0]) as number[] | undefined)?.[0] ?? 20
  const shift = ((api.value(3) as number) || 0) * band
  const [lowX, lowY] = api.coord([x, api.value(1)])
  const [, highY] = api.coord([x, api.value(2)])
  const low = [lowX + shift, lowY]
  const high = [lowX + shift, highY]
  const half = band * 0.08
  // mid grey: visible on the light and on the dark chart background
  const style = { stroke: '#8a8a8a', lineWidth: 1.5 }
  return {
    type: 'group',
    children: [
      { type: 'line', shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style },
      { type: 'line', shape: { x1: low[0] - half, y1: low[1], x2: low[0] + half, y2: low[1] }, style },
      { type: 'line', shape: { x1: high[0] - half, y1: high[1], x2: high[0] + half, y2: high[1] }, style },
    ],
  }
}

/**
 * Degrees to turn the variant labels of the summary chart: 30 when more than four variants or a line longer than
 * 16 characters would crowd the axis of a narrow window, else 0 (a turned two-line label, "variant" over
 * "(paper row)", would overlap itself).
 */
export function rotateLabels(variants: string[], paper: Array<{ model: string | null }> | null): number {
  const longest = Math.max(0, ...variants.map((v, k) => Math.max(v.length, (paper?.[k]?.model?.length ?? 0) + 2)))
  return variants.length > 4 || longest > 16 ? 30 : 0
}

/**
 * Each variant's mean of `metric` over the seeds as a bar with ± one sample std as an error bar (left axis);
 * with `paper`, the paper's Table 4 MNLI-m accuracy of the corresponding row beside it (right axis).
 */
export function buildExperimentSummaryOption(result: ExperimentResult, metric: string, paper: Array<{ model: string | null; value: number | null }> | null = null): ChartOption {
  const variants = result.variantOrder
  const stats = variants.map((v) => result.variants[v]?.metrics[metric] ?? null)
  const oneSeed = result.seeds.length === 1
  // The paper's column is an accuracy: beside a loss (lower is better) it would read the wrong way round.
  if (!metric.endsWith('accuracy')) paper = null
  const hasPaper = !!paper && paper.some((p) => p.value !== null)
  // A smoke run trains for a few steps: beside the paper's numbers it must not read as a replication.
  const noisy = result.budget === 'smoke' && hasPaper
  const labName =
    (oneSeed ? `this lab: ${metric} (1 seed: no spread to show)` : `this lab: ${metric} (mean ± std, ${result.seeds.length} seeds)`) +
    (noisy ? ` — smoke budget, ${result.steps} steps: few steps, noisy` : '')
  // Two bars per category (this lab, the paper) without a gap: each takes 35 % of the category width, so the
  // lab's bar is centred 17.5 % left of the category centre; its whisker goes there too.
  const layout = hasPaper ? { barGap: '0%', barCategoryGap: '30%' } : {}
  const shift = hasPaper ? -0.175 : 0
  // the axis is 0-based (and ends at 1 for accuracies): whiskers are clipped to it rather than crossing the labels
  const top = metric.endsWith('accuracy') ? 1 : Number.POSITIVE_INFINITY
  const bars: BarSeriesOption = {
    type: 'bar',
    name: labName,
    color: SERIES_COLORS[0],
    yAxisIndex: 0,
    data: stats.map((s) => (s ? s.mean : null)),
    ...layout,
    // hatched, and marked on every bar: a few training steps, far from the paper's budget
    ...(noisy
      ? {
          itemStyle: { decal: { symbol: 'rect', dashArrayX: [1, 0], dashArrayY: [2, 5], rotation: Math.PI / 4, color: 'rgba(255, 255, 255, 0.45)' } },
          label: { show: true, position: 'insideTop', formatter: 'noisy', fontSize: 10, color: '#ffffff' },
        }
      : {}),
  }
  const series: ChartOption['series'] = [
    bars,
    {
      type: 'custom',
      name: 'mean ± std',
      yAxisIndex: 0,
      renderItem: errorBarRenderItem,
      data: stats.map((s, k) => (s && !oneSeed ? [k, Math.max(0, s.mean - s.std), Math.min(top, s.mean + s.std), shift] : [k, null, null, shift])),
      z: 10,
      tooltip: { show: false },
    },
  ]
  if (hasPaper) series.push({ type: 'bar', name: `paper: Table 4 ${PAPER_COLUMN} (%)`, color: SERIES_COLORS[1], yAxisIndex: 1, data: paper!.map((p) => p.value), ...layout })
  const tooltip = (params: unknown): string => {
    const list = (Array.isArray(params) ? params : [params]) as Array<{ dataIndex: number }>
    const k = list[0]?.dataIndex ?? 0
    const s = stats[k]
    const lines = [`${escapeHtml(metric)}: ${s ? `${formatExact(s.mean)} ± ${formatExact(s.std)}` : 'not measured'}`]
    if (hasPaper) lines.push(paper![k]?.model ? `paper ${escapeHtml(paper![k].model!)}: ${formatExact(paper![k].value)}` : 'paper: no corresponding row')
    return `<div class="chart-tip"><b>${escapeHtml(variants[k] ?? '')}</b><br>${lines.join('<br>')}</div>`
  }
  return {
    animation: false,
    legend: { top: 0, data: hasPaper ? [labName, `paper: Table 4 ${PAPER_COLUMN} (%)`] : [labName] },
    // two legend rows in a narrow window when the paper is beside the lab
    grid: { left: 8, right: hasPaper ? 8 : 16, top: hasPaper ? 56 : 36, bottom: 8 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, formatter: tooltip as never },
    // every label shown; an explicit line height keeps the two lines of "variant (paper row)" apart (ECharts 6
    // stacks them when a chart that had one-line labels gets two-line ones); many or long labels turn
    xAxis: { type: 'category', data: variants.map((v, k) => (paper?.[k]?.model ? `${v}\n(${paper[k].model})` : v)), axisLabel: { interval: 0, rotate: rotateLabels(variants, paper), hideOverlap: false, lineHeight: 14 } },
    yAxis: [
      { type: 'value', name: metric, nameLocation: 'middle', nameGap: 40, min: 0, max: metric.endsWith('accuracy') ? 1 : undefined },
      // the paper's percentages on the same scale as the lab's accuracies (0–100 % beside 0–1), from zero: a
      // truncated axis would turn the paper's 85.9 against 86.3 into a large difference
      ...(hasPaper ? [{ type: 'value' as const, name: `paper ${PAPER_COLUMN} (%)`, nameLocation: 'middle' as const, nameGap: 36, min: 0, max: 100, splitLine: { show: false } }] : []),
    ],
    series,
  }
}
