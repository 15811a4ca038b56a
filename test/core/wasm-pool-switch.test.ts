// The per-op pool switch of the threaded wasm backend (src/core/wasm-pool-switch.ts): reading the address
// get_threads_count() loads from a wasm binary, and which kernel calls are big enough for the pool. That the
// switch works in the real build is checked by test/core/wasm-threads.test.ts (its probe).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { kernelWantsPool, loadedAddressOfExport, POOL_MIN_ELEMENTS, POOL_MIN_MATMUL_FLOPS } from '../../src/core/wasm-pool-switch'

const require = createRequire(import.meta.url)

/** (import "m" "g" (func)) (memory 1) (func (export "f") (result i32) (i32.load offset=4 (i32.const 100))) */
const HANDMADE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x00, // types: () -> i32, () -> ()
  0x02, 0x07, 0x01, 0x01, 0x6d, 0x01, 0x67, 0x00, 0x01, // import m.g: func of type 1
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory, 1 page
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x01, // export "f" = function 1 (after the import)
  0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0xe4, 0x00, 0x28, 0x02, 0x04, 0x0b, // body: i32.const 100; i32.load align=2 offset=4
])

const tensor = (shape: number[]) => ({ shape, dtype: 'float32' as const, dataId: {} })

describe('the address a wasm export loads', () => {
  it('is i32.const + the load offset in the exported function\'s body (imports counted in the index)', () => {
    expect((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(HANDMADE)).toBe(true)
    expect(loadedAddressOfExport(HANDMADE, 'f')).toBe(104)
    expect(loadedAddressOfExport(HANDMADE, 'missing')).toBeUndefined()
  })

  it('is found, word-aligned, in tfjs-backend-wasm 4.22\'s threaded build', () => {
    const binary = readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm'))
    const address = loadedAddressOfExport(binary, 'get_threads_count')
    expect(address).toBeGreaterThan(0)
    expect(address! % 4).toBe(0)
  })
})

describe('which kernel calls use the pool', () => {
  it('matmuls from POOL_MIN_MATMUL_FLOPS on, counting batch and transposes', () => {
    expect(POOL_MIN_MATMUL_FLOPS).toBe(2e6)
    expect(kernelWantsPool('BatchMatMul', { a: tensor([64, 64]), b: tensor([64, 64]) }, {})).toBe(false) // 0.5 MFLOP
    expect(kernelWantsPool('BatchMatMul', { a: tensor([100, 64]), b: tensor([64, 128]) }, {})).toBe(false) // 1.6 MFLOP
    expect(kernelWantsPool('BatchMatMul', { a: tensor([128, 64]), b: tensor([64, 128]) }, {})).toBe(true) // 2.1 MFLOP: base's c2c at T = 128
    expect(kernelWantsPool('BatchMatMul', { a: tensor([128, 128]), b: tensor([128, 128]) }, {})).toBe(true) // 4.2 MFLOP
    expect(kernelWantsPool('_FusedMatMul', { a: tensor([128, 768]), b: tensor([768, 3072]), bias: tensor([3072]) }, {})).toBe(true)
    expect(kernelWantsPool('BatchMatMul', { a: tensor([8, 64, 64]), b: tensor([8, 64, 64]) }, {})).toBe(true) // 8 × 0.5 MFLOP
    // aᵀ·bᵀ with a [2, 1000], b [1000, 2]: M = N = 1000, K = 2 → 4 MFLOP (without the transposes: 8 kFLOP)
    expect(kernelWantsPool('BatchMatMul', { a: tensor([2, 1000]), b: tensor([1000, 2]) }, { transposeA: true, transposeB: true })).toBe(true)
    expect(kernelWantsPool('BatchMatMul', { a: tensor([1000, 2]), b: tensor([2, 1000]) }, {})).toBe(true)
    expect(kernelWantsPool('BatchMatMul', { a: tensor([2, 1000]), b: tensor([1000, 2]) }, {})).toBe(false) // 8 kFLOP
  })

  it('other kernels when an input has POOL_MIN_ELEMENTS elements or more', () => {
    expect(POOL_MIN_ELEMENTS).toBe(128 * 256)
    expect(kernelWantsPool('Add', { a: tensor([128, 256]), b: tensor([128, 256]) }, {})).toBe(true)
    expect(kernelWantsPool('Add', { a: tensor([128, 255]), b: tensor([1]) }, {})).toBe(false)
    expect(kernelWantsPool('Softmax', { logits: tensor([4, POOL_MIN_ELEMENTS / 4]) }, {})).toBe(true)
  })
})
