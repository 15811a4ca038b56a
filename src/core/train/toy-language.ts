// The shipped toy model's own language: the grammar of ./data.ts over a larger vocabulary, plus long sentences
// with a rule that only absolute position can decide. (The paper-ablation experiments keep ./data.ts's
// language; nothing here changes it.)
//
// 1. Vocabulary: the 52 words of ./data.ts (same classes, same verb → preposition table), 16 more adjectives,
//    animate nouns and things each, 3 more adverbs, and the connectives "and", "with": 100 words. With 64
//    positions too it is wider than the model's embedding (hidden 32), as in every real model, so BERT's sum
//    word + position cannot keep the two apart (the Problem demo measures this).
// 2. Short sentences: Det Adj* Animate Verb Det Adj* Thing Prep(verb) Det Adj* Thing [Adv] (8–14 words).
// 3. Long sentences (up to 62 words): such clauses (without the adverb) joined by "and"; at most two clauses
//    end in a companion phrase "with Det Adj* KEY". The KEY noun's class is fixed by its absolute position
//    alone: on an even token an animate noun ("with the small dog"), on an odd token a thing ("with the small
//    box"). Keys stand 11+ tokens from [CLS] and from each other, where position_buckets 8 has only log
//    buckets (exact within ±4 tokens, then 5–10, 11–25, 26+), and sentence lengths have either parity: no
//    relative position, nor a chain of two layers' exact ±4 steps, reveals a key's parity. Two companion phrases with the same words within
//    ±4 tokens are told apart by the Enhanced Mask Decoder, which adds the absolute positions, and by nothing
//    else.
//
// Layout as in ./data.ts: [B, T] row-major, [CLS] words… [SEP] [PAD]…, labels −1 where no loss is taken.
import { LabError } from '../../common/errors'
import { CLS_ID, IGNORE_LABEL, MASK_ID, MLM_RULE, SEP_ID, SPECIAL_TOKENS, VERB_PREPOSITION, WORD_CLASSES, Rng, type Batch, type LengthRange, type ProbeSlot, type Sentence } from './data'

export const TOY_WORD_CLASSES = {
  determiner: [...WORD_CLASSES.determiner],
  adjective: [...WORD_CLASSES.adjective, 'big', 'young', 'clever', 'lazy', 'angry', 'gentle', 'brave', 'shy', 'tall', 'tiny', 'wet', 'dry', 'dark', 'green', 'blue', 'little'],
  animate: [...WORD_CLASSES.animate, 'man', 'woman', 'child', 'baby', 'king', 'queen', 'doctor', 'baker', 'sailor', 'rabbit', 'mouse', 'fox', 'wolf', 'sheep', 'goat', 'duck'],
  thing: [...WORD_CLASSES.thing, 'cup', 'chair', 'bag', 'rope', 'stick', 'basket', 'bottle', 'lamp', 'book', 'key', 'coin', 'hat', 'shoe', 'bell', 'wheel', 'plate'],
  verb: [...WORD_CLASSES.verb],
  preposition: [...WORD_CLASSES.preposition],
  adverb: [...WORD_CLASSES.adverb, 'later', 'together', 'carefully'],
  connective: ['and', 'with'],
} as const
export type ToyWordClass = keyof typeof TOY_WORD_CLASSES

/** Word counts of long sentences (the row has two more tokens: [CLS] and [SEP]). */
export const LONG_WORDS: LengthRange = { minWords: 36, maxWords: 62 }
/** Short sentences: the grammar of ./data.ts. */
export const SHORT_WORDS: LengthRange = { minWords: 8, maxWords: 14 }
/** Companion phrases per long sentence, at most. */
const MAX_KEYS = 2
/** Chance that a clause of a long sentence ends in a companion phrase (while fewer than MAX_KEYS). */
const COMPANION_RATE = 0.7
/** Adjectives per noun phrase of a long sentence's clause, at most. */
const LONG_MAX_ADJECTIVES = 2

export interface ToyVocabulary {
  tokens: string[]
  ids: ReadonlyMap<string, number>
  classes: Record<ToyWordClass, number[]>
  /** all word ids (no specials) */
  words: number[]
}

