// The two attention forms (src/core/strategy.ts) compute the same numbers: per-head 2-D matmuls and
// all-heads batched matmuls, on every backend that loads here, for v3 (log buckets, c2p + p2c, p2p toggle,
// padding, EMD), v1 and BERT — every output the lab shows (hidden states, attention, each term, logits).
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, describe, expect, it } from 'vitest'
import { DEBERTA_V1_BASE, bertBaselineConfig, type DebertaConfig } from '../../src/core/config'
import type { ForwardOptions, ForwardResult } from '../../src/core/model'
import { RELATIVE_BLOCK_MIN_LENGTH, relativeBlockSize } from '../../src/core/relative-tables'
import { attentionStrategyFor } from '../../src/core/strategy'
import { headGroups } from '../../src/core/attention'
import { createSyntheticModel } from '../../src/core/synthetic'
import { expectClose, expectLabError, seededIds, TEST_BACKENDS, useBackend, SMALL_V3 } from './helpers'

const BACKENDS = TEST_BACKENDS

const V3: DebertaConfig = { ...SMALL_V3, maskTokenId: 4 }
const V1: DebertaConfig = { ...DEBERTA_V1_BASE, ...V3, modelType: 'deberta', positionBuckets: 0, maxRelativePositions: 6, normRelEmbedding: 'none', shareAttKey: false }

