// The custom kernels (rel-shift, row gather, cpu GELU) equal their tf-ops fallbacks on every backend of the run
// (tensorflow when tfjs-node is installed, wasm, cpu; the kernels are registered for wasm/cpu only, so on tensorflow
// the fallback is what runs and is checked against the expected values), and the padding bias / scopes behave.
import * as tf from '@tensorflow/tfjs-core'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FLOAT32_MIN } from '../../src/core/config'
import {
  activation,
  gatherRows,
  geluErf,
  geluFolded,
  hostTidy,
  linear,
  paddingBias,
  relShiftColumns,
  relShiftColumnsOps,
  relShiftRows,
  relShiftRowsOps,
  setFastKernels,
} from '../../src/core/ops'
import { compactColumns } from '../../src/core/relative-tables'
import { TRAINING_PRODUCTS } from '../../src/core/train/model'
import { expectClose, TEST_BACKENDS, useBackend } from './helpers'

const ramp = (rows: number, cols: number): tf.Tensor2D => tf.tensor2d(Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5), [rows, cols])

for (const backend of TEST_BACKENDS) {
  describe(`kernels on ${backend}`, () => {
    beforeAll(() => useBackend(backend))
    afterEach(() => setFastKernels(true))

    it('linear: a weight stored [out, in] (outIn) gives the same product as one stored [in, out], with and without bias, also in training', () => {
      hostTidy(() => {
        const x = tf.sin(ramp(5, 7)) as tf.Tensor2D
        const wT = tf.cos(ramp(7, 3)) as tf.Tensor2D // [in, out]
        const w = tf.transpose(wT) as tf.Tensor2D // [out, in]
        const b = tf.tensor1d([0.5, -1, 2])
        for (const bias of [b, null]) {
          const expected = linear(x, { wT, b: bias }).dataSync()
          expectClose(`outIn, bias ${bias !== null}`, linear(x, { wT: w, b: bias, outIn: true }).dataSync(), expected, 1e-6)
          expectClose(`training, bias ${bias !== null}`, TRAINING_PRODUCTS.linear(x, { wT: w, b: bias, outIn: true }).dataSync(), expected, 1e-6)
        }
        // not the same numbers when the flag is ignored: [7, 3]ᵀ is not [3, 7]
        expect(() => linear(x, { wT: w, b: null }).dataSync()).toThrow()
      })
    })

    it('relShiftRows: out[i, j] = x[i, T−1−i+j], kernel = reshape/slice fallback', () => {
      for (const T of [1, 2, 5, 17]) {
        const before = tf.memory().numTensors
        hostTidy(() => {
          const x = ramp(T, 2 * T - 1)
          const fast = relShiftRows(x).dataSync()
          const slow = relShiftRowsOps(x).dataSync()
          const data = x.dataSync()
          const expected = new Float32Array(T * T)
          for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) expected[i * T + j] = data[i * (2 * T - 1) + T - 1 - i + j]
          expect(Array.from(fast)).toEqual(Array.from(expected))
          expect(Array.from(slow)).toEqual(Array.from(expected))
        })
        expect(tf.memory().numTensors).toBe(before)
      }
    })

    it('relShiftColumns: out[i, j] = x[T−1+i−j, j], kernel = transpose/slice fallback', () => {
      for (const T of [1, 3, 16]) {
        hostTidy(() => {
          const x = ramp(2 * T - 1, T)
          const data = x.dataSync()
          const expected = new Float32Array(T * T)
          for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) expected[i * T + j] = data[(T - 1 + i - j) * T + j]
          expect(Array.from(relShiftColumns(x).dataSync())).toEqual(Array.from(expected))
          expect(Array.from(relShiftColumnsOps(x).dataSync())).toEqual(Array.from(expected))
        })
      }
    })

    it('rel-shifts through a distance map (tables of distinct rows): kernel = gather + rel-shift fallback = by hand; a bad map is refused', () => {
      for (const T of [1, 4, 9]) {
        hostTidy(() => {
          // distances clipped to ±2 as v1 does: rows of δ = 2 … −2, descending
          const W = 2 * T - 1
          const rowsDesc = Int32Array.from({ length: W }, (_, m) => Math.max(-2, Math.min(2, T - 1 - m)) + 2)
          const compact = compactColumns(rowsDesc)
          if (T <= 3) {
            expect(compact).toBeNull() // every distance its own row
            return
          }
          const R = compact!.rows.length
          expect(R).toBe(5)
          expect(Array.from(compact!.rows)).toEqual([4, 3, 2, 1, 0])
          const x = tf.sin(ramp(T, R)) as tf.Tensor2D // [T, R']: column c ↔ row compact.rows[c]
          const y = tf.cos(ramp(R, T)) as tf.Tensor2D // [R', T]: row r ↔ row compact.rows[R' − 1 − r] (ascending)
          const xs = x.dataSync()
          const ys = y.dataSync()
          const rows = new Float32Array(T * T)
          const cols = new Float32Array(T * T)
          for (let i = 0; i < T; i++) {
            for (let j = 0; j < T; j++) {
              const row = Math.max(-2, Math.min(2, i - j)) + 2 // rel-embedding row of δ = i − j
              rows[i * T + j] = xs[i * R + compact!.rows.indexOf(row)]
              cols[i * T + j] = ys[(R - 1 - compact!.rows.indexOf(row)) * T + j]
            }
          }
          for (const fast of [true, false]) {
            setFastKernels(fast)
            expect(Array.from(relShiftRows(x, compact!.columnsDesc).dataSync()), `rows, fast ${fast}`).toEqual(Array.from(rows))
            expect(Array.from(relShiftColumns(y, compact!.rowsAsc).dataSync()), `columns, fast ${fast}`).toEqual(Array.from(cols))
          }
          setFastKernels(true)
          if (backend !== 'tensorflow') {
            expect(() => relShiftRows(x, compact!.columnsDesc.subarray(1))).toThrow(/map has/)
            expect(() => relShiftRows(x, Int32Array.from(compact!.columnsDesc, (c) => c + 1))).toThrow(/outside/)
          }
        })
      }
    })

    it('gatherRows equals tf.gather (and the fallback)', () => {
      hostTidy(() => {
        const table = ramp(10, 3)
        const ids = [3, 0, 9, 3]
        const expected = Array.from(tf.gather(table, tf.tensor1d(ids, 'int32')).dataSync())
        expect(Array.from(gatherRows(table, ids).dataSync())).toEqual(expected)
        setFastKernels(false)
        expect(Array.from(gatherRows(table, ids).dataSync())).toEqual(expected)
      })
    })

    it('GELU with its constants folded into the weights: geluFolded(x/√2)/√2 = gelu(x); geluErf = the erf form written out', () => {
      hostTidy(() => {
        const xs = Float32Array.from({ length: 1601 }, (_, i) => -8 + i / 100)
        const x = tf.tensor1d(xs)
        const erfForm = tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)).dataSync()
        setFastKernels(false)
        expectClose('geluErf vs 0.5·x·(1 + erf(x/√2))', geluErf(x).dataSync(), erfForm, 1e-6)
        const folded = tf.mul(geluFolded(tf.mul(x, Math.SQRT1_2)), Math.SQRT1_2).dataSync()
        expectClose('folded vs erf form', folded, erfForm, 2e-6)
      })
    })

    it('exact GELU: 0.5·x·(1 + erf(x/√2)) within 1e-6 on [−8, 8]', () => {
      hostTidy(() => {
        const xs = Float32Array.from({ length: 1601 }, (_, i) => -8 + i / 100)
        const x = tf.tensor1d(xs)
        const got = geluErf(x).dataSync()
        setFastKernels(false)
        const ops = activation(x, 'gelu').dataSync()
        expectClose('gelu kernel vs ops', got, ops, 1e-6)
        expect(got[800]).toBe(0) // gelu(0)
        expect(got[1600]).toBeCloseTo(8, 5)
        expect(Math.abs(got[0])).toBeLessThan(1e-6)
      })
    })
  })
}

describe('paddingBias', () => {
  beforeAll(() => useBackend('wasm'))
  it('is null without padding; 0 on valid pairs and float32 min elsewhere', () => {
    expect(paddingBias([1, 1, 1])).toBeNull()
    hostTidy(() => {
      const bias = paddingBias([1, 1, 0])!.dataSync()
      const min = Math.fround(FLOAT32_MIN)
      expect(Array.from(bias)).toEqual([0, 0, min, 0, 0, min, min, min, min])
      const keysOnly = paddingBias([1, 1, 0], true)!.dataSync()
      expect(Array.from(keysOnly)).toEqual([0, 0, min, 0, 0, min, 0, 0, min])
    })
  })

  it('hostTidy disposes everything, also when the function throws', () => {
    const before = tf.memory().numTensors
    expect(() =>
      hostTidy(() => {
        tf.ones([3])
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(tf.memory().numTensors).toBe(before)
  })
})
