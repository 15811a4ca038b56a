// The shipped toy model (resources/toy-deberta, issue "Experiments" item 4): it loads through the app's own
// checkpoint and tokenizer path, its files agree with the recipe in src/core/train/toy.ts, and its probe
// accuracy on freshly drawn position-sensitive probes is asserted — far above chance for every slot.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/core/backend'
import { openSafetensors } from '../../src/core/checkpoint'
import { loadPretrained } from '../../src/core/load'
import type { DebertaModel } from '../../src/core/model'
import { loadTokenizer, type Tokenizer } from '../../src/core/tokenizer'
import { PROBE_SLOTS, probeBatch, probeChance, Rng, VOCAB, WORD_CLASSES } from '../../src/core/train/data'
import { scoreProbesWithCore, TOY_MODEL_CONFIG, TOY_MODEL_DIR, TOY_TRAINING, wordLevelTokenizerJson } from '../../src/core/train/toy'

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
    expect(c.vocabSize).toBe(VOCAB.tokens.length)
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
    const probes = probeBatch(new Rng(TOY_TRAINING.probeSeed + 1000), 256, TOY_TRAINING.words)
    const scores = scoreProbesWithCore(model, probes, { emd: true })
    for (const head of [scores.plain, scores.emd!]) {
      expect(head.accuracy).toBeGreaterThan(0.9)
      for (const slot of PROBE_SLOTS) expect(head.bySlot?.[slot] ?? 0, slot).toBeGreaterThan(Math.max(0.8, 4 * probeChance(slot)))
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
    expect(WORD_CLASSES.animate).toContain(subject)
    expect(WORD_CLASSES.thing).toContain(object)
    expect(top('the girl hides the box [MASK] the table')).toEqual(['behind'])
  })
})
