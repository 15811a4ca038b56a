// Two models on one text: their tokens aligned by the characters they cover, attention pooled from tokens to
// the aligned spans, and the difference B − A where the shapes match. Pure functions (no tfjs, no DOM): the
// renderer draws with them and the tests check them against the core's own forward passes.
import type { TokenizedText } from './api'

/**
 * One aligned span: the smallest run of characters that both tokenizations cut at its ends (usually a word;
 * a piece of a word when both models split it the same way), or one special token ([CLS], [SEP]).
 */
export interface AlignedUnit {
  /** characters [start, end) of the text, without surrounding white space; a special token: start = end */
  start: number
  end: number
  /** the text of the span, or the special token */
  label: string
  /** the token positions of model A and of model B in this span (empty: that model has no token here) */
  a: number[]
  b: number[]
}

export interface TokenAlignment {
  units: AlignedUnit[]
  /** A and B have the same tokens over the same characters: they can be compared token by token */
  sameTokens: boolean
  /** every unit holds tokens of both models: the pooled matrices have the same rows and columns */
  complete: boolean
}

type Tokens = Pick<TokenizedText, 'tokens' | 'offsets'>

const isSpace = (c: string): boolean => /\s/.test(c)

/** The span without leading and trailing white space (SentencePiece's "▁the" covers the space before it). */
function trimSpan(text: string, [start, end]: [number, number]): [number, number] {
  let s = start
  let e = end
  while (s < e && isSpace(text[s])) s++
  while (e > s && isSpace(text[e - 1])) e--
  return [s, e]
}

interface Sided {
  /** token positions of the specials before the first and after the last token with text */
  leading: number[]
  trailing: number[]
  /** tokens with text: position and trimmed span */
  spans: Array<{ position: number; start: number; end: number }>
  /** tokens inside the text without characters of their own ("▁" alone, a special in the middle) → the token they join */
  attached: Array<{ position: number; to: number }>
}

function sides(text: string, tokens: Tokens): Sided {
  const n = tokens.tokens.length
  const trimmed = tokens.offsets.map((offset) => trimSpan(text, offset))
  const hasText = trimmed.map(([s, e]) => e > s)
  const first = hasText.indexOf(true)
  const last = hasText.lastIndexOf(true)
  const out: Sided = { leading: [], trailing: [], spans: [], attached: [] }
  for (let p = 0; p < n; p++) {
    if (hasText[p]) out.spans.push({ position: p, start: trimmed[p][0], end: trimmed[p][1] })
    else if (first < 0 || p < first) out.leading.push(p)
    else if (p > last) out.trailing.push(p)
    else {
      // joins the next token with text (SentencePiece's lone "▁" belongs to the piece after it)
      let next = p + 1
      while (next < n && !hasText[next]) next++
      out.attached.push({ position: p, to: next < n ? next : last })
    }
  }
  return out
}

/**
 * Aligns the tokens of two tokenizations of `text` by their character offsets: the spans of tokens with text
 * (white space trimmed) that overlap are merged, across both models, into one unit (the coarsest segmentation
 * both agree on); the special tokens before the text are paired from the start, those after it from the end;
 * a token without characters of its own inside the text joins the unit of the token after it.
 */
