// Corpus statistics charts: every head (layers × heads) coloured by one corpus summary — entropy, mean attended
// distance or a term's share — whose CSV is the per-head table (all summaries and the top pair), and one head's
// attention by relative distance over the corpus beside the mean over heads, and under it each term's mean score
// by δ for that head (the log-bucket or clipped distances shaded as in the sentence profile). The provenance names
// the corpus (file name, sentences, SHA-256 of its text) as well as the model and terms.
import type { AttentionTerm } from '../../common/api'
import type { CorpusResult } from '../../common/corpus'
import { SEQUENTIAL, SERIES_COLORS, TERM_COLORS, escapeHtml, formatExact } from './common'
import { bucketShading } from './distance-profile'
import type { TableData } from './data'
import { provenanceLines, type ProvenanceEntries as Provenance } from '../provenance'
import type { ChartOption, LineSeriesOption } from './types'

export type CorpusMetric = 'entropy' | 'distance' | AttentionTerm

export function corpusMetricLabel(metric: CorpusMetric): string {
  if (metric === 'entropy') return 'attention entropy (nats, mean over query rows)'
  if (metric === 'distance') return 'mean attended distance (tokens)'
  return `${metric} share of Σ|term|`
}

/** The value of a summary for head index h (layer · heads + head). */
export function corpusHeadValue(result: Pick<CorpusResult, 'entropy' | 'distance' | 'shares' | 'terms'>, metric: CorpusMetric, h: number): number {
  if (metric === 'entropy') return result.entropy[h]
  if (metric === 'distance') return result.distance[h]
  const t = result.terms.indexOf(metric)
  if (t < 0) throw new Error(`the corpus run has no term ${metric}`)
  return result.shares[h * result.terms.length + t]
}

/** One row per head: layer, head, entropy, distance, each term's share, and its most attended token pair. */
export function corpusHeadTable(result: CorpusResult): TableData {
  const columns = ['layer', 'head', 'entropy', 'distance', ...result.terms.map((t) => `share_${t}`), 'top_pair_query', 'top_pair_key', 'top_pair_total', 'top_pair_count', 'top_pair_mean']
  const rows: Array<Array<string | number>> = []
  for (let layer = 0; layer < result.layers; layer++) {
    for (let head = 0; head < result.heads; head++) {
      const h = layer * result.heads + head
      const top = result.topPairs[h][0]
      rows.push([layer, head, result.entropy[h], result.distance[h], ...result.terms.map((_, t) => result.shares[h * result.terms.length + t]), top?.query ?? '', top?.key ?? '', top?.total ?? 0, top?.count ?? 0, top?.mean ?? 0])
    }
  }
  return { kind: 'table', columns, rows }
}

function titled(text: string, provenance: Provenance | undefined) {
  const lines = provenance ? provenanceLines(provenance) : []
  return { lines, title: { text, subtext: lines.join('\n') || undefined, left: 'center', textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 10, lineHeight: 13 } } }
}

