// Corpus statistics against a direct core computation: DebertaModel.forward with every layer's components
// recorded for each sentence, summarised and pooled here by plain loops (not the job's code); resume from a
// checkpoint = an uninterrupted run; the corpus file's typed errors; the search over per-sentence summaries.
import { beforeAll, describe, expect, it } from 'vitest'
import type { AttentionTerm } from '../../src/common/api'
import { MAX_CORPUS_BYTES, MAX_CORPUS_LINES, corpusLines, pairCandidates, searchCorpus, tokenPattern, type CorpusResult } from '../../src/common/corpus'
import { LabError } from '../../src/common/errors'
import type { DebertaModel } from '../../src/core/model'
import type { Tokenizer } from '../../src/core/tokenizer/types'
import { corpus, decodeCheckpoint, encodeCheckpoint, truncateIds, type CorpusState } from '../../src/lab/workspaces/corpus'
import { corpusPairs } from '../../src/lab/workspaces/corpus-pairs'
import { distanceProfile } from '../../src/lab/workspaces/distance-profile'
import { testContext, TINY_V3, type TestContext } from './workspaces-helpers'

const SENTENCES = ['the new store opened beside the new mall', 'a dog sleeps', 'the old station near the river was closed for years', 'she reads the book again']
const TEXT = `${SENTENCES[0]}\n\n${SENTENCES[1]}\r\n  ${SENTENCES[2]}  \n${SENTENCES[3]}\n`
const TOY = { kind: 'bundled', name: 'toy-deberta' } as const

interface Direct {
  shares: number[]
  entropy: number[]
  distance: number[]
  /** by δ: Σ p per head, Σ of each term's score per head, and the pairs */
  profile: Map<number, { sum: number[]; scores: Record<string, number[]>; pairs: number }>
  pairs: Array<Map<string, { total: number; count: number }>>
  sentenceEntropy: number[][]
  tokens: number
}

/** The corpus aggregates computed from recorded components with plain loops. */
async function direct(context: TestContext, ref: typeof TINY_V3 | typeof TOY, sentences: string[], disabled: AttentionTerm[] = []): Promise<Direct> {
  const loaded = await context.getModel(ref)
  const model = loaded.model as DebertaModel
  const tokenizer = loaded.tokenizer as Tokenizer
  const L = model.config.numHiddenLayers
  const NH = model.config.numAttentionHeads
  const LH = L * NH
  const terms: AttentionTerm[] = ['c2c', 'c2p', 'p2c']
  const termSums = Array.from({ length: LH }, () => [0, 0, 0])
  const entropy = new Array<number>(LH).fill(0)
  const distance = new Array<number>(LH).fill(0)
  const profile = new Map<number, { sum: number[]; scores: Record<string, number[]>; pairs: number }>()
  const at_ = (d: number) => {
    if (!profile.has(d)) profile.set(d, { sum: new Array<number>(LH).fill(0), scores: Object.fromEntries(terms.map((t) => [t, new Array<number>(LH).fill(0)])), pairs: 0 })
    return profile.get(d)!
  }
  const pairs = Array.from({ length: LH }, () => new Map<string, { total: number; count: number }>())
  const sentenceEntropy: number[][] = []
  let tokens = 0
  for (const sentence of sentences) {
    const encoding = tokenizer.encode(sentence)
    const ids = encoding.inputIds
    const T = ids.length
    tokens += T
    const components = model.forward({ inputIds: [ids] }, { components: true, disabledTerms: disabled }).components!
    const perHead: number[] = []
    for (let l = 0; l < L; l++) {
      for (let head = 0; head < NH; head++) {
        const h = l * NH + head
        const at = (array: Float32Array, i: number, j: number): number => array[head * T * T + i * T + j]
        terms.forEach((term, t) => {
          if (disabled.includes(term)) return
          for (let i = 0; i < T; i++) {
            for (let j = 0; j < T; j++) {
              const score = at(components[l][term]!.data, i, j)
              termSums[h][t] += Math.abs(score)
              at_(i - j).scores[term][h] += score
            }
          }
        })
        let rowsEntropy = 0
        for (let i = 0; i < T; i++) {
          for (let j = 0; j < T; j++) {
            const p = at(components[l].probs.data, i, j)
            if (p > 0) rowsEntropy -= p * Math.log(p)
            distance[h] += p * Math.abs(i - j)
            at_(i - j).sum[h] += p
            const key = `${encoding.tokens[i]}\u0000${encoding.tokens[j]}`
            const pair = pairs[h].get(key) ?? { total: 0, count: 0 }
            pair.total += p
            pair.count += 1
            pairs[h].set(key, pair)
          }
        }
        entropy[h] += rowsEntropy
        perHead.push(rowsEntropy / T)
      }
    }
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) profile.get(i - j)!.pairs += 1
    sentenceEntropy.push(perHead)
  }
  const shares = termSums.flatMap((sums) => {
    const all = sums.reduce((a, b) => a + b, 0)
    return sums.map((s) => s / all)
  })
  return { shares, entropy: entropy.map((e) => e / tokens), distance: distance.map((d) => d / tokens), profile, pairs, sentenceEntropy, tokens }
}

