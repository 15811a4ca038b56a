// The optimised model (per-head weights, rel-shift, cached per-length tables) against the naive float64
// reference of test/core/reference.ts on configs the fixtures do not cover: share_att_key false, pos_att_type
// subsets, position_biased_input, embedding_size ≠ hidden_size, token types, sequences longer than the
// bucket span and than max_relative_positions (v1 att_span), no buckets, the v2 ConvLayer, other activations,
// attention_head_size ≠ hidden/heads, and the BERT baseline.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBERTA_V1_BASE, bertBaselineConfig, type DebertaConfig } from '../../src/core/config'
import { loadPretrained } from '../../src/core/load'
import { createSyntheticModel, syntheticTensorSource } from '../../src/core/synthetic'
import { referenceForward } from './reference'
import { expectClose, intRows, openGolden, seededIds, TEST_BACKENDS, useBackend, V1_DIR, V3_DIR, validPairs, validRows, SMALL_V3 } from './helpers'
import { openTensorFile } from '../../src/core/checkpoint'

const V3_SMALL: DebertaConfig = SMALL_V3
const V1_SMALL: DebertaConfig = { ...DEBERTA_V1_BASE, ...pick(V3_SMALL), positionBuckets: 0, maxRelativePositions: 8 }

function pick(c: DebertaConfig): Partial<DebertaConfig> {
  const { vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, attentionHeadSize, intermediateSize, embeddingSize, maxPositionEmbeddings } = c
  return { vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, attentionHeadSize, intermediateSize, embeddingSize, maxPositionEmbeddings }
}

interface Case {
  name: string
  config: DebertaConfig
  length: number
  /** lengths of the sequences (padding after) */
  lengths: number[]
  types?: boolean
  emd?: boolean
}

const CASES: Case[] = [
  { name: 'v3: T = 40 > 2·position_buckets (bucket clamp), padding', config: V3_SMALL, length: 40, lengths: [40, 23], emd: true },
  { name: 'v3: share_att_key false (pos_key_proj / pos_query_proj)', config: { ...V3_SMALL, shareAttKey: false }, length: 21, lengths: [21, 9], emd: true },
  { name: 'v3: pos_att_type [c2p] only, separate projections', config: { ...V3_SMALL, shareAttKey: false, posAttType: ['c2p'] }, length: 19, lengths: [19] },
  { name: 'v3: pos_att_type [p2c] only, shared keys', config: { ...V3_SMALL, posAttType: ['p2c'] }, length: 19, lengths: [12, 19] },
  { name: 'v3: relative attention with no relative terms', config: { ...V3_SMALL, posAttType: [] }, length: 11, lengths: [11] },
  { name: 'v2: no buckets, max_relative_positions 6 < T (plain i − j clamped)', config: { ...V3_SMALL, positionBuckets: 0, maxRelativePositions: 6, normRelEmbedding: 'none' }, length: 17, lengths: [17, 5] },
  {
    name: 'v3: position_biased_input + token types',
    config: { ...V3_SMALL, positionBiasedInput: true, typeVocabSize: 2 },
    length: 15,
    lengths: [15, 10],
    types: true,
    emd: true,
  },
  { name: 'v3: embedding_size 24 ≠ hidden_size 32 (embed_proj)', config: { ...V3_SMALL, embeddingSize: 24, positionBiasedInput: true }, length: 13, lengths: [13] },
  { name: 'v2: ConvLayer k = 3, groups 2, gelu', config: { ...V3_SMALL, convKernelSize: 3, convGroups: 2, convAct: 'gelu' }, length: 14, lengths: [14, 8] },
  { name: 'v2: ConvLayer k = 5, tanh', config: { ...V3_SMALL, convKernelSize: 5, convAct: 'tanh' }, length: 9, lengths: [9] },
  { name: 'v3: relu activation, attention_head_size 6 (NH·D ≠ H)', config: { ...V3_SMALL, hiddenAct: 'relu', attentionHeadSize: 6 }, length: 12, lengths: [12] },
  { name: 'v3: gelu_new activation, 1 head, 1 layer', config: { ...V3_SMALL, hiddenAct: 'gelu_new', numAttentionHeads: 1, attentionHeadSize: 32, numHiddenLayers: 1 }, length: 7, lengths: [7], emd: true },
  { name: 'v3: relative_attention false (c2c only, scale still counts pos_att_type)', config: { ...V3_SMALL, relativeAttention: false, positionBiasedInput: true }, length: 10, lengths: [10] },
  { name: 'v3: a single token', config: V3_SMALL, length: 1, lengths: [1], emd: true },
  { name: 'v1: T = 40 > max_relative_positions 8 (att_span), padding', config: V1_SMALL, length: 40, lengths: [40, 17], emd: true },
  { name: 'v1: T < max_relative_positions', config: { ...V1_SMALL, maxRelativePositions: 64 }, length: 20, lengths: [20, 6], emd: true },
  { name: 'v1: pos_att_type [c2p] only', config: { ...V1_SMALL, posAttType: ['c2p'] }, length: 12, lengths: [12] },
  { name: 'v1: pos_att_type [p2c] only', config: { ...V1_SMALL, posAttType: ['p2c'] }, length: 12, lengths: [7, 12] },
  { name: 'BERT baseline: absolute positions, token types, key-only padding mask', config: bertBaselineConfig({ ...V3_SMALL, typeVocabSize: 2 }), length: 16, lengths: [16, 11], types: true },
]

const SEED = 99