export function buildCorpusHeadsOption(result: CorpusResult, metric: CorpusMetric, opts: { selected?: { layer: number; head: number } | null; provenance?: Provenance } = {}): ChartOption {
  const LH = result.layers * result.heads
  const values = Array.from({ length: LH }, (_, h) => corpusHeadValue(result, metric, h))
  const share = metric !== 'entropy' && metric !== 'distance'
  const max = share ? 1 : Math.max(1e-9, ...values)
  const { lines, title } = titled(`Corpus: ${corpusMetricLabel(metric)} per head · ${result.corpus.sentences} sentences`, opts.provenance)
  const top = 34 + 13 * lines.length
  const heads = Array.from({ length: result.heads }, (_, k) => `head ${k}`)
  const layers = Array.from({ length: result.layers }, (_, k) => `layer ${k}`)
  const selected = opts.selected
  const option: ChartOption = {
    animation: false,
    title,
    grid: { left: 70, right: 90, top: top + 10, bottom: 30 },
    tooltip: {
      confine: true,
      formatter: (params) => {
        const p = Array.isArray(params) ? params[0] : params
        const [head, layer] = (p?.value as [number, number, number] | undefined) ?? [0, 0]
        const h = layer * result.heads + head
        const pair = result.topPairs[h][0]
        const shares = result.terms.map((t, k) => `${t} ${formatExact(result.shares[h * result.terms.length + k])}`).join(' · ')
        return `<div class="chart-tip"><b>layer ${layer}, head ${head}</b><br>entropy ${formatExact(result.entropy[h])} nats · distance ${formatExact(result.distance[h])}<br>${shares}${pair ? `<br>top pair ${pair.query} → ${pair.key}: Σp ${formatExact(pair.total)} over ${pair.count}` : ''}</div>`
      },
    },
    xAxis: { type: 'category', data: heads, splitArea: { show: true } },
    yAxis: { type: 'category', data: layers, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max, calculable: false, orient: 'vertical', right: 4, top: top + 10, inRange: { color: SEQUENTIAL }, text: [Number(max.toPrecision(4)).toString(), '0'], textStyle: { fontSize: 10 } },
    series: [
      {
        type: 'heatmap',
        name: corpusMetricLabel(metric),
        data: values.map((v, h) => ({
          value: [h % result.heads, Math.floor(h / result.heads), v],
          ...(selected && selected.layer * result.heads + selected.head === h ? { itemStyle: { borderColor: '#e15759', borderWidth: 3 } } : {}),
        })),
        label: { show: LH <= 64, formatter: (p: { value: unknown }) => formatExact((p.value as number[])[2]).slice(0, 6), fontSize: 10 },
        table: corpusHeadTable(result),
      } as never,
    ],
  }
  return option
}

/** One row per δ: pairs over the corpus, the head's mean probability, and the mean over heads. */
export function corpusProfileTable(result: CorpusResult, h: number): TableData {
  const LH = result.layers * result.heads
  const mean = result.profile.distances.map((_, k) => result.profile.probability.reduce((s, row) => s + row[k], 0) / LH)
  return {
    kind: 'table',
    columns: ['delta', 'pairs', `probability_l${Math.floor(h / result.heads)}h${h % result.heads}`, 'probability_mean_over_heads'],
    rows: result.profile.distances.map((d, k) => [d, result.profile.pairs[k], result.profile.probability[h][k], mean[k]]),
  }
}

export function buildCorpusProfileOption(result: CorpusResult, layer: number, head: number, opts: { provenance?: Provenance } = {}): ChartOption {
  if (layer < 0 || layer >= result.layers || head < 0 || head >= result.heads) throw new Error(`head ${layer}.${head} is not in this result`)
  const h = layer * result.heads + head
  const table = corpusProfileTable(result, h)
  const { distances } = result.profile
  const { lines, title } = titled(`Corpus: layer ${layer}, head ${head} — mean attention probability by δ = i − j`, opts.provenance)
  const top = 34 + 13 * lines.length
  const series: LineSeriesOption[] = [
    {
      type: 'line',
      name: `layer ${layer}, head ${head}`,
      showSymbol: distances.length < 64,
      color: SERIES_COLORS[2],
      data: table.rows.map((r) => [r[0] as number, r[2] as number]),
      ...(result.profile.buckets ? { markArea: bucketShading(distances, result.profile.buckets).markArea(true) } : {}),
    },
    { type: 'line', name: 'mean over heads', showSymbol: false, color: '#999999', lineStyle: { type: 'dashed' }, data: table.rows.map((r) => [r[0] as number, r[3] as number]) },
  ]
  const option: ChartOption = {
    animation: false,
    title,
    legend: { top },
    grid: { left: 64, right: 16, top: top + 34, bottom: 44 },
    tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'value', min: distances[0] - 0.5, max: distances[distances.length - 1] + 0.5, name: 'relative distance δ = i − j (query i, key j)', nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'value', min: 0, name: 'mean probability', nameLocation: 'middle', nameGap: 48 },
    series: [{ ...series[0], table } as never, series[1]],
  }
  return option
}