const close = (actual: number[], expected: number[], tolerance = 1e-9): void => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, k) => expect(Math.abs(v - expected[k])).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected[k]))))
}

/** A context that keeps the checkpoints it is handed, and cancels itself once `cancelAt` sentences are done. */
function checkpointing(context: TestContext, cancelAt?: number) {
  const checkpoints: Uint8Array[] = []
  let cancelled = false
  const ctx: TestContext = {
    ...context,
    checkpoint: (data) => checkpoints.push(data),
    progress: (fraction, message) => {
      if (cancelAt !== undefined && message.startsWith(`${cancelAt} /`)) cancelled = true
    },
    checkCancelled: () => {
      if (cancelled) throw new LabError('CANCELLED', 'cancelled')
    },
  }
  return { ctx, checkpoints }
}

/** The result without what depends on time or on how it was run. */
const numbers = (r: CorpusResult) => {
  const { milliseconds: _m, sentencesPerSecond: _s, resumedFrom: _r, runId: _id, ...rest } = r
  const scores = Object.fromEntries(Object.entries(rest.profile.scores ?? {}).map(([term, m]) => [term, { rows: m.rows, cols: m.cols, data: Array.from(m.data) }]))
  return { ...rest, profile: { ...rest.profile, scores }, sentences: { ...rest.sentences, entropy: Array.from(rest.sentences.entropy.data), distance: Array.from(rest.sentences.distance.data), shares: Array.from(rest.sentences.shares.data) } }
}