/** Runs one case; returns the largest |Δ| per check (1e-5 attentions, 1e-4 the rest). */
function runCase(c: Case): Record<string, number> {
  const worst: Record<string, number> = {}
  const close = (check: string, ...args: Parameters<typeof expectClose>): void => {
    worst[check] = Math.max(worst[check] ?? 0, expectClose(...args))
  }
  const source = syntheticTensorSource(c.config, { seed: SEED })
  const model = createSyntheticModel(c.config, { seed: SEED })
  try {
    const B = c.lengths.length
    const T = c.length
    const ids = seededIds(B, T, c.config.vocabSize, T)
    const mask = c.lengths.map((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0)))
    const types = c.types ? ids.map((row) => row.map((_, t) => (t >= Math.floor(T / 2) ? 1 : 0))) : undefined
    const positions: Array<[number, number]> = [[0, 0], [B - 1, Math.min(T - 1, c.lengths[B - 1] - 1)]]
    const before = tf.memory().numTensors
    const result = model.forward(
      { inputIds: ids, attentionMask: mask, tokenTypeIds: types },
      { hiddenStates: true, attentions: true, components: true, mlm: { positions, plain: true, emd: c.emd === true } },
    )
    expect(tf.memory().numTensors).toBe(before)
    const ref = referenceForward(c.config, source, ids, mask, { types, positions })
    const { hiddenSize: H, numAttentionHeads: NH } = c.config
    result.hiddenStates!.forEach((h, l) => close('hidden', `hidden_states.${l}`, h.data, ref.hidden[l], 1e-4, { shape: h.shape, valid: validRows(mask, T, H) }))
    result.attentions!.forEach((a, l) => close('attention', `attentions.${l}`, a.data, ref.probs[l], 1e-5, { shape: a.shape, valid: validPairs(mask, NH, T) }))
    for (const comp of result.components!) {
      close('components', `layer.${comp.layer}.c2c`, comp.c2c.data, ref.c2c[comp.layer], 1e-4, { shape: comp.c2c.shape })
      if (comp.c2p) close('components', `layer.${comp.layer}.c2p`, comp.c2p.data, ref.c2p[comp.layer], 1e-4, { shape: comp.c2p.shape })
      if (comp.p2c) close('components', `layer.${comp.layer}.p2c`, comp.p2c.data, ref.p2c[comp.layer], 1e-4, { shape: comp.p2c.shape })
      const relative = c.config.relativeAttention && c.config.modelType !== 'bert'
      expect(comp.c2p !== undefined).toBe(relative && c.config.posAttType.includes('c2p'))
      expect(comp.p2c !== undefined).toBe(relative && c.config.posAttType.includes('p2c'))
    }
    close('logits', 'mlm.plain_logits', result.mlm!.plainLogits!.data, ref.plainLogits!, 1e-4, { shape: result.mlm!.plainLogits!.shape })
    if (c.emd) close('logits', 'mlm.emd_logits', result.mlm!.emdLogits!.data, ref.emdLogits!, 1e-4, { shape: result.mlm!.emdLogits!.shape })
    return worst
  } finally {
    model.dispose()
    source.close()
  }
}

describe('the naive reference itself reproduces the fixtures', () => {
  beforeAll(() => useBackend('wasm'))
  for (const dir of [V3_DIR, V1_DIR]) {
    it(`${path.basename(dir)}: hidden states, attentions, EMD logits`, async () => {
      const golden = openGolden(dir)
      const model = await loadPretrained(dir)
      const source = openTensorFile(path.join(dir, 'model.safetensors'))
      try {
        const ids = intRows(golden, 'input_ids')
        const mask = intRows(golden, 'attention_mask')
        const mp = golden.readInt32('mlm.masked_positions')
        const positions: Array<[number, number]> = []
        for (let i = 0; i < mp.length; i += 2) positions.push([mp[i], mp[i + 1]])
        const ref = referenceForward(model.config, source, ids, mask, { positions })
        const T = ids[0].length
        const H = model.config.hiddenSize
        const L = model.config.numHiddenLayers
        expectClose(`hidden_states.${L}`, ref.hidden[L], golden.readFloat32(`hidden_states.${L}`), 1e-4, { valid: validRows(mask, T, H) })
        expectClose('attentions.0', ref.probs[0], golden.readFloat32('attentions.0'), 1e-5, { valid: validPairs(mask, model.config.numAttentionHeads, T) })
        expectClose('mlm.emd_logits', ref.emdLogits!, golden.readFloat32('mlm.emd_logits'), 1e-4)
      } finally {
        source.close()
        golden.close()
        model.dispose()
      }
    })
  }
})

for (const backend of TEST_BACKENDS) {
  describe(`model = reference on generic configs (${backend})`, () => {
    beforeAll(() => useBackend(backend))
    // the cpu backend (plain JS, slow) runs a representative subset to keep the suite fast
    const cases = backend === 'cpu' ? CASES.filter((_, i) => i % 3 === 0) : CASES
    const worst: Record<string, number> = {}
    afterAll(() => {
      const parts = Object.entries(worst).map(([check, value]) => `${check} ${value.toExponential(2)}`)
      if (parts.length > 0) console.log(`max |Δ| generic configs on ${backend} (${cases.length} cases): ${parts.join(', ')}`)
    })
    for (const c of cases) {
      it(c.name, () => {
        for (const [check, value] of Object.entries(runCase(c))) worst[check] = Math.max(worst[check] ?? 0, value)
      })
    }
  })
}