/** Whether the result holds the terms' mean scores by δ (runs recorded before them do not). */
export const hasCorpusTermProfile = (result: CorpusResult): boolean => !!result.profile.scores && !!result.profile.scoreTerms

/** One row per δ: pairs over the corpus, the relative id it reads, the head's mean probability and each term's mean score. */
export function corpusTermProfileTable(result: CorpusResult, h: number): TableData {
  const { distances, pairs, probability, buckets } = result.profile
  const scores = result.profile.scores ?? {}
  const terms = result.profile.scoreTerms ?? []
  const suffix = `l${Math.floor(h / result.heads)}h${h % result.heads}`
  return {
    kind: 'table',
    columns: ['delta', 'pairs', ...(buckets ? ['relative_id'] : []), `probability_${suffix}`, ...terms.map((t) => `${t}_${suffix}`)],
    rows: distances.map((d, k) => [d, pairs[k], ...(buckets ? [buckets.ids[k]] : []), probability[h][k], ...terms.map((t) => scores[t]!.data[h * scores[t]!.cols + k])]),
  }
}

/** One head's terms' mean scores by δ over the corpus (drawn under the probability chart); null for a run without them. */
export function buildCorpusTermProfileOption(result: CorpusResult, layer: number, head: number, opts: { provenance?: Provenance } = {}): ChartOption | null {
  if (layer < 0 || layer >= result.layers || head < 0 || head >= result.heads) throw new Error(`head ${layer}.${head} is not in this result`)
  if (!hasCorpusTermProfile(result) || result.profile.scoreTerms!.length === 0) return null
  const h = layer * result.heads + head
  const table = corpusTermProfileTable(result, h)
  const { distances, pairs, buckets } = result.profile
  const terms = result.profile.scoreTerms!
  const first = table.columns.length - terms.length
  const lo = distances[0]
  const shading = buckets ? bucketShading(distances, buckets) : null
  const { lines, title } = titled(`Corpus: layer ${layer}, head ${head} — each term's mean score by δ = i − j`, opts.provenance)
  const top = 34 + 13 * lines.length
  const series: LineSeriesOption[] = terms.map((term, t) => ({
    type: 'line',
    name: term,
    showSymbol: distances.length < 64,
    color: TERM_COLORS[term],
    data: table.rows.map((r) => [r[0] as number, r[first + t] as number]),
    ...(t === 0 && shading ? { markArea: shading.markArea(true) } : {}),
  }))
  const option: ChartOption = {
    animation: false,
    title,
    legend: { top },
    grid: { left: 64, right: 16, top: top + 34, bottom: 44 },
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params]
        const d = (list[0]?.value as [number, number] | undefined)?.[0]
        if (d === undefined) return ''
        const k = d - lo
        const run = shading?.runOf.get(d)
        const idText = buckets && buckets.kind !== 'none' ? `<br>relative id ${buckets.ids[k]}${run ? ` — shared by δ ${run.from} … ${run.to}` : Math.abs(d) <= buckets.exactLimit ? ' (exact)' : ''}` : ''
        const values = list.map((p) => `${escapeHtml(p.seriesName ?? '')}: ${formatExact((p.value as [number, number])[1])}`)
        return `<div class="chart-tip"><b>δ = ${d}</b> (${pairs[k]} pairs)${idText}<br>${values.join('<br>')}</div>`
      },
    },
    xAxis: { type: 'value', min: lo - 0.5, max: distances[distances.length - 1] + 0.5, name: 'relative distance δ = i − j (query i, key j)', nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'value', name: 'mean score', nameLocation: 'middle', nameGap: 48 },
    series: [{ ...series[0], table } as never, ...series.slice(1)],
  }
  return option
}