function buildToyVocabulary(): ToyVocabulary {
  const tokens: string[] = [...SPECIAL_TOKENS]
  const classes = {} as Record<ToyWordClass, number[]>
  for (const [cls, words] of Object.entries(TOY_WORD_CLASSES) as Array<[ToyWordClass, readonly string[]]>) {
    classes[cls] = words.map((w) => {
      if (tokens.includes(w)) throw new Error(`toy word "${w}" is listed twice`)
      tokens.push(w)
      return tokens.length - 1
    })
  }
  const ids = new Map(tokens.map((t, i) => [t, i]))
  return { tokens, ids, classes, words: tokens.map((_, i) => i).filter((i) => i >= SPECIAL_TOKENS.length) }
}

export const TOY_VOCAB: ToyVocabulary = buildToyVocabulary()
export const TOY_VOCAB_SIZE = TOY_VOCAB.tokens.length

export function toyTokenId(word: string): number {
  const id = TOY_VOCAB.ids.get(word)
  if (id === undefined) throw new LabError('INPUT_INVALID', `"${word}" is not a toy-language word`)
  return id
}

/** The answer class of a companion phrase's KEY noun at token position `position` (0 = [CLS]): even → animate, odd → thing. */
export const keyClassAt = (position: number): 'animate' | 'thing' => (position % 2 === 0 ? 'animate' : 'thing')

function nounPhrase(rng: Rng, nouns: readonly number[], adjectives: number): number[] {
  const out = [rng.pick(TOY_VOCAB.classes.determiner)]
  for (let a = 0; a < adjectives; a++) out.push(rng.pick(TOY_VOCAB.classes.adjective))
  out.push(rng.pick(nouns))
  return out
}

interface Clause {
  ids: number[]
  /** word indices (within the clause) of the probe slots */
  slots: Record<ProbeSlot, number>
}

function clause(rng: Rng, adj: readonly [number, number, number]): Clause {
  const c = TOY_VOCAB.classes
  const subject = nounPhrase(rng, c.animate, adj[0])
  const verb = rng.pick(c.verb)
  const object = nounPhrase(rng, c.thing, adj[1])
  const prep = toyTokenId(VERB_PREPOSITION[TOY_VOCAB.tokens[verb]])
  const place = nounPhrase(rng, c.thing, adj[2])
  return {
    ids: [...subject, verb, ...object, prep, ...place],
    slots: { subject: subject.length - 1, verb: subject.length, object: subject.length + object.length, preposition: subject.length + 1 + object.length },
  }
}

/** A short sentence of exactly `words` words (SHORT_WORDS), as ./data.ts's generateSentence. */
export function shortSentence(rng: Rng, words: number): Sentence {
  if (!Number.isInteger(words) || words < 8 || words > 8 + 3 * 4 + 1) throw new LabError('INPUT_INVALID', `short sentence length ${words} is outside [8, 21]`)
  let extra = words - 8
  const adverb = extra > 12 || (extra > 0 && rng.uniform() < 0.5)
  if (adverb) extra--
  const adj: [number, number, number] = [0, 0, 0]
  while (extra > 0) {
    const k = rng.int(3)
    if (adj[k] < 4) {
      adj[k]++
      extra--
    }
  }
  const c = clause(rng, adj)
  if (adverb) c.ids.push(rng.pick(TOY_VOCAB.classes.adverb))
  return { ids: c.ids, slots: c.slots }
}

export interface LongSentence {
  ids: number[]
  /** word indices (0-based, without [CLS]) of the KEY nouns of the companion phrases */
  keys: number[]
  /** word indices of each clause's probe slots */
  clauses: Array<Record<ProbeSlot, number>>
}