const CASES: Array<{ name: string; config: DebertaConfig; options: ForwardOptions; emd: boolean }> = [
  { name: 'v3, c2p + p2c, EMD', config: V3, options: {}, emd: true },
  { name: 'v3 with the p2p toggle', config: V3, options: { p2p: true }, emd: false },
  { name: 'v3, separate position projections, c2p dropped', config: { ...V3, shareAttKey: false }, options: { disabledTerms: ['c2p'] }, emd: true },
  { name: 'v3, c2p dropped in one head of layer 1 only', config: V3, options: { disabledTerms: ['c2p'], ablationScope: { layer: 1, head: 2 } }, emd: true },
  { name: 'v3, heads removed: 1.3 (last layer, so in the EMD too) and 0.0 with c2p dropped in 0.2', config: V3, options: { removedHeads: [{ layer: 1, head: 3 }, { layer: 0, head: 0 }], disabledTerms: ['c2p'], ablationScope: { layer: 0, head: 2 } }, emd: true },
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
        expect([a.layout, b.layout]).toEqual(['heads', 'packed'])
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

// The blocked form of c2p / p2c (windows of b query or key rows, src/core/relative-tables.ts) is used from
// T = 192 on, head groups from T = 296 (12 heads); here both are forced on T = 19 with window sizes that
// divide nothing (4, 5), one row and T − 1, and groups of 1, 3 (4 heads: 3 + 1) and all heads.
const FORCED: Array<[block: number, group: number]> = [
  [1, 1],
  [4, 3],
  [5, 4],
  [18, 1],
  [0, 3],
]
for (const backend of BACKENDS) {
  describe(`per-head = batched with blocked relative terms and head groups on ${backend}`, () => {
    const saved = [process.env.DEBERTA_LAB_RELATIVE_BLOCK, process.env.DEBERTA_LAB_HEAD_GROUP]
    afterEach(() => {
      if (saved[0] === undefined) delete process.env.DEBERTA_LAB_RELATIVE_BLOCK
      else process.env.DEBERTA_LAB_RELATIVE_BLOCK = saved[0]
      if (saved[1] === undefined) delete process.env.DEBERTA_LAB_HEAD_GROUP
      else process.env.DEBERTA_LAB_HEAD_GROUP = saved[1]
    })
    for (const c of CASES) {
      it(c.name, async () => {
        await useBackend(backend)
        delete process.env.DEBERTA_LAB_RELATIVE_BLOCK
        delete process.env.DEBERTA_LAB_HEAD_GROUP
        const a = run(c.config, 'per-head', c.options, c.emd)
        for (const [block, group] of FORCED) {
          process.env.DEBERTA_LAB_RELATIVE_BLOCK = String(block)
          process.env.DEBERTA_LAB_HEAD_GROUP = String(group)
          const b = run(c.config, 'batched', c.options, c.emd)
          expect(b.leaked).toBe(0)
          const tol = 2e-5
          a.result.components!.forEach((comp, l) => {
            for (const term of ['c2c', 'c2p', 'p2c', 'p2p', 'scores', 'probs'] as const) {
              if (comp[term]) expectClose(`block ${block} group ${group} layer ${l} ${term}`, b.result.components![l][term]!.data, comp[term]!.data, tol)
            }
          })
          a.result.attentions!.forEach((p, k) => expectClose(`block ${block} group ${group} attentions.${k}`, b.result.attentions![k].data, p.data, tol))
          a.result.hiddenStates!.forEach((h, k) => expectClose(`block ${block} group ${group} hidden_states.${k}`, b.result.hiddenStates![k].data, h.data, tol))
          if (c.emd) expectClose(`block ${block} group ${group} EMD logits`, b.result.mlm!.emdLogits!.data, a.result.mlm!.emdLogits!.data, 1e-4)
        }
      })
    }
  })
}

describe('relative block size', () => {
  const saved = process.env.DEBERTA_LAB_RELATIVE_BLOCK
  afterEach(() => {
    if (saved === undefined) delete process.env.DEBERTA_LAB_RELATIVE_BLOCK
    else process.env.DEBERTA_LAB_RELATIVE_BLOCK = saved
  })
  it('off below RELATIVE_BLOCK_MIN_LENGTH, on from it; DEBERTA_LAB_RELATIVE_BLOCK forces a size or 0', () => {
    delete process.env.DEBERTA_LAB_RELATIVE_BLOCK
    expect(relativeBlockSize(RELATIVE_BLOCK_MIN_LENGTH - 1)).toBe(0)
    expect(relativeBlockSize(RELATIVE_BLOCK_MIN_LENGTH)).toBeGreaterThan(0)
    expect(relativeBlockSize(512)).toBeLessThan(512)
    process.env.DEBERTA_LAB_RELATIVE_BLOCK = '0'
    expect(relativeBlockSize(512)).toBe(0)
    process.env.DEBERTA_LAB_RELATIVE_BLOCK = '7'
    expect(relativeBlockSize(19)).toBe(7)
    expect(relativeBlockSize(5)).toBe(0)
  })
})

describe('head groups', () => {
  const saved = process.env.DEBERTA_LAB_HEAD_GROUP
  afterEach(() => {
    if (saved === undefined) delete process.env.DEBERTA_LAB_HEAD_GROUP
    else process.env.DEBERTA_LAB_HEAD_GROUP = saved
  })
  it('all heads at once while a [NH, T, T] tensor fits HEAD_GROUP_BYTES, then groups that cover every head once', () => {
    delete process.env.DEBERTA_LAB_HEAD_GROUP
    expect(headGroups(12, 128)).toEqual([12])
    expect(headGroups(12, 256)).toEqual([12])
    expect(headGroups(12, 512)).toEqual([4, 4, 4])
    expect(headGroups(16, 1024)).toEqual(Array(16).fill(1))
    expect(headGroups(16, 4096)).toEqual(Array(16).fill(1))
    process.env.DEBERTA_LAB_HEAD_GROUP = '5'
    expect(headGroups(12, 8)).toEqual([5, 5, 2])
  })
})

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

describe('ablation scope: a term removed in one layer, or one head of one layer, changes only what follows it', () => {
  it('layer 0 and the other heads of layer 1 are untouched; that head and the layers after it change', async () => {
    await useBackend(TEST_BACKENDS[0])
    const config: DebertaConfig = { ...V3, numHiddenLayers: 3 }
    const model = createSyntheticModel(config, { seed: 5 })
    try {
      const ids = seededIds(1, 15, config.vocabSize, 3)
      const run = (options: ForwardOptions) => model.forward({ inputIds: ids }, { ...options, attentions: true, hiddenStates: true })
      const full = run({})
      const everywhere = run({ disabledTerms: ['c2p'] })
      const oneHead = run({ disabledTerms: ['c2p'], ablationScope: { layer: 1, head: 2 } })
      const oneLayer = run({ disabledTerms: ['c2p'], ablationScope: { layer: 1 } })
      const T = 15
      const head = (a: Float32Array, h: number) => a.subarray(h * T * T, (h + 1) * T * T)
      // layer 0: as without ablation (scoped) vs changed (everywhere)
      expectClose('layer 0, scoped', oneHead.attentions![0].data, full.attentions![0].data, 0)
      expect(Math.max(...everywhere.attentions![0].data.map((v, i) => Math.abs(v - full.attentions![0].data[i])))).toBeGreaterThan(1e-4)
      // layer 1: head 2 changes, heads 0, 1, 3 do not (same inputs, same terms)
      for (const h of [0, 1, 3]) expectClose(`layer 1 head ${h}`, head(oneHead.attentions![1].data, h), head(full.attentions![1].data, h), 0)
      const changed = head(oneHead.attentions![1].data, 2).map((v, i) => Math.abs(v - head(full.attentions![1].data, 2)[i]))
      expect(Math.max(...changed)).toBeGreaterThan(1e-4)
      // the whole layer scoped: every head of layer 1 as with the ablation everywhere, given layer 0 is unablated there
      for (const h of [0, 1, 2, 3]) expect(Math.max(...head(oneLayer.attentions![1].data, h).map((v, i) => Math.abs(v - head(full.attentions![1].data, h)[i])))).toBeGreaterThan(0)
      // later layers see the changed hidden states
      expect(Math.max(...oneHead.hiddenStates![3].data.map((v, i) => Math.abs(v - full.hiddenStates![3].data[i])))).toBeGreaterThan(1e-5)
      expectLabError(() => run({ disabledTerms: ['c2p'], ablationScope: { layer: 3 } }), 'INPUT_INVALID')
      expectLabError(() => run({ disabledTerms: ['c2p'], ablationScope: { layer: 0, head: 4 } }), 'INPUT_INVALID')
    } finally {
      model.dispose()
    }
  })
})

describe('head removal (Michel et al. 2019): the head\'s context vectors are zeroed before the output projection', () => {
  for (const strategy of ['per-head', 'batched'] as const) {
    it(`${strategy}: equals zeroing that head's rows of W_O; earlier layers and every head's attention untouched; later layers change`, async () => {
      await useBackend(TEST_BACKENDS[0])
      const config: DebertaConfig = { ...V3, numHiddenLayers: 3 }
      const model = createSyntheticModel(config, { seed: 9, strategy })
      try {
        const ids = seededIds(1, 13, config.vocabSize, 3)
        ids[0][6] = 4
        const options: ForwardOptions = { attentions: true, hiddenStates: true, mlm: { plain: true, emd: true } }
        const before = tf.memory().numTensors
        const full = model.forward({ inputIds: ids }, options)
        const removed = model.forward({ inputIds: ids }, { ...options, removedHeads: [{ layer: 1, head: 2 }] })
        expect(tf.memory().numTensors).toBe(before)
        const diff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i])))
        // embeddings and layer 0's output: identical; every head's probabilities in layers 0 and 1: identical
        for (const k of [0, 1]) expectClose(`hidden_states.${k}`, removed.hiddenStates![k].data, full.hiddenStates![k].data, 0)
        for (const l of [0, 1]) expectClose(`attentions.${l}`, removed.attentions![l].data, full.attentions![l].data, 0)
        // layer 1's output and everything after it change
        for (const k of [2, 3]) expect(diff(removed.hiddenStates![k].data, full.hiddenStates![k].data)).toBeGreaterThan(1e-4)
        expect(diff(removed.mlm!.plainLogits!.data, full.mlm!.plainLogits!.data)).toBeGreaterThan(1e-4)
        // the same model with head 2's rows of layer 1's output projection W_O ([NH·D, H]) set to zero, nothing removed
        const D = config.attentionHeadSize
        const layer = model.weights.layers[1]
        const wT = layer.attention.output.wT
        const rows = tf.tidy(() => tf.concat([tf.ones([2 * D, 1]), tf.zeros([D, 1]), tf.ones([(config.numAttentionHeads - 3) * D, 1])]))
        const zeroed = tf.mul(wT, rows) as tf.Tensor2D
        rows.dispose()
        model.weights.layers[1] = { ...layer, attention: { ...layer.attention, output: { ...layer.attention.output, wT: zeroed } } }
        const viaWeights = model.forward({ inputIds: ids }, options)
        model.weights.layers[1] = layer
        zeroed.dispose()
        removed.hiddenStates!.forEach((h, k) => expectClose(`hidden_states.${k} vs zeroed W_O rows`, h.data, viaWeights.hiddenStates![k].data, 1e-5))
        expectClose('plain logits vs zeroed W_O rows', removed.mlm!.plainLogits!.data, viaWeights.mlm!.plainLogits!.data, 1e-4)
        expectClose('EMD logits vs zeroed W_O rows', removed.mlm!.emdLogits!.data, viaWeights.mlm!.emdLogits!.data, 1e-4)
        expectLabError(() => model.forward({ inputIds: ids }, { removedHeads: [{ layer: 3, head: 0 }] }), 'INPUT_INVALID')
        expectLabError(() => model.forward({ inputIds: ids }, { removedHeads: [{ layer: 0, head: 4 }] }), 'INPUT_INVALID')
      } finally {
        model.dispose()
      }
    })
  }
})

