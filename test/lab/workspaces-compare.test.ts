// Two models on one text (the "Compare with…" of the Attention and Decoding workspaces): the lab's answers for
// model A and model B, aligned, pooled and subtracted by the renderer's functions, against the core's own forward
// passes read with plain loops. Same tokens: the v3 fixture checkpoint and a synthetic v1 (one SentencePiece
// tokenizer). Different tokens: the bundled toy model (a word-level tokenizer) and a synthetic BERT
// (SentencePiece); the v1 fixture checkpoint (its word-level "w4 … w126" tokenizer) and the v3 fixture.
// Relative positions: the v3 fixture (log buckets) vs a synthetic v1 (clipping at k = 6), the toy model vs a
// synthetic v1 (different tokenizers), and a BERT (no relative positions), against δ and the ids written by hand.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CheckpointModelRef, DecodingResult, ModelRef } from '../../src/common/api'
import { attention } from '../../src/lab/workspaces/attention'
import { decoding } from '../../src/lab/workspaces/decoding'
import { relativeId, relativePositions } from '../../src/lab/workspaces/relative-positions'
import { attentionRequestForB, compareAttention } from '../../src/renderer/workspaces/attention-comparison'
import { compareDecoding } from '../../src/renderer/workspaces/decoding-comparison'
import { alignedCurves, compareRelative, curveLimit, relativeRequestForB } from '../../src/renderer/workspaces/relative-comparison'
import { v1TokenizerJson } from './fake-hub'
import { testContext, TINY_BERT, TINY_V1, type TestContext } from './workspaces-helpers'

const TOY: ModelRef = { kind: 'bundled', name: 'toy-deberta' }
const BERT: ModelRef = { ...TINY_BERT, seed: 5 }
let tmp: string
let V3: CheckpointModelRef
let V1: CheckpointModelRef
let context: TestContext

/** A fixture checkpoint with its tokenizer beside it, as a user's folder holds them (v3: SentencePiece, v1: word level). */
function fixtureFolder(name: 'deberta-v3-tiny' | 'deberta-v1-tiny'): CheckpointModelRef {
  const dir = join(tmp, name)
  mkdirSync(dir)
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join('test/fixtures', name, f), join(dir, f))
  if (name === 'deberta-v1-tiny') {
    writeFileSync(join(dir, 'tokenizer.json'), v1TokenizerJson())
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ mask_token: '[MASK]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]' }))
  } else {
    for (const f of readdirSync('test/fixtures/tokenizer-spm').filter((n) => n !== 'tokenization_golden.json')) copyFileSync(join('test/fixtures/tokenizer-spm', f), join(dir, f))
  }
  return { kind: 'checkpoint', path: dir }
}

/** Layer `layer`'s attention probabilities of head `head` from the core's forward pass: P[i][j]. */
async function coreProbabilities(ref: ModelRef, text: string, layer: number, head: number): Promise<{ tokens: string[]; offsets: Array<[number, number]>; P: number[][] }> {
  const { model, tokenizer } = await context.getModel(ref)
  const encoding = tokenizer.encode(text)
  const result = model.forward({ inputIds: [encoding.inputIds] }, { components: [layer] })
  const probs = result.components!.find((c) => c.layer === layer)!.probs
  const [, , T] = probs.shape
  const P = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => probs.data[(head * T + i) * T + j]))
  return { tokens: encoding.tokens, offsets: encoding.offsets as Array<[number, number]>, P }
}

/** The word (white-space separated) a token belongs to, −1 for [CLS] and −2 for [SEP], read off its offsets. */
function wordOf(text: string, [start, end]: [number, number], position: number): number {
  if (start === end) return position === 0 ? -1 : -2
  let s = start
  while (/\s/.test(text[s])) s++
  return text.slice(0, s).split(/\s+/).filter(Boolean).length - (/\s$/.test(text.slice(0, s)) || s === 0 ? 0 : 1)
}

