// The toy model's own language (src/core/train/toy-language.ts): a superset of the experiments' words, long
// sentences whose companion KEY nouns follow the parity of their absolute position, and batches that hold them.
import { describe, expect, it } from 'vitest'
import { CLS_ID, IGNORE_LABEL, MASK_ID, Rng, SEP_ID, SPECIAL_TOKENS, VOCAB, WORD_CLASSES } from '../../src/core/train/data'
import { makeLogBucketPosition } from '../../src/core/relative-position'
import { TOY_MODEL_CONFIG } from '../../src/core/train/toy'
import { keyClassAt, LONG_WORDS, longSentence, TOY_VOCAB, TOY_VOCAB_SIZE, toyKeyProbes, toyMlmBatch, toyTokenId } from '../../src/core/train/toy-language'

describe('toy language', () => {
  it('keeps the experiments’ words in their classes and is wider than the toy model', () => {
    expect(TOY_VOCAB.tokens.slice(0, SPECIAL_TOKENS.length)).toEqual([...SPECIAL_TOKENS])
    for (const [cls, words] of Object.entries(WORD_CLASSES)) {
      for (const w of words) expect(TOY_VOCAB.classes[cls as keyof typeof WORD_CLASSES].map((id) => TOY_VOCAB.tokens[id])).toContain(w)
    }
    expect(new Set(TOY_VOCAB.tokens).size).toBe(TOY_VOCAB_SIZE)
    expect(TOY_VOCAB_SIZE).toBeGreaterThan(VOCAB.tokens.length)
    expect(TOY_VOCAB_SIZE).toBeGreaterThan(3 * TOY_MODEL_CONFIG.hiddenSize)
    expect(() => toyTokenId('zebra')).toThrow(/not a toy-language word/)
  })

  it('gives every companion KEY the class of its absolute position’s parity, far beyond the exact buckets', () => {
    const rng = new Rng(3)
    const bucket = (d: number): number => makeLogBucketPosition(d, TOY_MODEL_CONFIG.positionBuckets, TOY_MODEL_CONFIG.maxRelativePositions)
    let keys = 0
    for (let n = 0; n < 300; n++) {
      const sentence = longSentence(rng, LONG_WORDS.minWords + rng.int(LONG_WORDS.maxWords - LONG_WORDS.minWords + 1))
      expect(sentence.ids.length).toBeLessThanOrEqual(LONG_WORDS.maxWords)
      expect(sentence.keys.length).toBeLessThanOrEqual(2)
      for (const k of sentence.keys) {
        keys++
        const position = k + 1
        // with Det Adj^0..2 KEY
        expect([2, 3, 4].some((back) => TOY_VOCAB.tokens[sentence.ids[k - back]] === 'with')).toBe(true)
        expect(TOY_VOCAB.classes[keyClassAt(position)]).toContain(sentence.ids[k])
        // far beyond ±4 from [CLS]: its distance shares a log bucket with a distance of the other parity
        expect(position).toBeGreaterThanOrEqual(11)
        expect(bucket(position) === bucket(position - 1) || bucket(position) === bucket(position + 1)).toBe(true)
      }
      if (sentence.keys.length === 2) expect(sentence.keys[1] - sentence.keys[0]).toBeGreaterThan(4)
    }
    expect(keys).toBeGreaterThan(300)
    expect([keyClassAt(32), keyClassAt(45)]).toEqual(['animate', 'thing'])
  })

  it('writes short and long masked-LM batches (keys always selected) and KEY probes, deterministically', () => {
    const long = toyMlmBatch(new Rng(5), 8, 'long')
    expect(long.length).toBe(LONG_WORDS.maxWords + 2)
    expect(toyMlmBatch(new Rng(5), 8, 'long')).toEqual(long)
    for (let b = 0; b < 8; b++) {
      const row = Array.from(long.inputIds.subarray(b * long.length, (b + 1) * long.length))
      expect(row[0]).toBe(CLS_ID)
      expect(row).toContain(SEP_ID)
    }
    expect(toyMlmBatch(new Rng(5), 4, 'short').length).toBe(16)
    const { batch, keyPositions } = toyKeyProbes(new Rng(9), 16)
    keyPositions.forEach(([a, c], b) => {
      for (const t of [a, c]) {
        const at = b * batch.length + t
        expect(batch.inputIds[at]).toBe(MASK_ID)
        expect(batch.labels[at]).not.toBe(IGNORE_LABEL)
        expect(batch.accept!.get(at)).toBe(TOY_VOCAB.classes[keyClassAt(t)])
      }
    })
  })
})
