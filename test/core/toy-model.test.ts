// The shipped toy model (resources/toy-deberta, issue "Experiments" item 4): it loads through the app's own
// checkpoint and tokenizer path, its files agree with the recipe in src/core/train/toy.ts, and its probe
// accuracy on freshly drawn position-sensitive probes is asserted — far above chance for every slot.
// It also makes the Decoding workspace's default preset show the EMD's point (issue 13 item 7): two slots with
// the same words within ±4 tokens whose class only their absolute position decides.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/core/backend'
import { openSafetensors } from '../../src/core/checkpoint'
import { loadPretrained } from '../../src/core/load'
import type { DebertaModel } from '../../src/core/model'
import { loadTokenizer, type Tokenizer } from '../../src/core/tokenizer'
import { PROBE_SLOTS, Rng } from '../../src/core/train/data'
import { MERGED_BUCKET_FROM, scoreKeyProbesWithCore, scoreProbesWithCore, TOY_MODEL_CONFIG, TOY_MODEL_DIR, TOY_TRAINING, wordLevelTokenizerJson } from '../../src/core/train/toy'
import { keyClassAt, toyGrammarProbes, toyKeyProbes, toyProbeChance, TOY_VOCAB, TOY_WORD_CLASSES } from '../../src/core/train/toy-language'
import { makeLogBucketPosition } from '../../src/core/relative-position'
import { TOY_EMD_PRESET_TEXT } from '../../src/common/toy-texts'

const DIR = path.resolve(__dirname, '../../resources', TOY_MODEL_DIR)

