// Generated training data for the lab's ablations: no downloads, seeded and deterministic.
//
// 1. A small synthetic language from a grammar, with its own word-level vocabulary:
//      S  → NP_subj Verb NP_obj Prep(verb) NP_obj [Adv]
//      NP_subj → Det Adj* AnimateNoun        NP_obj → Det Adj* ThingNoun
//    Two structural facts make masked slots answerable only from their position:
//      - subjects (before the verb) are animate nouns, objects (after it) are things;
//      - every verb licenses exactly one preposition (VERB_PREPOSITION), two verbs per preposition.
// 2. Masked-LM batches: 15% of the word positions are selected; of those 80% become [MASK], 10% a random
//    word, 10% stay (BERT's rule). At least one position per sequence is selected.
// 3. Position-sensitive probes (the notebook's slots): one slot per sentence is masked and the prediction is
//    right when it lies in the slot's answer set — subject → any animate noun, object → any thing noun,
//    verb → the verbs that license the sentence's preposition, preposition → the verb's preposition.
// 4. A length-generalisation split: sentences are drawn with a token-count range (train ≤ N, test > N).
// 5. A relative-offset task: random word sequences; each masked position p must be filled with the token at
//    p − offset (the answer is "the token k positions away", independent of absolute position).
//
// Layout: every batch is [B, T] row-major: [CLS] words… [SEP] [PAD]…; labels are −1 where no loss is taken.
import { LabError } from '../../common/errors'
import { mulberry32 } from '../synthetic'

export const PAD_ID = 0
export const CLS_ID = 1
export const SEP_ID = 2
export const UNK_ID = 3
export const MASK_ID = 4
export const SPECIAL_TOKENS = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'] as const
/** No label at this position (the loss and the accuracy skip it). */
export const IGNORE_LABEL = -1

/** BERT's masking rule (Devlin et al. 2019, §3.1). */
export const MLM_RULE = { selectRate: 0.15, maskShare: 0.8, randomShare: 0.1 } as const

export const WORD_CLASSES = {
  determiner: ['the', 'a', 'every', 'some', 'this', 'that'],
  adjective: ['old', 'red', 'small', 'happy', 'quiet', 'heavy', 'bright', 'tired'],
  animate: ['dog', 'cat', 'girl', 'boy', 'bird', 'farmer', 'teacher', 'horse'],
  thing: ['ball', 'table', 'box', 'river', 'house', 'stone', 'garden', 'door'],
  verb: ['pushes', 'throws', 'carries', 'drags', 'hides', 'leaves', 'sees', 'watches'],
  preposition: ['toward', 'under', 'behind', 'near'],
  adverb: ['quickly', 'slowly', 'often', 'again', 'quietly'],
} as const
export type WordClass = keyof typeof WORD_CLASSES

/** verb → its preposition (two verbs per preposition). */
export const VERB_PREPOSITION: Readonly<Record<string, string>> = {
  pushes: 'toward',
  throws: 'toward',
  carries: 'under',
  drags: 'under',
  hides: 'behind',
  leaves: 'behind',
  sees: 'near',
  watches: 'near',
}

export const PROBE_SLOTS = ['subject', 'verb', 'object', 'preposition'] as const
export type ProbeSlot = (typeof PROBE_SLOTS)[number]

export interface Vocabulary {
  tokens: string[]
  ids: ReadonlyMap<string, number>
  /** ids of each word class */
  classes: Record<WordClass, number[]>
  /** all word ids (no specials) */
  words: number[]
}

function buildVocabulary(): Vocabulary {
  const tokens: string[] = [...SPECIAL_TOKENS]
  const classes = {} as Record<WordClass, number[]>
  for (const [cls, words] of Object.entries(WORD_CLASSES) as Array<[WordClass, readonly string[]]>) {
    classes[cls] = words.map((w) => {
      tokens.push(w)
      return tokens.length - 1
    })
  }
  const ids = new Map(tokens.map((t, i) => [t, i]))
  return { tokens, ids, classes, words: tokens.map((_, i) => i).filter((i) => i >= SPECIAL_TOKENS.length) }
}