/** A long sentence of at most `maxWords` words (LONG_WORDS bounds maxWords): clauses joined by "and". */
export function longSentence(rng: Rng, maxWords: number): LongSentence {
  if (maxWords < LONG_WORDS.minWords || maxWords > LONG_WORDS.maxWords) throw new LabError('INPUT_INVALID', `long sentence length ${maxWords} is outside [${LONG_WORDS.minWords}, ${LONG_WORDS.maxWords}]`)
  const c = TOY_VOCAB.classes
  const and = toyTokenId('and')
  const withId = toyTokenId('with')
  const ids: number[] = []
  const keys: number[] = []
  const clauses: Array<Record<ProbeSlot, number>> = []
  // clauses are added while they fit; a clause that does not fit is redrawn (shorter ones are likelier) a few
  // times, then the sentence ends
  for (let misses = 0; misses < 4; ) {
    const adj: [number, number, number] = [rng.int(LONG_MAX_ADJECTIVES + 1), rng.int(LONG_MAX_ADJECTIVES + 1), rng.int(LONG_MAX_ADJECTIVES + 1)]
    const next = clause(rng, adj)
    // companion phrase: with Det Adj^a KEY
    const companion = keys.length < MAX_KEYS && rng.uniform() < COMPANION_RATE ? rng.int(LONG_MAX_ADJECTIVES + 1) : -1
    const joiner = ids.length > 0 ? 1 : 0
    const size = joiner + next.ids.length + (companion >= 0 ? 3 + companion : 0)
    if (ids.length + size > maxWords) {
      misses++
      continue
    }
    if (joiner) ids.push(and)
    const offset = ids.length
    ids.push(...next.ids)
    clauses.push(Object.fromEntries(Object.entries(next.slots).map(([slot, k]) => [slot, offset + k])) as Record<ProbeSlot, number>)
    if (companion >= 0) {
      ids.push(withId, rng.pick(c.determiner))
      for (let a = 0; a < companion; a++) ids.push(rng.pick(c.adjective))
      // the KEY noun; its token position is its word index + 1 ([CLS] is token 0)
      const keyWord = ids.length
      ids.push(rng.pick(c[keyClassAt(keyWord + 1)]))
      keys.push(keyWord)
    }
  }
  return { ids, keys, clauses }
}

function emptyBatch(batchSize: number, length: number): Batch {
  const n = batchSize * length
  return { batchSize, length, inputIds: new Int32Array(n), attentionMask: new Float32Array(n), labels: new Int32Array(n).fill(IGNORE_LABEL) }
}

/** Writes [CLS] ids [SEP] into row b; returns the flat offset of word 0. */
function writeRow(batch: Batch, b: number, ids: readonly number[]): number {
  if (ids.length + 2 > batch.length) throw new LabError('INPUT_INVALID', `${ids.length} words do not fit a row of ${batch.length} tokens`)
  const base = b * batch.length
  const row = [CLS_ID, ...ids, SEP_ID]
  row.forEach((id, t) => {
    batch.inputIds[base + t] = id
    batch.attentionMask[base + t] = 1
  })
  return base + 1
}

/** BERT masking of one word position: 80% [MASK], 10% random word, 10% unchanged; label = the original. */
function maskPosition(batch: Batch, at: number, rng: Rng): void {
  batch.labels[at] = batch.inputIds[at]
  const u = rng.uniform()
  if (u < MLM_RULE.maskShare) batch.inputIds[at] = MASK_ID
  else if (u < MLM_RULE.maskShare + MLM_RULE.randomShare) batch.inputIds[at] = rng.pick(TOY_VOCAB.words)
}

/**
 * Masked-LM batch of short (T = 16) or long (T = 64) toy sentences, BERT masking, ≥ 1 selected per row. The KEY
 * nouns of long sentences are always selected (then masked by the 80-10-10 rule like every selected word): they
 * are rare, and the rule they follow is the one the EMD is there to learn.
 */
