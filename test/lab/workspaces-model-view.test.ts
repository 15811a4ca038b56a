// The model view and the distance profile against a direct core computation: DebertaModel.forward with
// every layer's components recorded, summarised here by plain loops.
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import type { DebertaModel, LayerComponents } from '../../src/core/model'
import { distanceProfile } from '../../src/lab/workspaces/distance-profile'
import { headStatistics, modelView } from '../../src/lab/workspaces/model-view'
import { relativeId } from '../../src/lab/workspaces/relative-positions'
import { maxAbsDiff, testContext, TINY_BERT, TINY_V1, TINY_V3, type TestContext } from './workspaces-helpers'

const TEXT = 'the new store opened beside the new mall near the old station'

async function direct(context: TestContext, ref = TINY_V3, options: { p2p?: boolean; disabledTerms?: Array<'c2c' | 'c2p' | 'p2c' | 'p2p'> } = {}) {
  const loaded = await context.getModel(ref)
  const model = loaded.model as DebertaModel
  const ids = (loaded.tokenizer as { encode(text: string): { inputIds: number[] } }).encode(TEXT).inputIds
  const result = model.forward({ inputIds: [ids] }, { components: true, ...options })
  return { model, ids, T: ids.length, components: result.components! }
}

const headSlice = (c: LayerComponents, key: 'c2c' | 'c2p' | 'p2c' | 'p2p' | 'probs', h: number, T: number): Float32Array => c[key]!.data.subarray(h * T * T, (h + 1) * T * T)

describe('model view job', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  it('streams every layer with the same components as recording them all', async () => {
    const { model, ids, components } = await direct(context)
    const seen: number[] = []
    const tensors = tf.memory().numTensors
    model.forward(
      { inputIds: [ids] },
      {
        onLayerComponents: (layer, streamed, sequence) => {
          seen.push(layer)
          expect(sequence).toBe(0)
          for (const key of ['c2c', 'c2p', 'p2c', 'scores', 'probs'] as const) {
            expect(maxAbsDiff(streamed[key]!.data, components[layer][key]!.data)).toBe(0)
          }
        },
      },
    )
    expect(seen).toEqual([0, 1])
    expect(tf.memory().numTensors).toBe(tensors)
  })

  it('streams each sequence of a batch as its own [1, NH, T, T] arrays', async () => {
    const { model, ids, T } = await direct(context)
    const other = ids.slice().reverse()
    const recorded = model.forward({ inputIds: [ids, other] }, { components: [1] }).components![0]
    const calls: Array<[number, number]> = []
    model.forward(
      { inputIds: [ids, other] },
      {
        onLayerComponents: (layer, streamed, sequence) => {
          calls.push([layer, sequence])
          expect(streamed.probs.shape).toEqual([1, 4, T, T])
          if (layer === 1) expect(maxAbsDiff(streamed.probs.data, recorded.probs.data.subarray(sequence * 4 * T * T, (sequence + 1) * 4 * T * T))).toBe(0)
        },
      },
    )
    expect(calls).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]])
  })

  it('entropy, mean distance, shares and pattern of every head equal a direct computation', async () => {
    const result = await modelView(context, { model: TINY_V3, text: TEXT })
    const { T, components } = await direct(context)
    expect([result.layers, result.heads, result.terms]).toEqual([2, 4, ['c2c', 'c2p', 'p2c']])
    expect(result.thumbnails.size).toBe(T) // T ≤ 32: one bin per cell
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 4; h++) {
        const index = l * 4 + h
        const p = headSlice(components[l], 'probs', h, T)
        let entropy = 0
        let distance = 0
        for (let i = 0; i < T; i++) {
          for (let j = 0; j < T; j++) {
            const v = p[i * T + j]
            entropy += v > 0 ? -v * Math.log(v) : 0
            distance += v * Math.abs(i - j)
          }
        }
        expect(result.entropy[index]).toBeCloseTo(entropy / T, 10)
        expect(result.distance[index]).toBeCloseTo(distance / T, 10)
        const abs = (['c2c', 'c2p', 'p2c'] as const).map((t) => headSlice(components[l], t, h, T).reduce((a, v) => a + Math.abs(v), 0))
        const all = abs[0] + abs[1] + abs[2]
        abs.forEach((a, t) => expect(result.shares[index * 3 + t]).toBeCloseTo(a / all, 6))
        const thumb = result.thumbnails.values.slice(index * T * T, (index + 1) * T * T)
        expect(maxAbsDiff(thumb, p)).toBeLessThan(1e-7)
      }
    }
  })

  it('a disabled term has share 0 and changes the probabilities of later layers', async () => {
    const full = await modelView(context, { model: TINY_V3, text: TEXT })
    const ablated = await modelView(context, { model: TINY_V3, text: TEXT, disabledTerms: ['c2p'] })
    for (let k = 1; k < ablated.shares.length; k += 3) expect(ablated.shares[k]).toBe(0)
    const { components, T } = await direct(context, TINY_V3, { disabledTerms: ['c2p'] })
    const p = headSlice(components[1], 'probs', 2, T)
    let entropy = 0
    for (const v of p) entropy += v > 0 ? -v * Math.log(v) : 0
    expect(ablated.entropy[4 + 2]).toBeCloseTo(entropy / T, 10)
    expect(Math.abs(ablated.entropy[6] - full.entropy[6])).toBeGreaterThan(1e-6)
  })

  it('pools long sequences into 32 × 32 bins of mean probability', () => {
    const T = 70
    const uniform = new Float32Array(T * T).fill(1 / T)
    const u = headStatistics(uniform, 0, T)
    expect(u.thumbnail).toHaveLength(32 * 32)
    expect(u.entropy).toBeCloseTo(Math.log(T), 5)
    expect(maxAbsDiff(u.thumbnail, new Array(32 * 32).fill(1 / T))).toBeLessThan(1e-7)
    // every query attends to token 0: distance i, entropy 0, all mass in the first column of bins
    const first = new Float32Array(T * T)
    for (let i = 0; i < T; i++) first[i * T] = 1
    const f = headStatistics(first, 0, T)
    expect(f.entropy).toBe(0)
    expect(f.distance).toBeCloseTo((T - 1) / 2, 10)
    // bin 0 covers columns 0 and 1 (⌊70/32⌋ = 2): mean 1/2 in every row of bins
    for (let r = 0; r < 32; r++) {
      expect(f.thumbnail[r * 32]).toBeCloseTo(0.5, 7)
      expect(f.thumbnail[r * 32 + 1]).toBe(0)
    }
  })
})

