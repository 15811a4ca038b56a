// Small pure helpers shared by the chart-option builders (no DOM, no ECharts runtime: unit-tested in Node).

/** Categorical colours per attention term, stable across every chart. */
export const TERM_COLORS: Record<string, string> = {
  c2c: '#4e79a7',
  c2p: '#f28e2b',
  p2c: '#59a14f',
  p2p: '#b07aa1',
}

/** Diverging palette for signed values (negative blue, zero neutral, positive red). */
export const DIVERGING = ['#2166ac', '#67a9cf', '#d1e5f0', '#f2f2f2', '#fddbc7', '#ef8a62', '#b2182b']
/** Sequential palette (viridis) for values ≥ 0 such as probabilities; readable on light and dark backgrounds. */
export const SEQUENTIAL = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725']

export const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac']

/** Most category labels an axis shows before they are thinned. */
export const MAX_AXIS_LABELS = 40

/**
 * ECharts' axisLabel.interval for `count` categories so that at most `maxLabels` are drawn:
 * interval n shows every (n+1)-th label, so 0 means "all of them".
 */
export function labelInterval(count: number, maxLabels = MAX_AXIS_LABELS): number {
  if (count <= maxLabels || maxLabels < 1) return 0
  return Math.ceil(count / maxLabels) - 1
}

/** The indices whose labels are drawn under labelInterval (for tests and for the SVG export). */
export function shownLabelIndices(count: number, maxLabels = MAX_AXIS_LABELS): number[] {
  const step = labelInterval(count, maxLabels) + 1
  const shown: number[] = []
  for (let index = 0; index < count; index += step) shown.push(index)
  return shown
}

/** min and max of finite values; [0, 0] for none. */
export function finiteRange(values: ArrayLike<number>): [number, number] {
  let min = Infinity
  let max = -Infinity
  for (let index = 0; index < values.length; index++) {
    const value = values[index]
    if (!Number.isFinite(value)) continue
    if (value < min) min = value
    if (value > max) max = value
  }
  return min === Infinity ? [0, 0] : [min, max]
}

/** A range centred on zero that holds every value: signed terms keep 0 at the neutral colour. */
export function symmetricRange(values: ArrayLike<number>): [number, number] {
  const [min, max] = finiteRange(values)
  const bound = Math.max(Math.abs(min), Math.abs(max))
  return bound === 0 ? [-1, 1] : [-bound, bound]
}

/** Escapes text for the HTML of a tooltip (tokens are user text and may contain < or &). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}

/** The exact value as JavaScript prints it (shortest round-trip form), for tooltips. */
export function formatExact(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  if (Number.isNaN(value)) return 'NaN'
  return String(value)
}

/** A short form for axis ticks. */
export function formatShort(value: number): string {
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(1)
  return Number(value.toPrecision(3)).toString()
}

/** Shows a token visibly: spaces and SentencePiece's ▁ as a middle dot, empty as ∅. */
export function displayToken(token: string): string {
  if (token === '') return '∅'
  return token.replace(/▁/g, '·').replace(/ /g, '·')
}

interface AxisTooltipParam {
  seriesName?: string
  value?: unknown
  dataIndex?: number
}

/**
 * An axis-trigger tooltip formatter: the category, then "series: exact value" per line. Written out here
 * (not ECharts' default markup) because the default markup carries inline style attributes, which the
 * renderer's Content Security Policy (style-src 'self') blocks.
 */
export function axisTooltip(categories: string[]): (params: unknown) => string {
  return (params) => {
    const list = (Array.isArray(params) ? params : [params]) as AxisTooltipParam[]
    const category = categories[list[0]?.dataIndex ?? 0] ?? ''
    const lines = list.map((p) => {
      const raw = Array.isArray(p.value) ? p.value[1] : p.value
      const value = raw === null || raw === undefined || raw === '-' ? 'not reported' : formatExact(Number(raw))
      return `${escapeHtml(p.seriesName ?? '')}: ${value}`
    })
    return `<div class="chart-tip"><b>${escapeHtml(category)}</b><br>${lines.join('<br>')}</div>`
  }
}
