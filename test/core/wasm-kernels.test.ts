// The lab's wasm kernels (src/core/wasm-kernels.wat): the committed binaries are the text's, they load on the wasm
// backend of the run (threaded SIMD, or single-threaded with DEBERTA_LAB_THREADS=1), and each equals the path it
// replaces: GELU the A&S erf of the cpu kernel and tf-ops' erf form, the rel-shifts the JS loops, bit for bit,
// LayerNorm tf.moments' arithmetic (both checked against float64).
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs' // registers the gradients of tf ops (tfjs-core alone has none)
import { readFileSync } from 'node:fs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { compileWasmKernels, OUT_FILE, renderBinaryModule } from '../../scripts/build-wasm-kernels.mjs'
import { geluErf, geluFolded, hostTidy, layerNorm, layerNormOps, relShiftColumns, relShiftRows, setFastKernels } from '../../src/core/ops'
import { describeBackend, initBackend } from '../../src/core/backend'
import { compactColumns } from '../../src/core/relative-tables'
import { setWasmKernels, wasmKernelsActive, wasmKernelsStatus } from '../../src/core/wasm-kernels'
import { expectClose, TEST_BACKENDS, useBackend } from './helpers'

describe('wasm kernels: the binaries', () => {
  it('src/core/wasm-kernels-binary.ts is what scripts/build-wasm-kernels.mjs makes of src/core/wasm-kernels.wat (rerun it after editing the .wat)', async () => {
    const binaries = await compileWasmKernels()
    expect(readFileSync(OUT_FILE, 'utf8')).toBe(renderBinaryModule(binaries))
  })

  it('a text without the shared-memory import is refused (the plain form is made by replacing it)', async () => {
    await expect(compileWasmKernels('(module)')).rejects.toThrow(/must import its memory/)
  })
})

