// Ablate and measure against direct core forwards: every number of runAblation and runHeadImportance is
// recomputed here from DebertaModel.forward (with removedHeads / disabledTerms) by plain loops — softmax, sort,
// norms — not by the job's own helpers.
import { beforeAll, describe, expect, it } from 'vitest'
import type { Ablation, SyntheticModelRef } from '../../src/common/api'
import type { DebertaModel, ForwardOptions } from '../../src/core/model'
import type { Tokenizer } from '../../src/core/tokenizer'
import { ablation, headImportance, rankOf } from '../../src/lab/workspaces/ablation'
import { testContext, TINY_BERT, TINY_V3, type TestContext } from './workspaces-helpers'

const TEXT = 'the new [MASK] opened beside the new mall near the old [MASK]'
/** three layers, so that "before", "at" and "after" the ablated layer all exist */
const V3_3: SyntheticModelRef = { ...TINY_V3, layers: 3, seed: 5 }

interface Direct {
  model: DebertaModel
  tokenizer: Tokenizer
  ids: number[]
  masks: number[]
}

async function direct(context: TestContext, ref: SyntheticModelRef): Promise<Direct> {
  const loaded = await context.getModel(ref)
  const ids = loaded.tokenizer.encode(TEXT).inputIds
  const maskId = loaded.tokenizer.special.mask!
  return { model: loaded.model, tokenizer: loaded.tokenizer, ids, masks: ids.flatMap((id, p) => (id === maskId ? [p] : [])) }
}

/** log-probabilities (float64, plain loop) of every slot through one decoder, and the hidden states */
function forward(d: Direct, options: ForwardOptions, decoder: 'plain' | 'emd') {
  const result = d.model.forward({ inputIds: [d.ids] }, { ...options, hiddenStates: true, mlm: { positions: d.masks.map((p) => [0, p] as [number, number]), plain: true, emd: true } })
  const logits = decoder === 'plain' ? result.mlm!.plainLogits! : result.mlm!.emdLogits!
  const V = logits.shape[1]
  const rows = d.masks.map((_, s) => {
    const values = Array.from(logits.data.subarray(s * V, (s + 1) * V))
    const max = Math.max(...values)
    const logZ = Math.log(values.reduce((a, v) => a + Math.exp(v - max), 0))
    return values.map((v) => v - max - logZ)
  })
  return { rows, hidden: result.hiddenStates! }
}

/** the ranked ids (tokenizer ids, no special tokens) by log-probability, ties by id */
function ranking(d: Direct, row: number[]): number[] {
  const { cls, sep, pad, mask } = d.tokenizer.special
  const special = new Set([cls, sep, pad, mask])
  return row
    .map((v, id) => ({ v, id }))
    .filter(({ id }) => id < d.tokenizer.vocabSize && !special.has(id))
    .sort((a, b) => b.v - a.v || a.id - b.id)
    .map(({ id }) => id)
}

function norm(values: Float32Array | number[]): number {
  let sum = 0
  for (const v of values) sum += v * v
  return Math.sqrt(sum)
}

