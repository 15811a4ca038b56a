import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { mulberry32, fillNormal } from '../../src/core/synthetic'
import { DEFAULT_MODEL } from '../../src/common/api'
import { TOY_PROBLEM_TEXT } from '../../src/common/toy-texts'
import { problemDemo } from '../../src/lab/workspaces/problem-demo'
import { covariance, recoveryR2, repeatedTokens, rowCosine, vocabularySample } from '../../src/lab/workspaces/interference'
import { maxAbsDiff, row, softmaxRow, testContext, TINY_BERT, TINY_V3, type TestContext } from './workspaces-helpers'

/**
 * Independent recomputation: materialise every sum c_w + p_t, fit Y = [1, S]·β by least squares (normal
 * equations solved by Gauss–Jordan elimination with partial pivoting, one right-hand side per output
 * column) and return the variance-weighted R² = 1 − SS_res / SS_tot.
 */
function explicitR2(content: Float32Array, n: number, position: Float32Array, T: number, E: number, target: 'content' | 'position'): number {
  const N = n * T
  const P = E + 1
  const X = new Float64Array(N * P)
  const Y = new Float64Array(N * E)
  for (let w = 0; w < n; w++) {
    for (let t = 0; t < T; t++) {
      const r = w * T + t
      X[r * P] = 1
      for (let e = 0; e < E; e++) {
        X[r * P + 1 + e] = content[w * E + e] + position[t * E + e]
        Y[r * E + e] = target === 'content' ? content[w * E + e] : position[t * E + e]
      }
    }
  }
  // A = XᵀX [P, P], B = XᵀY [P, E]
  const A = new Float64Array(P * P)
  const B = new Float64Array(P * E)
  for (let r = 0; r < N; r++) {
    for (let a = 0; a < P; a++) {
      const x = X[r * P + a]
      for (let b = 0; b < P; b++) A[a * P + b] += x * X[r * P + b]
      for (let e = 0; e < E; e++) B[a * E + e] += x * Y[r * E + e]
    }
  }
  for (let c = 0; c < P; c++) {
    let pivot = c
    for (let r = c + 1; r < P; r++) if (Math.abs(A[r * P + c]) > Math.abs(A[pivot * P + c])) pivot = r
    for (let k = 0; k < P; k++) [A[c * P + k], A[pivot * P + k]] = [A[pivot * P + k], A[c * P + k]]
    for (let k = 0; k < E; k++) [B[c * E + k], B[pivot * E + k]] = [B[pivot * E + k], B[c * E + k]]
    const d = A[c * P + c]
    for (let r = 0; r < P; r++) {
      if (r === c) continue
      const f = A[r * P + c] / d
      if (f === 0) continue
      for (let k = 0; k < P; k++) A[r * P + k] -= f * A[c * P + k]
      for (let k = 0; k < E; k++) B[r * E + k] -= f * B[c * E + k]
    }
  }
  let ssRes = 0
  let ssTot = 0
  const mean = new Float64Array(E)
  for (let r = 0; r < N; r++) for (let e = 0; e < E; e++) mean[e] += Y[r * E + e] / N
  for (let r = 0; r < N; r++) {
    for (let e = 0; e < E; e++) {
      let fit = 0
      for (let a = 0; a < P; a++) fit += (X[r * P + a] * B[a * E + e]) / A[a * P + a]
      ssRes += (Y[r * E + e] - fit) ** 2
      ssTot += (Y[r * E + e] - mean[e]) ** 2
    }
  }
  return 1 - ssRes / ssTot
}

function normals(count: number, seed: number, std: number): Float32Array {
  return fillNormal(new Float32Array(count), mulberry32(seed), 0, std)
}

describe('interference measurements', () => {
  it('recovery R² equals an explicit least-squares fit over every (word, position) sum', () => {
    const E = 6
    const n = 9
    const T = 5
    const content = normals(n * E, 1, 1)
    const position = normals(T * E, 2, 0.7)
    const r2 = recoveryR2(content, n, position, T, E)
    expect(r2.content).toBeCloseTo(explicitR2(content, n, position, T, E, 'content'), 8)
    expect(r2.position).toBeCloseTo(explicitR2(content, n, position, T, E, 'position'), 8)
    expect(r2.content).toBeGreaterThan(0)
    expect(r2.content).toBeLessThan(1)
    expect(r2.position).toBeLessThan(1)
  })

  it('is 1 when content and position live in orthogonal subspaces', () => {
    const E = 4
    // content only in dims 0–1, position only in dims 2–3
    const content = new Float32Array([1, 2, 0, 0, -1, 0.5, 0, 0, 3, -1, 0, 0])
    const position = new Float32Array([0, 0, 1, 0, 0, 0, 0, 2, 0, 0, -1, 1])
    const r2 = recoveryR2(content, 3, position, 3, E)
    expect(r2.content).toBeCloseTo(1, 9)
    expect(r2.position).toBeCloseTo(1, 9)
  })

  it('covariance, cosine, vocabulary sample and repeated tokens', () => {
    expect(Array.from(covariance([1, 2, 3, 6], 2, 2))).toEqual([1, 2, 2, 4])
    expect(rowCosine([1, 0, 0, 2], 2, 0, 1)).toBe(0)
    expect(rowCosine([1, 1, 2, 2], 2, 0, 1)).toBeCloseTo(1, 12)
    expect(vocabularySample(10, 4)).toEqual([0, 2, 5, 7])
    expect(vocabularySample(3, 4)).toEqual([0, 1, 2])
    expect(repeatedTokens([1, 5, 6, 5, 6, 5, 2, 1], new Set([1, 2]))).toEqual([
      { id: 5, positions: [1, 3] },
      { id: 6, positions: [2, 4] },
    ])
  })
})