describe('resumeFrom: a forward started at layer l from hidden_states[l] equals the whole forward', () => {
  for (const strategy of ['per-head', 'batched'] as const) {
    it(`${strategy}: every start layer, with a head of that layer removed, padding and two sequences; refused with recordings`, async () => {
      await useBackend(TEST_BACKENDS[0])
      const config: DebertaConfig = { ...V3, numHiddenLayers: 3 }
      const model = createSyntheticModel(config, { seed: 4, strategy })
      try {
        const ids = seededIds(2, 11, config.vocabSize, 3)
        ids[0][4] = 4
        ids[1][7] = 4
        const attentionMask = [Array(11).fill(1), [...Array(9).fill(1), 0, 0]]
        const mlm = { plain: true, emd: true }
        const full = model.forward({ inputIds: ids, attentionMask }, { hiddenStates: true, mlm })
        for (let layer = 0; layer < 3; layer++) {
          const removedHeads = [{ layer, head: 1 }]
          const whole = model.forward({ inputIds: ids, attentionMask }, { removedHeads, mlm })
          const before = tf.memory().numTensors
          const resumed = model.forward({ inputIds: ids, attentionMask }, { removedHeads, mlm, resumeFrom: { layer, hidden: full.hiddenStates![layer] } })
          expect(tf.memory().numTensors).toBe(before)
          expectClose(`layer ${layer}: last hidden state`, resumed.lastHiddenState.data, whole.lastHiddenState.data, 0)
          expectClose(`layer ${layer}: plain logits`, resumed.mlm!.plainLogits!.data, whole.mlm!.plainLogits!.data, 0)
          expectClose(`layer ${layer}: EMD logits`, resumed.mlm!.emdLogits!.data, whole.mlm!.emdLogits!.data, 0)
        }
        const resumeFrom = { layer: 1, hidden: full.hiddenStates![1] }
        expectLabError(() => model.forward({ inputIds: ids }, { resumeFrom, hiddenStates: true }), 'INPUT_INVALID')
        expectLabError(() => model.forward({ inputIds: ids }, { resumeFrom: { layer: 3, hidden: full.hiddenStates![1] } }), 'INPUT_INVALID')
        expectLabError(() => model.forward({ inputIds: [ids[0]] }, { resumeFrom }), 'INPUT_INVALID')
      } finally {
        model.dispose()
      }
    })
  }
})
