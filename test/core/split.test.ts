// A forward split over two threads (src/core/split.ts, src/core/shard.ts) gives the numbers of the forward on one
// thread — every option a plain forward takes (padding, batches, p2p, term ablations scoped to a head on either
// shard, removed heads, resumeFrom, MLM and EMD logits, hidden states), uneven shards, the v3 fixture — and stays
// correct when a run is abandoned (a cancel from onProgress) or its peer thread fails or is gone — on every backend
// that loads here.
import { availableParallelism } from 'node:os'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DebertaConfig } from '../../src/core/config'
import { loadPretrained } from '../../src/core/load'
import type { DebertaModel, ForwardOptions, ForwardResult } from '../../src/core/model'
import { shardConfig, shardForwardOptions, shardRanges, shardWeights } from '../../src/core/shard'
import { layerWeightBytes, SplitForward, splitIfRequested } from '../../src/core/split'
import { createSyntheticModel } from '../../src/core/synthetic'
import { expectClose, expectLabError, seededIds, TEST_BACKENDS, useBackend, V3_DIR, SMALL_V3 } from './helpers'

const V3: DebertaConfig = { ...SMALL_V3, numHiddenLayers: 3, maskTokenId: 4 }
/** odd heads and columns: shards of 2 + 1 heads and 24 + 23 columns */
const UNEVEN: DebertaConfig = { ...V3, numAttentionHeads: 3, hiddenSize: 24, embeddingSize: 24, intermediateSize: 47 }

/** split vs one thread: sums of the shards' partials differ from one product by float rounding only */
const TOLERANCE = 2e-5

describe('shards', () => {
  it('cuts heads and feed-forward columns as evenly as possible, first shards taking the remainders', () => {
    expect(shardRanges(V3, 2)).toEqual([
      { heads: [0, 2], columns: [0, 24] },
      { heads: [2, 4], columns: [24, 48] },
    ])
    expect(shardRanges(UNEVEN, 2)).toEqual([
      { heads: [0, 2], columns: [0, 24] },
      { heads: [2, 3], columns: [24, 47] },
    ])
    const config = shardConfig(UNEVEN, shardRanges(UNEVEN, 2)[1])
    expect([config.numAttentionHeads, config.intermediateSize, config.hiddenSize, config.attentionHeadSize]).toEqual([1, 23, 24, 8])
    expectLabError(() => shardRanges({ ...V3, numAttentionHeads: 1 }, 2), 'INPUT_INVALID')
  })

  it('renumbers heads per shard; an ablation scoped to a head elsewhere leaves the shard alone', () => {
    const [first, second] = shardRanges(V3, 2)
    const options: ForwardOptions = {
      p2p: true,
      disabledTerms: ['c2p'],
      ablationScope: { layer: 1, head: 3 },
      removedHeads: [
        { layer: 0, head: 1 },
        { layer: 2, head: 2 },
      ],
    }
    expect(shardForwardOptions(options, first)).toEqual({ p2p: true, removedHeads: [{ layer: 0, head: 1 }] })
    expect(shardForwardOptions(options, second)).toEqual({
      p2p: true,
      disabledTerms: ['c2p'],
      ablationScope: { layer: 1, head: 1 },
      removedHeads: [{ layer: 2, head: 0 }],
    })
    expect(shardForwardOptions({ disabledTerms: ['p2c'], ablationScope: { layer: 2 } }, first)).toEqual({ disabledTerms: ['p2c'], ablationScope: { layer: 2 } })
  })

  it("folds the exact GELU's 1/√2 into W_1, b_1 and W_2's rows (not W_2's bias); other activations keep their weights; W_O's bias on the first shard, W_2's on the last", async () => {
    await useBackend(TEST_BACKENDS[0])
    for (const [act, folded] of [
      ['gelu', true],
      ['gelu_new', false],
    ] as const) {
      const config: DebertaConfig = { ...V3, hiddenAct: act }
      const model = createSyntheticModel(config, { seed: 2, withHead: false })
      const range = shardRanges(config, 2)[0]
      const { weights, created } = shardWeights(model.weights, config, range, 0, model.weights.embeddings)
      try {
        const [c0, c1] = range.columns
        const layer = weights.layers[1]
        const full = model.weights.layers[1]
        const k = folded ? Math.SQRT1_2 : 1
        expect(layer.geluFolded ?? false, act).toBe(folded)
        // on tensorflow W_1 is stored [out, in] (Linear.outIn: TF's MatMul is faster that way for the shard's shape)
        const outIn = tf.getBackend() === 'tensorflow'
        expect(layer.intermediate.outIn === true, 'W_1 layout').toBe(outIn)
        const w1 = outIn ? tf.transpose(layer.intermediate.wT) : layer.intermediate.wT
        expectClose(`${act} W_1`, w1.dataSync(), tf.mul(tf.slice(full.intermediate.wT, [0, c0], [-1, c1 - c0]), k).dataSync(), 1e-7)
        expectClose(`${act} b_1`, layer.intermediate.b!.dataSync(), tf.mul(tf.slice(full.intermediate.b!, [c0], [c1 - c0]), k).dataSync(), 1e-7)
        expectClose(`${act} W_2 rows`, layer.output.wT.dataSync(), tf.mul(tf.slice(full.output.wT, [c0, 0], [c1 - c0, -1]), k).dataSync(), 1e-7)
        // each bias once: W_O's on the first shard, W_2's on the last (unscaled)
        expect(layer.attention.output.b, 'W_O bias on shard 0').not.toBeNull()
        expect(layer.output.b, 'no W_2 bias on shard 0').toBeNull()
        const last = shardWeights(model.weights, config, shardRanges(config, 2)[1], 1, model.weights.embeddings)
        created.push(...last.created)
        expect(last.weights.layers[1].attention.output.b, 'no W_O bias on shard 1').toBeNull()
        expectClose(`${act} W_2 bias`, last.weights.layers[1].output.b!.dataSync(), full.output.b!.dataSync(), 0)
        const whole = shardWeights(model.weights, config, shardRanges(config, 1)[0], 0, model.weights.embeddings)
        created.push(...whole.created)
        expect(whole.weights.layers[1].attention.output.b !== null && whole.weights.layers[1].output.b !== null, 'one shard: both').toBe(true)
      } finally {
        tf.dispose(created)
        model.dispose()
      }
    }
  })
})