describe.runIf(TEST_BACKENDS.includes('wasm'))('wasm kernels on the wasm backend', () => {
  beforeAll(() => useBackend('wasm'))
  afterEach(() => {
    setWasmKernels(true)
    setFastKernels(true)
  })

  it('load on the wasm backend of this run, and the backend line does not say they are off', async () => {
    expect(wasmKernelsActive()).toBe(true)
    expect(wasmKernelsStatus()).toBeNull()
    const info = await initBackend('wasm')
    expect(info.wasmKernelsOff).toBeUndefined()
    expect(describeBackend(info)).not.toMatch(/kernels off/)
  })

  /** values of `run` with the wasm kernels, then with the JS loops (wasm kernels off), then with tf ops */
  const threeWays = (run: () => tf.Tensor): [Float32Array, Float32Array, Float32Array] => {
    const wasm = run().dataSync() as Float32Array
    setWasmKernels(false)
    const js = run().dataSync() as Float32Array
    setWasmKernels(true)
    setFastKernels(false)
    const ops = run().dataSync() as Float32Array
    setFastKernels(true)
    return [wasm, js, ops]
  }

  it('GELU: within 1e-6 of the erf form on [−8, 8] for every length mod 4 (the last 1–3 values one by one), and its special values', () => {
    hostTidy(() => {
      for (const n of [1, 2, 3, 4, 5, 7, 1601, 4099]) {
        const xs = Float32Array.from({ length: n }, (_, i) => -8 + (16 * i) / Math.max(1, n - 1))
        const x = tf.tensor1d(xs)
        const [wasm, js, ops] = threeWays(() => geluErf(x))
        expectClose(`gelu n = ${n}, wasm vs tf ops`, wasm, ops, 1e-6)
        expectClose(`gelu n = ${n}, wasm vs JS (A&S)`, wasm, js, 1e-6)
        const u = tf.mul(x, Math.SQRT1_2)
        const [folded, , foldedOps] = threeWays(() => geluFolded(u))
        expectClose(`folded n = ${n}`, folded, foldedOps, 2e-6)
      }
      const special = tf.tensor1d([0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30, 3.4e38, -3.4e38, 87, -87, 1e5])
      const [wasm, , ops] = threeWays(() => geluErf(special))
      ops.forEach((v, i) => {
        if (!Number.isFinite(v)) expect(wasm[i], `special ${i}`).toBe(v) // NaN, ±∞ as the erf form gives them
        else expect(Math.abs(wasm[i] - v), `special ${i}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)))
      })
    })
  })

  it('GELU output has the input shape and leaves the input untouched; an empty tensor gives an empty one', () => {
    hostTidy(() => {
      const x = tf.randomNormal([3, 5, 7], 0, 3, 'float32', 7)
      const before = Array.from(x.dataSync())
      const y = geluErf(x)
      expect(y.shape).toEqual([3, 5, 7])
      expect(Array.from(x.dataSync())).toEqual(before)
      expect(geluErf(tf.zeros([0, 4])).shape).toEqual([0, 4])
    })
  })

  it('GELU gradient (a kernel with its own gradient) equals the gradient of the erf form, for both scalings', () => {
    hostTidy(() => {
      const x = tf.tensor1d(Float32Array.from({ length: 401 }, (_, i) => -5 + i / 40))
      const viaKernel = tf.grad((v: tf.Tensor) => geluErf(v))(x).dataSync()
      const viaFolded = tf.grad((v: tf.Tensor) => geluFolded(v))(x).dataSync()
      setFastKernels(false)
      const viaOps = tf.grad((v: tf.Tensor) => geluErf(v))(x).dataSync()
      const foldedOps = tf.grad((v: tf.Tensor) => geluFolded(v))(x).dataSync()
      expectClose('d gelu', viaKernel, viaOps, 1e-5)
      expectClose('d folded', viaFolded, foldedOps, 1e-5)
    })
  })

  it('rel-shifts, with and without a distance map, equal the JS loops and the tf-ops fallback bit for bit', () => {
    hostTidy(() => {
      for (const T of [1, 2, 5, 17, 64]) {
        const W = 2 * T - 1
        const x = tf.randomNormal([T, W], 0, 1, 'float32', T) as tf.Tensor2D
        const y = tf.randomNormal([W, T], 0, 1, 'float32', T + 1) as tf.Tensor2D
        for (const [name, run] of [
          ['rows', () => relShiftRows(x)],
          ['columns', () => relShiftColumns(y)],
        ] as const) {
          const [wasm, js, ops] = threeWays(run)
          expect(Array.from(wasm), `${name} T = ${T} vs JS`).toEqual(Array.from(js))
          expect(Array.from(wasm), `${name} T = ${T} vs ops`).toEqual(Array.from(ops))
        }
        // distances clipped to ±3 (v1's span): the tables hold 7 distinct rows
        const rowsDesc = Int32Array.from({ length: W }, (_, m) => Math.max(-3, Math.min(3, T - 1 - m)) + 3)
        const compact = compactColumns(rowsDesc)
        if (!compact) continue
        const R = compact.rows.length
        const xc = tf.randomNormal([T, R], 0, 1, 'float32', 3) as tf.Tensor2D
        const yc = tf.randomNormal([R, T], 0, 1, 'float32', 4) as tf.Tensor2D
        for (const [name, run] of [
          ['rows', () => relShiftRows(xc, compact.columnsDesc)],
          ['columns', () => relShiftColumns(yc, compact.rowsAsc)],
        ] as const) {
          const [wasm, js, ops] = threeWays(run)
          expect(Array.from(wasm), `${name} map T = ${T} vs JS`).toEqual(Array.from(js))
          expect(Array.from(wasm), `${name} map T = ${T} vs ops`).toEqual(Array.from(ops))
        }
      }
    })
  })

  it('LayerNorm: within float32 rounding of a float64 LayerNorm for any width (the last width mod 4 one by one), as close as the tf-ops path', () => {
    hostTidy(() => {
      for (const [rows, width] of [[1, 1], [3, 2], [2, 3], [4, 5], [5, 8], [7, 13], [16, 768]]) {
        const x = tf.add(tf.mul(tf.randomNormal([rows, width], 0, 1, 'float32', width), 4), 100) as tf.Tensor2D // offset rows
        const gamma = tf.randomNormal([width], 1, 0.5, 'float32', 1) as tf.Tensor1D
        const beta = tf.randomNormal([width], 0, 0.5, 'float32', 2) as tf.Tensor1D
        const eps = 1e-7
        const xs = x.dataSync()
        const gs = gamma.dataSync()
        const bs = beta.dataSync()
        const exact = new Float64Array(rows * width)
        for (let r = 0; r < rows; r++) {
          let mean = 0
          for (let c = 0; c < width; c++) mean += xs[r * width + c] / width
          let variance = 0
          for (let c = 0; c < width; c++) variance += (xs[r * width + c] - mean) ** 2 / width
          for (let c = 0; c < width; c++) exact[r * width + c] = ((xs[r * width + c] - mean) / Math.sqrt(variance + eps)) * gs[c] + bs[c]
        }
        const got = layerNorm(x, { gamma, beta }, eps)
        expect(got.shape).toEqual([rows, width])
        const opsWorst = expectClose(`ops ${rows}×${width}`, layerNormOps(x, { gamma, beta }, eps).dataSync(), exact, 1e-3)
        const worst = expectClose(`kernel ${rows}×${width}`, got.dataSync(), exact, 1e-3)
        expect(worst, `${rows}×${width}: kernel ${worst} vs ops ${opsWorst}`).toBeLessThanOrEqual(Math.max(2 * opsWorst, 1e-5))
      }
    })
  })

  it('LayerNorm: the kernel runs outside gradient tapes only (it has no gradient); gamma of the wrong width is refused', () => {
    hostTidy(() => {
      const x = tf.randomNormal([3, 8], 0, 1, 'float32', 5) as tf.Tensor2D
      const gamma = tf.ones([8]) as tf.Tensor1D
      const beta = tf.zeros([8]) as tf.Tensor1D
      const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(layerNorm(v as tf.Tensor2D, { gamma, beta }, 1e-5), tf.range(0, 24).reshape([3, 8]))))(x)
      const gradOps = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(layerNormOps(v as tf.Tensor2D, { gamma, beta }, 1e-5), tf.range(0, 24).reshape([3, 8]))))(x)
      expectClose('grad', grad.dataSync(), gradOps.dataSync(), 1e-6)
      expect(() => tf.engine().runKernel('DebertaLabLayerNorm', { x, gamma: tf.ones([7]), beta }, { eps: 1e-5 })).toThrow(/do not match width/)
    })
  })

  it('a map that points outside the table or a table of the wrong width is refused before any wasm runs', () => {
    hostTidy(() => {
      const x = tf.zeros([4, 5]) as tf.Tensor2D
      expect(() => relShiftRows(x, Int32Array.from([0, 1, 2, 3, 4, 5, 4]))).toThrow(/outside/)
      expect(() => relShiftRows(x)).toThrow(/not \[T, 2T − 1\]/)
    })
  })
})

// every backend of the run: the kernels are wasm-only, the others never bind them
for (const backend of TEST_BACKENDS.filter((name) => name !== 'wasm')) {
  describe(`wasm kernels on ${backend}`, () => {
    beforeAll(() => useBackend(backend))
    it('are not active', () => {
      expect(wasmKernelsActive()).toBe(false)
    })
  })
}
