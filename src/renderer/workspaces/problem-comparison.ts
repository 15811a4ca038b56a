// The Problem demo's two-model comparison as data: for model A and model B on one sentence, the embedding rows
// (content, position or their sum), BERT's layer-0 baseline attention and one of DeBERTa's layer-0 terms — token by
// token when both tokenized the sentence alike, else over the spans both tokenizations agree on
// (common/alignment.ts) — B − A where the shapes match, and the scalar results (recovery R², the cosines of a
// repeated word) as A | B | B − A.
import type { AttentionTerm, ProblemDemoResult } from '../../common/api'
import type { ErrorData } from '../../common/errors'
import { alignTokens, differenceMatrix, poolMatrix, type AlignedUnit, type PooledMatrix, type TokenAlignment } from '../../common/alignment'
import type { MatrixValues } from './attention-comparison'

export type ProblemEmbeddingTable = 'content' | 'position' | 'sum'

/** One chart's A, B and B − A (or the reason there is no difference). */
export interface ComparedPair {
  a: MatrixValues | null
  b: MatrixValues | null
  difference: MatrixValues | null
  differenceReason: string | null
}

/** One scalar result of both models. */
export interface ComparedScalar {
  key: string
  name: string
  a: number
  b: number
  /** B − A */
  difference: number
}

export interface ProblemComparison {
  /** 'token': the same tokens in both models; 'word': over the aligned spans */
  level: 'token' | 'word'
  alignment: TokenAlignment
  /** the tokens of A and of B (what the alignment's positions index) */
  tokens: { a: string[]; b: string[] }
  /** row (and, for the attention maps, column) labels: the tokens, or the spans */
  labels: string[]
  /** embedding width of A and of B (the embedding maps' columns) */
  widths: { a: number; b: number }
  embedding: ComparedPair
  bert: ComparedPair
  term: ComparedPair
  scalars: ComparedScalar[]
}

/** Mean of the rows of `matrix` ([T, E] over the tokens of `side`) over each unit's tokens: [U, E]; NaN where a unit has none. */
export function poolRows(matrix: MatrixValues, units: readonly AlignedUnit[], side: 'a' | 'b'): PooledMatrix {
  const E = matrix.cols
  const data = new Float64Array(units.length * E)
  units.forEach((unit, u) => {
    const rows = unit[side]
    for (let e = 0; e < E; e++) {
      let total = 0
      for (const i of rows) total += matrix.data[i * E + e]
      data[u * E + e] = rows.length ? total / rows.length : NaN
    }
  })
  return { rows: units.length, cols: E, data }
}

/** B's request for A's: the same sentence (the Problem demo has no other input). */
export function problemRequestForB(request: Record<string, unknown>): { request: Record<string, unknown>; notes: string[] } {
  return { request: { text: request.text }, notes: [] }
}

/** The lab's refusals of a model in the Problem demo (no absolute position table, a sentence longer than it). */
const REFUSALS = new Set(['CHECKPOINT_MISSING_KEY', 'SEQUENCE_TOO_LONG'])

/**
 * Why the Problem demo refused B, or null when B's error is not a refusal. Whether a relative-only DeBERTa has an
 * absolute position table is a fact of its weights file, not of its configuration, so only the lab can tell.
 */
export function problemRefusal(error: ErrorData | null, label: string): string | null {
  if (!error || !REFUSALS.has(error.code)) return null
  const why = error.code === 'SEQUENCE_TOO_LONG' ? error.message : 'it has no absolute position embeddings, so there is no BERT-style sum of content and position to measure'
  return `The Problem demo refuses B (${label}): ${why}; nothing was computed for B`
}

/** The reason B − A cannot be drawn over the aligned spans, or null. */
function spanReason(alignment: TokenAlignment): string | null {
  if (alignment.sameTokens || alignment.complete) return null
  const lone = alignment.units.find((u) => u.a.length === 0 || u.b.length === 0)!
  return `“${lone.label}” has tokens of ${lone.a.length === 0 ? 'B' : 'A'} only: the span-level matrices do not match`
}

