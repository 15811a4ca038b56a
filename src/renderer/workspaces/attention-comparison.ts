// The Attention workspace's two-model comparison as data: the matrix of the shown view (a term, the scores or
// the probabilities) of model A and of model B, token by token when both tokenized the text alike, else pooled
// to the spans both tokenizations agree on (common/alignment.ts), and B − A when the shapes match.
import type { AttentionResult, AttentionTerm, ModelInfo } from '../../common/api'
import { alignTokens, differenceMatrix, poolMatrix, poolingFor, type Pooling, type TokenAlignment } from '../../common/alignment'

/** A row-major matrix as the heat maps read it (a result's Float32Array or pooled Float64Array values). */
export interface MatrixValues {
  rows: number
  cols: number
  data: ArrayLike<number>
}

/** A term, the summed scores, or the probabilities (the views of the Attention workspace). */
export type ComparedView = AttentionTerm | 'scores' | 'probabilities'

export interface AttentionComparison {
  /** 'token': the same tokens in both models; 'word': pooled to the aligned spans */
  level: 'token' | 'word'
  alignment: TokenAlignment
  /** the tokens of A and of B (what the alignment's positions index) */
  tokens: { a: string[]; b: string[] }
  /** the pooling of the word level (null at the token level) */
  pooling: Pooling | null
  a: { labels: string[]; matrix: MatrixValues | null }
  b: { labels: string[]; matrix: MatrixValues | null }
  /** B − A, or null with the reason */
  difference: MatrixValues | null
  differenceReason: string | null
}

function viewMatrix(result: AttentionResult, view: ComparedView) {
  if (view === 'scores') return result.scores
  if (view === 'probabilities') return result.probabilities
  return result.terms[view] ?? null
}

const headText = (head: number | 'mean'): string => (head === 'mean' ? 'the mean over heads' : `head ${head}`)

/** B's request for A's: the same inputs, with what B lacks changed and said (layer, head, terms, p2p). */
export function attentionRequestForB(request: Record<string, unknown>, info: Pick<ModelInfo, 'layers' | 'heads' | 'posAttType' | 'label'>): { request: Record<string, unknown>; notes: string[] } {
  const notes: string[] = []
  const out: Record<string, unknown> = { ...request }
  const layer = Number(request.layer)
  if (Number.isInteger(layer) && layer >= info.layers) {
    out.layer = info.layers - 1
    notes.push(`B has no layer ${layer} (layers 0–${info.layers - 1}): its layer ${info.layers - 1} is shown`)
  }
  const head = request.head
  if (typeof head === 'number' && head >= info.heads) {
    out.head = info.heads - 1
    notes.push(`B has no head ${head} (heads 0–${info.heads - 1}): its head ${info.heads - 1} is shown`)
  }
  const relative = info.posAttType.some((t) => t !== 'c2c')
  const disabled = Array.isArray(request.disabledTerms) ? (request.disabledTerms as AttentionTerm[]) : []
  const kept = disabled.filter((t) => info.posAttType.includes(t) || (t === 'p2p' && relative && !!request.p2p))
  if (kept.length !== disabled.length) {
    out.disabledTerms = kept
    notes.push(`B has no ${disabled.filter((t) => !kept.includes(t)).join(', ')} term: nothing to switch off there`)
  }
  if (request.p2p && !relative) {
    out.p2p = false
    notes.push('B has no relative positions: p2p is off for B')
  }
  if (request.ablationScope === 'head' && out.head !== request.head) out.ablationScope = 'layer'
  return { request: out, notes }
}

export function compareAttention(text: string, a: AttentionResult, b: AttentionResult, view: ComparedView): AttentionComparison {
  const alignment = alignTokens(text, a.tokens, b.tokens)
  const matrixA = viewMatrix(a, view)
  const matrixB = viewMatrix(b, view)
  let reason: string | null = null
  if (!matrixA) reason = `A (${a.model.label}) has no ${view} term`
  else if (!matrixB) reason = `B (${b.model.label}) has no ${view} term`
  else if (a.layer !== b.layer || a.head !== b.head) {
    reason = `A shows layer ${a.layer}, ${headText(a.head)}; B shows layer ${b.layer}, ${headText(b.head)}: a difference needs the same layer and head`
  } else if (!alignment.sameTokens && !alignment.complete) {
    const lone = alignment.units.find((u) => u.a.length === 0 || u.b.length === 0)!
    reason = `“${lone.label}” has tokens of ${lone.a.length === 0 ? 'B' : 'A'} only: the word-level matrices do not match`
  }
  if (alignment.sameTokens) {
    return {
      level: 'token',
      alignment,
      tokens: { a: a.tokens.tokens, b: b.tokens.tokens },
      pooling: null,
      a: { labels: a.tokens.tokens, matrix: matrixA },
      b: { labels: b.tokens.tokens, matrix: matrixB },
      difference: matrixA && matrixB && !reason ? differenceMatrix(matrixA, matrixB) : null,
      differenceReason: reason,
    }
  }
  const pooling = poolingFor(view)
  const labels = alignment.units.map((u) => u.label)
  const pooledA = matrixA ? poolMatrix(matrixA, alignment.units, 'a', pooling) : null
  const pooledB = matrixB ? poolMatrix(matrixB, alignment.units, 'b', pooling) : null
  return {
    level: 'word',
    alignment,
    tokens: { a: a.tokens.tokens, b: b.tokens.tokens },
    pooling,
    a: { labels, matrix: pooledA },
    b: { labels, matrix: pooledB },
    difference: pooledA && pooledB && !reason ? differenceMatrix(pooledA, pooledB) : null,
    differenceReason: reason,
  }
}
