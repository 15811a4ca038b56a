// Forward API behaviour: input validation (ids, lengths, masks), no tensor leaks (also on errors and
// cancellation), ablation (disabledTerms), the p2p toggle, component selection, batch independence,
// embedding rows for the problem demo.
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEBERTA_V3_TINY, FLOAT32_MIN, scoreScale, type DebertaConfig } from '../../src/core/config'
import type { DebertaModel } from '../../src/core/model'
import { relativeEmbeddingRow } from '../../src/core/relative-position'
import { createSyntheticModel } from '../../src/core/synthetic'
import { expectClose, expectLabError, seededIds, useBackend } from './helpers'

const CONFIG: DebertaConfig = { ...DEBERTA_V3_TINY, vocabSize: 50, maxPositionEmbeddings: 24, maxRelativePositions: 24, positionBuckets: 8 }

describe('DebertaModel.forward', () => {
  let model: DebertaModel
  beforeAll(async () => {
    await useBackend('wasm')
    model = createSyntheticModel({ ...CONFIG, maskTokenId: 4 }, { seed: 5 })
  })
  afterAll(() => model.dispose())

  it('token ids outside [0, vocab) → TOKEN_OUT_OF_RANGE with the position', () => {
    const before = tf.memory().numTensors
    const e = expectLabError(() => model.forward({ inputIds: [[1, 2, 50]] }), 'TOKEN_OUT_OF_RANGE')
    expect(e.details).toMatchObject({ batch: 0, position: 2, id: 50, vocabSize: 50 })
    expectLabError(() => model.forward({ inputIds: [[1, -1]] }), 'TOKEN_OUT_OF_RANGE')
    expectLabError(() => model.wordEmbeddingRows([99]), 'TOKEN_OUT_OF_RANGE')
    expect(tf.memory().numTensors).toBe(before)
  })

  it('relative-only models take sequences longer than max_position_embeddings; the EMD does not', () => {
    const long = seededIds(1, 30, 50)
    expect(model.maxSequenceLength()).toBe(Number.POSITIVE_INFINITY)
    expect(model.forward({ inputIds: long }).length).toBe(30)
    const e = expectLabError(() => model.forward({ inputIds: long }, { mlm: { positions: [[0, 3]], emd: true } }), 'SEQUENCE_TOO_LONG')
    expect(e.details).toMatchObject({ length: 30, max: 24 })
  })

  it('position_biased_input models stop at max_position_embeddings → SEQUENCE_TOO_LONG', () => {
    const absolute = createSyntheticModel({ ...CONFIG, positionBiasedInput: true }, { seed: 1 })
    try {
      expect(absolute.forward({ inputIds: seededIds(1, 24, 50) }).length).toBe(24)
      expectLabError(() => absolute.forward({ inputIds: seededIds(1, 25, 50) }), 'SEQUENCE_TOO_LONG')
      expectLabError(() => absolute.positionEmbeddingRows(25), 'SEQUENCE_TOO_LONG')
    } finally {
      absolute.dispose()
    }
  })

  it('malformed inputs → INPUT_INVALID', () => {
    expectLabError(() => model.forward({ inputIds: [] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[]] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[1, 2], [1]] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[1, 2]], attentionMask: [[1, 2]] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[1, 2]], attentionMask: [[1]] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[1.5, 2]] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[1, 2]] }, { components: [2] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[1, 2]] }, { disabledTerms: ['x2y' as 'c2c'] }), 'INPUT_INVALID')
    expectLabError(() => model.forward({ inputIds: [[1, 2]] }, { mlm: { positions: [[0, 5]] } }), 'INPUT_INVALID')
  })

  it('finds [MASK] positions from the mask id; without one → NO_MASK_TOKEN', () => {
    const r = model.forward({ inputIds: [[1, 4, 7], [4, 9, 4]] }, { mlm: { emd: true } })
    expect(r.mlm!.positions).toEqual([[0, 1], [1, 0], [1, 2]])
    expect(r.mlm!.plainLogits!.shape).toEqual([3, 50])
    expect(r.mlm!.emdLogits!.shape).toEqual([3, 50])
    const noMask = createSyntheticModel(CONFIG, { seed: 5 })
    try {
      expectLabError(() => noMask.forward({ inputIds: [[1, 4]] }, { mlm: {} }), 'NO_MASK_TOKEN')
      expect(noMask.forward({ inputIds: [[1, 4]] }, { mlm: { maskTokenId: 4 } }).mlm!.positions).toEqual([[0, 1]])
    } finally {
      noMask.dispose()
    }
  })

  it('leaves no tensors after forwards with every output, and after a cancelled forward', () => {
    const ids = seededIds(2, 12, 50)
    model.forward({ inputIds: ids }, { components: true }) // first use of this length builds host tables only
    const before = tf.memory().numTensors
    model.forward(
      { inputIds: ids, attentionMask: [ids[0].map(() => 1), ids[1].map((_, t) => (t < 7 ? 1 : 0))] },
      { hiddenStates: true, attentions: true, components: true, p2p: true, mlm: { positions: [[0, 1], [1, 2]], emd: true, emdStates: true } },
    )
    expect(tf.memory().numTensors).toBe(before)
    let calls = 0
    expect(() =>
      model.forward({ inputIds: ids }, {
        attentions: true,
        onProgress: () => {
          if (++calls === 3) throw new Error('cancelled')
        },
      }),
    ).toThrow('cancelled')
    expect(tf.memory().numTensors).toBe(before)
  })

  it('runs each sequence independently of the rest of the batch (padding included)', () => {
    const ids = seededIds(2, 10, 50, 3)
    const mask = [ids[0].map(() => 1), ids[1].map((_, t) => (t < 6 ? 1 : 0))]
    const both = model.forward({ inputIds: ids, attentionMask: mask }, { attentions: true })
    const second = model.forward({ inputIds: [ids[1]], attentionMask: [mask[1]] }, { attentions: true })
    expect(Array.from(both.lastHiddenState.data.subarray(10 * 32))).toEqual(Array.from(second.lastHiddenState.data))
    expect(Array.from(both.attentions![1].data.subarray(4 * 100))).toEqual(Array.from(second.attentions![1].data))
  })

  it('padding: valid rows give exactly 0 to padded keys; padded query rows are uniform (HF)', () => {
    const r = model.forward({ inputIds: [[1, 2, 3, 0, 0]], attentionMask: [[1, 1, 1, 0, 0]] }, { attentions: true })
    const a = r.attentions![0].data
    for (let i = 0; i < 3; i++) expect([a[i * 5 + 3], a[i * 5 + 4]]).toEqual([0, 0])
    for (let j = 0; j < 5; j++) expect(a[4 * 5 + j]).toBeCloseTo(0.2, 6)
  })

  it('components: scores = c2c + c2p + p2c; probs = softmax over valid keys; a subset of layers', () => {
    const ids = seededIds(1, 9, 50, 11)
    const mask = [[1, 1, 1, 1, 1, 1, 1, 0, 0]]
    const r = model.forward({ inputIds: ids, attentionMask: mask }, { components: [1], attentions: true })
    expect(r.components!.map((c) => c.layer)).toEqual([1])
    const c = r.components![0]
    expect(c.p2p).toBeUndefined()
    const sum = c.c2c.data.map((v, i) => v + c.c2p!.data[i] + c.p2c!.data[i])
    expectClose('scores', c.scores.data, sum, 1e-6)
    expectClose('probs = attentions.1', c.probs.data, r.attentions![1].data, 0)
    const T = 9
    for (let h = 0; h < 4; h++) {
      for (const i of [0, 6]) {
        const row = Array.from(c.scores.data.subarray((h * T + i) * T, (h * T + i + 1) * T)).map((v, j) => (mask[0][j] ? v : FLOAT32_MIN))
        const max = Math.max(...row)
        const exps = row.map((v) => Math.exp(v - max))
        const z = exps.reduce((x, y) => x + y, 0)
        expectClose(`probs row ${h},${i}`, c.probs.data.subarray((h * T + i) * T, (h * T + i + 1) * T), exps.map((e) => e / z), 1e-6)
      }
    }
  })

  it('disabledTerms drops terms before the softmax and keeps the scale', () => {
    const ids = seededIds(1, 8, 50, 2)
    const full = model.forward({ inputIds: ids }, { components: [0] }).components![0]
    const ablated = model.forward({ inputIds: ids }, { components: [0], disabledTerms: ['c2p', 'p2c'] }).components![0]
    expectClose('c2c unchanged (same scale)', ablated.c2c.data, full.c2c.data, 0)
    expectClose('c2p still reported', ablated.c2p!.data, full.c2p!.data, 0)
    expectClose('scores = c2c only', ablated.scores.data, full.c2c.data, 0)
    let diff = 0
    ablated.probs.data.forEach((p, i) => (diff = Math.max(diff, Math.abs(p - full.probs.data[i]))))
    expect(diff).toBeGreaterThan(1e-3)
    const none = model.forward({ inputIds: ids }, { components: [0], disabledTerms: ['c2c', 'c2p', 'p2c'] }).components![0]
    for (const p of none.probs.data) expect(p).toBeCloseTo(1 / 8, 6)
  })

  it('p2p toggle: p2p[i, j] = Qr[row(i−j)]·Kr[row(i−j)] / s, and s counts the extra term', () => {
    const ids = seededIds(1, 6, 50, 9)
    const plain = model.forward({ inputIds: ids }, { components: [0] })
    const withP2p = model.forward({ inputIds: ids }, { components: [0], p2p: true })
    const c = withP2p.components![0]
    expect(withP2p.scoreScale).toBeCloseTo(scoreScale(CONFIG, true), 12)
    // every term scaled by sqrt(3/4) relative to the run without p2p
    expectClose('c2c rescaled', c.c2c.data, plain.components![0].c2c.data.map((v) => v * Math.sqrt(3 / 4)), 1e-5)
    const proj = model.weights.relative[0]
    const D = CONFIG.attentionHeadSize
    const A = CONFIG.numAttentionHeads * D
    const T = 6
    for (let h = 0; h < CONFIG.numAttentionHeads; h++) {
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          const row = relativeEmbeddingRow(CONFIG, i - j)
          let dot = 0
          for (let d = 0; d < D; d++) dot += proj.query![row * A + h * D + d] * proj.key![row * A + h * D + d]
          expect(c.p2p!.data[(h * T + i) * T + j]).toBeCloseTo(dot * withP2p.scoreScale, 5)
        }
      }
    }
    const sum = c.c2c.data.map((v, i) => v + c.c2p!.data[i] + c.p2c!.data[i] + c.p2p!.data[i])
    expectClose('scores include p2p', c.scores.data, sum, 1e-5)
  })

  it('p2p needs both projections: a v1 model with c2p only refuses it', () => {
    const v1 = createSyntheticModel({ ...CONFIG, modelType: 'deberta', positionBuckets: 0, posAttType: ['c2p'], shareAttKey: false, normRelEmbedding: 'none' }, { seed: 1 })
    try {
      const before = tf.memory().numTensors
      expectLabError(() => v1.forward({ inputIds: [[1, 2, 3]] }, { p2p: true }), 'INPUT_INVALID')
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      v1.dispose()
    }
  })

  it('embedding rows: content, position, their sum, LayerNorm(sum), and the model embedding output', () => {
    const ids = [1, 7, 7, 3]
    const rows = model.embeddingRows(ids)
    expect(rows.content.shape).toEqual([4, 32])
    expectClose('content', rows.content.data, model.wordEmbeddingRows(ids).data, 0)
    expectClose('position', rows.position!.data, model.positionEmbeddingRows(4).data, 0)
    expectClose('sum', rows.sum!.data, rows.content.data.map((v, i) => v + rows.position!.data[i]), 1e-6)
    const r = model.forward({ inputIds: [ids] }, { hiddenStates: true })
    expectClose('embedding output = hidden_states.0', rows.embeddingOutput.data, r.hiddenStates![0].data, 1e-6)
    // LayerNorm(sum) rows have mean ≈ β mean and differ from the content-only output
    expect(rows.sumLayerNorm!.shape).toEqual([4, 32])
  })

  it('refuses calls after dispose', () => {
    const m = createSyntheticModel(CONFIG, { seed: 2 })
    m.dispose()
    expectLabError(() => m.forward({ inputIds: [[1]] }), 'INTERNAL')
  })
})
