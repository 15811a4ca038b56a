// Config parsing (HF defaults, both pos_att_type forms), presets and validation errors.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  BERT_BASE,
  DEBERTA_V3_BASE,
  DEBERTA_V3_LARGE,
  DEBERTA_V3_SMALL,
  DEBERTA_V3_XSMALL,
  attentionSpan,
  parseHfConfig,
  parseHfConfigText,
  relativeEmbeddingRows,
  scaleFactor,
  scoreScale,
  toHfConfig,
  validateConfig,
  type DebertaConfig,
} from '../../src/core/config'
import { expectLabError, V1_DIR, V3_DIR } from './helpers'

const readJson = (dir: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))

describe('parseHfConfig', () => {
  it('parses the v3 fixture config (list pos_att_type, buckets, max_relative_positions -1 → 128)', () => {
    const c = parseHfConfig(readJson(V3_DIR))
    expect(c).toMatchObject({
      modelType: 'deberta-v2',
      vocabSize: 1008,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      attentionHeadSize: 8,
      intermediateSize: 64,
      hiddenAct: 'gelu',
      maxPositionEmbeddings: 128,
      maxRelativePositions: 128,
      positionBuckets: 16,
      posAttType: ['p2c', 'c2p'],
      shareAttKey: true,
      normRelEmbedding: 'layer_norm',
      positionBiasedInput: false,
      typeVocabSize: 0,
      layerNormEps: 1e-7,
      embeddingSize: 32,
      convKernelSize: 0,
    })
    expect(attentionSpan(c)).toBe(16)
    expect(relativeEmbeddingRows(c)).toBe(32)
  })

  it('parses the v1 fixture config ("c2p|p2c" string, no buckets, span = max_relative_positions)', () => {
    const c = parseHfConfig(readJson(V1_DIR))
    expect(c).toMatchObject({ modelType: 'deberta', posAttType: ['c2p', 'p2c'], positionBuckets: 0, maxRelativePositions: 128, normRelEmbedding: 'none', shareAttKey: false })
    expect(relativeEmbeddingRows(c)).toBe(256)
  })

  it('applies HF defaults where fields are absent', () => {
    const v2 = parseHfConfig({ model_type: 'deberta-v2' })
    expect(v2).toMatchObject({
      vocabSize: 128100,
      hiddenSize: 1536,
      numHiddenLayers: 24,
      numAttentionHeads: 24,
      intermediateSize: 6144,
      maxPositionEmbeddings: 512,
      relativeAttention: false,
      positionBiasedInput: true,
      maxRelativePositions: 512,
      positionBuckets: 0,
      posAttType: [],
      shareAttKey: false,
      normRelEmbedding: 'none',
      typeVocabSize: 0,
      layerNormEps: 1e-7,
    })
    const v1 = parseHfConfig({ model_type: 'deberta' })
    expect(v1).toMatchObject({ vocabSize: 50265, hiddenSize: 768, numHiddenLayers: 12, positionBiasedInput: true, relativeAttention: false })
    const bert = parseHfConfig({ model_type: 'bert' })
    expect(bert).toMatchObject({ modelType: 'bert', vocabSize: 30522, typeVocabSize: 2, layerNormEps: 1e-12, positionBiasedInput: true, relativeAttention: false })
  })

  it('reads embedding_size, conv_kernel_size, hidden_act, norm_rel_ebd "layer_norm|none", "none" pos_att_type, position_buckets -1', () => {
    const c = parseHfConfig({
      model_type: 'deberta-v2',
      hidden_size: 64,
      num_attention_heads: 4,
      embedding_size: 48,
      conv_kernel_size: 3,
      conv_act: 'gelu',
      hidden_act: 'relu',
      norm_rel_ebd: 'layer_norm|none',
      pos_att_type: 'none',
      position_buckets: -1,
      relative_attention: true,
      max_relative_positions: 32,
      type_vocab_size: 2,
      share_att_key: false,
    })
    expect(c).toMatchObject({ embeddingSize: 48, convKernelSize: 3, convAct: 'gelu', hiddenAct: 'relu', normRelEmbedding: 'layer_norm', posAttType: [], positionBuckets: 0, maxRelativePositions: 32, typeVocabSize: 2 })
    expect(attentionSpan(c)).toBe(32)
  })

  it('round-trips through toHfConfig', () => {
    for (const c of [parseHfConfig(readJson(V3_DIR)), parseHfConfig(readJson(V1_DIR)), DEBERTA_V3_BASE, BERT_BASE]) {
      expect(parseHfConfig(toHfConfig(c))).toEqual({ ...c, posAttType: [...c.posAttType] })
    }
  })

  it('rejects unknown model types with CONFIG_UNSUPPORTED', () => {
    const e = expectLabError(() => parseHfConfig({ model_type: 'roberta' }), 'CONFIG_UNSUPPORTED')
    expect(e.message).toContain('roberta')
    expectLabError(() => parseHfConfig({ model_type: 'deberta-v2', hidden_act: 'swiglu' }), 'CONFIG_UNSUPPORTED')
  })

  it('rejects wrong types with CONFIG_INVALID naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model_type: 'deberta-v2', hidden_size: '768' }, 'hidden_size'],
      [{ model_type: 'deberta-v2', num_hidden_layers: 2.5 }, 'num_hidden_layers'],
      [{ model_type: 'deberta-v2', relative_attention: 'yes' }, 'relative_attention'],
      [{ model_type: 'deberta-v2', pos_att_type: ['c2p', 'x2y'] }, 'pos_att_type'],
      [{ model_type: 'deberta-v2', pos_att_type: 3 }, 'pos_att_type'],
      [{ model_type: 'deberta-v2', norm_rel_ebd: 'batch_norm' }, 'norm_rel_ebd'],
      [{ model_type: 'deberta-v2', layer_norm_eps: 'tiny' }, 'layer_norm_eps'],
      [{ model_type: 'deberta-v2', vocab_size: 0 }, 'vocab_size'],
      [{ hidden_size: 12 }, 'model_type'],
    ]
    for (const [json, field] of cases) {
      const e = expectLabError(() => parseHfConfig(json), 'CONFIG_INVALID')
      expect(e.details?.field, JSON.stringify(json)).toBe(field)
      expect(e.message).toContain(field)
    }
    expect(expectLabError(() => parseHfConfig([1, 2]), 'CONFIG_INVALID').message).toContain('object')
    expect(expectLabError(() => parseHfConfigText('{"model_type": "deberta-v2",'), 'CONFIG_INVALID').message).toContain('not valid JSON')
  })
})

