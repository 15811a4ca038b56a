// Distance → relative id curve: which id (bucket) the model uses for each relative distance δ, with the exact
// region (|δ| ≤ exactLimit, ids equal δ) and the log-bucket or clipped region shaded by markArea.
import type { RelativePositionsResult } from '../../common/api'
import type { ChartOption, LineSeriesOption } from './types'
import { SERIES_COLORS, escapeHtml, formatExact } from './common'

export type BucketCurve = RelativePositionsResult['curve']
export type Clipping = NonNullable<RelativePositionsResult['clipping']>

export interface BucketRegion {
  name: string
  from: number
  to: number
}

/** The shaded regions of the curve: exact in the middle, log buckets (or clipping) on both sides. */
export function bucketRegions(curve: BucketCurve): BucketRegion[] {
  const lo = Math.min(...curve.distances)
  const hi = Math.max(...curve.distances)
  const outer = curve.kind === 'log-bucket' ? 'log buckets' : 'clipped'
  const regions: BucketRegion[] = []
  if (lo < -curve.exactLimit) regions.push({ name: outer, from: lo, to: -curve.exactLimit })
  regions.push({ name: 'exact', from: Math.max(lo, -curve.exactLimit), to: Math.min(hi, curve.exactLimit) })
  if (hi > curve.exactLimit) regions.push({ name: outer, from: curve.exactLimit, to: hi })
  return regions
}

export function buildBucketCurveOption(curve: BucketCurve, clipping?: Clipping, opts: { title?: string } = {}): ChartOption {
  if (curve.distances.length !== curve.buckets.length) throw new Error('curve distances and buckets differ in length')
  const regions = bucketRegions(curve)
  const main: LineSeriesOption = {
    type: 'line',
    name: curve.kind === 'log-bucket' ? 'bucket(δ)' : 'clip(δ)',
    step: 'middle',
    showSymbol: false,
    color: SERIES_COLORS[0],
    data: curve.distances.map((d, index) => [d, curve.buckets[index]]),
    markArea: {
      silent: true,
      // region names in the region's own (darker) colour, bold: readable on the light and the dark theme
      label: { position: 'insideTop', fontSize: 11, fontWeight: 'bold' },
      data: regions.map((region) => [
        {
          name: region.name,
          xAxis: region.from,
          itemStyle: { color: region.name === 'exact' ? 'rgba(89,161,79,0.14)' : 'rgba(242,142,43,0.14)' },
          label: { color: region.name === 'exact' ? '#3f8f37' : '#c46a10' },
        },
        { xAxis: region.to },
      ]),
    },
  }
  const series: LineSeriesOption[] = [main]
  if (clipping) {
    series.push({
      type: 'line',
      name: `clipped at k = ${clipping.k}`,
      step: 'middle',
      showSymbol: false,
      color: SERIES_COLORS[2],
      lineStyle: { type: 'dashed' },
      data: clipping.distances.map((d, index) => [d, clipping.ids[index]]),
    })
  }
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    legend: { top: opts.title ? 24 : 0 },
    grid: { left: 8, right: 16, top: opts.title ? 56 : 32, bottom: 8 },
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params]
        const first = list[0]?.value as [number, number] | undefined
        const lines = list.map((p) => `${escapeHtml(p.seriesName ?? '')}: ${formatExact((p.value as [number, number])[1])}`)
        return `<div class="chart-tip"><b>δ = ${first ? first[0] : ''}</b><br>${lines.join('<br>')}</div>`
      },
    },
    xAxis: { type: 'value', name: 'relative distance δ = i − j', nameLocation: 'middle', nameGap: 26, min: 'dataMin', max: 'dataMax', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'relative id', nameLocation: 'middle', nameGap: 36 },
    series,
  }
}
