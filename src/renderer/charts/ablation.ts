// Ablate and measure: the masked slots' log-probability change (plain head and EMD), the hidden-state change per
// layer, and the head-importance map. Each chart carries its numbers as a table (`table` on the first series:
// CSV, JSON, the e2e registry) and its provenance as a subtitle (PNG, SVG); CSV and JSON take it from BaseChart's prop.
import type { Ablation, AblationResult, AblationSlot, HeadImportanceResult } from '../../common/api'
import type { ChartOption } from './types'
import type { TableData } from './data'
import { provenanceLines, type ProvenanceEntries as Provenance } from '../provenance'
import { SERIES_COLORS, axisTooltip, displayToken, formatShort } from './common'
import { buildHeatmapOption } from './heatmap'

/** What was removed, in words: "head 1.2 (context zeroed)", "c2p in every layer and head", … */
export function ablationLabel(a: Ablation): string {
  if (a.kind === 'head') return `head ${a.layer}.${a.head} removed (its context zeroed before W_O)`
  if (a.layer === undefined) return `${a.term} removed in every layer and head`
  if (a.head === undefined) return `${a.term} removed in layer ${a.layer}`
  return `${a.term} removed in head ${a.layer}.${a.head}`
}

/** The first layer whose output can change: the ablated layer (0 for a term removed everywhere). */
export function ablatedLayer(a: Ablation): number {
  return a.layer ?? 0
}

const tokens = (list: AblationSlot['entered']): string => list.map((p) => p.token).join(' ')

/** One row per slot and decoder: the reference token, its log-probability before/after, rank, KL, top-k changes. */
export function ablationSlotsTable(result: AblationResult): TableData {
  const rows: TableData['rows'] = []
  for (const slot of result.slots) {
    for (const decoder of ['plain', 'emd'] as const) {
      const s = slot[decoder]
      rows.push([slot.position, decoder, s.reference.token, s.logProbBefore, s.logProbAfter, s.delta, s.rankAfter, s.kl, tokens(s.entered), tokens(s.left)])
    }
  }
  return { kind: 'table', columns: ['position', 'decoder', 'reference', 'logp_before', 'logp_after', 'delta_logp', 'rank_after', 'kl_nats', 'entered_topk', 'left_topk'], rows }
}

function titled(option: ChartOption, title: string, provenance: Provenance | undefined, bottom: number): { top: number } {
  const lines = provenance ? provenanceLines(provenance) : []
  option.title = { text: title, subtext: lines.join('\n') || undefined, left: 'center', textStyle: { fontSize: 13 }, subtextStyle: { fontSize: 10, lineHeight: 13 } }
  const top = 34 + 13 * lines.length
  option.grid = { left: 56, right: 16, top: top + 24, bottom }
  return { top }
}

/** Δ log p of each slot's reference token, plain head and EMD side by side. */
export function buildAblationSlotsOption(result: AblationResult, opts: { provenance?: Provenance } = {}): ChartOption {
  const categories = result.slots.map((s) => `pos ${s.position}: ${displayToken(s.plain.reference.token)} / ${displayToken(s.emd.reference.token)}`)
  const option: ChartOption = {
    animation: false,
    tooltip: { trigger: 'axis', confine: true, formatter: axisTooltip(categories) as never },
    legend: { bottom: 0 },
    xAxis: { type: 'category', data: categories, axisLabel: { fontSize: 11 } },
    yAxis: { type: 'value', name: 'Δ log p (nats)', nameLocation: 'middle', nameGap: 40 },
    series: [
      { type: 'bar', name: 'plain MLM head', data: result.slots.map((s) => s.plain.delta), itemStyle: { color: SERIES_COLORS[0] }, table: ablationSlotsTable(result) } as never,
      { type: 'bar', name: 'EMD', data: result.slots.map((s) => s.emd.delta), itemStyle: { color: SERIES_COLORS[1] } },
    ],
  }
  titled(option, "Change of each [MASK]'s top-1 log-probability", opts.provenance, 48)
  return option
}

