import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AttentionResult } from '../../src/common/api'
import { attention, layerChunks } from '../../src/lab/workspaces/attention'
import { maxAbsDiff, row, softmaxRow, testContext, TINY_BERT, TINY_V1, TINY_V3, type TestContext } from './workspaces-helpers'

const TEXT = 'the new store opened beside the new mall'

describe('attention job', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  it('scores are the sum of the terms and probabilities their row softmax', async () => {
    const result = await attention(context, { model: TINY_V3, text: TEXT, layer: 1, head: 2 })
    const T = result.tokens.tokens.length
    expect(Object.keys(result.terms)).toEqual(['c2c', 'c2p', 'p2c'])
    const sum = result.scores.data.map((_, k) => result.terms.c2c!.data[k] + result.terms.c2p!.data[k] + result.terms.p2c!.data[k])
    expect(maxAbsDiff(result.scores.data, sum)).toBeLessThan(1e-5)
    for (let i = 0; i < T; i++) {
      expect(maxAbsDiff(row(result.probabilities.data, T, i), softmaxRow(row(result.scores.data, T, i)))).toBeLessThan(1e-5)
    }
    expect(result.layer).toBe(1)
    expect(result.head).toBe(2)
  })

  it('a disabled term leaves the score (and has no share) but is still shown', async () => {
    const full = await attention(context, { model: TINY_V3, text: TEXT, layer: 0, head: 0 })
    const ablated = await attention(context, { model: TINY_V3, text: TEXT, layer: 0, head: 0, disabledTerms: ['c2p'] })
    // layer 0 sees the same input either way, so its terms are unchanged …
    expect(maxAbsDiff(ablated.terms.c2p!.data, full.terms.c2p!.data)).toBeLessThan(1e-6)
    // … while the score drops c2p
    const withoutC2p = ablated.terms.c2c!.data.map((v, k) => v + ablated.terms.p2c!.data[k])
    expect(maxAbsDiff(ablated.scores.data, withoutC2p)).toBeLessThan(1e-5)
    const T = ablated.tokens.tokens.length
    expect(maxAbsDiff(row(ablated.probabilities.data, T, 3), softmaxRow(row(withoutC2p, T, 3)))).toBeLessThan(1e-5)
    const c2pIndex = ablated.shares.terms.indexOf('c2p')
    for (let k = c2pIndex; k < ablated.shares.values.length; k += ablated.shares.terms.length) expect(ablated.shares.values[k]).toBe(0)
  })

  it('the mean over heads is the mean of the single heads', async () => {
    const mean = await attention(context, { model: TINY_V3, text: TEXT, layer: 1, head: 'mean' })
    const heads: AttentionResult[] = []
    for (let h = 0; h < 4; h++) heads.push(await attention(context, { model: TINY_V3, text: TEXT, layer: 1, head: h }))
    const expected = mean.probabilities.data.map((_, k) => heads.reduce((a, r) => a + r.probabilities.data[k], 0) / 4)
    expect(maxAbsDiff(mean.probabilities.data, expected)).toBeLessThan(1e-6)
  })

  it('shares[(layer·heads + head)·terms + t] is Σ|term| over Σ of all terms for that head', async () => {
    const result = await attention(context, { model: TINY_V3, text: TEXT, layer: 1, head: 3 })
    const { shares } = result
    expect([shares.layers, shares.heads, shares.terms.length, shares.values.length]).toEqual([2, 4, 3, 24])
    const abs = (m: { data: Float32Array }) => m.data.reduce((a, v) => a + Math.abs(v), 0)
    const totals = shares.terms.map((t) => abs(result.terms[t]!))
    const all = totals.reduce((a, b) => a + b, 0)
    shares.terms.forEach((_, t) => expect(shares.values[(1 * 4 + 3) * 3 + t]).toBeCloseTo(totals[t] / all, 6))
    for (let k = 0; k < shares.values.length; k += 3) expect(shares.values[k] + shares.values[k + 1] + shares.values[k + 2]).toBeCloseTo(1, 9)
  })

  it('computes p2p on request and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors
    const result = await attention(context, { model: TINY_V3, text: TEXT, layer: 0, head: 1, p2p: true })
    expect(tf.memory().numTensors).toBe(before)
    expect(result.shares.terms).toEqual(['c2c', 'c2p', 'p2c', 'p2p'])
    const sum = result.scores.data.map((_, k) => (['c2c', 'c2p', 'p2c', 'p2p'] as const).reduce((a, t) => a + result.terms[t]!.data[k], 0))
    expect(maxAbsDiff(result.scores.data, sum)).toBeLessThan(1e-5)
    // p2p depends on i − j only
    const T = result.tokens.tokens.length
    expect(result.terms.p2p!.data[2 * T + 1]).toBeCloseTo(result.terms.p2p!.data[5 * T + 4], 6)
  })

  it('refuses a layer or head the model does not have, and stops when cancelled', async () => {
    await expect(attention(context, { model: TINY_V3, text: TEXT, layer: 2, head: 0 })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    await expect(attention(context, { model: TINY_V3, text: TEXT, layer: 0, head: 4 })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    await expect(attention(context, { model: TINY_V3, text: '  ', layer: 0, head: 0 })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    const cancelled = await testContext()
    cancelled.cancel()
    await expect(attention(cancelled, { model: TINY_V3, text: TEXT, layer: 0, head: 0 })).rejects.toMatchObject({ code: 'CANCELLED' })
  })

  it('carries the relative id of every δ = i − j for the cell read-out (none for BERT)', async () => {
    const result = await attention(context, { model: TINY_V1, text: TEXT, layer: 0, head: 0 })
    const T = result.tokens.tokens.length
    expect(result.relativeIds).toHaveLength(2 * T - 1)
    // v1 clips δ to [−k, k − 1] with k = 6 (TINY_V1.maxRelativePositions)
    const expected = Array.from({ length: 2 * T - 1 }, (_, k) => Math.min(Math.max(k - (T - 1), -6), 5))
    expect(result.relativeIds).toEqual(expected)
    const v3 = await attention(context, { model: TINY_V3, text: TEXT, layer: 0, head: 0 })
    expect(v3.relativeIds![T - 1]).toBe(0) // δ = 0
    expect((await attention(context, { model: TINY_BERT, text: TEXT, layer: 0, head: 0 })).relativeIds).toBeUndefined()
  })

  it('carries the rel-embedding row c2p and p2c read for every δ, and whether it is exact, a log bucket or clipped', async () => {
    const v1 = await attention(context, { model: TINY_V1, text: TEXT, layer: 0, head: 0 })
    const T = v1.tokens.tokens.length
    expect(T).toBeGreaterThan(8)
    const deltas = Array.from({ length: 2 * T - 1 }, (_, k) => k - (T - 1))
    // v1, k = 6: a table of 2k rows, row k + clamp(δ, −k, k − 1); distances outside [−6, 5] are clipped
    expect(v1.relativeRows!.tableRows).toBe(12)
    expect(v1.relativeRows!.rows).toEqual(deltas.map((d) => Math.min(Math.max(d, -6), 5) + 6))
    expect(v1.relativeRows!.kinds).toEqual(deltas.map((d) => (d >= -6 && d <= 5 ? 'exact' : 'clipped')))
    // v3, 8 position buckets: 16 rows, row = 8 + relative id; |δ| ≤ 4 exact, beyond log buckets
    const v3 = await attention(context, { model: TINY_V3, text: TEXT, layer: 0, head: 0 })
    expect(v3.relativeRows!.tableRows).toBe(16)
    expect(v3.relativeRows!.rows).toEqual(v3.relativeIds!.map((id) => id + 8))
    expect(v3.relativeRows!.kinds).toEqual(deltas.map((d) => (Math.abs(d) <= 4 ? 'exact' : 'log-bucket')))
    expect((await attention(context, { model: TINY_BERT, text: TEXT, layer: 0, head: 0 })).relativeRows).toBeUndefined()
  })

  it('splits the layers into passes that fit the memory budget', () => {
    expect(layerChunks(5, 100, 250)).toEqual([[0, 1], [2, 3], [4]])
    expect(layerChunks(3, 10, 1000)).toEqual([[0, 1, 2]])
    expect(layerChunks(2, 5000, 100)).toEqual([[0], [1]])
  })
})

describe('attention ablation scope', () => {
  it('removes the terms in one layer or one head only, and refuses one head of the mean', async () => {
    const context = await testContext()
    const base = { model: TINY_V3, text: 'the small dog sees the small ball', layer: 1, head: 2 as const }
    const full = await attention(context, base)
    const everywhere = await attention(context, { ...base, disabledTerms: ['c2p'] })
    const oneHead = await attention(context, { ...base, disabledTerms: ['c2p'], ablationScope: 'head' })
    const oneLayer = await attention(context, { ...base, layer: 1, head: 2, disabledTerms: ['c2p'], ablationScope: 'layer' })
    // layer 0 is untouched by a scoped ablation (its shares equal the full run's), but not by the global one
    const T = full.tokens.tokens.length
    const heads = 4
    const terms = full.shares.terms.length
    const layer0 = (r: typeof full) => Array.from(r.shares.values).slice(0, heads * terms)
    expect(layer0(oneHead)).toEqual(layer0(full))
    expect(layer0(oneLayer)).toEqual(layer0(full))
    expect(layer0(everywhere)).not.toEqual(layer0(full))
    // the head on screen changes with its own ablation
    expect(Array.from(oneHead.probabilities.data)).not.toEqual(Array.from(full.probabilities.data))
    expect(oneHead.probabilities.rows).toBe(T)
    await expect(attention(context, { ...base, head: 'mean', disabledTerms: ['c2p'], ablationScope: 'head' })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
  })
})
