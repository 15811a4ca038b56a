// The lab's GEMM for linear layers on wasm (src/core/wasm-gemm.ts, the `gemm` kernel of src/core/wasm-kernels.wat):
// the exact kernel equals tf.matMul / tf.fused.matMul (XNNPACK) bit for bit on shapes with every tail (m % 4, n % 8,
// odd k, with and without bias, heads written to separate tensors); the fused (FMA) kernel is as close to float64 as
// XNNPACK; shares run by helper threads give the calling thread's bits; packed weights are made once, follow a
// variable's new values and are freed once their tensors are gone; gradient tapes keep tf.matMul.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs' // gradients of tf ops
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fusedText } from '../../scripts/build-wasm-kernels.mjs'
import { describeBackend, initBackend } from '../../src/core/backend'
import { hostTidy, linear, setFastKernels, wasmLinears, type Linear } from '../../src/core/ops'
import { fillNormalSeeded } from '../../src/core/synthetic'
import { setWasmGemm, setWasmGemmFused, wasmKernelsFor } from '../../src/core/wasm-kernels'
import { TEST_BACKENDS, useBackend } from './helpers'

function seeded(length: number, seed: number, scale = 1): Float32Array {
  const values = new Float32Array(length)
  fillNormalSeeded(values, seed, 1)
  for (let i = 0; i < length; i++) values[i] *= scale
  return values
}

/** y = x·W + b in float64 (x [m, k], W [k, n]) */
function reference(x: Float32Array, w: Float32Array, b: Float32Array | null, m: number, k: number, n: number): Float64Array {
  const y = new Float64Array(m * n)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = b ? b[j] : 0
      for (let q = 0; q < k; q++) sum += x[i * k + q] * w[q * n + j]
      y[i * n + j] = sum
    }
  }
  return y
}

function maxError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]))
  return worst
}

describe('wasm gemm: the fused text', () => {
  it('turns exactly the GEMM’s 8 multiply-adds into f32x4.relaxed_madd, and refuses a text without them', () => {
    const text = '(f32x4.add (local.get $c0l) (f32x4.mul (local.get $a0) (local.get $b0)))'
    expect(() => fusedText(text)).toThrow(/found 1 GEMM multiply-adds, expected 8/)
    expect(fusedText(text.repeat(8))).toBe('(f32x4.relaxed_madd (local.get $a0) (local.get $b0) (local.get $c0l))'.repeat(8))
  })
})

