// Attention by relative distance: for one head of a layer (or the mean over its heads), the mean attention
// probability over the pairs (i, j) with i − j = δ (top) and each term's mean score over the same pairs
// (bottom). The log-bucket region (v3) or the clipped region (v1) is shaded, and inside it every run of
// distances that read the same relative id — one bucket — is a band of its own, so merges are visible.
import type { DistanceProfileResult } from '../../common/api'
import type { ChartOption, LineSeriesOption } from './types'
import type { TableData } from './data'
import { provenanceLines, type ProvenanceEntries } from '../provenance'
import { SERIES_COLORS, TERM_COLORS, escapeHtml, formatExact } from './common'

export type ProfileHead = number | 'mean'

/** Maximal runs of consecutive distances (ascending) with the same relative id. */
export function bucketRuns(distances: number[], ids: number[]): Array<{ id: number; from: number; to: number }> {
  const runs: Array<{ id: number; from: number; to: number }> = []
  distances.forEach((d, k) => {
    const last = runs[runs.length - 1]
    if (last && last.id === ids[k] && last.to === d - 1) last.to = d
    else runs.push({ id: ids[k], from: d, to: d })
  })
  return runs
}

/** Runs of two or more distances sharing one id: where the model cannot tell those distances apart. */
export function mergedRuns(result: Pick<DistanceProfileResult, 'distances' | 'buckets'>): Array<{ id: number; from: number; to: number }> {
  return bucketRuns(result.distances, result.buckets.ids).filter((run) => run.to > run.from)
}

/**
 * The shading of a profile by δ: the log-bucket (v3) or clipped (v1) region beyond the exact distances, and inside
 * it every merged bucket, alternating shades so neighbouring buckets stay apart. `markArea(label)` is the series'
 * markArea (with the region's name on one grid only); `runOf` gives the merged bucket of a distance.
 */
export function bucketShading(distances: number[], buckets: DistanceProfileResult['buckets']) {
  const lo = distances[0]
  const hi = distances[distances.length - 1]
  const outer = buckets.kind === 'log-bucket' ? 'log buckets' : 'clipped'
  const regions: Array<[number, number]> = []
  if (buckets.kind !== 'none') {
    if (lo < -buckets.exactLimit) regions.push([lo - 0.5, -buckets.exactLimit - 0.5])
    if (hi > buckets.exactLimit) regions.push([buckets.exactLimit + 0.5, hi + 0.5])
  }
  const merged = mergedRuns({ distances, buckets })
  const runOf = new Map<number, { id: number; from: number; to: number }>()
  for (const run of merged) for (let d = run.from; d <= run.to; d++) runOf.set(d, run)
  const markArea = (label: boolean) => ({
    silent: true,
    label: { position: 'insideTop' as const, fontSize: 10, color: '#c46a10', show: label },
    data: [
      ...regions.map(([from, to]) => [{ name: outer, xAxis: from, itemStyle: { color: 'rgba(242,142,43,0.10)' } }, { xAxis: to }]),
      ...merged.map((run, k) => [{ name: '', xAxis: run.from - 0.5, itemStyle: { color: k % 2 ? 'rgba(120,120,120,0.10)' : 'rgba(120,120,120,0.22)' } }, { xAxis: run.to + 0.5 }]),
    ] as never,
  })
  return { markArea, runOf }
}

const rowOf = (result: DistanceProfileResult, head: ProfileHead): number => (head === 'mean' ? result.heads : head)

export function profileLabel(head: ProfileHead): string {
  return head === 'mean' ? 'mean over heads' : `head ${head}`
}

/** One row per δ: pairs, relative id, the head's probability and term means, and (for one head) the mean over heads. */
export function distanceProfileTable(result: DistanceProfileResult, head: ProfileHead): TableData {
  const row = rowOf(result, head)
  const suffix = head === 'mean' ? 'mean' : `h${head}`
  const withMean = head !== 'mean'
  const columns = ['delta', 'pairs', 'relative_id', `probability_${suffix}`, ...result.terms.map((t) => `${t}_${suffix}`), ...(withMean ? ['probability_mean'] : [])]
  const rows = result.distances.map((d, k) => [
    d,
    result.pairs[k],
    result.buckets.ids[k],
    result.probability[row][k],
    ...result.terms.map((t) => result.scores[t]![row][k]),
    ...(withMean ? [result.probability[result.heads][k]] : []),
  ])
  return { kind: 'table', columns, rows }
}