export function toyMlmBatch(rng: Rng, batchSize: number, kind: 'short' | 'long'): Batch {
  const range = kind === 'short' ? SHORT_WORDS : LONG_WORDS
  const batch = emptyBatch(batchSize, range.maxWords + 2)
  for (let b = 0; b < batchSize; b++) {
    const words = range.minWords + rng.int(range.maxWords - range.minWords + 1)
    const sentence = kind === 'short' ? { ids: shortSentence(rng, words).ids, keys: [] } : longSentence(rng, words)
    const ids = sentence.ids
    const keys = new Set(sentence.keys)
    const start = writeRow(batch, b, ids)
    let selected = 0
    for (let k = 0; k < ids.length; k++) {
      if (keys.has(k) || rng.uniform() < MLM_RULE.selectRate) {
        maskPosition(batch, start + k, rng)
        selected++
      }
    }
    if (selected === 0) maskPosition(batch, start + rng.int(ids.length), rng)
  }
  return batch
}

/** Answer set of a grammar slot of a clause (as ./data.ts's probeAnswers). */
function slotAnswers(ids: readonly number[], slots: Record<ProbeSlot, number>, slot: ProbeSlot): readonly number[] {
  const c = TOY_VOCAB.classes
  switch (slot) {
    case 'subject':
      return c.animate
    case 'object':
      return c.thing
    case 'verb': {
      const prep = TOY_VOCAB.tokens[ids[slots.preposition]]
      return c.verb.filter((v) => VERB_PREPOSITION[TOY_VOCAB.tokens[v]] === prep)
    }
    case 'preposition':
      return [ids[slots.preposition]]
  }
}

/**
 * Grammar probes on short sentences: one slot per sentence (cycling subject, verb, object, preposition) becomes
 * [MASK]; `accept` holds the slot's answer set (as ./data.ts's probeBatch, over the toy vocabulary).
 */
export function toyGrammarProbes(rng: Rng, batchSize: number, slots: readonly ProbeSlot[] = ['subject', 'verb', 'object', 'preposition']): Batch {
  const batch = emptyBatch(batchSize, SHORT_WORDS.maxWords + 2)
  batch.accept = new Map()
  batch.slotOf = new Map()
  for (let b = 0; b < batchSize; b++) {
    const sentence = shortSentence(rng, SHORT_WORDS.minWords + rng.int(SHORT_WORDS.maxWords - SHORT_WORDS.minWords + 1))
    const start = writeRow(batch, b, sentence.ids)
    const slot = slots[b % slots.length]
    const at = start + sentence.slots[slot]
    batch.labels[at] = batch.inputIds[at]
    batch.inputIds[at] = MASK_ID
    batch.accept.set(at, slotAnswers(sentence.ids, sentence.slots, slot))
    batch.slotOf.set(at, slot)
  }
  return batch
}

/**
 * KEY probes: long sentences with two companion phrases, both KEY nouns replaced by [MASK]; `accept` is the
 * class its absolute position decides. `keyPositions[b]` are the token positions of row b's keys.
 */
export function toyKeyProbes(rng: Rng, batchSize: number): { batch: Batch; keyPositions: Array<[number, number]> } {
  const batch = emptyBatch(batchSize, LONG_WORDS.maxWords + 2)
  batch.accept = new Map()
  const keyPositions: Array<[number, number]> = []
  for (let b = 0; b < batchSize; b++) {
    let sentence: LongSentence
    do sentence = longSentence(rng, LONG_WORDS.minWords + rng.int(LONG_WORDS.maxWords - LONG_WORDS.minWords + 1))
    while (sentence.keys.length < 2)
    const start = writeRow(batch, b, sentence.ids)
    for (const k of sentence.keys) {
      const at = start + k
      batch.labels[at] = batch.inputIds[at]
      batch.inputIds[at] = MASK_ID
      batch.accept.set(at, TOY_VOCAB.classes[keyClassAt(k + 1)])
    }
    keyPositions.push([sentence.keys[0] + 1, sentence.keys[1] + 1])
  }
  return { batch, keyPositions }
}

/** Expected accuracy of a uniform guess among the words for a grammar slot. */
export function toyProbeChance(slot: ProbeSlot): number {
  const c = TOY_VOCAB.classes
  const sizes: Record<ProbeSlot, number> = { subject: c.animate.length, object: c.thing.length, verb: 2, preposition: 1 }
  return sizes[slot] / TOY_VOCAB.words.length
}