/** Word-level attention by the documented rule, with plain loops: mean over the query word's tokens of Σ over the key word's tokens. */
function wordAttention(text: string, core: { offsets: Array<[number, number]>; P: number[][] }): number[][] {
  const words = core.offsets.map((offset, p) => wordOf(text, offset, p))
  const count = text.split(/\s+/).filter(Boolean).length
  const index = (w: number): number => (w === -1 ? 0 : w === -2 ? count + 1 : w + 1)
  const U = count + 2
  const sums = Array.from({ length: U }, () => new Array<number>(U).fill(0))
  const queries = new Array<number>(U).fill(0)
  words.forEach((wi) => queries[index(wi)]++)
  core.P.forEach((row, i) => row.forEach((p, j) => (sums[index(words[i])][index(words[j])] += p)))
  return sums.map((row, u) => row.map((v) => v / queries[u]))
}

function expectClose(actual: ArrayLike<number>, expected: number[][], tolerance: number): void {
  const flat = expected.flat()
  expect(actual.length).toBe(flat.length)
  let worst = 0
  for (let k = 0; k < flat.length; k++) worst = Math.max(worst, Math.abs(actual[k] - flat[k]))
  expect(worst).toBeLessThan(tolerance)
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dl-compare-'))
  V3 = fixtureFolder('deberta-v3-tiny')
  V1 = fixtureFolder('deberta-v1-tiny')
  context = await testContext()
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('two models on one text', () => {
  it('v3 checkpoint vs synthetic v1 (same tokens): A, B and B − A token by token equal the core', async () => {
    const text = 'the new store opened beside the new mall'
    const a = await attention(context, { model: V3, text, layer: 1, head: 1 })
    const b = await attention(context, { model: TINY_V1, text, layer: 1, head: 1 })
    const shown = compareAttention(text, a, b, 'probabilities')
    expect(shown.level).toBe('token')
    expect(shown.alignment.sameTokens).toBe(true)
    expect(shown.differenceReason).toBeNull()
    const coreA = await coreProbabilities(V3, text, 1, 1)
    const coreB = await coreProbabilities(TINY_V1, text, 1, 1)
    expect(shown.a.labels).toEqual(coreA.tokens)
    expectClose(shown.a.matrix!.data, coreA.P, 1e-6)
    expectClose(shown.b.matrix!.data, coreB.P, 1e-6)
    expectClose(shown.difference!.data, coreB.P.map((row, i) => row.map((p, j) => p - coreA.P[i][j])), 1e-6)
    // the two models really differ here (the difference is not a zero matrix)
    expect(Math.max(...Array.from(shown.difference!.data, Math.abs))).toBeGreaterThan(1e-3)
  })

  it('toy model vs BERT (different tokenizers): word-level A, B and B − A equal the core pooled by the documented rule', async () => {
    // "sees" is one token of the toy model and two pieces (▁see s) of the SentencePiece tokenizer
    const text = 'the small dog sees the small ball near the house'
    const a = await attention(context, { model: TOY, text, layer: 1, head: 2 })
    const b = await attention(context, { model: BERT, text, layer: 1, head: 2 })
    expect(a.tokens.tokens).not.toEqual(b.tokens.tokens)
    const shown = compareAttention(text, a, b, 'probabilities')
    expect(shown.level).toBe('word')
    expect(shown.pooling).toBe('sum-keys')
    expect(shown.a.labels).toEqual(['[CLS]', ...text.split(' '), '[SEP]'])
    const sees = shown.alignment.units[4]
    expect([sees.label, sees.a.map((p) => a.tokens.tokens[p]), sees.b.map((p) => b.tokens.tokens[p])]).toEqual(['sees', ['sees'], ['▁see', 's']])
    const wordsA = wordAttention(text, await coreProbabilities(TOY, text, 1, 2))
    const wordsB = wordAttention(text, await coreProbabilities(BERT, text, 1, 2))
    expectClose(shown.a.matrix!.data, wordsA, 1e-6)
    expectClose(shown.b.matrix!.data, wordsB, 1e-6)
    expectClose(shown.difference!.data, wordsB.map((row, u) => row.map((p, v) => p - wordsA[u][v])), 1e-6)
    // pooled rows of probabilities still sum to 1
    for (let u = 0; u < shown.b.matrix!.rows; u++) expect(wordsB[u].reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5)
  })

  it('v1 checkpoint vs v3 checkpoint (word-level vs SentencePiece tokens): the words of one are pieces of the other', async () => {
    const text = 'w10 w37 w126 w5'
    const a = await attention(context, { model: V1, text, layer: 1, head: 3 })
    const b = await attention(context, { model: V3, text, layer: 1, head: 3 })
    const shown = compareAttention(text, a, b, 'probabilities')
    expect(shown.level).toBe('word')
    expect(shown.a.labels).toEqual(['[CLS]', 'w10', 'w37', 'w126', 'w5', '[SEP]'])
    expect(shown.alignment.units.every((u) => u.a.length === 1)).toBe(true)
    expect(shown.alignment.units.some((u) => u.b.length > 1)).toBe(true)
    const wordsA = wordAttention(text, await coreProbabilities(V1, text, 1, 3))
    const wordsB = wordAttention(text, await coreProbabilities(V3, text, 1, 3))
    expectClose(shown.a.matrix!.data, wordsA, 1e-6)
    expectClose(shown.b.matrix!.data, wordsB, 1e-6)
    expectClose(shown.difference!.data, wordsB.map((row, u) => row.map((p, v) => p - wordsA[u][v])), 1e-6)
  })

  it('scores are averaged over both sub-token sets; BERT has no c2p, so that view has no difference', async () => {
    const text = 'the small dog sees the small ball near the house'
    const a = await attention(context, { model: TOY, text, layer: 0, head: 0 })
    const b = await attention(context, { model: BERT, text, layer: 0, head: 0 })
    const scores = compareAttention(text, a, b, 'scores')
    expect(scores.pooling).toBe('mean')
    const sees = scores.alignment.units.findIndex((u) => u.label === 'sees')
    const [i1, i2] = scores.alignment.units[sees].b
    const T = b.tokens.tokens.length
    const expected = (b.scores.data[i1 * T + i1] + b.scores.data[i1 * T + i2] + b.scores.data[i2 * T + i1] + b.scores.data[i2 * T + i2]) / 4
    expect(scores.b.matrix!.data[sees * scores.b.matrix!.cols + sees]).toBeCloseTo(expected, 6)
    const c2p = compareAttention(text, a, b, 'c2p')
    expect(c2p.b.matrix).toBeNull()
    expect(c2p.difference).toBeNull()
    expect(c2p.differenceReason).toMatch(/B \(.*\) has no c2p term/)
  })

  it('B runs the layer and head it has; another layer or head disables the difference, with the reason', async () => {
    const planned = attentionRequestForB({ text: 'the dog', layer: 3, head: 5, disabledTerms: ['c2p'], p2p: true }, { layers: 2, heads: 4, posAttType: ['c2c'], label: 'bert' })
    expect(planned.request).toEqual({ text: 'the dog', layer: 1, head: 3, disabledTerms: [], p2p: false })
    expect(planned.notes).toHaveLength(4)
    const text = 'the new store opened beside the new mall'
    const a = await attention(context, { model: V3, text, layer: 1, head: 0 })
    const b = await attention(context, { model: TINY_V1, text, layer: 0, head: 0 })
    const shown = compareAttention(text, a, b, 'probabilities')
    expect(shown.difference).toBeNull()
    expect(shown.differenceReason).toBe('A shows layer 1, head 0; B shows layer 0, head 0: a difference needs the same layer and head')
  })

  it('decoding: each [MASK] slot pairs A and B by its characters, with B − A for the tokens both rank', async () => {
    const text = 'the small [MASK] sees the small ball near the house'
    const a: DecodingResult = await decoding(context, { model: TOY, text, topK: 50 })
    const b: DecodingResult = await decoding(context, { model: { ...BERT, arch: 'deberta-v3', positionBuckets: 8 }, text, topK: 1001 })
    const slots = compareDecoding(text, a, b)
    expect(slots).toHaveLength(1)
    expect([slots[0].label, slots[0].start, slots[0].a!.position, slots[0].b!.position]).toEqual(['[MASK]', 10, a.maskPositions[0], b.maskPositions[0]])
    // B ranks its whole vocabulary here, so every token of A's top-50 that B's tokenizer has as one piece is shared
    const bProbability = new Map(b.predictions[0].plain.map((p) => [p.token, p.probability]))
    const expected = a.predictions[0].plain.filter((p) => bProbability.has(p.token))
    expect(slots[0].shared.plain.map((s) => s.token)).toEqual(expected.map((p) => p.token))
    for (const s of slots[0].shared.plain) expect(s.difference).toBe(bProbability.get(s.token)! - s.a)
    // B's top-1 is the argmax of the core's plain logits at the mask
    const { model } = await context.getModel({ ...BERT, arch: 'deberta-v3', positionBuckets: 8 })
    const ids = b.tokens.inputIds
    const logits = model.forward({ inputIds: [ids] }, { mlm: { positions: [[0, b.maskPositions[0]]], plain: true } }).mlm!.plainLogits!
    const width = logits.shape[1]
    let best = 0
    for (let v = 0; v < 1000; v++) if (![0, 1, 2, 3].includes(v) && logits.data[v] > logits.data[best]) best = v
    expect(b.predictions[0].plain[0].id).toBe(best)
    expect(width).toBeGreaterThanOrEqual(1000)
  })

  it('relative positions, v3 fixture vs synthetic v1 (same tokens): δ, the ids (log buckets vs clipping at k = 6) and B − A cell by cell', async () => {
    const text = 'the new store opened beside the new mall and the old store closed near the river'
    const a = await relativePositions(context, { model: V3, text, clipK: 4 })
    const b = await relativePositions(context, { model: TINY_V1, ...relativeRequestForB({ text, clipK: 4 }, b1Info()).request } as { model: ModelRef; text: string })
    const ids = compareRelative(text, a, b, 'buckets')
    expect(ids.level).toBe('token')
    expect(ids.differenceReason).toBeNull()
    const T = a.tokens.tokens.length
    expect(T).toBeGreaterThan(12)
    expect(ids.a.labels).toEqual(b.tokens.tokens)
    const { model: v3 } = await context.getModel(V3)
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const d = i - j
        // v3 fixture: position_buckets 16, so |δ| ≤ 8 is exact; v1: the paper's clamp(δ, −k, k − 1) with k = 6
        const idA = Math.abs(d) <= 8 ? d : relativeId(v3.config, d)
        const idB = Math.min(Math.max(d, -6), 5)
        expect([ids.a.matrix.data[i * T + j], ids.b.matrix.data[i * T + j], ids.difference!.data[i * T + j]]).toEqual([idA, idB, idB - idA])
      }
    }
    // the log buckets of A and the clipping of B differ beyond |δ| = 5
    expect(ids.difference!.data[(T - 1) * T]).toBe(5 - relativeId(v3.config, T - 1))
    expect(ids.difference!.data[(T - 1) * T]).not.toBe(0)
    // the same tokens give the same δ: B − A of δ is zero everywhere
    const delta = compareRelative(text, a, b, 'delta')
    expect(Array.from(delta.difference!.data).every((v) => v === 0)).toBe(true)
    expect(delta.a.matrix.data[2 * T]).toBe(2)
  })

  it('relative positions: both curves over one range, each beyond its reach carrying the id its model reads there', async () => {
    const text = 'the new store opened'
    const a = await relativePositions(context, { model: V3, text })
    const b = await relativePositions(context, { model: TINY_V1, text })
    const curves = alignedCurves(a.curve, b.curve)
    expect(curves.reach.b).toEqual([-16, 16])
    expect(curves.reach.a[1]).toBeGreaterThan(16)
    expect(curves.distances[0]).toBe(Math.min(curves.reach.a[0], curves.reach.b[0]))
    expect(curves.distances.at(-1)).toBe(Math.max(curves.reach.a[1], curves.reach.b[1]))
    const { model: v3 } = await context.getModel(V3)
    const { model: v1 } = await context.getModel(TINY_V1)
    curves.distances.forEach((d, k) => {
      expect(curves.a[k]).toBe(relativeId(v3.config, d))
      expect(curves.b[k]).toBe(Math.min(Math.max(d, -6), 5))
      expect(curves.b[k]).toBe(relativeId(v1.config, d))
    })
    // the chart's range: the shorter reach (B's 16), as the text is shorter
    expect(curveLimit(a, b)).toBe(16)
    const shown = alignedCurves(a.curve, b.curve, curveLimit(a, b))
    expect(shown.distances).toEqual(Array.from({ length: 33 }, (_, k) => k - 16))
    expect(shown.a).toEqual(shown.distances.map((d) => relativeId(v3.config, d)))
  })

  it('relative positions, toy model vs synthetic v1 (different tokenizers): spans read at their first token, B − A the shift of the split word', async () => {
    // "sees" is one token of the toy model and ▁see + s of the SentencePiece tokenizer: the words after it are further apart in B
    const text = 'the small dog sees the small ball near the house'
    const a = await relativePositions(context, { model: TOY, text })
    const b = await relativePositions(context, { model: TINY_V1, text })
    const shown = compareRelative(text, a, b, 'delta')
    expect(shown.level).toBe('word')
    expect(shown.a.labels).toEqual(['[CLS]', ...text.split(' '), '[SEP]'])
    const U = shown.a.labels.length
    // A: one token per word, so δ is the word distance; B: the first tokens of the words, one further after "sees"
    // (word 4, ▁see s) and two after "ball" (word 7, a lone ▁ and ball: the span starts at the ▁)
    expect(b.tokens.tokens).toEqual(['[CLS]', '▁the', '▁small', '▁dog', '▁see', 's', '▁the', '▁small', '▁', 'ball', '▁near', '▁the', '▁house', '[SEP]'])
    const first = (u: number): number => (u <= 4 ? u : u <= 7 ? u + 1 : u + 2)
    for (let u = 0; u < U; u++) {
      for (let v = 0; v < U; v++) {
        expect(shown.a.matrix.data[u * U + v]).toBe(u - v)
        expect(shown.b.matrix.data[u * U + v]).toBe(first(u) - first(v))
        expect(shown.difference!.data[u * U + v]).toBe(first(u) - first(v) - (u - v))
      }
    }
    expect(b.tokens.tokens[first(5)]).toBe('▁the')
    // the ids: B (clipping at k = 6) reads [SEP] → [CLS] (δ = 13) as 5, A (log buckets of the toy model) its own id
    const ids = compareRelative(text, a, b, 'buckets')
    expect(ids.b.matrix.data[(U - 1) * U]).toBe(5)
    expect(ids.a.matrix.data[(U - 1) * U]).toBe(a.buckets.data[(U - 1) * U])
  })

  it('relative positions: a BERT has none; the lab refuses it and the comparison says so instead of running it', async () => {
    const planned = relativeRequestForB({ text: 'the dog', clipK: 4 }, { posAttType: ['c2c'], label: 'synthetic bert', modelType: 'bert' })
    expect(planned.request).toEqual({ text: 'the dog', clipK: 4 })
    expect(planned.unavailable).toMatch(/^B \(synthetic bert\) has no relative positions: BERT adds an absolute position embedding/)
    await expect(relativePositions(context, { model: BERT, text: 'the dog' })).rejects.toMatchObject({ code: 'CONFIG_UNSUPPORTED' })
    expect(relativeRequestForB({ text: 'the dog' }, b1Info()).unavailable).toBeUndefined()
  })
})

/** What B's request for a DeBERTa v1 reads of its description. */
function b1Info() {
  return { posAttType: ['c2c', 'c2p', 'p2c'] as Array<'c2c' | 'c2p' | 'p2c'>, label: 'synthetic deberta-v1', modelType: 'deberta' as const }
}
