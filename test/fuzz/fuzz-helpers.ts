// Seeded, time-bounded fuzzing: every mutated input must either load or throw a LabError with a known code —
// never a TypeError/RangeError, a hang or an exhausted heap.
import { expect } from 'vitest'
import { ERROR_CODES, LabError } from '../../src/common/errors'

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed and index. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]
export const int = (random: () => number, below: number): number => Math.floor(random() * below)

/** Flips 1–4 random bytes (or sets them to boundary values) in a copy. */
export function flipBytes(random: () => number, data: Uint8Array, from = 0, to = data.length): Uint8Array {
  const out = data.slice()
  const n = 1 + int(random, 4)
  for (let i = 0; i < n && to > from; i++) {
    const at = from + int(random, to - from)
    out[at] = pick(random, [0x00, 0xff, 0x7f, 0x80, out[at] ^ (1 << int(random, 8)), int(random, 256)])
  }
  return out
}

/** Odd JSON values to put where a field was. */
export function oddValue(random: () => number): unknown {
  return pick(random, [
    null,
    true,
    -1,
    0,
    1.5,
    2 ** 53,
    1e308,
    -0,
    '',
    'x',
    '\u0000',
    '(a+)+$',
    [],
    [1, 2, 3],
    [-1],
    [[[]]],
    {},
    { type: 'Sequence' },
    { __proto__: 1 },
    'A'.repeat(1000),
    Array.from({ length: 50 }, (_, i) => i),
  ])
}

/** Replaces, deletes or adds one field somewhere in a JSON value (in place); returns the value. */
export function mutateJson(random: () => number, value: unknown): unknown {
  const containers: Array<Record<string, unknown> | unknown[]> = []
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12 || v === null || typeof v !== 'object') return
    containers.push(v as Record<string, unknown>)
    const children = Array.isArray(v) ? v.slice(0, 20) : Object.values(v).slice(0, 40)
    for (const c of children) walk(c, depth + 1)
  }
  walk(value, 0)
  if (containers.length === 0) return oddValue(random)
  const target = pick(random, containers)
  if (Array.isArray(target)) {
    const action = int(random, 3)
    if (target.length === 0 || action === 0) target.push(oddValue(random))
    else if (action === 1) target.splice(int(random, target.length), 1)
    else target[int(random, target.length)] = oddValue(random)
  } else {
    const keys = Object.keys(target)
    const action = int(random, 3)
    if (keys.length === 0 || action === 0) target[pick(random, ['type', 'vocab', 'merges', 'pattern', 'id', 'content', 'size', 'shape', 'extra'])] = oddValue(random)
    else if (action === 1) delete target[pick(random, keys)]
    else target[pick(random, keys)] = oddValue(random)
  }
  return value
}

const KNOWN = new Set<string>(ERROR_CODES)

/**
 * Runs `attempt` on generated cases until `budgetMs` has passed (at least minCases); each must succeed or
 * throw a LabError whose code is in `allowed` (INTERNAL is never allowed). Returns how many ran.
 */
export async function fuzz(name: string, options: { seed: number; budgetMs: number; minCases?: number; allowed: readonly string[] }, attempt: (random: () => number, index: number) => unknown): Promise<number> {
  // FUZZ_SEED=n explores other inputs (the default seeds keep the suite deterministic); FUZZ_BUDGET_MS lengthens runs.
  const seed = process.env.FUZZ_SEED === undefined ? options.seed : options.seed ^ Number(process.env.FUZZ_SEED)
  const budgetMs = process.env.FUZZ_BUDGET_MS === undefined ? options.budgetMs : Number(process.env.FUZZ_BUDGET_MS)
  const random = rng(seed)
  const start = performance.now()
  let index = 0
  const seen = new Map<string, number>()
  while (performance.now() - start < budgetMs || index < (options.minCases ?? 20)) {
    try {
      await attempt(random, index)
      seen.set('ok', (seen.get('ok') ?? 0) + 1)
    } catch (error) {
      const label = `${name} case ${index} (seed ${seed})`
      if (!(error instanceof LabError)) {
        throw new Error(`${label}: threw ${(error as Error)?.name}: ${(error as Error)?.message}\n${(error as Error)?.stack ?? ''}`)
      }
      expect(KNOWN.has(error.code), `${label}: unknown code ${error.code}`).toBe(true)
      expect(options.allowed, `${label}: ${error.code}: ${error.message}`).toContain(error.code)
      seen.set(error.code, (seen.get(error.code) ?? 0) + 1)
    }
    index++
  }
  return index
}
