// FLOP model and the benchmark runner (tiny preset, so it stays fast).
import { beforeAll, describe, expect, it } from 'vitest'
import { BENCH_WARMUP_MAX_RUNS, BENCH_WARMUP_MIN_RUNS, BENCH_WARMUP_MS } from '../../src/common/api'
import { measureMatmulRate, runBenchmark, timeRuns } from '../../src/core/bench'
import { DEBERTA_V3_BASE, DEBERTA_V3_TINY } from '../../src/core/config'
import { attentionFlopTerms, layerFlopTerms, lmHeadFlops, modelFlopTerms, sumFlops } from '../../src/core/flops'
import { useBackend } from './helpers'

describe('flops', () => {
  it('counts 2·m·n·k per matmul for the disentangled attention of base at T = 128', () => {
    const T = 128
    const terms = Object.fromEntries(attentionFlopTerms(DEBERTA_V3_BASE, T).map((t) => [t.name, t.flops]))
    expect(terms).toEqual({
      qkv: 3 * 2 * T * 768 * 768,
      c2c: 12 * 2 * T * T * 64,
      c2p: 12 * 2 * T * (2 * T - 1) * 64,
      p2c: 12 * 2 * (2 * T - 1) * T * 64,
      context: 12 * 2 * T * T * 64,
      out: 2 * T * 768 * 768,
    })
    const standard = attentionFlopTerms(DEBERTA_V3_BASE, T, 'standard').map((t) => t.name)
    expect(standard).toEqual(['qkv', 'c2c', 'context', 'out'])
    expect(sumFlops(layerFlopTerms(DEBERTA_V3_BASE, T))).toBe(sumFlops(attentionFlopTerms(DEBERTA_V3_BASE, T)) + 2 * 2 * T * 768 * 3072)
    expect(sumFlops(modelFlopTerms(DEBERTA_V3_BASE, T))).toBe(12 * sumFlops(layerFlopTerms(DEBERTA_V3_BASE, T)))
    expect(lmHeadFlops(DEBERTA_V3_BASE, 2)).toBe(2 * 2 * 768 * 768 + 2 * 2 * 768 * 128100)
  })
})

describe('runBenchmark', () => {
  beforeAll(() => useBackend('wasm'))

  it('emits one case per length × part × variant with consistent numbers', async () => {
    const seen: string[] = []
    const results = await runBenchmark({
      config: DEBERTA_V3_TINY,
      preset: 'tiny',
      seqs: [8, 16],
      parts: ['matmul', 'attention', 'layer', 'model'],
      variants: ['disentangled', 'standard'],
      repeats: 1,
      onCase: (r) => void seen.push(`${r.part}/${r.variant}/${r.seq}`),
    })
    expect(seen).toHaveLength(2 * (1 + 3 * 2))
    for (const r of results) {
      // the matmul reference is always timed at least 5 times (it sets the FLOP model's rate)
      expect(r).toMatchObject({ backend: 'wasm', preset: 'tiny', batch: 1, repeats: r.part === 'matmul' ? 5 : 1 })
      expect(r.medianMs).toBeGreaterThan(0)
      expect(r.minMs).toBeLessThanOrEqual(r.medianMs)
      expect(r.maxMs).toBeGreaterThanOrEqual(r.medianMs)
      expect(r.gflops).toBeCloseTo(r.flops / (r.medianMs * 1e6), 9)
      if (r.part !== 'matmul') expect(r.predictedMs).toBeGreaterThan(0)
    }
    const rate = await measureMatmulRate(DEBERTA_V3_TINY, 16, 1)
    expect(rate.part).toBe('matmul')
    expect(rate.flops).toBe(2 * 16 * 32 * (4 * 32 + 2 * 64))
  })

  it('can be cancelled between runs', async () => {
    let calls = 0
    await expect(
      runBenchmark({
        config: DEBERTA_V3_TINY,
        preset: 'tiny',
        seqs: [8],
        parts: ['attention'],
        repeats: 3,
        checkCancelled: () => {
          if (++calls > 2) throw new Error('cancelled')
        },
      }),
    ).rejects.toThrow('cancelled')
  })
})

describe('warm-up before the timed runs', () => {
  /** a run that takes `ms` of wall time */
  const busy = (ms: number) => () => {
    const until = performance.now() + ms
    while (performance.now() < until) {
      // spin
    }
  }

  it(`warms up for at least ${BENCH_WARMUP_MIN_RUNS} runs and warmupMs, at most ${BENCH_WARMUP_MAX_RUNS} runs, and reports the first run`, async () => {
    let runs = 0
    const counted = (inner: () => void) => () => {
      runs++
      inner()
    }
    const slow = await timeRuns(counted(busy(30)), 3, { warmupMs: 100 })
    expect(slow.warmups).toBe(5) // the first (cold) run does not count; then 30, 60, 90 < 100 ms, the fifth reaches it
    expect(slow.times).toHaveLength(3)
    expect(runs).toBe(8)
    expect(slow.firstMs).toBeGreaterThanOrEqual(30)
    expect((await timeRuns(busy(1), 1, { warmupMs: 60_000 })).warmups).toBe(BENCH_WARMUP_MAX_RUNS)
    expect((await timeRuns(busy(1), 1, { warmupMs: 0 })).warmups).toBe(BENCH_WARMUP_MIN_RUNS)
    expect(BENCH_WARMUP_MS).toBeGreaterThan(0)
  })

  it('can be cancelled during the warm-up', async () => {
    let checks = 0
    await expect(
      timeRuns(busy(5), 1, {
        warmupMs: 60_000,
        checkCancelled: () => {
          if (++checks === 3) throw new Error('cancelled')
        },
      }),
    ).rejects.toThrow('cancelled')
    expect(checks).toBe(3)
  })

  it('reports the warm-up of each case', async () => {
    useBackend('wasm')
    const [matmul, model] = await runBenchmark({ config: DEBERTA_V3_TINY, preset: 'tiny', seqs: [8], parts: ['matmul', 'model'], repeats: 1, warmupMs: 0 })
    for (const r of [matmul, model]) {
      expect(r.warmups).toBe(BENCH_WARMUP_MIN_RUNS)
      expect(r.firstMs).toBeGreaterThan(0)
    }
  })
})