describe('problem demo job', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  it('returns the tables, their exact sum and the measured interference', async () => {
    await context.getModel(TINY_V3) // the cached model's weights are the only tensors that stay
    const before = tf.memory().numTensors
    const result = await problemDemo(context, { model: TINY_V3, text: 'the new store opened beside the new mall' })
    expect(tf.memory().numTensors).toBe(before)
    const T = result.tokens.tokens.length
    expect([result.content.rows, result.content.cols, result.position.rows, result.sum.cols]).toEqual([T, 32, T, 32])
    expect(maxAbsDiff(result.sum.data, result.content.data.map((v, k) => v + result.position.data[k]))).toBeLessThan(1e-6)
    const { contentRecoveryR2, positionRecoveryR2, sameWord } = result.interference
    expect(contentRecoveryR2).toBeGreaterThan(0)
    expect(contentRecoveryR2).toBeLessThan(1)
    expect(positionRecoveryR2).toBeGreaterThan(0)
    expect(positionRecoveryR2).toBeLessThan(1)
    // "the" and "new" occur twice
    expect(sameWord.map((s) => s.token)).toEqual(['▁the', '▁new'])
    for (const entry of sameWord) {
      const [a, b] = entry.positions
      expect(result.tokens.tokens[a]).toBe(entry.token)
      expect(result.tokens.tokens[b]).toBe(entry.token)
      expect(entry.cosineContent).toBeCloseTo(1, 6)
      expect(entry.cosineSum).toBeCloseTo(rowCosine(result.sum.data, 32, a, b), 9)
      expect(entry.cosineSum).toBeLessThan(0.999)
    }
    expect(context.fractions.at(-1)).toBe(1)
  })

  it("shows BERT's layer-0 probabilities and DeBERTa's separate layer-0 terms", async () => {
    const result = await problemDemo(context, { model: TINY_V3, text: 'a new mall' })
    const T = result.tokens.tokens.length
    for (let i = 0; i < T; i++) expect(row(result.bertAttention.data, T, i).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
    expect(Object.keys(result.debertaTerms)).toEqual(['c2c', 'c2p', 'p2c'])
    // the terms are DeBERTa's: their softmax is layer 0 head 0 of the model, unlike BERT's map
    const scores = result.debertaTerms.c2c!.data.map((v, k) => v + result.debertaTerms.c2p!.data[k] + result.debertaTerms.p2c!.data[k])
    const deberta = Array.from({ length: T }, (_, i) => softmaxRow(row(scores, T, i))).flat()
    expect(maxAbsDiff(deberta, result.bertAttention.data)).toBeGreaterThan(1e-3)
  })

  it('shows the interference with the default model and sentence: its words and positions do not fit its width', async () => {
    const result = await problemDemo(context, { model: DEFAULT_MODEL, text: TOY_PROBLEM_TEXT })
    const { contentRecoveryR2, positionRecoveryR2, sameWord } = result.interference
    // both signals visibly lost in the sum (a model whose words + positions fit its width reads 1.0000)
    for (const r2 of [contentRecoveryR2, positionRecoveryR2]) {
      expect(r2).toBeGreaterThan(0.2)
      expect(r2).toBeLessThan(0.95)
    }
    // the same word at two positions is no longer the same vector
    expect(sameWord.map((s) => s.token)).toEqual(['the', 'small'])
    for (const entry of sameWord) expect(entry.cosineSum).toBeLessThan(0.95)
  })

  it('works for a BERT model (c2c only) and refuses texts longer than the position table', async () => {
    const bert = await problemDemo(context, { model: TINY_BERT, text: 'a new store' })
    expect(Object.keys(bert.debertaTerms)).toEqual(['c2c'])
    const long = Array.from({ length: 140 }, () => 'store').join(' ')
    await expect(problemDemo(context, { model: TINY_V3, text: long })).rejects.toMatchObject({ code: 'SEQUENCE_TOO_LONG' })
  })
})
