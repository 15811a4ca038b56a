// The Python export of each chart that shows a model computation: the result on screen (and the request that
// made it) → the view engine.py recomputes and the lab's numbers it compares with. Tolerances are those of
// test/fixtures/README.md: attention probabilities 1e-5, scores and everything else 1e-4, ids exact.
import type {
  AblationScope,
  AttentionResult,
  AttentionTerm,
  DecodingResult,
  DistanceProfileResult,
  ModelViewResult,
  ProblemDemoResult,
  RelativePositionsResult,
} from '../../common/api'
import { ATTENTION_TERMS } from '../../common/api'
import { pythonScope, pythonSupported, type PythonExport } from './python-script'
import { combinedRows, type RowsMode } from '../charts/attention-rows'

const TOLERANCE = 1e-4
const PROBABILITY_TOLERANCE = 1e-5

type Request = Record<string, unknown> | null

const textOf = (request: Request): string | null => (typeof request?.text === 'string' ? request.text : null)
const termsOf = (value: unknown): AttentionTerm[] => (Array.isArray(value) ? (value as AttentionTerm[]).filter((t) => ATTENTION_TERMS.includes(t)) : [])

/** The Attention workspace's main heat map: one term, the summed scores or the probabilities. */
export function attentionPython(result: AttentionResult, request: Request, shown: AttentionTerm | 'scores' | 'probabilities'): PythonExport | null {
  const text = textOf(request)
  if (!text || !pythonSupported(result.model.ref)) return null
  const matrix = shown === 'probabilities' ? result.probabilities : shown === 'scores' ? result.scores : result.terms[shown]
  if (!matrix) return null
  const disabledTerms = termsOf(request?.disabledTerms)
  return {
    chartId: 'attention-main',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: {
      kind: 'attention',
      layer: result.layer,
      head: result.head,
      matrix: shown === 'probabilities' ? 'probs' : shown,
      disabledTerms,
      scope: pythonScope(request?.ablationScope as AblationScope | undefined, result.layer, result.head),
      p2p: !!result.terms.p2p,
    },
    expected: { matrix: matrix.data },
    tolerance: shown === 'probabilities' ? PROBABILITY_TOLERANCE : TOLERANCE,
  }
}

/** Several query rows of the head on screen, summed or averaged: every term, the scores and the probabilities. */
export function rowsPython(result: AttentionResult, request: Request, rows: number[], mode: RowsMode): PythonExport | null {
  const text = textOf(request)
  if (!text || !pythonSupported(result.model.ref) || rows.length === 0) return null
  const lines = combinedRows(result, rows, mode)
  const expected: Record<string, number[]> = {}
  for (const { name, values } of lines) expected[name] = values
  return {
    chartId: 'attention-rows',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: {
      kind: 'rows',
      layer: result.layer,
      head: result.head,
      rows,
      mode,
      names: lines.map((l) => l.name),
      disabledTerms: termsOf(request?.disabledTerms),
      scope: pythonScope(request?.ablationScope as AblationScope | undefined, result.layer, result.head),
      p2p: !!result.terms.p2p,
    },
    expected,
    tolerance: TOLERANCE,
  }
}

/** Each term's share of Σ|term| per layer × head (the Attention workspace's bar chart). */
export function sharesPython(result: AttentionResult, request: Request): PythonExport | null {
  const text = textOf(request)
  if (!text || !pythonSupported(result.model.ref)) return null
  return {
    chartId: 'attention-shares',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: {
      kind: 'shares',
      terms: result.shares.terms,
      disabledTerms: termsOf(request?.disabledTerms),
      scope: pythonScope(request?.ablationScope as AblationScope | undefined, result.layer, result.head),
      p2p: !!result.terms.p2p,
    },
    expected: { shares: result.shares.values },
    tolerance: TOLERANCE,
  }
}

/** The instruments' saved ablation text ("without c2p, p2c, p2p on") back as terms. */
export function ablationTerms(ablation: string): AttentionTerm[] {
  const match = /^without ([^,]+(?:, (?!p2p on)[^,]+)*)/.exec(ablation)
  return match ? termsOf(match[1].split(', ')) : []
}

/** Model view: per head term shares, entropy and mean attended distance. */
export function modelViewPython(result: ModelViewResult, text: string, ablation: string): PythonExport | null {
  if (!text || !pythonSupported(result.model.ref)) return null
  return {
    chartId: 'attention-model-view',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: { kind: 'model-view', terms: result.terms, disabledTerms: ablationTerms(ablation), p2p: result.terms.includes('p2p') },
    expected: { shares: result.shares, entropy: result.entropy, distance: result.distance },
    tolerance: TOLERANCE,
  }
}