describe('corpus statistics job', () => {
  let context: TestContext
  beforeAll(async () => {
    context = await testContext()
  })

  for (const [name, ref] of [
    ['the synthetic v3 model', TINY_V3],
    ['the shipped toy model', TOY],
  ] as const) {
    it(`pools every head's shares, entropy, distance, profile and token pairs over the sentences like a direct computation (${name})`, async () => {
      const result = await corpus(context, { model: ref, corpus: { name: 'four.txt', text: TEXT } })
      const expected = await direct(context, ref, SENTENCES)
      expect(result.corpus).toMatchObject({ name: 'four.txt', sentences: 4, blankLines: 1, truncated: 0, tokens: expected.tokens })
      expect(result.corpus.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(result.terms).toEqual(['c2c', 'c2p', 'p2c'])
      close(result.shares, expected.shares)
      close(result.entropy, expected.entropy)
      close(result.distance, expected.distance)
      // profile: every δ that occurs, mean over the corpus' pairs at that δ
      for (const [k, d] of result.profile.distances.entries()) {
        const e = expected.profile.get(d)!
        expect(result.profile.pairs[k]).toBe(e.pairs)
        close(result.profile.probability.map((row) => row[k]), e.sum.map((s) => s / e.pairs))
        // each term's mean score over the same pairs (float32 in the result)
        for (const term of ['c2c', 'c2p', 'p2c'] as const) {
          const m = result.profile.scores![term]!
          close(Array.from({ length: m.rows }, (_, h) => m.data[h * m.cols + k]), e.scores[term].map((s) => s / e.pairs), 1e-6)
        }
      }
      expect(result.profile.scoreTerms).toEqual(['c2c', 'c2p', 'p2c'])
      // the relative ids and shaded regions are those of the sentence profile of the longest sentence
      const longest = await distanceProfile(context, { model: ref, text: SENTENCES[2], layer: 0 })
      expect(longest.distances).toEqual(result.profile.distances)
      expect(result.profile.buckets).toEqual(longest.buckets)
      expect(result.profile.buckets!.kind).toBe('log-bucket')
      expect(result.profile.scores!.c2c!).toMatchObject({ rows: result.layers * result.heads, cols: result.profile.distances.length })
      expect(result.profile.distances.length).toBe(2 * Math.max(...[...expected.profile.keys()]) + 1)
      // top pairs: the largest totals of the direct table, with their counts and means
      for (let h = 0; h < result.layers * result.heads; h++) {
        const ranked = [...expected.pairs[h].entries()].sort((a, b) => b[1].total - a[1].total)
        const top = result.topPairs[h][0]
        expect(top.total).toBeCloseTo(ranked[0][1].total, 9)
        const mine = expected.pairs[h].get(`${top.query}\u0000${top.key}`)!
        expect(top.count).toBe(mine.count)
        expect(top.mean).toBeCloseTo(mine.total / mine.count, 9)
        expect(result.pairsPruned[h]).toBe(false)
      }
      // per-sentence summaries (float32 in the result)
      expected.sentenceEntropy.forEach((row, s) => close(Array.from(result.sentences.entropy.data.subarray(s * row.length, (s + 1) * row.length)), row, 1e-6))
      expect(result.sentences.text).toEqual(SENTENCES)
      expect(result.sentences.shares.cols).toBe(result.layers * result.heads * 3)
    })
  }

  it('applies the ablation like the core (a removed term has share 0 and changes the probabilities)', async () => {
    const result = await corpus(context, { model: TINY_V3, corpus: { name: 'c.txt', text: TEXT }, disabledTerms: ['c2p'] })
    const expected = await direct(context, TINY_V3, SENTENCES, ['c2p'])
    close(result.shares, expected.shares)
    close(result.entropy, expected.entropy)
    expect(result.shares.filter((_, k) => k % 3 === 1).every((v) => v === 0)).toBe(true)
    // the term profiles hold the terms in the score only
    expect(result.profile.scoreTerms).toEqual(['c2c', 'p2c'])
    expect(Object.keys(result.profile.scores!).sort()).toEqual(['c2c', 'p2c'])
    const m = result.profile.scores!.p2c!
    for (const [k, d] of result.profile.distances.entries()) {
      const e = expected.profile.get(d)!
      close(Array.from({ length: m.rows }, (_, h) => m.data[h * m.cols + k]), e.scores.p2c.map((s) => s / e.pairs), 1e-6)
    }
  })

  it('resumes from the checkpoint of a cancelled run with exactly the numbers of an uninterrupted run', async () => {
    const text = Array.from({ length: 9 }, (_, k) => `${SENTENCES[k % 4]} ${'and more '.repeat(k)}`).join('\n')
    const whole = await corpus(context, { model: TINY_V3, corpus: { name: 'nine.txt', text } })
    const first = checkpointing(context, 4)
    await expect(corpus(first.ctx, { model: TINY_V3, corpus: { name: 'nine.txt', text } })).rejects.toMatchObject({ code: 'CANCELLED', message: expect.stringContaining('after 4 of 9') })
    const checkpoint = first.checkpoints.at(-1)!
    expect(decodeCheckpoint(checkpoint).done).toBe(4)
    // resume, cancel again, resume again: the checkpoint of a resumed run holds everything before it
    const second = checkpointing(context, 7)
    await expect(corpus(second.ctx, { model: TINY_V3, corpus: { name: 'nine.txt', text }, resumeFrom: 'run-1', checkpoint })).rejects.toMatchObject({ code: 'CANCELLED' })
    // cancelled again before it adds a sentence: it still leaves a checkpoint to resume from
    const third = checkpointing(context)
    third.ctx.checkCancelled = () => {
      throw new LabError('CANCELLED', 'cancelled')
    }
    await expect(corpus(third.ctx, { model: TINY_V3, corpus: { name: 'nine.txt', text }, resumeFrom: 'run-2', checkpoint: second.checkpoints.at(-1)! })).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(decodeCheckpoint(third.checkpoints.at(-1)!).done).toBe(7)
    const resumed = await corpus(context, { model: TINY_V3, corpus: { name: 'nine.txt', text }, resumeFrom: 'run-2', checkpoint: third.checkpoints.at(-1)! })
    expect(resumed.resumedFrom).toEqual({ runId: 'run-2', sentences: 7 })
    expect(numbers(resumed)).toEqual(numbers(whole))
    // the term profiles are part of it, bit for bit
    for (const term of ['c2c', 'c2p', 'p2c'] as const) {
      expect(resumed.profile.scores![term]!.data.length).toBe(whole.layers * whole.heads * whole.profile.distances.length)
      expect(Array.from(resumed.profile.scores![term]!.data)).toEqual(Array.from(whole.profile.scores![term]!.data))
    }
    expect(resumed.profile.buckets).toEqual(whole.profile.buckets)
  })

  it('refuses a checkpoint of another corpus, model or term set', async () => {
    const first = checkpointing(context, 2)
    await expect(corpus(first.ctx, { model: TINY_V3, corpus: { name: 'c.txt', text: TEXT } })).rejects.toMatchObject({ code: 'CANCELLED' })
    const checkpoint = first.checkpoints.at(-1)!
    await expect(corpus(context, { model: TINY_V3, corpus: { name: 'c.txt', text: TEXT + 'one more\n' }, checkpoint })).rejects.toMatchObject({ code: 'INPUT_INVALID', details: { field: 'resumeFrom' } })
    await expect(corpus(context, { model: TINY_V3, corpus: { name: 'c.txt', text: TEXT }, disabledTerms: ['p2c'], checkpoint })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    await expect(corpus(context, { model: TINY_V3, corpus: { name: 'c.txt', text: TEXT }, checkpoint: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    // a checkpoint without the term sums by distance (an earlier version's) is refused, not continued with zeros
    const { scoreSum: _scores, ...older } = decodeCheckpoint(checkpoint)
    await expect(corpus(context, { model: TINY_V3, corpus: { name: 'c.txt', text: TEXT }, checkpoint: encodeCheckpoint(older as CorpusState) })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('without the term profiles'),
    })
  })

  it('truncates sentences longer than the model positions, keeping [SEP], and counts them', async () => {
    expect(truncateIds([1, 5, 6, 7, 2], 4)).toEqual([1, 5, 6, 2])
    expect(truncateIds([1, 5, 2], 4)).toEqual([1, 5, 2])
    const long = Array.from({ length: 80 }, () => 'the dog').join(' ')
    const result = await corpus(context, { model: TOY, corpus: { name: 'long.txt', text: `${long}\nthe dog sees the ball` } })
    expect(result.corpus).toMatchObject({ truncated: 1, maxTokens: 64 })
    expect(result.sentences.tokens[0]).toHaveLength(64)
    expect(result.sentences.tokens[0].at(-1)).toBe('[SEP]')
    expect(result.profile.distances.at(-1)).toBe(63)
  })
})

describe('corpus search by token pair', () => {
  const TOY_TEXT = ['the old farmer sees the red ball near the river', 'the girl hides the box behind the table', 'the cat watches the ball', 'the dog and the girl sees the ball']
  const VERBS = 'sees|hides|watches'
  const NOUNS = 'farmer|girl|dog'

  it('scores each sentence holding both patterns like a direct forward (mean over query tokens of Σ p to key tokens)', async () => {
    const context = await testContext()
    const result = await corpus(context, { model: TOY, corpus: { name: 't.txt', text: TOY_TEXT.join('\n') } })
    const candidates = pairCandidates(result, VERBS, NOUNS)
    // the third sentence has a verb but none of the nouns
    expect(candidates.map((c) => c.index)).toEqual([0, 1, 3])
    const found = await corpusPairs(context, { model: TOY, corpus: { name: 't.txt', sha256: result.corpus.sha256 }, sentences: candidates, layer: 1, head: 2, from: VERBS, to: NOUNS })
    const loaded = await context.getModel(TOY)
    const tokenizer = loaded.tokenizer as Tokenizer
    const expected = candidates.map(({ index, text }) => {
      const encoding = tokenizer.encode(text)
      const T = encoding.inputIds.length
      const probs = (loaded.model as DebertaModel).forward({ inputIds: [encoding.inputIds] }, { components: true }).components![1].probs.data
      const qs = encoding.tokens.flatMap((t, i) => (/^(sees|hides|watches)$/.test(t) ? [i] : []))
      const ks = encoding.tokens.flatMap((t, j) => (/^(farmer|girl|dog)$/.test(t) ? [j] : []))
      let total = 0
      for (const i of qs) for (const j of ks) total += probs[2 * T * T + i * T + j]
      return { index, score: total / qs.length, queries: qs.length }
    })
    expected.sort((a, b) => b.score - a.score)
    expect(found.hits.map((h) => h.index)).toEqual(expected.map((e) => e.index))
    found.hits.forEach((hit, k) => {
      expect(hit.score).toBeCloseTo(expected[k].score, 12)
      expect(hit.queries).toBe(expected[k].queries)
      expect(hit.best.p).toBeLessThanOrEqual(hit.score * hit.queries + 1e-12)
      expect(VERBS.split('|')).toContain(hit.best.query)
      expect(NOUNS.split('|')).toContain(hit.best.key)
    })
    await expect(corpusPairs(context, { model: TOY, corpus: { name: 't', sha256: result.corpus.sha256 }, sentences: candidates, layer: 2, head: 0, from: VERBS, to: NOUNS })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    await expect(corpusPairs(context, { model: TOY, corpus: { name: 't', sha256: result.corpus.sha256 }, sentences: candidates, layer: 0, head: 0, from: '(', to: NOUNS })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
  })
})

describe('corpus checkpoint bytes', () => {
  it('round-trips float64 sums exactly', () => {
    const state = { fingerprint: 'f', done: 2, terms: ['c2c'], termSums: Float64Array.of(0.1 + 0.2, 1 / 3), pairs: [Float64Array.of(1e12 + 7, 0.25, 3)], pruned: [false], sentenceTokens: [['[CLS]']] } as unknown as CorpusState
    const back = decodeCheckpoint(encodeCheckpoint(state))
    expect(back.termSums).toEqual(state.termSums)
    expect(back.pairs[0]).toEqual(state.pairs[0])
    expect(back.sentenceTokens).toEqual([['[CLS]']])
  })
})

describe('corpus file', () => {
  const reason = (text: string): unknown => {
    try {
      corpusLines(text)
    } catch (error) {
      return { code: (error as LabError).code, reason: (error as LabError).details?.reason }
    }
    return 'accepted'
  }

  it('reads non-blank lines, trimmed, with any line ending', () => {
    expect(corpusLines(TEXT)).toEqual({ lines: SENTENCES, blankLines: 1, bytes: new TextEncoder().encode(TEXT).length })
  })

  it('refuses an empty, a binary, a too large and a too long corpus with typed errors', () => {
    expect(reason('')).toEqual({ code: 'INPUT_INVALID', reason: 'empty' })
    expect(reason('\n  \n\t\n')).toEqual({ code: 'INPUT_INVALID', reason: 'empty' })
    expect(reason('PK\u0003\u0004\u0000\u0000binary')).toEqual({ code: 'INPUT_INVALID', reason: 'binary' })
    expect(reason('caf\uFFFD au lait')).toEqual({ code: 'INPUT_INVALID', reason: 'binary' })
    expect(reason('a'.repeat(MAX_CORPUS_BYTES + 1))).toEqual({ code: 'INPUT_INVALID', reason: 'too-large' })
    // the byte limit counts UTF-8 bytes, not characters
    expect(reason('é'.repeat(MAX_CORPUS_BYTES / 2 + 1))).toEqual({ code: 'INPUT_INVALID', reason: 'too-large' })
    expect(reason('a\n'.repeat(MAX_CORPUS_LINES + 1))).toEqual({ code: 'INPUT_INVALID', reason: 'too-many-lines' })
    expect(reason('a\n'.repeat(MAX_CORPUS_LINES))).toBe('accepted')
  })

  it('the job refuses a bad corpus before loading the model', async () => {
    const context = await testContext(() => {
      throw new Error('the model must not be loaded')
    })
    await expect(corpus(context, { model: TINY_V3, corpus: { name: 'x.bin', text: '\u0000\u0001' } })).rejects.toMatchObject({ code: 'INPUT_INVALID', details: { reason: 'binary' } })
  })
})

describe('corpus search', () => {
  // 3 sentences, 1 layer × 2 heads, terms c2c and c2p
  const result = {
    layers: 1,
    heads: 2,
    terms: ['c2c', 'c2p'] as AttentionTerm[],
    sentences: {
      text: ['the dog runs', 'a cat sleeps', 'the dog sleeps'],
      tokens: [
        ['[CLS]', '▁the', '▁dog', '▁runs', '[SEP]'],
        ['[CLS]', '▁a', '▁cat', '▁sleeps', '[SEP]'],
        ['[CLS]', '▁the', '▁dog', '▁sleeps', '[SEP]'],
      ],
      entropy: { rows: 3, cols: 2, data: Float32Array.of(1, 0.5, 2, 0.25, 3, 0.75) },
      distance: { rows: 3, cols: 2, data: Float32Array.of(0, 9, 0, 7, 0, 8) },
      shares: { rows: 3, cols: 4, data: Float32Array.of(0.9, 0.1, 0.5, 0.5, 0.8, 0.2, 0.3, 0.7, 0.7, 0.3, 0.4, 0.6) },
    },
  }

  it('sorts one head by its entropy, distance or a term share', () => {
    const base = { layer: 0, head: 1, pattern: '', limit: 10 }
    expect(searchCorpus(result, { ...base, sortBy: 'entropy', descending: true }).hits.map((h) => h.index)).toEqual([2, 0, 1])
    expect(searchCorpus(result, { ...base, sortBy: 'distance', descending: false }).hits.map((h) => [h.index, h.value])).toEqual([[1, 7], [2, 8], [0, 9]])
    expect(searchCorpus(result, { ...base, sortBy: 'c2p', descending: true }).hits.map((h) => h.index)).toEqual([1, 2, 0])
    expect(searchCorpus(result, { ...base, head: 0, sortBy: 'c2c', descending: true, limit: 1 })).toMatchObject({ matching: 3, hits: [{ index: 0, value: expect.closeTo(0.9, 6) }] })
  })

  it('keeps the sentences with a token matching the pattern (whole token, without the word-start mark)', () => {
    const base = { layer: 0, head: 0, sortBy: 'entropy' as const, descending: false, limit: 10 }
    expect(searchCorpus(result, { ...base, pattern: 'dog' }).hits.map((h) => [h.index, h.matched])).toEqual([[0, ['▁dog']], [2, ['▁dog']]])
    expect(searchCorpus(result, { ...base, pattern: 'sleep.*|cat' }).hits.map((h) => h.index)).toEqual([1, 2])
    expect(searchCorpus(result, { ...base, pattern: 'do' }).matching).toBe(0)
    expect(() => tokenPattern('(')).toThrow(LabError)
    expect(() => searchCorpus(result, { ...base, pattern: '', layer: 1 })).toThrow(/does not exist/)
  })
})