describe('shipped toy model', () => {
  let model: DebertaModel
  let tokenizer: Tokenizer
  beforeAll(async () => {
    await initBackend('wasm')
    model = await loadPretrained(DIR)
    tokenizer = await loadTokenizer(DIR)
  })
  afterAll(() => model?.dispose())

  it('is the recipe’s architecture with the generated vocabulary', () => {
    const c = model.config
    expect(c.modelType).toBe('deberta-v2')
    expect(c.numHiddenLayers).toBe(TOY_MODEL_CONFIG.numLayers)
    expect(c.hiddenSize).toBe(TOY_MODEL_CONFIG.hiddenSize)
    expect(c.vocabSize).toBe(TOY_VOCAB.tokens.length)
    // wider vocabulary and position table than the embedding, as in real models
    expect(TOY_VOCAB.words.length).toBeGreaterThan(2 * c.hiddenSize)
    expect(c.maxPositionEmbeddings).toBeGreaterThan(c.hiddenSize)
    expect(model.hasMlmHead).toBe(true)
    expect(tokenizer.kind).toBe('tokenizer-json')
    // the shipped tokenizer.json is exactly what the recipe writes
    expect(JSON.parse(fs.readFileSync(path.join(DIR, 'tokenizer.json'), 'utf8'))).toEqual(wordLevelTokenizerJson())
    const weights = openSafetensors(path.join(DIR, 'model.safetensors'))
    try {
      const names = weights.entries().map((e) => e.name)
      expect(names).toContain('deberta.embeddings.word_embeddings.weight')
      expect(names).toContain('lm_predictions.lm_head.bias')
      expect(weights.entries().every((e) => e.dtype === 'F32')).toBe(true)
    } finally {
      weights.close()
    }
  })

  it('tokenizes the generated language word by word, other words as [UNK]', () => {
    const enc = tokenizer.encode('The old farmer [MASK] the red ball near the river')
    expect(enc.tokens).toEqual(['[CLS]', 'the', 'old', 'farmer', '[MASK]', 'the', 'red', 'ball', 'near', 'the', 'river', '[SEP]'])
    expect(tokenizer.encode('the zebra sees').tokens).toEqual(['[CLS]', 'the', '[UNK]', 'sees', '[SEP]'])
  })

  it('answers the position-sensitive probes far above chance, with the plain head and the EMD', () => {
    // probes drawn with another seed than the README's, so the assertion is not tuned to one sample
    const probes = toyGrammarProbes(new Rng(TOY_TRAINING.probeSeed + 1000), 256)
    const scores = scoreProbesWithCore(model, probes, { emd: true })
    for (const head of [scores.plain, scores.emd!]) {
      expect(head.accuracy).toBeGreaterThan(0.9)
      for (const slot of PROBE_SLOTS) expect(head.bySlot?.[slot] ?? 0, slot).toBeGreaterThan(Math.max(0.8, 4 * toyProbeChance(slot)))
    }
  })

  it('fills the paper’s “same context, different role” slots with the right word classes', () => {
    const top = (text: string): string[] => {
      const enc = tokenizer.encode(text)
      const out = model.forward({ inputIds: [enc.inputIds] }, { mlm: { emd: true } })
      const V = model.config.vocabSize
      const logits = out.mlm!.emdLogits!.data
      const masks = out.mlm!.positions.length
      return Array.from({ length: masks }, (_, k) => {
        let best = 0
        for (let v = 1; v < V; v++) if (logits[k * V + v] > logits[k * V + best]) best = v
        return tokenizer.idToToken(best) ?? ''
      })
    }
    const [subject, object] = top('the small [MASK] sees the small [MASK] near the house')
    expect(TOY_WORD_CLASSES.animate).toContain(subject)
    expect(TOY_WORD_CLASSES.thing).toContain(object)
    expect(top('the girl hides the box [MASK] the table')).toEqual(['behind'])
  })

  const topTokens = (text: string): { plain: string[]; emd: string[]; positions: number[] } => {
    const enc = tokenizer.encode(text)
    const out = model.forward({ inputIds: [enc.inputIds] }, { mlm: { emd: true } })
    const V = model.config.vocabSize
    const best = (logits: ArrayLike<number>, k: number): string => {
      let top = 0
      for (let v = 1; v < V; v++) if (logits[k * V + v] > logits[k * V + top]) top = v
      return tokenizer.idToToken(top) ?? ''
    }
    const masks = out.mlm!.positions
    return { plain: masks.map((_, k) => best(out.mlm!.plainLogits!.data, k)), emd: masks.map((_, k) => best(out.mlm!.emdLogits!.data, k)), positions: masks.map(([, t]) => t) }
  }

  /** Probability mass on the class's nouns at each [MASK], plain head and EMD. */
  const classMass = (text: string, cls: 'animate' | 'thing'): { plain: number[]; emd: number[] } => {
    const out = model.forward({ inputIds: [tokenizer.encode(text).inputIds] }, { mlm: { emd: true } })
    const V = model.config.vocabSize
    const ids = TOY_VOCAB.classes[cls]
    const mass = (logits: ArrayLike<number>, k: number): number => {
      const row = Array.from({ length: V }, (_, v) => logits[k * V + v])
      const max = Math.max(...row)
      const z = row.reduce((sum, x) => sum + Math.exp(x - max), 0)
      return ids.reduce((sum, v) => sum + Math.exp(row[v] - max), 0) / z
    }
    const masks = out.mlm!.positions
    return { plain: masks.map((_, k) => mass(out.mlm!.plainLogits!.data, k)), emd: masks.map((_, k) => mass(out.mlm!.emdLogits!.data, k)) }
  }

  it('the default Decoding preset: two slots only absolute position tells apart, the EMD fills them right, the plain head cannot', () => {
    const enc = tokenizer.encode(TOY_EMD_PRESET_TEXT)
    expect(enc.inputIds).not.toContain(tokenizer.special.unk)
    const [a, b] = enc.inputIds.flatMap((id, t) => (id === tokenizer.special.mask ? [t] : []))
    // the construction: the same words within ±4 tokens (the exact relative buckets) …
    const window = (t: number): string[] => enc.tokens.slice(t - 4, t + 5)
    expect(window(a)).toEqual(window(b))
    const c = model.config
    const bucket = (d: number): number => makeLogBucketPosition(d, c.positionBuckets, c.maxRelativePositions)
    for (let d = 1; d <= 4; d++) expect(bucket(d)).toBe(d)
    expect(bucket(5)).toBe(bucket(10)) // beyond ±4 distances share buckets
    // … both far from [CLS] in one merged bucket, and from [SEP] in one bucket too …
    expect(a).toBeGreaterThanOrEqual(MERGED_BUCKET_FROM)
    expect(bucket(a)).toBe(bucket(b))
    expect(bucket(63)).toBe(bucket(MERGED_BUCKET_FROM))
    expect(bucket(MERGED_BUCKET_FROM - 1)).not.toBe(bucket(MERGED_BUCKET_FROM))
    const sep = enc.inputIds.length - 1
    expect(bucket(sep - a)).toBe(bucket(sep - b))
    // … one on an even, one on an odd token: the first is an animate noun, the second a thing
    expect([keyClassAt(a), keyClassAt(b)]).toEqual(['animate', 'thing'])

    const top = topTokens(TOY_EMD_PRESET_TEXT)
    expect(top.positions).toEqual([a, b])
    expect(TOY_WORD_CLASSES.animate).toContain(top.emd[0])
    expect(TOY_WORD_CLASSES.thing).toContain(top.emd[1])
    // the EMD is sure of each slot's class; the plain head, seeing the same relative picture, is not
    const animateMass = classMass(TOY_EMD_PRESET_TEXT, 'animate')
    expect(animateMass.emd[0]).toBeGreaterThan(0.8)
    expect(animateMass.emd[1]).toBeLessThan(0.2)
    for (const mass of animateMass.plain) {
      expect(mass).toBeGreaterThan(0.25)
      expect(mass).toBeLessThan(0.75)
    }
    expect(Math.abs(animateMass.plain[0] - animateMass.plain[1])).toBeLessThan(0.25)
    // and here it even ranks the same word first at both slots
    expect(top.plain[0]).toBe(top.plain[1])
  })

  it('on many KEY probes the EMD decides by absolute position and the plain head cannot', () => {
    const scores = scoreKeyProbesWithCore(model, toyKeyProbes(new Rng(TOY_TRAINING.probeSeed + 1000), 256))
    expect(scores.keyCount).toBe(512)
    expect(scores.pairCount).toBeGreaterThan(80)
    // the EMD: right for nearly every key and pair
    expect(scores.emd).toBeGreaterThan(0.95)
    expect(scores.emdPairs).toBeGreaterThan(0.9)
    expect(scores.emdMass).toBeGreaterThan(0.8)
    // the plain head: near chance between the two classes (50 %), both keys of a pair right about a quarter of the time
    expect(scores.plain).toBeLessThan(0.7)
    expect(scores.plainPairs).toBeLessThan(0.5)
    expect(scores.plainMass).toBeLessThan(0.65)
  })
})