describe('runAblation: predictions and hidden states before and after, as the core computes them', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  const cases: Array<{ ablation: Ablation; options: ForwardOptions; firstChanged: number }> = [
    { ablation: { kind: 'head', layer: 1, head: 2 }, options: { removedHeads: [{ layer: 1, head: 2 }] }, firstChanged: 2 },
    { ablation: { kind: 'term', term: 'c2p', layer: 2, head: 0 }, options: { disabledTerms: ['c2p'], ablationScope: { layer: 2, head: 0 } }, firstChanged: 3 },
    { ablation: { kind: 'term', term: 'p2c', layer: 0 }, options: { disabledTerms: ['p2c'], ablationScope: { layer: 0 } }, firstChanged: 1 },
    { ablation: { kind: 'term', term: 'c2c' }, options: { disabledTerms: ['c2c'] }, firstChanged: 1 },
  ]
  for (const c of cases) {
    it(`${JSON.stringify(c.ablation)}: slots, top-k and layer changes equal direct forwards`, async () => {
      const d = await direct(context, V3_3)
      const result = await ablation(context, { model: V3_3, text: TEXT, ablation: c.ablation, topK: 5 })
      expect(result.maskPositions).toEqual(d.masks)
      expect(d.masks).toHaveLength(2)
      for (const decoder of ['plain', 'emd'] as const) {
        const before = forward(d, {}, decoder)
        const after = forward(d, c.options, decoder)
        result.slots.forEach((slot, s) => {
          const got = slot[decoder]
          const orderBefore = ranking(d, before.rows[s])
          const orderAfter = ranking(d, after.rows[s])
          const ref = orderBefore[0]
          expect(got.reference.id).toBe(ref)
          expect(got.reference.token).toBe(d.tokenizer.idToToken(ref))
          expect(got.logProbBefore).toBeCloseTo(before.rows[s][ref], 9)
          expect(got.logProbAfter).toBeCloseTo(after.rows[s][ref], 9)
          expect(got.delta).toBeCloseTo(after.rows[s][ref] - before.rows[s][ref], 9)
          expect(got.rankAfter).toBe(orderAfter.indexOf(ref) + 1)
          expect(got.before.map((p) => p.id)).toEqual(orderBefore.slice(0, 5))
          expect(got.after.map((p) => p.id)).toEqual(orderAfter.slice(0, 5))
          got.after.forEach((p) => expect(p.probability).toBeCloseTo(Math.exp(after.rows[s][p.id]), 9))
          expect(got.entered.map((p) => p.id)).toEqual(orderAfter.slice(0, 5).filter((id) => !orderBefore.slice(0, 5).includes(id)))
          expect(got.left.map((p) => p.id)).toEqual(orderBefore.slice(0, 5).filter((id) => !orderAfter.slice(0, 5).includes(id)))
          const kl = before.rows[s].reduce((a, lp, v) => a + Math.exp(lp) * (lp - after.rows[s][v]), 0)
          expect(got.kl).toBeCloseTo(kl, 9)
        })
        // hidden states: 0 up to the ablated layer's output, the direct ratio of norms afterwards
        const H = before.hidden[0].shape[2]
        before.hidden.forEach((h, k) => {
          const diff = h.data.map((v, i) => after.hidden[k].data[i] - v)
          expect(result.layerChange[k]).toBeCloseTo(norm(diff) / norm(h.data), 6)
          const rows = (a: Float32Array) => d.masks.flatMap((p) => Array.from(a.subarray(p * H, (p + 1) * H)))
          expect(result.layerChangeMasked[k]).toBeCloseTo(norm(rows(diff)) / norm(rows(h.data)), 6)
          if (k < c.firstChanged) expect(result.layerChange[k]).toBe(0)
          else expect(result.layerChange[k]).toBeGreaterThan(1e-4)
        })
      }
    })
  }

  it('refuses what cannot be removed: a term the model does not compute, a head or layer outside it, a head without its layer, a text without [MASK]', async () => {
    const refuse = (ref: SyntheticModelRef, a: Ablation, text = TEXT) => expect(ablation(context, { model: ref, text, ablation: a, topK: 3 })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    await refuse(TINY_BERT, { kind: 'term', term: 'c2p' })
    await refuse(TINY_V3, { kind: 'term', term: 'p2p' })
    await refuse(TINY_V3, { kind: 'head', layer: 2, head: 0 })
    await refuse(TINY_V3, { kind: 'head', layer: 0, head: 4 })
    await refuse(TINY_V3, { kind: 'term', term: 'c2p', head: 1 })
    await refuse(TINY_V3, { kind: 'head', layer: 0, head: 0 }, 'no mask here')
  })

  it('rankOf counts the ranked ids ahead (higher logit, or a tie with a lower id), skipping excluded ids', () => {
    const rules = { candidates: 5, exclude: new Set([1]), token: String }
    expect(rankOf([1, 9, 2, 2, 0, 7], 0, 6, 3, rules)).toBe(2) // id 2 ties and is ahead; id 1 is excluded, id 5 is past the tokenizer
    expect(rankOf([1, 9, 2, 2, 0, 7], 0, 6, 2, rules)).toBe(1)
  })
})

describe('runHeadImportance: every head removed in turn', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  for (const decoder of ['plain', 'emd'] as const) {
    it(`${decoder}: each head's mean log-probability change equals a direct forward with that head removed`, async () => {
      const d = await direct(context, V3_3)
      context.fractions.length = 0
      const result = await headImportance(context, { model: V3_3, text: TEXT, decoder })
      const L = 3
      const NH = 4
      expect([result.layers, result.heads, result.forwards, result.decoder]).toEqual([L, NH, 1 + L * NH, decoder])
      const base = forward(d, {}, decoder)
      const refs = base.rows.map((row) => ranking(d, row)[0])
      expect(result.references.map((r) => r.id)).toEqual(refs)
      result.references.forEach((r, s) => expect(r.logProb).toBeCloseTo(base.rows[s][refs[s]], 9))
      for (let layer = 0; layer < L; layer++) {
        for (let head = 0; head < NH; head++) {
          const removed = forward(d, { removedHeads: [{ layer, head }] }, decoder)
          const deltas = refs.map((id, s) => removed.rows[s][id] - base.rows[s][id])
          const index = layer * NH + head
          deltas.forEach((delta, s) => expect(result.deltas[index * 2 + s]).toBeCloseTo(delta, 9))
          expect(result.importance[index]).toBeCloseTo((deltas[0] + deltas[1]) / 2, 9)
        }
      }
      // progress: heads done / total, rising to 1
      expect(context.fractions.at(-1)).toBe(1)
      expect(context.fractions.slice(1).every((f, k) => f >= context.fractions[k])).toBe(true)
      expect(result.importance.some((v) => Math.abs(v) > 1e-4)).toBe(true)
    })
  }

  it('stops between heads when cancelled (CANCELLED; nothing is returned)', async () => {
    const cancelling = await testContext()
    const progress = cancelling.progress
    let heads = 0
    cancelling.progress = (fraction, message) => {
      progress(fraction, message)
      if (/^head /.test(message) && ++heads === 5) cancelling.cancel()
    }
    await expect(headImportance(cancelling, { model: V3_3, text: TEXT, decoder: 'plain' })).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(heads).toBe(5)
  })
})