// a tensorflow feature, checked on every backend that loads here (the peer starts the leader's backend)
for (const backend of TEST_BACKENDS) {
  describe(`split forward on ${backend}`, () => {
    const models: DebertaModel[] = []
    const synthetic = (config: DebertaConfig, seed: number): DebertaModel => {
      const model = createSyntheticModel(config, { seed, strategy: 'batched' })
      models.push(model)
      return model
    }
    beforeAll(async () => {
      await useBackend(backend)
    })
    afterAll(() => {
      for (const model of models) model.dispose()
    })

    const ids = seededIds(2, 13, V3.vocabSize, 5)
    ids[0][3] = 4
    ids[1][6] = 4
    const attentionMask = [Array(13).fill(1), [...Array(10).fill(1), 0, 0, 0]]
    const cases = (heads: number): Array<{ name: string; options: ForwardOptions }> => [
      { name: 'plain, padding, two sequences', options: {} },
      { name: 'p2p toggle', options: { p2p: true } },
      { name: 'c2p dropped in the last head of layer 1 (second shard)', options: { disabledTerms: ['c2p'], ablationScope: { layer: 1, head: heads - 1 } } },
      { name: 'p2c dropped in head 0 of layer 2 (first shard)', options: { disabledTerms: ['p2c'], ablationScope: { layer: 2, head: 0 } } },
      { name: 'c2c dropped everywhere, heads removed on both shards', options: { disabledTerms: ['c2c'], removedHeads: [{ layer: 0, head: 0 }, { layer: 2, head: heads - 1 }] } },
    ]

    function compare(label: string, split: ForwardResult, single: ForwardResult): void {
      expectClose(`${label}: last hidden state`, split.lastHiddenState.data, single.lastHiddenState.data, TOLERANCE)
      split.hiddenStates?.forEach((h, l) => expectClose(`${label}: hidden_states.${l}`, h.data, single.hiddenStates![l].data, TOLERANCE))
      if (single.mlm?.plainLogits) expectClose(`${label}: plain logits`, split.mlm!.plainLogits!.data, single.mlm.plainLogits.data, TOLERANCE)
      if (single.mlm?.emdLogits) expectClose(`${label}: EMD logits`, split.mlm!.emdLogits!.data, single.mlm.emdLogits.data, TOLERANCE)
    }

    for (const [configName, config] of [
      ['v3, 4 heads', V3],
      ['v3, 3 heads and 47 columns (uneven shards)', UNEVEN],
      ['v3 with the tanh GELU (no constants folded into the shards)', { ...V3, hiddenAct: 'gelu_new' } as DebertaConfig],
    ] as const) {
      it(`${configName}: equals the forward on one thread for every option of a plain forward`, async () => {
        const single = synthetic(config, 7)
        const model = synthetic(config, 7)
        model.attachSplit(await SplitForward.start(model))
        expect(model.isSplit).toBe(true)
        for (const { name, options } of cases(config.numAttentionHeads)) {
          const full: ForwardOptions = { ...options, hiddenStates: true, mlm: { plain: true, emd: true } }
          const before = tf.memory().numTensors
          const split = model.forward({ inputIds: ids, attentionMask }, full)
          expect(tf.memory().numTensors, `${name}: tensors after the forward`).toBe(before)
          compare(name, split, single.forward({ inputIds: ids, attentionMask }, full))
        }
        // resumeFrom (the head-importance job), from each layer
        const states = single.forward({ inputIds: ids, attentionMask }, { hiddenStates: true }).hiddenStates!
        for (let layer = 0; layer < config.numHiddenLayers; layer++) {
          const options: ForwardOptions = { removedHeads: [{ layer, head: config.numAttentionHeads - 1 }], mlm: { plain: true }, resumeFrom: { layer, hidden: states[layer] } }
          compare(`resume at ${layer}`, model.forward({ inputIds: ids, attentionMask }, options), single.forward({ inputIds: ids, attentionMask }, options))
        }
        // recorded terms run on this thread with the whole model, and agree too
        const recorded = model.forward({ inputIds: ids, attentionMask }, { components: true, attentions: true })
        const reference = single.forward({ inputIds: ids, attentionMask }, { components: true, attentions: true })
        expectClose('recorded probs', recorded.components![1].probs.data, reference.components![1].probs.data, 0)
        expect(model.isSplit).toBe(true)
      })
    }

    it('the v3 fixture checkpoint: split forward = one-thread forward (which the parity suites check against the goldens)', async () => {
      const single = await loadPretrained(V3_DIR, { strategy: 'batched' })
      const model = await loadPretrained(V3_DIR, { strategy: 'batched' })
      models.push(single, model)
      model.attachSplit(await SplitForward.start(model))
      const text = seededIds(1, 21, single.config.vocabSize, 9)
      compare('fixture', model.forward({ inputIds: text }, { hiddenStates: true }), single.forward({ inputIds: text }, { hiddenStates: true }))
    })

    it('a run abandoned by a throwing onProgress leaves the split usable and right; a failed or stopped peer hands the layers back', async () => {
      const single = synthetic(V3, 3)
      const model = synthetic(V3, 3)
      const split = await SplitForward.start(model)
      model.attachSplit(split)
      const expected = single.forward({ inputIds: ids, attentionMask }, { mlm: { plain: true } })
      const before = tf.memory().numTensors
      expect(() =>
        model.forward(
          { inputIds: ids, attentionMask },
          {
            onProgress: (done) => {
              if (done === 2) throw new Error('cancelled')
            },
          },
        ),
      ).toThrow('cancelled')
      expect(tf.memory().numTensors).toBe(before)
      for (let k = 0; k < 3; k++) compare(`after the abandoned run (${k})`, model.forward({ inputIds: ids, attentionMask }, { mlm: { plain: true } }), expected)
      expect(model.isSplit).toBe(true)
      // run numbers whose stamps pass 32 bits (run · 2^16 + step > 2^31): a long-lived lab keeps its split
      ;(split as unknown as { run: number }).run = 2 ** 20
      compare('run 2^20 + 1', model.forward({ inputIds: ids, attentionMask }, { mlm: { plain: true } }), expected)
      expect(model.isSplit).toBe(true)

      // the peer fails inside a run (a sequence whose hidden state does not fit its length): the next forward sees
      // it at its first exchange, closes the split and runs on this thread
      const peer = (split as unknown as { peer: { postMessage(message: unknown): void } }).peer
      peer.postMessage({ type: 'run', run: 1e6, shard: { length: 5, mask: [1, 1, 1, 1, 1], startLayer: 0, options: {} }, hidden: new Float32Array(3) })
      await new Promise((resolve) => setTimeout(resolve, 500))
      compare('after the peer failed', model.forward({ inputIds: ids, attentionMask }, { mlm: { plain: true } }), expected)
      expect(model.isSplit).toBe(false)
      expect(tf.memory().numTensors).toBeLessThan(before) // the split's shard weights were freed

      // a peer thread that is gone
      const other = synthetic(V3, 3)
      const second = await SplitForward.start(other)
      other.attachSplit(second)
      const worker = (second as unknown as { peer: { terminate(): Promise<number> } }).peer
      await worker.terminate()
      await new Promise((resolve) => setImmediate(resolve))
      expect(other.isSplit).toBe(false)
      compare('without its peer', other.forward({ inputIds: ids, attentionMask }, { mlm: { plain: true } }), expected)
    })

    it('splitIfRequested: off with DEBERTA_LAB_SPLIT=0; unset, only on tensorflow and within the memory budget (else says why); 1 forces it', async () => {
      const saved = process.env.DEBERTA_LAB_SPLIT
      const twoCores = availableParallelism() >= 2
      try {
        process.env.DEBERTA_LAB_SPLIT = '0'
        const off = synthetic(V3, 1)
        expect(await splitIfRequested(off, { backend: 'tensorflow' })).toBeNull()
        expect(off.isSplit).toBe(false)
        delete process.env.DEBERTA_LAB_SPLIT
        const notNative = synthetic(V3, 1)
        expect(await splitIfRequested(notNative, { backend: 'wasm' })).toBeNull()
        expect(notNative.isSplit).toBe(false)
        const tooLarge = synthetic(V3, 1)
        expect(layerWeightBytes(tooLarge)).toBe(4 * 3 * (3 * 32 * 32 + 3 * 32 + 32 * 32 + 32 + 2 * 32 * 48 + 48 + 32))
        const note = await splitIfRequested(tooLarge, { backend: 'tensorflow', memoryBudget: layerWeightBytes(tooLarge) - 1 })
        expect(note).toMatch(/another 0 MB of layer weights.*DEBERTA_LAB_SPLIT=1/)
        expect(tooLarge.isSplit).toBe(false)
        const auto = synthetic(V3, 1)
        expect(await splitIfRequested(auto, { backend: 'tensorflow' })).toBeNull()
        expect(auto.isSplit).toBe(twoCores) // one core: never split
        process.env.DEBERTA_LAB_SPLIT = '1'
        const forced = synthetic(V3, 1)
        expect(await splitIfRequested(forced, { backend: 'wasm', memoryBudget: 0 })).toBeNull()
        expect(forced.isSplit).toBe(twoCores)
        const perHead = createSyntheticModel(V3, { seed: 1, strategy: 'per-head' })
        models.push(perHead)
        expect(await splitIfRequested(perHead)).toBeNull()
        expect(perHead.isSplit).toBe(false)
      } finally {
        if (saved === undefined) delete process.env.DEBERTA_LAB_SPLIT
        else process.env.DEBERTA_LAB_SPLIT = saved
      }
    })
  })
}
