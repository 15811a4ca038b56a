// The Relative positions workspace's two-model comparison as data: the δ(i, j) or relative-id matrix of model A
// and of model B, token by token when both tokenized the text alike, else over the spans both tokenizations agree
// on (common/alignment.ts) read at the first token of each span; B − A where the shapes match; and both models'
// distance → id curves over one range of distances.
import type { ModelInfo, RelativePositionsResult } from '../../common/api'
import { alignTokens, differenceMatrix, type AlignedUnit, type PooledMatrix, type TokenAlignment } from '../../common/alignment'
import type { MatrixValues } from './attention-comparison'

/** δ(i, j) = i − j, or the relative id the model reads for it. */
export type RelativeComparedMatrix = 'delta' | 'buckets'

export interface RelativeComparison {
  /** 'token': the same tokens in both models; 'word': over the aligned spans, read at each span's first token */
  level: 'token' | 'word'
  alignment: TokenAlignment
  /** the tokens of A and of B (what the alignment's positions index) */
  tokens: { a: string[]; b: string[] }
  a: { labels: string[]; matrix: MatrixValues }
  b: { labels: string[]; matrix: MatrixValues }
  /** B − A, or null with the reason */
  difference: MatrixValues | null
  differenceReason: string | null
}

/** The two distance → id curves over the union of their distances (see alignedCurves). */
export interface AlignedCurves {
  distances: number[]
  a: number[]
  b: number[]
  /** the distances each model's result reports; outside them its end value is carried on */
  reach: { a: [number, number]; b: [number, number] }
}

/** B has relative positions to compare: a term other than c2c (BERT and relative_attention = false have c2c only). */
export const hasRelativePositions = (info: Pick<ModelInfo, 'posAttType'>): boolean => info.posAttType.some((t) => t !== 'c2c')

/**
 * B's request for A's: the same text, second sentence and clipping k. A model without relative positions cannot
 * run this workspace (the lab refuses it): `unavailable` says why, and nothing is run.
 */
export function relativeRequestForB(request: Record<string, unknown>, info: Pick<ModelInfo, 'posAttType' | 'label' | 'modelType'>): { request: Record<string, unknown>; notes: string[]; unavailable?: string } {
  const out: Record<string, unknown> = { text: request.text }
  if (request.compareText !== undefined) out.compareText = request.compareText
  if (request.clipK !== undefined) out.clipK = request.clipK
  if (hasRelativePositions(info)) return { request: out, notes: [] }
  const why = info.modelType === 'bert' ? 'BERT adds an absolute position embedding to each token instead' : 'its configuration has relative_attention off'
  return { request: out, notes: [], unavailable: `B (${info.label}) has no relative positions: ${why}, so it reads no relative ids and there is no matrix or curve to compare (the Attention workspace compares its attention)` }
}

/** The value of `matrix` (over the tokens of `side`) at the first token of each unit; NaN where the unit has no token of that model. */
export function firstTokenMatrix(matrix: MatrixValues, units: readonly AlignedUnit[], side: 'a' | 'b'): PooledMatrix {
  const U = units.length
  const data = new Float64Array(U * U)
  for (let u = 0; u < U; u++) {
    const i = units[u][side][0]
    for (let v = 0; v < U; v++) {
      const j = units[v][side][0]
      data[u * U + v] = i === undefined || j === undefined ? NaN : matrix.data[i * matrix.cols + j]
    }
  }
  return { rows: U, cols: U, data }
}

export function compareRelative(text: string, a: RelativePositionsResult, b: RelativePositionsResult, shown: RelativeComparedMatrix): RelativeComparison {
  const alignment = alignTokens(text, a.tokens, b.tokens)
  const matrixA = shown === 'delta' ? a.delta : a.buckets
  const matrixB = shown === 'delta' ? b.delta : b.buckets
  const tokens = { a: a.tokens.tokens, b: b.tokens.tokens }
  if (alignment.sameTokens) {
    return { level: 'token', alignment, tokens, a: { labels: tokens.a, matrix: matrixA }, b: { labels: tokens.b, matrix: matrixB }, difference: differenceMatrix(matrixA, matrixB), differenceReason: null }
  }
  const labels = alignment.units.map((u) => u.label)
  const spanA = firstTokenMatrix(matrixA, alignment.units, 'a')
  const spanB = firstTokenMatrix(matrixB, alignment.units, 'b')
  let reason: string | null = null
  if (!alignment.complete) {
    const lone = alignment.units.find((u) => u.a.length === 0 || u.b.length === 0)!
    reason = `“${lone.label}” has tokens of ${lone.a.length === 0 ? 'B' : 'A'} only: the span-level matrices do not match`
  }
  return { level: 'word', alignment, tokens, a: { labels, matrix: spanA }, b: { labels, matrix: spanB }, difference: reason ? null : differenceMatrix(spanA, spanB), differenceReason: reason }
}

/**
 * Both curves over every distance from −limit to limit (default: the larger reach of the two). A result covers
 * each side up to its model's reach (past the clipping k or the log buckets' max position), beyond which the id no
 * longer changes: its first or last id is carried on.
 */
export function alignedCurves(a: RelativePositionsResult['curve'], b: RelativePositionsResult['curve'], limit?: number): AlignedCurves {
  const range = (c: RelativePositionsResult['curve']): [number, number] => [Math.min(...c.distances), Math.max(...c.distances)]
  const reach = { a: range(a), b: range(b) }
  const low = limit !== undefined ? -limit : Math.min(reach.a[0], reach.b[0])
  const high = limit !== undefined ? limit : Math.max(reach.a[1], reach.b[1])
  const distances = Array.from({ length: high - low + 1 }, (_, k) => low + k)
  const read = (c: RelativePositionsResult['curve'], [lo, hi]: [number, number]): number[] => {
    const byDistance = new Map(c.distances.map((d, k) => [d, c.buckets[k]]))
    return distances.map((d) => byDistance.get(Math.min(Math.max(d, lo), hi))!)
  }
  return { distances, a: read(a, reach.a), b: read(b, reach.b), reach }
}

/**
 * The distances a chart of both curves shows: up to the shorter of the two reaches (where the curves differ most
 * visibly: one model's buckets or clipping against the other's), or to the longest distance in the text when that
 * is further.
 */
export function curveLimit(a: RelativePositionsResult, b: RelativePositionsResult): number {
  const reach = (c: RelativePositionsResult['curve']): number => Math.max(...c.distances.map(Math.abs))
  return Math.max(Math.min(reach(a.curve), reach(b.curve)), a.tokens.tokens.length - 1, b.tokens.tokens.length - 1)
}