/** Attention by relative distance: every head's probability and term means by δ (last row: mean over heads). */
export function distanceProfilePython(result: DistanceProfileResult, text: string, ablation: string): PythonExport | null {
  if (!text || !pythonSupported(result.model.ref)) return null
  const expected: Record<string, number[]> = { probability: result.probability.flat() }
  for (const term of result.terms) {
    const rows = result.scores[term]
    if (rows) expected[term] = rows.flat()
  }
  return {
    chartId: 'attention-distance',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: { kind: 'distance-profile', layer: result.layer, terms: result.terms.filter((t) => !!result.scores[t]), disabledTerms: ablationTerms(ablation), p2p: result.terms.includes('p2p') },
    expected,
    tolerance: TOLERANCE,
  }
}

/** δ(i, j) and the relative id each (i, j) reads (the Relative positions workspace's matrix). */
export function relativeMatrixPython(result: RelativePositionsResult, request: Request): PythonExport | null {
  const text = textOf(request)
  if (!text || !pythonSupported(result.model.ref)) return null
  return {
    chartId: 'relative-matrix',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: { kind: 'relative-positions' },
    expected: { delta: result.delta.data, buckets: result.buckets.data },
    tolerance: 0,
  }
}

/** The distance → relative id curve. */
export function relativeCurvePython(result: RelativePositionsResult, request: Request): PythonExport | null {
  const text = textOf(request)
  if (!text || !pythonSupported(result.model.ref)) return null
  return {
    chartId: 'relative-curve',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: { kind: 'relative-curve', distances: result.curve.distances, ...(result.clipping ? { clipK: result.clipping.k } : {}) },
    expected: { buckets: result.curve.buckets, ...(result.clipping ? { clipping: result.clipping.ids } : {}) },
    tolerance: 0,
  }
}

/** c2p and p2c (layer 0, head 0) of the same word pairs in two sentences. */
export function pairComparisonPython(result: RelativePositionsResult, request: Request): PythonExport | null {
  const text = textOf(request)
  const compareText = typeof request?.compareText === 'string' ? request.compareText : null
  const comparison = result.comparison
  if (!text || !compareText || !comparison || comparison.pairs.length === 0 || !pythonSupported(result.model.ref)) return null
  const pick = (key: 'c2pA' | 'c2pB' | 'p2cA' | 'p2cB') => comparison.pairs.map((p) => p[key])
  return {
    chartId: 'relative-comparison',
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: { kind: 'pair-comparison', compareText, compareIds: comparison.tokensB.inputIds, pairs: comparison.pairs.map(({ a, b }) => ({ a, b })) },
    expected: { c2pA: pick('c2pA'), c2pB: pick('c2pB'), p2cA: pick('p2cA'), p2cB: pick('p2cB') },
    tolerance: TOLERANCE,
  }
}

/** Decoding: the top-k ids and probabilities of the plain head and of the EMD at every [MASK]. */
export function decodingPython(result: DecodingResult, request: Request, chartId: string): PythonExport | null {
  const text = textOf(request)
  if (!text || !pythonSupported(result.model.ref) || result.predictions.length === 0) return null
  const expected: Record<string, number[]> = {}
  for (const prediction of result.predictions) {
    for (const head of ['plain', 'emd'] as const) {
      expected[`${head}.${prediction.position}.ids`] = prediction[head].map((p) => p.id)
      expected[`${head}.${prediction.position}.probability`] = prediction[head].map((p) => p.probability)
    }
  }
  const topK = Math.max(...result.predictions.map((p) => Math.max(p.plain.length, p.emd.length)))
  return {
    chartId,
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: { kind: 'decoding', positions: result.predictions.map((p) => p.position), topK },
    expected,
    tolerance: PROBABILITY_TOLERANCE,
  }
}

/**
 * Problem demo: the embedding rows (content, position, their sum), DeBERTa's terms of layer 0, head 0, and the
 * BERT baseline's layer-0 head-0 probabilities from the same tables.
 */
export function problemPython(result: ProblemDemoResult, request: Request, chartId: string): PythonExport | null {
  const text = textOf(request)
  if (!text || !pythonSupported(result.model.ref)) return null
  const terms = ATTENTION_TERMS.filter((t) => !!result.debertaTerms[t])
  const expected: Record<string, ArrayLike<number>> = { content: result.content.data, position: result.position.data, sum: result.sum.data, bertAttention: result.bertAttention.data }
  for (const term of terms) expected[term] = result.debertaTerms[term]!.data
  return {
    chartId,
    model: result.model,
    text,
    inputIds: result.tokens.inputIds,
    view: { kind: 'problem-demo', terms },
    expected,
    tolerance: TOLERANCE,
  }
}
