import { beforeAll, describe, expect, it } from 'vitest'
import { makeLogBucketPosition } from '../../src/core/relative-position'
import { attention } from '../../src/lab/workspaces/attention'
import { clipDistance, matchingPairs, relativePositions } from '../../src/lab/workspaces/relative-positions'
import { testContext, TINY_BERT, TINY_V1, TINY_V3, type TestContext } from './workspaces-helpers'

describe('relative positions job', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  it('gives δ(i, j) = i − j and the log-bucket ids of v3, exact for |δ| ≤ b/2', async () => {
    const result = await relativePositions(context, { model: TINY_V3, text: 'one two three four five six seven eight nine ten' })
    const T = result.tokens.tokens.length
    expect(T).toBeGreaterThan(10)
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        expect(result.delta.data[i * T + j]).toBe(i - j)
        // HF make_log_bucket_position with 8 buckets and max position 64, within the span ±8
        expect(result.buckets.data[i * T + j]).toBe(Math.max(-8, Math.min(7, makeLogBucketPosition(i - j, 8, 64))))
      }
    }
    const { curve } = result
    expect(curve.kind).toBe('log-bucket')
    expect(curve.exactLimit).toBe(4)
    expect(curve.maxPosition).toBe(64)
    curve.distances.forEach((d, k) => {
      if (Math.abs(d) <= 4) expect(curve.buckets[k]).toBe(d)
      else expect(Math.abs(curve.buckets[k])).toBeLessThanOrEqual(Math.abs(d)) // ceil() keeps δ = ±5 exact too
      if (k > 0) expect(curve.buckets[k]).toBeGreaterThanOrEqual(curve.buckets[k - 1])
    })
    // far distances share log buckets: 64 distances on each side map to far fewer ids
    expect(new Set(curve.buckets.filter((b) => b > 4)).size).toBeLessThan(8)
    expect(curve.buckets.at(-1)).toBeLessThan(64)
    expect(curve.distances[0]).toBe(-64)
    expect(curve.distances.at(-1)).toBe(64)
  })

  it('c2p and p2c coincide for the same word pair at the same distance in layer 0', async () => {
    const result = await relativePositions(context, {
      model: TINY_V3,
      text: 'the new store opened beside the new mall',
      compareText: 'yesterday morning the new store opened beside the new mall',
    })
    const { comparison } = result
    expect(comparison).toBeDefined()
    expect(comparison!.pairs.length).toBeGreaterThan(3)
    for (const pair of comparison!.pairs) {
      const [i, j] = pair.a
      const [k, l] = pair.b
      expect(i - j).toBe(k - l)
      expect(k).not.toBe(i)
      expect(comparison!.tokensB.inputIds[k]).toBe(result.tokens.inputIds[i])
      expect(comparison!.tokensB.inputIds[l]).toBe(result.tokens.inputIds[j])
      expect(Math.abs(pair.c2pA - pair.c2pB)).toBeLessThan(1e-5)
      expect(Math.abs(pair.p2cA - pair.p2cB)).toBeLessThan(1e-5)
      expect(pair.c2pA).not.toBe(0)
    }
  })

  it('agrees with the attention job: repeated pairs inside one sentence share their layer-0 c2p', async () => {
    const text = 'the new store opened beside the new mall'
    const att = await attention(context, { model: TINY_V3, text, layer: 0, head: 0 })
    const ids = att.tokens.inputIds
    const T = ids.length
    const [first, second] = [ids.indexOf(ids[1]), ids.lastIndexOf(ids[1])] // "the" at two positions
    expect(second).toBeGreaterThan(first)
    // ("the", "new") at distance −1 at both places
    expect(ids[first + 1]).toBe(ids[second + 1])
    const c2p = att.terms.c2p!.data
    expect(c2p[first * T + first + 1]).toBeCloseTo(c2p[second * T + second + 1], 5)
    // a different distance reads another relative embedding, so the value differs
    expect(Math.abs(c2p[first * T + first + 1] - c2p[first * T + first + 2])).toBeGreaterThan(1e-6)
  })

  it('clips v1 distances at k and adds the clipping-k control', async () => {
    const result = await relativePositions(context, { model: TINY_V1, text: 'a b c d e f g h i j', clipK: 3 })
    expect(result.curve.kind).toBe('clipped')
    expect(result.curve.exactLimit).toBe(5)
    result.curve.distances.forEach((d, k) => expect(result.curve.buckets[k]).toBe(Math.min(Math.max(d, -6), 5)))
    expect(result.clipping!.k).toBe(3)
    expect(result.clipping!.ids).toEqual(result.clipping!.distances.map((d) => Math.min(Math.max(d, -3), 2)))
    expect([clipDistance(-10, 3), clipDistance(0, 3), clipDistance(10, 3)]).toEqual([-3, 0, 2])
  })

  it('finds pairs by id and distance at other absolute positions only', () => {
    expect(matchingPairs([1, 5, 6, 2], [1, 9, 5, 6, 2], new Set([1, 2]))).toEqual([
      { a: [1, 2], b: [2, 3] },
      { a: [2, 1], b: [3, 2] },
    ])
    expect(matchingPairs([1, 5, 6, 2], [1, 5, 6, 2], new Set([1, 2]))).toEqual([])
  })

  it('explains that BERT has no relative positions', async () => {
    await expect(relativePositions(context, { model: TINY_BERT, text: 'a b' })).rejects.toMatchObject({ code: 'CONFIG_UNSUPPORTED' })
  })
})
