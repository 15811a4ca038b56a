// Charts about the attention terms: each term's share of Σ|term| per layer × head, the same word's
// cosine similarity with and without position mixed in, and c2p/p2c for one word pair in two sentences.
import type { AttentionResult, ProblemDemoResult, RelativePositionsResult } from '../../common/api'
import type { BarSeriesOption, ChartOption } from './types'
import { SERIES_COLORS, TERM_COLORS, axisTooltip } from './common'

export type TermShares = AttentionResult['shares']

/** values[(layer · heads + head) · terms + t], as the lab returns them. */
export function shareAt(shares: TermShares, layer: number, head: number, term: number): number {
  return shares.values[(layer * shares.heads + head) * shares.terms.length + term]
}

export function shareCategories(shares: TermShares): string[] {
  const labels: string[] = []
  for (let layer = 0; layer < shares.layers; layer++) for (let head = 0; head < shares.heads; head++) labels.push(`L${layer} H${head}`)
  return labels
}

/** Stacked bars, one per layer × head, one stack segment per term. */
export function buildTermShareOption(shares: TermShares, opts: { title?: string } = {}): ChartOption {
  const expected = shares.layers * shares.heads * shares.terms.length
  if (shares.values.length !== expected) throw new Error(`shares hold ${shares.values.length} values, expected ${expected}`)
  const categories = shareCategories(shares)
  const series: BarSeriesOption[] = shares.terms.map((term, t) => ({
    type: 'bar',
    name: term,
    stack: 'share',
    color: TERM_COLORS[term],
    data: categories.map((_, index) => shareAt(shares, Math.floor(index / shares.heads), index % shares.heads, t)),
  }))
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    legend: { top: opts.title ? 24 : 0 },
    grid: { left: 8, right: 16, top: opts.title ? 60 : 36, bottom: 8 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, formatter: axisTooltip(categories) as never },
    xAxis: { type: 'category', data: categories, axisLabel: { rotate: categories.length > 16 ? 60 : 0 } },
    yAxis: { type: 'value', min: 0, max: 1, name: 'share of Σ|term|', nameLocation: 'middle', nameGap: 36 },
    dataZoom: categories.length > 48 ? [{ type: 'slider', start: 0, end: (48 / categories.length) * 100, bottom: 0 }] : undefined,
    series,
  }
}

export type SameWord = ProblemDemoResult['interference']['sameWord']

export function sameWordCategory(entry: SameWord[number]): string {
  return `${entry.token} @${entry.positions[0]},${entry.positions[1]}`
}

/** For each repeated word: cosine of its two occurrences with content only and with content + position. */
export function buildSameWordOption(sameWord: SameWord, opts: { title?: string } = {}): ChartOption {
  const categories = sameWord.map(sameWordCategory)
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    legend: { top: opts.title ? 24 : 0 },
    grid: { left: 8, right: 16, top: opts.title ? 60 : 36, bottom: 8 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, formatter: axisTooltip(categories) as never },
    xAxis: { type: 'category', data: categories, axisLabel: { interval: 0 } },
    yAxis: { type: 'value', max: 1, name: 'cosine similarity', nameLocation: 'middle', nameGap: 36 },
    series: [
      { type: 'bar', name: 'content only', color: SERIES_COLORS[0], data: sameWord.map((e) => e.cosineContent) },
      { type: 'bar', name: 'content + position', color: SERIES_COLORS[1], data: sameWord.map((e) => e.cosineSum) },
    ],
  }
}

export type PairComparison = NonNullable<RelativePositionsResult['comparison']>

export function pairCategory(pair: PairComparison['pairs'][number], tokensA: string[], tokensB: string[]): string {
  const [i, j] = pair.a
  const [k, l] = pair.b
  return `${tokensA[i]}→${tokensA[j]} A(${i},${j}) B(${k},${l})` + (tokensB[k] !== tokensA[i] ? ' ≠' : '')
}

/** c2p and p2c for the same word pair at the same distance in sentence A and sentence B. */
export function buildPairComparisonOption(comparison: PairComparison, tokensA: string[], opts: { title?: string } = {}): ChartOption {
  const categories = comparison.pairs.map((p) => pairCategory(p, tokensA, comparison.tokensB.tokens))
  const bar = (name: string, color: string, pick: (p: PairComparison['pairs'][number]) => number): BarSeriesOption => ({
    type: 'bar',
    name,
    color,
    data: comparison.pairs.map(pick),
  })
  return {
    animation: false,
    title: opts.title ? { text: opts.title, left: 'center', textStyle: { fontSize: 13 } } : undefined,
    legend: { top: opts.title ? 24 : 0 },
    grid: { left: 8, right: 16, top: opts.title ? 60 : 36, bottom: 8 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, formatter: axisTooltip(categories) as never },
    xAxis: { type: 'category', data: categories, axisLabel: { interval: 0, rotate: categories.length > 3 ? 20 : 0 } },
    yAxis: { type: 'value', name: 'score', nameLocation: 'middle', nameGap: 40 },
    series: [
      bar('c2p in A', TERM_COLORS.c2p, (p) => p.c2pA),
      bar('c2p in B', '#f9c58d', (p) => p.c2pB),
      bar('p2c in A', TERM_COLORS.p2c, (p) => p.p2cA),
      bar('p2c in B', '#9fd28f', (p) => p.p2cB),
    ],
  }
}