/** One row per hidden state k = 0 … L: ‖h′ − h‖ / ‖h‖ over every token and over the masked slots. */
export function layerChangeTable(result: AblationResult): TableData {
  return {
    kind: 'table',
    columns: ['hidden_state', 'after', 'change_all_tokens', 'change_masked_slots'],
    rows: result.layerChange.map((v, k) => [k, k === 0 ? 'embeddings' : `layer ${k - 1}`, v, result.layerChangeMasked[k]]),
  }
}

export function buildLayerChangeOption(result: AblationResult, opts: { provenance?: Provenance } = {}): ChartOption {
  const categories = result.layerChange.map((_, k) => (k === 0 ? 'embeddings' : `layer ${k - 1}`))
  const option: ChartOption = {
    animation: false,
    tooltip: { trigger: 'axis', confine: true, formatter: axisTooltip(categories) as never },
    legend: { bottom: 0 },
    xAxis: { type: 'category', data: categories, name: 'output of', nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'value', name: '‖h′ − h‖ / ‖h‖', nameLocation: 'middle', nameGap: 44, axisLabel: { formatter: (v: number) => formatShort(v) } },
    series: [
      { type: 'bar', name: 'all tokens', data: result.layerChange.slice(), itemStyle: { color: SERIES_COLORS[0] }, table: layerChangeTable(result) } as never,
      { type: 'bar', name: 'masked slots', data: result.layerChangeMasked.slice(), itemStyle: { color: SERIES_COLORS[2] } },
    ],
  }
  titled(option, 'Relative change of the hidden states, layer by layer', opts.provenance, 56)
  return option
}

export type ImportanceSortKey = 'importance' | 'head'

/** One row per head: layer, head, mean Δ log p over the slots, then each slot's Δ (column per masked position). */
export function importanceTable(result: HeadImportanceResult, sort: ImportanceSortKey = 'head'): TableData {
  const S = result.maskPositions.length
  const rows: Array<Array<number>> = []
  for (let layer = 0; layer < result.layers; layer++) {
    for (let head = 0; head < result.heads; head++) {
      const k = layer * result.heads + head
      rows.push([layer, head, result.importance[k], ...result.deltas.slice(k * S, (k + 1) * S)])
    }
  }
  // most important first: the largest drop of log-probability (ties keep layer, head order)
  if (sort === 'importance') rows.sort((a, b) => a[2] - b[2] || a[0] - b[0] || a[1] - b[1])
  return { kind: 'table', columns: ['layer', 'head', 'mean_delta_logp', ...result.maskPositions.map((p) => `delta_logp_pos${p}`)], rows }
}

/** The L × NH map of mean Δ log p (blue: removing the head lowers the reference tokens' probability). */
export function buildImportanceOption(result: HeadImportanceResult, opts: { provenance?: Provenance } = {}): ChartOption {
  const expected = result.layers * result.heads
  if (result.importance.length !== expected || result.deltas.length !== expected * result.maskPositions.length) {
    throw new Error(`head importance holds ${result.importance.length} heads, expected ${result.layers} × ${result.heads}`)
  }
  const option = buildHeatmapOption(
    { rows: result.layers, cols: result.heads, data: result.importance },
    Array.from({ length: result.layers }, (_, l) => `layer ${l}`),
    Array.from({ length: result.heads }, (_, h) => `head ${h}`),
    { signed: true, valueName: 'mean Δ log p (nats)', rowAxisName: 'layer', colAxisName: 'head', raster: false },
  ) as ChartOption
  const decoder = result.decoder === 'emd' ? 'EMD' : 'plain MLM head'
  const { top } = titled(option, `Head importance (${decoder}): mean Δ log p of the [MASK] top-1 with the head removed`, opts.provenance, 8)
  option.grid = { left: 8, right: 100, top: top + 40, bottom: 8 }
  const series = (option.series as Array<Record<string, unknown>>)[0]
  series.table = importanceTable(result)
  return option
}