describe('validateConfig', () => {
  it('says "hidden size 770 is not a multiple of 12 heads" naming the field', () => {
    const e = expectLabError(() => parseHfConfig({ model_type: 'deberta-v2', hidden_size: 770, num_attention_heads: 12 }), 'CONFIG_INVALID')
    expect(e.message).toBe('hidden size 770 is not a multiple of 12 heads')
    expect(e.details?.field).toBe('hidden_size')
  })

  it('rejects log buckets that the formula cannot use, even conv kernels, bad conv groups and pad ids', () => {
    const base = { ...DEBERTA_V3_BASE }
    expect(expectLabError(() => validateConfig({ ...base, maxRelativePositions: 100, positionBuckets: 256 }), 'CONFIG_INVALID').details?.field).toBe('max_relative_positions')
    expect(expectLabError(() => validateConfig({ ...base, positionBuckets: 1 }), 'CONFIG_INVALID').details?.field).toBe('position_buckets')
    expectLabError(() => validateConfig({ ...base, convKernelSize: 4 }), 'CONFIG_UNSUPPORTED')
    expect(expectLabError(() => validateConfig({ ...base, convKernelSize: 3, convGroups: 5 }), 'CONFIG_INVALID').details?.field).toBe('conv_groups')
    expect(expectLabError(() => validateConfig({ ...base, padTokenId: 200000 }), 'CONFIG_INVALID').details?.field).toBe('pad_token_id')
    expect(expectLabError(() => validateConfig({ ...base, layerNormEps: 0 }), 'CONFIG_INVALID').details?.field).toBe('layer_norm_eps')
  })
})

describe('presets', () => {
  const shape = (c: DebertaConfig) => [c.numHiddenLayers, c.hiddenSize, c.numAttentionHeads, c.intermediateSize]
  it('have the DeBERTa-v3 dimensions', () => {
    expect(shape(DEBERTA_V3_XSMALL)).toEqual([12, 384, 6, 1536])
    expect(shape(DEBERTA_V3_SMALL)).toEqual([6, 768, 12, 3072])
    expect(shape(DEBERTA_V3_BASE)).toEqual([12, 768, 12, 3072])
    expect(shape(DEBERTA_V3_LARGE)).toEqual([24, 1024, 16, 4096])
    for (const c of [DEBERTA_V3_XSMALL, DEBERTA_V3_SMALL, DEBERTA_V3_BASE, DEBERTA_V3_LARGE]) {
      expect(c).toMatchObject({
        vocabSize: 128100,
        positionBuckets: 256,
        maxPositionEmbeddings: 512,
        relativeAttention: true,
        shareAttKey: true,
        posAttType: ['p2c', 'c2p'],
        normRelEmbedding: 'layer_norm',
        positionBiasedInput: false,
      })
      expect(() => validateConfig(c)).not.toThrow()
    }
  })

  it('scale = 1/sqrt(D·(1 + #terms)); the p2p toggle adds a term', () => {
    expect(scaleFactor(DEBERTA_V3_BASE)).toBe(3)
    expect(scaleFactor(DEBERTA_V3_BASE, true)).toBe(4)
    expect(scoreScale(DEBERTA_V3_BASE)).toBeCloseTo(1 / Math.sqrt(64 * 3), 12)
    expect(scaleFactor(BERT_BASE)).toBe(1)
  })
})