describe('distance profile job', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  it('per head and for the mean over heads: the mean over the pairs at each δ, as computed directly', async () => {
    const result = await distanceProfile(context, { model: TINY_V3, text: TEXT, layer: 1 })
    const { T, components, model } = await direct(context)
    expect(result.distances).toHaveLength(2 * T - 1)
    expect(result.distances[0]).toBe(-(T - 1))
    expect(result.probability).toHaveLength(5)
    for (const delta of [-(T - 1), -3, 0, 2, T - 2]) {
      const k = delta + T - 1
      const pairs: Array<[number, number]> = []
      for (let i = 0; i < T; i++) if (i - delta >= 0 && i - delta < T) pairs.push([i, i - delta])
      expect(result.pairs[k]).toBe(pairs.length)
      let meanOverHeads = 0
      for (let h = 0; h < 4; h++) {
        const mean = (key: 'probs' | 'c2c' | 'c2p' | 'p2c') => pairs.reduce((a, [i, j]) => a + headSlice(components[1], key, h, T)[i * T + j], 0) / pairs.length
        expect(result.probability[h][k]).toBeCloseTo(mean('probs'), 7)
        expect(result.scores.c2c![h][k]).toBeCloseTo(mean('c2c'), 6)
        expect(result.scores.c2p![h][k]).toBeCloseTo(mean('c2p'), 6)
        expect(result.scores.p2c![h][k]).toBeCloseTo(mean('p2c'), 6)
        meanOverHeads += mean('probs') / 4
      }
      expect(result.probability[4][k]).toBeCloseTo(meanOverHeads, 7)
      expect(result.buckets.ids[k]).toBe(relativeId(model.config, delta))
    }
    // the probabilities of a row sum to one, so Σ_δ mean(δ) · pairs(δ) = T for every head
    for (let h = 0; h < 5; h++) expect(result.probability[h].reduce((a, v, k) => a + v * result.pairs[k], 0)).toBeCloseTo(T, 4)
    expect(result.buckets).toMatchObject({ kind: 'log-bucket', exactLimit: 4 })
  })

  it('names v1 clipping and refuses a layer the model does not have', async () => {
    const v1 = await distanceProfile(context, { model: TINY_V1, text: TEXT, layer: 0 })
    expect(v1.buckets.kind).toBe('clipped')
    const T = v1.tokens.tokens.length
    expect(v1.buckets.ids[0]).toBe(-6) // δ = −(T − 1) clips at −k
    expect(v1.buckets.ids[T - 1]).toBe(0)
    await expect(distanceProfile(context, { model: TINY_V3, text: TEXT, layer: 2 })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
  })

  it('works on BERT: content attention only, no relative ids (kind none), every share c2c', async () => {
    const profile = await distanceProfile(context, { model: TINY_BERT, text: TEXT, layer: 0 })
    expect(profile.terms).toEqual(['c2c'])
    expect(profile.buckets.kind).toBe('none')
    expect(profile.buckets.ids).toEqual(profile.distances)
    const view = await modelView(context, { model: TINY_BERT, text: TEXT })
    expect(view.terms).toEqual(['c2c'])
    expect(view.shares.every((s) => s === 1)).toBe(true)
  })
})
