// Shared body of the parity tests: a fixture model loaded from one file format on one backend must reproduce
// every golden tensor of test/fixtures/<model>/golden.safetensors within the README's tolerances.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BackendName } from '../../src/core/backend'
import { openTensorFile } from '../../src/core/checkpoint'
import type { TensorSource } from '../../src/core/checkpoint/types'
import { modelFromSource, readConfigFile } from '../../src/core/load'
import type { DebertaModel, ForwardResult } from '../../src/core/model'
import { expectClose, expectEqualInts, intRows, openGolden, shapeOf, useBackend, validPairs, validRows } from './helpers'

export const TOLERANCE = { hidden: 1e-4, attention: 1e-5, component: 1e-4, logits: 1e-4 }

export function paritySuite(dir: string, weightsFile: 'model.safetensors' | 'pytorch_model.bin', backend: BackendName): void {
  describe(`${path.basename(dir)} from ${weightsFile} on ${backend}`, () => {
    let golden: TensorSource
    let model: DebertaModel
    let result: ForwardResult
    let mask: number[][]
    let baseline = 0
    // the largest |Δ| each check saw, printed after the suite (README "Test" quotes them per backend)
    const worst: Record<string, number> = {}
    const note = (check: string, value: number): void => {
      worst[check] = Math.max(worst[check] ?? 0, value)
    }

    beforeAll(async () => {
      await useBackend(backend)
      golden = openGolden(dir)
      mask = intRows(golden, 'attention_mask')
      const source = openTensorFile(path.join(dir, weightsFile))
      try {
        model = modelFromSource(readConfigFile(path.join(dir, 'config.json')), source)
      } finally {
        source.close()
      }
      const mp = golden.readInt32('mlm.masked_positions')
      const positions: Array<[number, number]> = []
      for (let i = 0; i < mp.length; i += 2) positions.push([mp[i], mp[i + 1]])
      baseline = tf.memory().numTensors
      result = model.forward(
        { inputIds: intRows(golden, 'input_ids'), attentionMask: mask },
        { hiddenStates: true, attentions: true, components: true, mlm: { positions, plain: true, emd: true, emdStates: true } },
      )
    })

    afterAll(() => {
      model?.dispose()
      golden?.close()
      const parts = Object.entries(worst).map(([check, value]) => `${check} ${value.toExponential(2)}`)
      if (parts.length > 0) console.log(`max |Δ| ${path.basename(dir)} ${weightsFile} on ${backend}: ${parts.join(', ')}`)
    })

    it('leaves no tensors behind', () => {
      expect(tf.memory().numTensors).toBe(baseline)
    })

    it('reproduces relative_pos exactly', () => {
      expect(result.relativePos!.shape).toEqual(shapeOf(golden, 'relative_pos'))
      expectEqualInts('relative_pos', result.relativePos!.data, golden.readInt32('relative_pos'))
    })

    it('reproduces embedding_output and every hidden state on valid rows (1e-4)', () => {
      const { length: T } = result
      const H = model.config.hiddenSize
      const shape = shapeOf(golden, 'embedding_output')
      note('hidden', expectClose('embedding_output', result.hiddenStates![0].data, golden.readFloat32('embedding_output'), TOLERANCE.hidden, { shape, valid: validRows(mask, T, H) }))
      result.hiddenStates!.forEach((h, l) => {
        expect(h.shape).toEqual(shapeOf(golden, `hidden_states.${l}`))
        note('hidden', expectClose(`hidden_states.${l}`, h.data, golden.readFloat32(`hidden_states.${l}`), TOLERANCE.hidden, { shape, valid: validRows(mask, T, H) }))
      })
      // padding rows of the embedding output are exactly 0 (HF multiplies by the mask)
      const emb = result.hiddenStates![0].data
      mask.forEach((row, b) => row.forEach((m, t) => m === 0 && expect(Math.max(...emb.subarray((b * T + t) * H, (b * T + t + 1) * H).map(Math.abs))).toBe(0)))
    })

    it('reproduces every attention probability on valid entries (1e-5)', () => {
      const NH = model.config.numAttentionHeads
      result.attentions!.forEach((a, l) => {
        const shape = shapeOf(golden, `attentions.${l}`)
        expect(a.shape).toEqual(shape)
        note('attention', expectClose(`attentions.${l}`, a.data, golden.readFloat32(`attentions.${l}`), TOLERANCE.attention, { shape, valid: validPairs(mask, NH, result.length) }))
      })
    })

    it('reproduces the score components c2c / c2p / p2c at every entry (1e-4)', () => {
      let compared = 0
      for (const c of result.components!) {
        for (const term of ['c2c', 'c2p', 'p2c'] as const) {
          const name = `layer.${c.layer}.${term}`
          if (!golden.has(name)) continue
          note('components', expectClose(name, c[term]!.data, golden.readFloat32(name), TOLERANCE.component, { shape: shapeOf(golden, name) }))
          compared++
        }
      }
      expect(compared).toBeGreaterThanOrEqual(3)
    })

    it('reproduces the plain and EMD logits (1e-4)', () => {
      const mlm = result.mlm!
      expectEqualInts('mlm.masked_positions', mlm.positions.flat(), golden.readInt32('mlm.masked_positions'))
      note('plain logits', expectClose('mlm.plain_logits', mlm.plainLogits!.data, golden.readFloat32('mlm.plain_logits'), TOLERANCE.logits, { shape: shapeOf(golden, 'mlm.plain_logits') }))
      note('EMD logits', expectClose('mlm.emd_logits', mlm.emdLogits!.data, golden.readFloat32('mlm.emd_logits'), TOLERANCE.logits, { shape: shapeOf(golden, 'mlm.emd_logits') }))
    })

    it('reproduces the EMD query states and layer outputs on valid rows (1e-4)', () => {
      const states = result.mlm!.emdStates!
      const H = model.config.hiddenSize
      for (const k of [0, 1]) {
        for (const [name, arr] of [
          [`emd.query_states.${k}`, states.queryStates[k]],
          [`emd.layer_output.${k}`, states.layerOutputs[k]],
        ] as const) {
          note('EMD states', expectClose(name, arr.data, golden.readFloat32(name), TOLERANCE.hidden, { shape: shapeOf(golden, name), valid: validRows(mask, result.length, H) }))
        }
      }
    })
  })
}