describe.runIf(TEST_BACKENDS.includes('wasm'))('wasm gemm on the wasm backend', () => {
  beforeAll(() => useBackend('wasm'))
  afterEach(() => {
    setWasmGemm(true)
    setWasmGemmFused(true)
    setFastKernels(true)
  })

  const kernels = () => wasmKernelsFor(tf.backend())!

  /** the Linear's result with the lab's GEMM (exact or fused) and with tf.matMul / tf.fused.matMul */
  const bothWays = (x: tf.Tensor2D, p: Linear, fused: boolean): [Float32Array, Float32Array] => {
    setWasmGemmFused(fused)
    const lab = wasmLinears(x, [p])
    expect(lab, 'the GEMM takes the linear').not.toBeNull()
    const ours = lab![0].dataSync() as Float32Array
    setWasmGemm(false)
    const theirs = linear(x, p).dataSync() as Float32Array
    setWasmGemm(true)
    return [ours, theirs]
  }

  it('exact kernel: tf.matMul’s results bit for bit for m = 1…9, 13, 130, k = 1, 3, 17, 64, n = 1…17, 24, 64, with and without bias', () => {
    hostTidy(() => {
      let cases = 0
      for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 130]) {
        for (const k of [1, 3, 17, 64]) {
          for (const n of [1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 24, 64]) {
            const x = tf.tensor2d(seeded(m * k, 1 + m + k), [m, k])
            const wT = tf.tensor2d(seeded(k * n, 2 + n, 0.1), [k, n])
            const b = (m + n) % 2 ? tf.tensor1d(seeded(n, 3 + n, 0.5)) : null
            const [ours, theirs] = bothWays(x, { wT, b }, false)
            expect(ours.length).toBe(m * n)
            if (maxError(ours, theirs) !== 0) throw new Error(`m ${m} k ${k} n ${n} bias ${b !== null}: ${maxError(ours, theirs)} from tf.matMul`)
            cases++
          }
        }
      }
      expect(cases).toBe(11 * 4 * 13)
    })
  })

  it('fused kernel (where the engine has relaxed SIMD): as close to float64 as tf.matMul, on base-sized and odd shapes', () => {
    hostTidy(() => {
      for (const [m, k, n] of [
        [1, 768, 768],
        [7, 33, 13],
        [130, 768, 3072],
        [61, 3072, 768],
      ]) {
        const xs = seeded(m * k, 5)
        const ws = seeded(k * n, 6, 0.05)
        const bs = seeded(n, 7, 0.1)
        const want = reference(xs, ws, bs, m, k, n)
        const [ours, theirs] = bothWays(tf.tensor2d(xs, [m, k]), { wT: tf.tensor2d(ws, [k, n]), b: tf.tensor1d(bs) }, true)
        const scale = want.reduce((p, v) => Math.max(p, Math.abs(v)), 0)
        const tfError = maxError(theirs, want)
        expect(maxError(ours, want), `[${m}, ${k}]·[${k}, ${n}]`).toBeLessThanOrEqual(2 * tfError + 4e-7 * scale)
      }
    })
    expect(typeof kernels().gemm.fused).toBe('boolean')
  })

  it('heads in one pass: separate outputs equal linear per head (query, key, value widths 8, 16, 64; bias or none)', () => {
    hostTidy(() => {
      for (const width of [8, 16, 64]) {
        for (const fused of [false, true]) {
          const m = 37
          const k = 48
          const x = tf.tensor2d(seeded(m * k, 11), [m, k])
          const heads: Linear[] = Array.from({ length: 5 }, (_, h) => ({
            wT: tf.tensor2d(seeded(k * width, 20 + h, 0.1), [k, width]),
            b: h === 2 ? null : tf.tensor1d(seeded(width, 30 + h)),
          }))
          setWasmGemmFused(fused)
          const together = wasmLinears(x, heads)!
          expect(together.map((t) => t.shape)).toEqual(heads.map(() => [m, width]))
          heads.forEach((p, h) => {
            const alone = wasmLinears(x, [p])![0].dataSync()
            expect(maxError(together[h].dataSync(), alone), `width ${width} head ${h} fused ${fused}`).toBe(0)
          })
        }
      }
    })
  })

  it('heads whose width is not a multiple of 8 are left to linear per head (null)', () => {
    hostTidy(() => {
      const x = tf.tensor2d(seeded(4 * 8, 1), [4, 8])
      const heads = [0, 1].map((h) => ({ wT: tf.tensor2d(seeded(8 * 12, h), [8, 12]), b: null }))
      expect(wasmLinears(x, heads)).toBeNull()
      expect(wasmLinears(x, [heads[0]])).not.toBeNull()
    })
  })

  it('helper threads (threaded build): a product split across threads gives the calling thread’s bits', async () => {
    const gemm = kernels().gemm
    const status = (await initBackend('wasm')).wasm
    if (status?.build !== 'threaded-simd' || status.threads < 2) {
      expect(gemm.helperCount).toBe(0)
      return
    }
    expect(gemm.helperCount).toBe(status.threads - 1)
    // the helpers start asynchronously: wait until they are ready, then a ≥ 2 MFLOP product is split
    const deadline = Date.now() + 10_000
    while (!gemm.helpersReady() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(gemm.helpersReady()).toBe(true)
    hostTidy(() => {
      const [m, k, n] = [67, 256, 200] // 6.9 MFLOP, 25 panels
      const x = tf.tensor2d(seeded(m * k, 41), [m, k])
      const p = { wT: tf.tensor2d(seeded(k * n, 42, 0.1), [k, n]), b: tf.tensor1d(seeded(n, 43)) }
      setWasmGemmFused(false)
      const split = wasmLinears(x, [p])![0].dataSync()
      expect(gemm.lastShares).toBe(status.threads)
      const alone = gemm.withoutHelpers(() => wasmLinears(x, [p])![0].dataSync())
      expect(gemm.lastShares).toBe(1)
      expect(maxError(split, alone)).toBe(0)
      setWasmGemm(false)
      expect(maxError(split, linear(x, p).dataSync())).toBe(0)
    })
  })

  it('packs a weight once, re-packs a variable after assign, and frees packed weights whose tensors are gone', () => {
    const gemm = kernels().gemm
    gemm.sweep()
    const before = gemm.bytesPacked
    const x = tf.tensor2d(seeded(5 * 16, 51), [5, 16])
    const initial = tf.tensor2d(seeded(16 * 24, 52), [16, 24])
    const w = tf.variable(initial)
    const p = { wT: w as unknown as tf.Tensor2D, b: null }
    const run = () => hostTidy(() => wasmLinears(x, [p])![0].dataSync() as Float32Array)
    const first = run()
    const packedOnce = gemm.bytesPacked
    expect(packedOnce).toBeGreaterThan(before)
    run()
    expect(gemm.bytesPacked).toBe(packedOnce)
    const fresh = seeded(16 * 24, 53)
    const assigned = tf.tensor2d(fresh, [16, 24])
    w.assign(assigned)
    const second = run()
    expect(maxError(second, first)).toBeGreaterThan(0)
    expect(maxError(second, reference(x.dataSync() as Float32Array, fresh, null, 5, 16, 24))).toBeLessThan(1e-4)
    w.dispose() // the variable shares its data with these two
    initial.dispose()
    assigned.dispose()
    // the next packing sweeps: both packings of the variable are gone
    const other = { wT: tf.tensor2d(seeded(16 * 8, 54), [16, 8]), b: null }
    hostTidy(() => wasmLinears(x, [other]))
    expect(gemm.bytesPacked).toBe(before + (16 + 1) * 32 + 16)
    other.wT.dispose()
    x.dispose()
  })

  it('under a gradient tape linear keeps tf.matMul (gradients flow), and the GEMM can be turned off', () => {
    hostTidy(() => {
      const x = tf.tensor2d(seeded(3 * 8, 61), [3, 8])
      const wT = tf.tensor2d(seeded(8 * 8, 62), [8, 8])
      const grad = tf.grad((w: tf.Tensor) => tf.sum(linear(x, { wT: w as tf.Tensor2D, b: null })))(wT)
      expect(grad.shape).toEqual([8, 8])
      expect(maxError(grad.dataSync(), tf.sum(x, 0).reshape([8, 1]).tile([1, 8]).dataSync())).toBeLessThan(1e-5)
      setWasmGemm(false)
      expect(wasmLinears(x, [{ wT, b: null }])).toBeNull()
    })
  })

  it('the backend line names the GEMM and whether it fuses', async () => {
    const info = await initBackend('wasm')
    expect(info.wasmGemm).toEqual({ fused: kernels().gemm.fused, helpers: kernels().gemm.helperCount })
    expect(describeBackend(info)).toMatch(info.wasmGemm!.fused ? /; lab GEMM with FMA\)$/ : /; lab GEMM\)$/)
  })
})

describe.runIf(TEST_BACKENDS.includes('cpu'))('wasm gemm elsewhere', () => {
  it('does not run on the cpu backend (wasmLinears answers null)', async () => {
    await useBackend('cpu')
    hostTidy(() => {
      const x = tf.tensor2d(seeded(2 * 8, 71), [2, 8])
      expect(wasmLinears(x, [{ wT: tf.tensor2d(seeded(64, 72), [8, 8]), b: null }])).toBeNull()
    })
  })
})