export function alignTokens(text: string, a: Tokens, b: Tokens): TokenAlignment {
  const sa = sides(text, a)
  const sb = sides(text, b)
  const intervals = [...sa.spans.map((s) => ({ ...s, side: 'a' as const })), ...sb.spans.map((s) => ({ ...s, side: 'b' as const }))].sort((x, y) => x.start - y.start || x.end - y.end)
  const middle: AlignedUnit[] = []
  const unitOf = { a: new Map<number, AlignedUnit>(), b: new Map<number, AlignedUnit>() }
  for (const interval of intervals) {
    let unit = middle[middle.length - 1]
    if (!unit || interval.start >= unit.end) {
      unit = { start: interval.start, end: interval.end, label: '', a: [], b: [] }
      middle.push(unit)
    }
    unit.end = Math.max(unit.end, interval.end)
    unit[interval.side].push(interval.position)
    unitOf[interval.side].set(interval.position, unit)
  }
  for (const [side, sided] of [['a', sa], ['b', sb]] as const) {
    for (const { position, to } of sided.attached) unitOf[side].get(to)?.[side].push(position)
  }
  for (const unit of middle) {
    unit.label = text.slice(unit.start, unit.end)
    unit.a.sort((x, y) => x - y)
    unit.b.sort((x, y) => x - y)
  }
  const special = (at: number, pa: number | undefined, pb: number | undefined): AlignedUnit => ({
    start: at,
    end: at,
    label: pa !== undefined ? a.tokens[pa] : b.tokens[pb!],
    a: pa === undefined ? [] : [pa],
    b: pb === undefined ? [] : [pb],
  })
  const leading = Array.from({ length: Math.max(sa.leading.length, sb.leading.length) }, (_, k) => special(0, sa.leading[k], sb.leading[k]))
  const trailingCount = Math.max(sa.trailing.length, sb.trailing.length)
  const trailing = Array.from({ length: trailingCount }, (_, k) =>
    special(text.length, sa.trailing[sa.trailing.length - trailingCount + k], sb.trailing[sb.trailing.length - trailingCount + k]),
  )
  const units = [...leading, ...middle, ...trailing]
  const sameTokens =
    a.tokens.length === b.tokens.length && a.tokens.every((token, p) => token === b.tokens[p] && a.offsets[p][0] === b.offsets[p][0] && a.offsets[p][1] === b.offsets[p][1])
  return { units, sameTokens, complete: units.every((u) => u.a.length > 0 && u.b.length > 0) }
}

/**
 * How a [T, T] attention matrix becomes a [U, U] matrix over aligned units:
 * - 'sum-keys' (probabilities): sum over the key tokens of a unit, mean over its query tokens, so every pooled
 *   row still sums to 1 (as in Clark et al. 2019, "What does BERT look at?", for word-level attention);
 * - 'mean' (scores and terms, before the softmax): mean over the unit's query and key tokens.
 */
export type Pooling = 'sum-keys' | 'mean'

export interface PooledMatrix {
  rows: number
  cols: number
  /** NaN where the unit has no token of this model */
  data: Float64Array
}

/** The pooling used for a view: probabilities sum over keys, scores and terms are averaged. */
export const poolingFor = (view: string): Pooling => (view === 'probabilities' ? 'sum-keys' : 'mean')

/** Pools `matrix` (row-major [T, T] over the tokens of `side`) to the units. */
export function poolMatrix(matrix: { rows: number; cols: number; data: ArrayLike<number> }, units: readonly AlignedUnit[], side: 'a' | 'b', pooling: Pooling): PooledMatrix {
  const U = units.length
  const data = new Float64Array(U * U)
  for (let u = 0; u < U; u++) {
    const queries = units[u][side]
    for (let v = 0; v < U; v++) {
      const keys = units[v][side]
      if (queries.length === 0 || keys.length === 0) {
        data[u * U + v] = NaN
        continue
      }
      let total = 0
      for (const i of queries) for (const j of keys) total += matrix.data[i * matrix.cols + j]
      data[u * U + v] = pooling === 'sum-keys' ? total / queries.length : total / (queries.length * keys.length)
    }
  }
  return { rows: U, cols: U, data }
}

/** B − A, element by element (computed in float64); throws when the shapes differ. */
export function differenceMatrix(a: { rows: number; cols: number; data: ArrayLike<number> }, b: { rows: number; cols: number; data: ArrayLike<number> }): PooledMatrix {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`shapes differ: A is ${a.rows} × ${a.cols}, B is ${b.rows} × ${b.cols}`)
  const data = new Float64Array(a.rows * a.cols)
  for (let k = 0; k < data.length; k++) data[k] = b.data[k] - a.data[k]
  return { rows: a.rows, cols: a.cols, data }
}
