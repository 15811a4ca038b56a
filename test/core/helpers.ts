// Shared helpers of the core tests: backends, golden files, comparisons that say where and by how much.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { inject } from 'vitest'
import { initBackend, type BackendName } from '../../src/core/backend'
import { backendsToTest, type BackendProbe } from './backends'
import { openTensorFile } from '../../src/core/checkpoint'
import type { TensorSource } from '../../src/core/checkpoint/types'
import { DEBERTA_V3_TINY, type DebertaConfig } from '../../src/core/config'

export const FIXTURES = path.resolve(__dirname, '../fixtures')
export const V3_DIR = path.join(FIXTURES, 'deberta-v3-tiny')
export const V1_DIR = path.join(FIXTURES, 'deberta-v1-tiny')

/** A small synthetic v3 shape (2 layers, 4 heads of 8, 48 feed-forward columns, 8 log buckets) for fast model tests. */
export const SMALL_V3: DebertaConfig = {
  ...DEBERTA_V3_TINY,
  vocabSize: 64,
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  attentionHeadSize: 8,
  intermediateSize: 48,
  embeddingSize: 32,
  maxPositionEmbeddings: 64,
  maxRelativePositions: 64,
  positionBuckets: 8,
}

/** What test/global-setup.ts found, once for the whole run. */
export const BACKEND_PROBES: BackendProbe[] = probesOfThisRun()

/**
 * The backends the core must agree on: tensorflow (when tfjs-node is installed), wasm, cpu. An installed backend
 * that does not load stays in the list, so its suites fail in useBackend with the reason.
 */
export const TEST_BACKENDS: BackendName[] = backendsToTest(BACKEND_PROBES)

function probesOfThisRun(): BackendProbe[] {
  const probes = inject('backendProbes')
  if (!probes) throw new Error('no backend probe: run the unit tests with vitest.config.ts (its globalSetup test/global-setup.ts probes the backends)')
  return probes
}

export async function useBackend(name: BackendName): Promise<void> {
  await initBackend(name)
  if (tf.getBackend() !== name) throw new Error(`backend ${name} did not start (got ${tf.getBackend()})`)
}

export function openGolden(dir: string): TensorSource {
  return openTensorFile(path.join(dir, 'golden.safetensors'))
}

export function shapeOf(source: TensorSource, name: string): number[] {
  const entry = source.entries().find((e) => e.name === name)
  if (!entry) throw new Error(`${source.path} has no tensor ${name}`)
  return entry.shape
}

/** Rows [B][T] of an integer [B, T] tensor. */
export function intRows(source: TensorSource, name: string): number[][] {
  const [rows, cols] = shapeOf(source, name)
  const data = source.readInt32(name)
  return Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)))
}

function unravel(index: number, shape: number[]): number[] {
  const out: number[] = []
  let rest = index
  for (let d = shape.length - 1; d >= 0; d--) {
    out.unshift(rest % shape[d])
    rest = Math.floor(rest / shape[d])
  }
  return out
}

/**
 * Asserts |actual − expected| ≤ atol over the entries where valid(index) holds. On failure the error names the
 * tensor, the worst multi-index, both values, the difference and how many entries are off.
 */
export function expectClose(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  options: { shape?: number[]; valid?: (index: number) => boolean } = {},
): number {
  if (actual.length !== expected.length) throw new Error(`${name}: ${actual.length} values, expected ${expected.length}`)
  let worst = 0
  let at = -1
  let bad = 0
  let checked = 0
  for (let i = 0; i < expected.length; i++) {
    if (options.valid && !options.valid(i)) continue
    checked++
    const d = Math.abs(actual[i] - expected[i])
    if (!(d <= atol)) bad++
    if (!(d <= worst)) {
      worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d
      at = i
    }
  }
  if (checked === 0) throw new Error(`${name}: no entries compared`)
  if (bad > 0) {
    const where = options.shape ? `[${unravel(at, options.shape).join(', ')}]` : `${at}`
    throw new Error(
      `${name}: ${bad}/${checked} entries differ by more than ${atol}; worst at ${where}: got ${actual[at]}, expected ${expected[at]} (|Δ| = ${worst})`,
    )
  }
  return worst
}

/** Asserts integer arrays are equal, naming the first difference. */
export function expectEqualInts(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  if (actual.length !== expected.length) throw new Error(`${name}: ${actual.length} values, expected ${expected.length}`)
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${name}: index ${i}: got ${actual[i]}, expected ${expected[i]}`)
  }
}

/** valid(index) for [B, T, H] tensors: rows with attention_mask = 1. */
export function validRows(mask: number[][], length: number, width: number): (i: number) => boolean {
  return (i) => mask[Math.floor(i / (length * width))][Math.floor(i / width) % length] === 1
}

/** valid(index) for [B, NH, T, T] tensors: entries with mask[i] = mask[j] = 1. */
export function validPairs(mask: number[][], heads: number, length: number): (i: number) => boolean {
  return (i) => {
    const b = Math.floor(i / (heads * length * length))
    const q = Math.floor(i / length) % length
    const k = i % length
    return mask[b][q] === 1 && mask[b][k] === 1
  }
}

/** Runs fn and asserts it threw a LabError with this code; returns the error. */
export function expectLabError(fn: () => unknown, code: string): { code: string; message: string; details?: Record<string, unknown> } {
  try {
    fn()
  } catch (error) {
    const e = error as { code?: string; message: string; details?: Record<string, unknown> }
    if (e.code !== code) throw new Error(`expected LabError ${code}, got ${e.code ?? 'a plain error'}: ${e.message}`)
    return e as { code: string; message: string }
  }
  throw new Error(`expected LabError ${code}, nothing was thrown`)
}

export async function expectLabErrorAsync(fn: () => Promise<unknown>, code: string): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  try {
    await fn()
  } catch (error) {
    const e = error as { code?: string; message: string; details?: Record<string, unknown> }
    if (e.code !== code) throw new Error(`expected LabError ${code}, got ${e.code ?? 'a plain error'}: ${e.message}`)
    return e as { code: string; message: string }
  }
  throw new Error(`expected LabError ${code}, nothing was thrown`)
}

/** Seeded ids in [low, vocab) for tests. */
export function seededIds(rows: number, cols: number, vocab: number, seed = 7, low = 3): number[][] {
  let s = seed >>> 0
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 4294967296
  }
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => low + Math.floor(next() * (vocab - low))))
}
