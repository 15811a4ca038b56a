// Generated training data (src/core/train/data.ts): vocabulary, grammar, masking, probes, offset task.
import { describe, expect, it } from 'vitest'
import {
  CLS_ID,
  decodeRow,
  generateSentence,
  IGNORE_LABEL,
  MASK_ID,
  mlmBatch,
  offsetBatch,
  PAD_ID,
  probeBatch,
  probeChance,
  Rng,
  SENTENCE_WORDS,
  SEP_ID,
  tokenId,
  UNK_ID,
  VERB_PREPOSITION,
  VOCAB,
  VOCAB_SIZE,
} from '../../src/core/train/data'

describe('synthetic language', () => {
  it('reserves [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3 [MASK]=4 and maps unknown words to [UNK]', () => {
    expect(VOCAB.tokens.slice(0, 5)).toEqual(['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'])
    expect([PAD_ID, CLS_ID, SEP_ID, UNK_ID, MASK_ID]).toEqual([0, 1, 2, 3, 4])
    expect(tokenId('dog')).toBeGreaterThan(4)
    expect(tokenId('zebra')).toBe(UNK_ID)
    expect(new Set(VOCAB.tokens).size).toBe(VOCAB_SIZE)
  })

  it('sentences follow the grammar: animate subject, verb, thing object, the verb’s preposition', () => {
    const rng = new Rng(3)
    for (let n = 0; n < 200; n++) {
      const words = SENTENCE_WORDS.min + (n % (SENTENCE_WORDS.max - SENTENCE_WORDS.min + 1))
      const s = generateSentence(rng, words)
      expect(s.ids.length).toBe(words)
      expect(VOCAB.classes.determiner).toContain(s.ids[0])
      expect(VOCAB.classes.animate).toContain(s.ids[s.slots.subject])
      expect(VOCAB.classes.verb).toContain(s.ids[s.slots.verb])
      expect(VOCAB.classes.thing).toContain(s.ids[s.slots.object])
      expect(VOCAB.tokens[s.ids[s.slots.preposition]]).toBe(VERB_PREPOSITION[VOCAB.tokens[s.ids[s.slots.verb]]])
    }
  })

  it('is deterministic for a seed and differs across seeds', () => {
    const a = mlmBatch(new Rng(9), 4, { minWords: 9, maxWords: 14 })
    const b = mlmBatch(new Rng(9), 4, { minWords: 9, maxWords: 14 })
    const c = mlmBatch(new Rng(10), 4, { minWords: 9, maxWords: 14 })
    expect(Array.from(a.inputIds)).toEqual(Array.from(b.inputIds))
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels))
    expect(Array.from(a.inputIds)).not.toEqual(Array.from(c.inputIds))
    expect(decodeRow(a, 0)).toMatch(/^\[CLS\] .* \[SEP\]$/)
  })
})

describe('masked-LM batches', () => {
  it('select ~15% of words (80% [MASK], 10% random, 10% kept), never specials or padding', () => {
    const batch = mlmBatch(new Rng(1), 400, { minWords: 9, maxWords: 14 })
    let words = 0
    let selected = 0
    let masked = 0
    let kept = 0
    for (let n = 0; n < batch.labels.length; n++) {
      const isWord = batch.attentionMask[n] === 1 && batch.labels[n] !== IGNORE_LABEL ? true : batch.attentionMask[n] === 1 && ![CLS_ID, SEP_ID].includes(batch.inputIds[n])
      if (batch.attentionMask[n] === 0) expect(batch.labels[n]).toBe(IGNORE_LABEL)
      if (isWord) words++
      if (batch.labels[n] === IGNORE_LABEL) continue
      selected++
      expect(batch.labels[n]).toBeGreaterThan(MASK_ID)
      if (batch.inputIds[n] === MASK_ID) masked++
      if (batch.inputIds[n] === batch.labels[n]) kept++
    }
    expect(selected / words).toBeGreaterThan(0.14)
    expect(selected / words).toBeLessThan(0.2) // ≥ 1 per row raises it a little
    expect(masked / selected).toBeGreaterThan(0.75)
    expect(masked / selected).toBeLessThan(0.85)
    expect(kept / selected).toBeGreaterThan(0.07) // 10% kept + random draws that hit the same word
    expect(kept / selected).toBeLessThan(0.15)
  })

  it('the length split keeps train and test lengths apart', () => {
    const train = mlmBatch(new Rng(2), 64, { minWords: 9, maxWords: 12 })
    const test = mlmBatch(new Rng(2), 64, { minWords: 15, maxWords: 21 })
    const lengths = (b: typeof train): number[] =>
      Array.from({ length: b.batchSize }, (_, r) => b.attentionMask.subarray(r * b.length, (r + 1) * b.length).reduce((a, m) => a + m, 0))
    expect(Math.max(...lengths(train))).toBeLessThanOrEqual(14)
    expect(Math.min(...lengths(test))).toBeGreaterThanOrEqual(17)
    expect(() => mlmBatch(new Rng(2), 1, { minWords: 3, maxWords: 12 })).toThrow(/outside|must lie/)
  })
})

describe('probes and the offset task', () => {
  it('probe batches mask one slot per row with its answer set; chance is below 20%', () => {
    const batch = probeBatch(new Rng(4), 8, { minWords: 9, maxWords: 14 })
    expect(batch.accept!.size).toBe(8)
    expect([...batch.slotOf!.values()].slice(0, 4)).toEqual(['subject', 'verb', 'object', 'preposition'])
    for (const [n, answers] of batch.accept!) {
      expect(batch.inputIds[n]).toBe(MASK_ID)
      expect(answers).toContain(batch.labels[n])
    }
    for (const slot of ['subject', 'verb', 'object', 'preposition'] as const) expect(probeChance(slot)).toBeLessThan(0.2)
  })

  it('offset labels are the token `offset` positions to the left, which is never masked', () => {
    const batch = offsetBatch(new Rng(5), 32, { offset: 3, minTokens: 10, maxTokens: 20 })
    let labelled = 0
    for (let n = 0; n < batch.labels.length; n++) {
      if (batch.labels[n] === IGNORE_LABEL) continue
      labelled++
      expect(batch.inputIds[n]).toBe(MASK_ID)
      expect(batch.inputIds[n - 3]).toBe(batch.labels[n])
    }
    expect(labelled).toBeGreaterThanOrEqual(32)
    expect(() => offsetBatch(new Rng(5), 1, { offset: 0, minTokens: 10, maxTokens: 20 })).toThrow()
  })
})