export const VOCAB: Vocabulary = buildVocabulary()
export const VOCAB_SIZE = VOCAB.tokens.length

export function tokenId(word: string): number {
  return VOCAB.ids.get(word) ?? UNK_ID
}

/** Seeded uniform source with helpers (mulberry32). */
export class Rng {
  private readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  uniform(): number {
    return this.next()
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
}

/** One sentence with the positions (word index, 0-based, without [CLS]) of its probe slots. */
export interface Sentence {
  ids: number[]
  slots: Record<ProbeSlot, number>
}

/** Words of an NP: Det Adj^n Noun. */
function nounPhrase(rng: Rng, nouns: readonly number[], adjectives: number): number[] {
  const out = [rng.pick(VOCAB.classes.determiner)]
  for (let a = 0; a < adjectives; a++) out.push(rng.pick(VOCAB.classes.adjective))
  out.push(rng.pick(nouns))
  return out
}

/** Adjectives per noun phrase at most. */
const MAX_ADJECTIVES = 4
/** Word count: (Det Adj^a0 N) V (Det Adj^a1 N) Prep (Det Adj^a2 N) [Adv]. */
const sentenceLength = (adj: [number, number, number], adverb: boolean): number => 8 + adj[0] + adj[1] + adj[2] + (adverb ? 1 : 0)
/** Shortest and longest sentences the grammar makes (words). */
export const SENTENCE_WORDS = {
  min: sentenceLength([0, 0, 0], false),
  max: sentenceLength([MAX_ADJECTIVES, MAX_ADJECTIVES, MAX_ADJECTIVES], true),
} as const

/**
 * One sentence of exactly `words` words (SENTENCE_WORDS.min ≤ words ≤ SENTENCE_WORDS.max): the extra words
 * are spread as adjectives over the three NPs and an optional adverb.
 */
export function generateSentence(rng: Rng, words: number): Sentence {
  if (!Number.isInteger(words) || words < SENTENCE_WORDS.min || words > SENTENCE_WORDS.max) {
    throw new LabError('INPUT_INVALID', `sentence length ${words} is outside [${SENTENCE_WORDS.min}, ${SENTENCE_WORDS.max}] words`)
  }
  let extra = words - SENTENCE_WORDS.min
  // the adverb is forced when the adjectives alone cannot fill the length
  const adverb = extra > 3 * MAX_ADJECTIVES || (extra > 0 && rng.uniform() < 0.5)
  if (adverb) extra--
  const adj: [number, number, number] = [0, 0, 0]
  while (extra > 0) {
    const k = rng.int(3)
    if (adj[k] < MAX_ADJECTIVES) {
      adj[k]++
      extra--
    }
  }
  const subject = nounPhrase(rng, VOCAB.classes.animate, adj[0])
  const verb = rng.pick(VOCAB.classes.verb)
  const object = nounPhrase(rng, VOCAB.classes.thing, adj[1])
  const prep = tokenId(VERB_PREPOSITION[VOCAB.tokens[verb]])
  const place = nounPhrase(rng, VOCAB.classes.thing, adj[2])
  const ids = [...subject, verb, ...object, prep, ...place]
  if (adverb) ids.push(rng.pick(VOCAB.classes.adverb))
  return {
    ids,
    slots: {
      subject: subject.length - 1,
      verb: subject.length,
      object: subject.length + object.length,
      preposition: subject.length + 1 + object.length,
    },
  }
}

/** A [B, T] batch. labels: the id to predict, or IGNORE_LABEL. accept: answer sets of probe positions. */
export interface Batch {
  batchSize: number
  length: number
  /** [B·T] */
  inputIds: Int32Array
  /** [B·T] 1 = token, 0 = padding */
  attentionMask: Float32Array
  /** [B·T] */
  labels: Int32Array
  /** flat position → ids counted as right (probes); positions absent here are scored against labels */
  accept?: Map<number, readonly number[]>
  /** flat position → probe slot (probes) */
  slotOf?: Map<number, ProbeSlot>
}

export interface LengthRange {
  /** words per sentence, inclusive */
  minWords: number
  maxWords: number
}

/** Sequence length T that fits sentences of up to maxWords words ([CLS] … [SEP]). */
export const sequenceLength = (maxWords: number): number => maxWords + 2

function emptyBatch(batchSize: number, length: number): Batch {
  const n = batchSize * length
  return { batchSize, length, inputIds: new Int32Array(n), attentionMask: new Float32Array(n), labels: new Int32Array(n).fill(IGNORE_LABEL) }
}

function checkRange(range: LengthRange): void {
  if (range.minWords < SENTENCE_WORDS.min || range.maxWords > SENTENCE_WORDS.max || range.minWords > range.maxWords) {
    throw new LabError('INPUT_INVALID', `word range [${range.minWords}, ${range.maxWords}] must lie in [${SENTENCE_WORDS.min}, ${SENTENCE_WORDS.max}]`)
  }
}

/** Writes [CLS] ids [SEP] into row b; returns the flat offset of word 0. */
function writeRow(batch: Batch, b: number, ids: readonly number[]): number {
  const base = b * batch.length
  batch.inputIds[base] = CLS_ID
  batch.attentionMask[base] = 1
  ids.forEach((id, k) => {
    batch.inputIds[base + 1 + k] = id
    batch.attentionMask[base + 1 + k] = 1
  })
  batch.inputIds[base + 1 + ids.length] = SEP_ID
  batch.attentionMask[base + 1 + ids.length] = 1
  return base + 1
}

/** BERT masking of one word position: 80% [MASK], 10% random word, 10% unchanged; label = the original. */
function maskPosition(batch: Batch, at: number, rng: Rng): void {
  batch.labels[at] = batch.inputIds[at]
  const u = rng.uniform()
  if (u < MLM_RULE.maskShare) batch.inputIds[at] = MASK_ID
  else if (u < MLM_RULE.maskShare + MLM_RULE.randomShare) batch.inputIds[at] = rng.pick(VOCAB.words)
}

/** Masked-LM batch of grammar sentences; T = sequenceLength(range.maxWords) unless `length` is given. */
export function mlmBatch(rng: Rng, batchSize: number, range: LengthRange, length = sequenceLength(range.maxWords)): Batch {
  checkRange(range)
  if (length < sequenceLength(range.maxWords)) throw new LabError('INPUT_INVALID', `length ${length} cannot hold ${range.maxWords} words`)
  const batch = emptyBatch(batchSize, length)
  for (let b = 0; b < batchSize; b++) {
    const words = range.minWords + rng.int(range.maxWords - range.minWords + 1)
    const sentence = generateSentence(rng, words)
    const start = writeRow(batch, b, sentence.ids)
    let selected = 0
    for (let k = 0; k < words; k++) {
      if (rng.uniform() < MLM_RULE.selectRate) {
        maskPosition(batch, start + k, rng)
        selected++
      }
    }
    if (selected === 0) maskPosition(batch, start + rng.int(words), rng)
  }
  return batch
}

/** Answer set of a probe slot in a sentence. */
export function probeAnswers(sentence: Sentence, slot: ProbeSlot): readonly number[] {
  switch (slot) {
    case 'subject':
      return VOCAB.classes.animate
    case 'object':
      return VOCAB.classes.thing
    case 'verb': {
      const prep = VOCAB.tokens[sentence.ids[sentence.slots.preposition]]
      return VOCAB.classes.verb.filter((v) => VERB_PREPOSITION[VOCAB.tokens[v]] === prep)
    }
    case 'preposition':
      return [sentence.ids[sentence.slots.preposition]]
  }
}

/**
 * Probe batch: one slot per sentence (cycling through `slots`) replaced by [MASK]; labels hold the original
 * word, `accept` the answer set. Chance of a uniform guess over the words: |answers| / |words|.
 */
export function probeBatch(
  rng: Rng,
  batchSize: number,
  range: LengthRange,
  slots: readonly ProbeSlot[] = PROBE_SLOTS,
  length = sequenceLength(range.maxWords),
): Batch {
  checkRange(range)
  const batch = emptyBatch(batchSize, length)
  batch.accept = new Map()
  batch.slotOf = new Map()
  for (let b = 0; b < batchSize; b++) {
    const words = range.minWords + rng.int(range.maxWords - range.minWords + 1)
    const sentence = generateSentence(rng, words)
    const start = writeRow(batch, b, sentence.ids)
    const slot = slots[b % slots.length]
    const at = start + sentence.slots[slot]
    batch.labels[at] = batch.inputIds[at]
    batch.inputIds[at] = MASK_ID
    batch.accept.set(at, probeAnswers(sentence, slot))
    batch.slotOf.set(at, slot)
  }
  return batch
}

/** Expected accuracy of guessing uniformly among the words, per slot. */
export function probeChance(slot: ProbeSlot): number {
  const sizes: Record<ProbeSlot, number> = { subject: VOCAB.classes.animate.length, object: VOCAB.classes.thing.length, verb: 2, preposition: 1 }
  return sizes[slot] / VOCAB.words.length
}

export interface OffsetTask {
  /** the answer at masked position p is the token at p − offset */
  offset: number
  /** sequence length range in tokens, [CLS] and [SEP] included */
  minTokens: number
  maxTokens: number
  /** share of eligible positions masked (default 0.15, at least one per row) */
  maskRate?: number
}

/**
 * Relative-offset batch: random words; masked positions p (with p − offset a word that is not itself masked)
 * become [MASK] and must be filled with the token at p − offset. Chance: 1 / |words|.
 */
export function offsetBatch(rng: Rng, batchSize: number, task: OffsetTask, length = task.maxTokens): Batch {
  const { offset, minTokens, maxTokens } = task
  if (!Number.isInteger(offset) || offset < 1 || minTokens < offset + 3 || maxTokens < minTokens || length < maxTokens) {
    throw new LabError('INPUT_INVALID', `offset task needs 1 ≤ offset, offset + 3 ≤ minTokens ≤ maxTokens ≤ length (got ${JSON.stringify(task)}, length ${length})`)
  }
  const rate = task.maskRate ?? MLM_RULE.selectRate
  const batch = emptyBatch(batchSize, length)
  for (let b = 0; b < batchSize; b++) {
    const tokens = minTokens + rng.int(maxTokens - minTokens + 1)
    const words = Array.from({ length: tokens - 2 }, () => rng.pick(VOCAB.words))
    const start = writeRow(batch, b, words)
    const masked = new Set<number>()
    const eligible = (k: number): boolean => k >= offset && !masked.has(k - offset) && !masked.has(k + offset)
    for (let k = offset; k < words.length; k++) if (eligible(k) && rng.uniform() < rate) masked.add(k)
    if (masked.size === 0) masked.add(offset + rng.int(words.length - offset))
    for (const k of masked) {
      batch.labels[start + k] = words[k - offset]
      batch.inputIds[start + k] = MASK_ID
    }
  }
  return batch
}

/** Decodes a row of a batch (for logs and tests). */
export function decodeRow(batch: Batch, b: number): string {
  const row = batch.inputIds.subarray(b * batch.length, (b + 1) * batch.length)
  return Array.from(row)
    .filter((_, t) => batch.attentionMask[b * batch.length + t] === 1)
    .map((id) => VOCAB.tokens[id])
    .join(' ')
}