export function buildDistanceProfileOption(result: DistanceProfileResult, head: ProfileHead, opts: { provenance?: ProvenanceEntries } = {}): ChartOption {
  if (head !== 'mean' && !(Number.isInteger(head) && head >= 0 && head < result.heads)) throw new Error(`head ${head} is not in this result (${result.heads} heads)`)
  const row = rowOf(result, head)
  const { distances, buckets } = result
  const lo = distances[0]
  const hi = distances[distances.length - 1]
  const { markArea: regionArea, runOf } = bucketShading(distances, buckets)
  const points = (values: number[]) => distances.map((d, k) => [d, values[k]])
  const label = profileLabel(head)
  const series: LineSeriesOption[] = [
    { type: 'line', name: `probability, ${label}`, xAxisIndex: 0, yAxisIndex: 0, showSymbol: distances.length < 64, color: SERIES_COLORS[2], data: points(result.probability[row]), markArea: regionArea(true) },
  ]
  if (head !== 'mean') {
    series.push({ type: 'line', name: 'probability, mean over heads', xAxisIndex: 0, yAxisIndex: 0, showSymbol: false, color: '#999999', lineStyle: { type: 'dashed' }, data: points(result.probability[result.heads]) })
  }
  result.terms.forEach((term, t) => {
    series.push({
      type: 'line',
      name: `${term}, ${label}`,
      xAxisIndex: 1,
      yAxisIndex: 1,
      showSymbol: distances.length < 64,
      color: TERM_COLORS[term],
      data: points(result.scores[term]![row]),
      ...(t === 0 ? { markArea: regionArea(false) } : {}),
    })
  })
  const provenance = opts.provenance
  const lines = provenance ? provenanceLines(provenance) : []
  /** below the title and the provenance lines */
  const top = 34 + 13 * lines.length
  const axisX = (gridIndex: number) => ({
    type: 'value' as const,
    gridIndex,
    min: lo - 0.5,
    max: hi + 0.5,
    name: gridIndex === 1 ? 'relative distance δ = i − j (query i, key j)' : undefined,
    nameLocation: 'middle' as const,
    nameGap: 26,
    axisLabel: { hideOverlap: true, formatter: (v: number) => (Number.isInteger(v) ? String(v) : '') },
  })
  const option: ChartOption & { provenance?: ProvenanceEntries } = {
    animation: false,
    title: {
      text: `Layer ${result.layer}, ${label}: attention and term scores by δ`,
      subtext: lines.join('\n') || undefined,
      left: 'center',
      textStyle: { fontSize: 13 },
      subtextStyle: { fontSize: 10, lineHeight: 13 },
    },
    legend: { top, type: 'scroll' },
    grid: [
      { left: 64, right: 16, top: top + 34, height: '28%' },
      { left: 64, right: 16, bottom: 40, height: '38%' },
    ],
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params]
        const d = (list[0]?.value as [number, number] | undefined)?.[0]
        if (d === undefined) return ''
        const k = d - lo
        const run = runOf.get(d)
        const id = buckets.ids[k]
        const idText = buckets.kind === 'none' ? '' : `<br>relative id ${id}${run ? ` — shared by δ ${run.from} … ${run.to}` : Math.abs(d) <= buckets.exactLimit ? ' (exact)' : ''}`
        const lines = list.map((p) => `${escapeHtml(p.seriesName ?? '')}: ${formatExact((p.value as [number, number])[1])}`)
        return `<div class="chart-tip"><b>δ = ${d}</b> (${result.pairs[k]} pairs)${idText}<br>${lines.join('<br>')}</div>`
      },
    },
    xAxis: [axisX(0), axisX(1)],
    yAxis: [
      { type: 'value', gridIndex: 0, name: 'mean probability', nameLocation: 'middle', nameGap: 48, min: 0 },
      { type: 'value', gridIndex: 1, name: 'mean score', nameLocation: 'middle', nameGap: 48 },
    ],
    series: [{ ...series[0], table: distanceProfileTable(result, head) } as never, ...series.slice(1)],
  }
  return option
}
