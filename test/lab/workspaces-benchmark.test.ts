import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { availableBackends } from '../../src/common/api'
import { benchmark, expectedCases, toBenchmarkCase } from '../../src/lab/workspaces/benchmark'
import { testContext } from './workspaces-helpers'

describe('benchmark job', () => {
  it('times every requested case of the tiny preset, reports progress, and predicts from the matmul rate', async () => {
    const context = await testContext()
    const request = { preset: 'tiny' as const, seqs: [16, 8], parts: ['matmul' as const, 'attention' as const], variants: ['disentangled' as const, 'standard' as const], repeats: 1 }
    const result = await benchmark(context, request)
    expect(result.preset).toBe('tiny')
    expect(result.cases).toHaveLength(expectedCases(request))
    expect(result.cases.map((c) => `${c.part}/${c.variant}/${c.seq}`)).toEqual([
      'matmul/disentangled/8',
      'attention/disentangled/8',
      'attention/standard/8',
      'matmul/disentangled/16',
      'attention/disentangled/16',
      'attention/standard/16',
    ])
    for (const c of result.cases) {
      expect(c.medianMs).toBeGreaterThan(0)
      expect(Number.isFinite(c.predictedMs)).toBe(true)
      expect(c.gflops).toBeCloseTo(c.flops / (c.medianMs * 1e6), 9)
    }
    // prediction = FLOPs at the matmul rate measured for the same length
    const rate = result.cases[0].gflops
    expect(result.cases[1].predictedMs).toBeCloseTo(result.cases[1].flops / (rate * 1e6), 6)
    expect(context.fractions.at(-1)).toBe(1)
  })

  it('stops when cancelled and refuses an unknown preset', async () => {
    const context = await testContext()
    context.cancel()
    await expect(benchmark(context, { preset: 'tiny', seqs: [8], parts: ['attention'], variants: ['disentangled'], repeats: 2 })).rejects.toMatchObject({ code: 'CANCELLED' })
    await expect(benchmark(await testContext(), { preset: 'huge' as never, seqs: [8], parts: ['attention'], variants: ['disentangled'], repeats: 1 })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    expect(toBenchmarkCase({ backend: 'cpu', preset: 'x', part: 'matmul', variant: 'disentangled', seq: 8, batch: 1, repeats: 1, medianMs: 2, minMs: 1, maxMs: 3, flops: 10, gflops: 5, warmups: 2, firstMs: 4 }).predictedMs).toBe(2)
  })

  it("runs on another backend when asked, records it, and puts the lab's backend back", async () => {
    const context = await testContext() // the lab's backend here: cpu
    const request = { preset: 'tiny' as const, seqs: [8], parts: ['attention' as const], variants: ['disentangled' as const], repeats: 1 }
    const onWasm = await benchmark(context, { ...request, backend: 'wasm' })
    expect(onWasm.backend).toBe('wasm')
    expect(onWasm.cases).toHaveLength(1)
    expect(tf.getBackend()).toBe('cpu')
    expect((await benchmark(context, request)).backend).toBe('cpu')
  })

  it('offers the selected backend and the slower ones', () => {
    expect(availableBackends('tensorflow')).toEqual(['tensorflow', 'wasm', 'cpu'])
    expect(availableBackends('wasm')).toEqual(['wasm', 'cpu'])
    expect(availableBackends('cpu')).toEqual(['cpu'])
    expect(availableBackends('webgl')).toEqual([])
  })
})
