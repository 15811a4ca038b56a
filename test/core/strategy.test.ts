// The two attention forms (src/core/strategy.ts) compute the same numbers: per-head 2-D matmuls and
// all-heads batched matmuls, on every backend that loads here, for v3 (log buckets, c2p + p2c, p2p toggle,
// padding, EMD), v1 and BERT — every output the lab shows (hidden states, attention, each term, logits).
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { DEBERTA_V1_BASE, DEBERTA_V3_TINY, bertBaselineConfig, type DebertaConfig } from '../../src/core/config'
import type { ForwardOptions, ForwardResult } from '../../src/core/model'
import { attentionStrategyFor } from '../../src/core/strategy'
import { createSyntheticModel } from '../../src/core/synthetic'
import { expectClose, expectLabError, seededIds, TEST_BACKENDS, useBackend } from './helpers'

const BACKENDS = TEST_BACKENDS

const V3: DebertaConfig = {
  ...DEBERTA_V3_TINY,
  vocabSize: 64,
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  attentionHeadSize: 8,
  intermediateSize: 48,
  embeddingSize: 32,
  maxPositionEmbeddings: 64,
  maxRelativePositions: 64,
  positionBuckets: 8,
  maskTokenId: 4,
}
const V1: DebertaConfig = { ...DEBERTA_V1_BASE, ...V3, modelType: 'deberta', positionBuckets: 0, maxRelativePositions: 6, normRelEmbedding: 'none', shareAttKey: false }

const CASES: Array<{ name: string; config: DebertaConfig; options: ForwardOptions; emd: boolean }> = [
  { name: 'v3, c2p + p2c, EMD', config: V3, options: {}, emd: true },
  { name: 'v3 with the p2p toggle', config: V3, options: { p2p: true }, emd: false },
  { name: 'v3, separate position projections, c2p dropped', config: { ...V3, shareAttKey: false }, options: { disabledTerms: ['c2p'] }, emd: true },
  { name: 'v1 (clipped distances, T > k)', config: V1, options: {}, emd: false },
  { name: 'BERT', config: bertBaselineConfig(V3), options: {}, emd: false },
]

function run(config: DebertaConfig, strategy: 'per-head' | 'batched', options: ForwardOptions, emd: boolean): { result: ForwardResult; leaked: number; layout: string } {
  const model = createSyntheticModel(config, { seed: 11, strategy })
  try {
    expect(model.strategy).toBe(strategy)
    const ids = seededIds(2, 19, config.vocabSize, 3)
    ids[0][5] = 4
    ids[1][2] = 4
    const mask = [Array(19).fill(1), [...Array(12).fill(1), ...Array(7).fill(0)]]
    const before = tf.memory().numTensors
    const result = model.forward(
      { inputIds: ids, attentionMask: mask },
      { ...options, hiddenStates: true, attentions: true, components: true, mlm: { plain: true, emd } },
    )
    return { result, leaked: tf.memory().numTensors - before, layout: model.weights.layers[0].attention.layout }
  } finally {
    model.dispose()
  }
}

for (const backend of BACKENDS) {
  describe(`per-head = batched on ${backend}`, () => {
    for (const c of CASES) {
      it(c.name, async () => {
        await useBackend(backend)
        const a = run(c.config, 'per-head', c.options, c.emd)
        const b = run(c.config, 'batched', c.options, c.emd)
        expect([a.leaked, b.leaked]).toEqual([0, 0])
        expect([a.layout, b.layout]).toEqual(['heads', 'fused'])
        const tol = 2e-5
        a.result.hiddenStates!.forEach((h, k) => expectClose(`hidden_states.${k}`, b.result.hiddenStates![k].data, h.data, tol))
        a.result.attentions!.forEach((p, k) => expectClose(`attentions.${k}`, b.result.attentions![k].data, p.data, tol))
        a.result.components!.forEach((comp, l) => {
          const other = b.result.components![l]
          for (const term of ['c2c', 'c2p', 'p2c', 'p2p', 'scores', 'probs'] as const) {
            expect(other[term] === undefined, `${term} present in both`).toBe(comp[term] === undefined)
            if (comp[term]) expectClose(`layer ${l} ${term}`, other[term]!.data, comp[term]!.data, tol)
          }
        })
        expectClose('plain logits', b.result.mlm!.plainLogits!.data, a.result.mlm!.plainLogits!.data, 1e-4)
        if (c.emd) expectClose('EMD logits', b.result.mlm!.emdLogits!.data, a.result.mlm!.emdLogits!.data, 1e-4)
      })
    }
  })
}

describe('attention strategy choice', () => {
  const saved = process.env.DEBERTA_LAB_ATTENTION
  afterEach(() => {
    if (saved === undefined) delete process.env.DEBERTA_LAB_ATTENTION
    else process.env.DEBERTA_LAB_ATTENTION = saved
  })

  it('batched on tensorflow, per-head on wasm and cpu', () => {
    delete process.env.DEBERTA_LAB_ATTENTION
    expect(['tensorflow', 'wasm', 'cpu'].map((b) => attentionStrategyFor(b))).toEqual(['batched', 'per-head', 'per-head'])
  })

  it('DEBERTA_LAB_ATTENTION overrides it; an unknown value is a typed error', () => {
    process.env.DEBERTA_LAB_ATTENTION = 'batched'
    expect(attentionStrategyFor('wasm')).toBe('batched')
    process.env.DEBERTA_LAB_ATTENTION = 'fast'
    expectLabError(() => attentionStrategyFor('wasm'), 'CONFIG_INVALID')
  })
})