function pair(a: MatrixValues | null, b: MatrixValues | null, reason: string | null): ComparedPair {
  return { a, b, difference: a && b && !reason ? differenceMatrix(a, b) : null, differenceReason: reason }
}

/** The unit holding token `position` of `side`. */
const unitOf = (units: readonly AlignedUnit[], side: 'a' | 'b', position: number): number => units.findIndex((u) => u[side].includes(position))

export function compareProblem(text: string, a: ProblemDemoResult, b: ProblemDemoResult, table: ProblemEmbeddingTable, term: AttentionTerm): ProblemComparison {
  const alignment = alignTokens(text, a.tokens, b.tokens)
  const token = alignment.sameTokens
  const units = alignment.units
  const span = spanReason(alignment)
  const widths = { a: a[table].cols, b: b[table].cols }

  // embedding rows [T, E]: a span is the mean of its tokens' rows
  const rowsA = token ? a[table] : poolRows(a[table], units, 'a')
  const rowsB = token ? b[table] : poolRows(b[table], units, 'b')
  const widthReason = widths.a !== widths.b ? `A's embedding rows are ${widths.a} wide, B's ${widths.b}: a difference needs the same width` : null
  const embedding = pair(rowsA, rowsB, span ?? widthReason)

  // BERT's probabilities: summed over a span's key tokens, averaged over its query tokens (rows still sum to 1)
  const bertA = token ? a.bertAttention : poolMatrix(a.bertAttention, units, 'a', 'sum-keys')
  const bertB = token ? b.bertAttention : poolMatrix(b.bertAttention, units, 'b', 'sum-keys')
  const bert = pair(bertA, bertB, span)

  // a DeBERTa term's scores: averaged over both token sets
  const termOf = (result: ProblemDemoResult, side: 'a' | 'b'): MatrixValues | null => {
    const matrix = result.debertaTerms[term]
    if (!matrix) return null
    return token ? matrix : poolMatrix(matrix, units, side, 'mean')
  }
  const termA = termOf(a, 'a')
  const termB = termOf(b, 'b')
  const termReason = !termA ? `A (${a.model.label}) has no ${term} term` : !termB ? `B (${b.model.label}) has no ${term} term` : span
  const termPair = pair(termA, termB, termReason)

  const scalar = (key: string, name: string, va: number, vb: number): ComparedScalar => ({ key, name, a: va, b: vb, difference: vb - va })
  const scalars = [
    scalar('r2-content', 'R² of recovering the word embedding from word + position', a.interference.contentRecoveryR2, b.interference.contentRecoveryR2),
    scalar('r2-position', 'R² of recovering the position embedding from word + position', a.interference.positionRecoveryR2, b.interference.positionRecoveryR2),
  ]
  // a repeated word both models report at the same two spans
  for (const entryA of a.interference.sameWord) {
    const at = entryA.positions.map((p) => unitOf(units, 'a', p))
    const entryB = b.interference.sameWord.find((e) => e.positions.every((p, k) => unitOf(units, 'b', p) === at[k]))
    if (!entryB || at.some((u) => u < 0)) continue
    const where = `“${units[at[0]].label}” at ${token ? 'tokens' : 'spans'} ${at.join(' and ')}`
    scalars.push(scalar(`cos-content-${at.join('-')}`, `cos(content) of ${where}`, entryA.cosineContent, entryB.cosineContent))
    scalars.push(scalar(`cos-sum-${at.join('-')}`, `cos(content + position) of ${where}`, entryA.cosineSum, entryB.cosineSum))
  }

  return {
    level: token ? 'token' : 'word',
    alignment,
    tokens: { a: a.tokens.tokens, b: b.tokens.tokens },
    labels: token ? a.tokens.tokens : units.map((u) => u.label),
    widths,
    embedding,
    bert,
    term: termPair,
    scalars,
  }
}
