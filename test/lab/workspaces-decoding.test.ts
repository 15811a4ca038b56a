import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSyntheticModel, syntheticConfig } from '../../src/core/synthetic'
import { loadTokenizer } from '../../src/core/tokenizer'
import type { DebertaModel } from '../../src/core/model'
import { TOY_VOCAB_SIZE } from '../../src/core/train/toy-language'
import { decoding, topKSoftmax } from '../../src/lab/workspaces/decoding'
import { RESOURCES, testContext, TINY_V3, type TestContext } from './workspaces-helpers'

describe('decoding job', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  it('top-k of the softmax, most probable first', () => {
    const logits = [0.5, 2, -1, 2, 1]
    const top = topKSoftmax(logits, 0, 5, 3)
    const z = logits.reduce((a, v) => a + Math.exp(v), 0)
    expect(top.map((t) => t.id)).toEqual([1, 3, 4]) // the tie keeps the lower id first
    top.forEach((t) => expect(t.probability).toBeCloseTo(Math.exp(logits[t.id]) / z, 12))
    expect(topKSoftmax([9, 1, 2, 3], 1, 3, 1)).toEqual([{ id: 2, probability: Math.exp(0) / (Math.exp(-2) + Math.exp(-1) + 1) }])
  })

  it('refuses to rank logits holding NaN or +Infinity (typed NOT_FINITE), and ranks -Infinity as probability 0', () => {
    expect(() => topKSoftmax([0.5, NaN, 2], 0, 3, 2)).toThrow(/logits contain NaN \(1 of 3 values\)/)
    expect(() => topKSoftmax([NaN, NaN], 0, 2, 1)).toThrow(expect.objectContaining({ code: 'NOT_FINITE' }))
    expect(() => topKSoftmax([1, Infinity, 2], 0, 3, 1)).toThrow(/logits contain \+Infinity/)
    expect(topKSoftmax([0, -Infinity], 0, 2, 2)).toEqual([
      { id: 0, probability: 1 },
      { id: 1, probability: 0 },
    ])
  })

  it('predicts every [MASK] with the plain head and the EMD, from the model’s own logits', async () => {
    const result = await decoding(context, { model: TINY_V3, text: 'the [MASK] of the [MASK] was closed.', topK: 5 })
    expect(result.maskPositions).toHaveLength(2)
    expect(result.predictions.map((p) => p.position)).toEqual(result.maskPositions)
    result.maskPositions.forEach((p) => expect(result.tokens.tokens[p]).toBe('[MASK]'))
    // Independent recomputation of the first mask's plain and EMD distributions.
    const { model } = (await context.getModel(TINY_V3)) as unknown as { model: DebertaModel }
    const forward = model.forward({ inputIds: [result.tokens.inputIds] }, { mlm: { positions: [[0, result.maskPositions[0]]], plain: true, emd: true } })
    const V = forward.mlm!.plainLogits!.shape[1]
    for (const [which, logits] of [['plain', forward.mlm!.plainLogits!.data], ['emd', forward.mlm!.emdLogits!.data]] as const) {
      const values = Array.from(logits.subarray(0, V))
      const order = values.map((v, id) => ({ v, id })).sort((a, b) => b.v - a.v || a.id - b.id).slice(0, 5)
      const max = Math.max(...values)
      const z = values.reduce((a, v) => a + Math.exp(v - max), 0)
      const predicted = result.predictions[0][which]
      expect(predicted.map((p) => p.id)).toEqual(order.map((o) => o.id))
      predicted.forEach((p, k) => expect(p.probability).toBeCloseTo(Math.exp(order[k].v - max) / z, 9))
      for (let k = 1; k < predicted.length; k++) expect(predicted[k].probability).toBeLessThanOrEqual(predicted[k - 1].probability)
    }
    // v3 has no absolute positions in its layers, so the EMD must change the distribution
    expect(result.predictions[0].emd[0].probability).not.toBeCloseTo(result.predictions[0].plain[0].probability, 9)
  })

  it('says what is missing: a [MASK] in the text, or an MLM head in the model', async () => {
    await expect(decoding(context, { model: TINY_V3, text: 'no mask here', topK: 3 })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    const tokenizer = await loadTokenizer(path.join(RESOURCES, 'tokenizer-spm'))
    const headless = createSyntheticModel({ ...syntheticConfig(TINY_V3), maskTokenId: tokenizer.special.mask }, { seed: 1, withHead: false })
    const noHead = await testContext(() => Promise.resolve({ info: { label: 'headless' } as never, model: headless, tokenizer }))
    await expect(decoding(noHead, { model: TINY_V3, text: 'a [MASK]', topK: 3 })).rejects.toMatchObject({ code: 'NO_MLM_HEAD' })
    headless.dispose()
  })

  it('names the words the tokenizer read as [UNK], and leaves special tokens out of the ranking', async () => {
    const text = 'the purple elephant [MASK] the ball near the house'
    const result = await decoding(context, { model: { kind: 'bundled', name: 'toy-deberta' }, text, topK: 100 })
    expect(result.tokens.unknown).toEqual([
      { position: 2, text: 'purple' },
      { position: 3, text: 'elephant' },
    ])
    const [{ plain, emd }] = result.predictions
    // the vocabulary minus [PAD] [CLS] [SEP] [MASK] ([UNK] stays: the model may predict it), cut at topK
    expect(plain).toHaveLength(Math.min(100, TOY_VOCAB_SIZE - 4))
    for (const list of [plain, emd]) expect(list.map((p) => p.token)).not.toEqual(expect.arrayContaining(['[CLS]']))
    expect(plain.some((p) => ['[PAD]', '[CLS]', '[SEP]', '[MASK]'].includes(p.token))).toBe(false)
    const total = plain.reduce((a, p) => a + p.probability, 0)
    expect(total).toBeLessThanOrEqual(1)
    expect(total).toBeGreaterThan(0.9) // the special tokens hold little probability in a trained model
    // a text without unknown words has no `unknown` field
    expect((await decoding(context, { model: { kind: 'bundled', name: 'toy-deberta' }, text: 'the dog [MASK] the ball near the house', topK: 3 })).tokens.unknown).toBeUndefined()
  })
})
