// Log buckets and relative positions against the goldens (exact), and the rel-embedding rows they select.
import { describe, expect, it } from 'vitest'
import { DEBERTA_V1_BASE, DEBERTA_V3_BASE } from '../../src/core/config'
import {
  buildRelativePosition,
  makeLogBucketPosition,
  makeLogBucketPositions,
  relativeEmbeddingRow,
  relativePositionMatrix,
  relativeReadKind,
  relativeRowsDescending,
} from '../../src/core/relative-position'
import { parseHfConfig } from '../../src/core/config'
import { expectEqualInts, openGolden, V1_DIR, V3_DIR } from './helpers'
import * as fs from 'node:fs'
import * as path from 'node:path'

describe('makeLogBucketPosition', () => {
  const golden = openGolden(V3_DIR)
  const distances = golden.readInt32('log_bucket.relative_distance')

  it('matches HF make_log_bucket_position(d, 16, 128) for d = −300 … 300 exactly', () => {
    expectEqualInts('log_bucket.b16_m128', makeLogBucketPositions(distances, 16, 128), golden.readInt32('log_bucket.b16_m128'))
  })

  it('matches HF make_log_bucket_position(d, 256, 512) for d = −300 … 300 exactly (array form too)', () => {
    expectEqualInts('log_bucket.b256_m512', makeLogBucketPositions(distances, 256, 512), golden.readInt32('log_bucket.b256_m512'))
    expectEqualInts('log_bucket.b256_m512', makeLogBucketPosition(distances, 256, 512), golden.readInt32('log_bucket.b256_m512'))
  })

  it('keeps |δ| < bucketSize/2 as is, maps |δ| ≥ bucketSize/2 to log buckets, and does not clamp (HF)', () => {
    for (let d = -7; d <= 7; d++) expect(makeLogBucketPosition(d, 16, 128)).toBe(d)
    expect(makeLogBucketPosition(8, 16, 128)).toBe(8)
    expect(makeLogBucketPosition(127, 16, 128)).toBe(15)
    expect(makeLogBucketPosition(300, 16, 128)).toBe(18)
    expect(makeLogBucketPosition(-300, 16, 128)).toBe(-18)
  })

  it('is odd in δ (so p2c reads the same row as c2p for the same (i, j))', () => {
    for (let d = 0; d < 2000; d++) expect(makeLogBucketPosition(-d, 256, 512)).toBe(-makeLogBucketPosition(d, 256, 512))
  })
})

describe('relative_pos', () => {
  it('v3: bucket(i − j) with position_buckets 16, max_position 128 equals the golden [40, 40]', () => {
    const config = parseHfConfig(JSON.parse(fs.readFileSync(path.join(V3_DIR, 'config.json'), 'utf8')))
    expectEqualInts('relative_pos', relativePositionMatrix(config, 40), openGolden(V3_DIR).readInt32('relative_pos'))
  })

  it('v1: plain i − j equals the golden [40, 40]', () => {
    const config = parseHfConfig(JSON.parse(fs.readFileSync(path.join(V1_DIR, 'config.json'), 'utf8')))
    expectEqualInts('relative_pos', relativePositionMatrix(config, 40), openGolden(V1_DIR).readInt32('relative_pos'))
  })

  it('buildRelativePosition handles rectangular query/key sizes', () => {
    expect(Array.from(buildRelativePosition(2, 3))).toEqual([0, -1, -2, 1, 0, -1])
  })
})

describe('relativeEmbeddingRow', () => {
  it('v3: clamp(bucket(δ) + 256, 0, 511) — rows saturate beyond the bucket range', () => {
    expect(relativeEmbeddingRow(DEBERTA_V3_BASE, 0)).toBe(256)
    expect(relativeEmbeddingRow(DEBERTA_V3_BASE, -5)).toBe(251)
    expect(relativeEmbeddingRow(DEBERTA_V3_BASE, 511)).toBe(511)
    expect(relativeEmbeddingRow(DEBERTA_V3_BASE, 100000)).toBe(511)
    expect(relativeEmbeddingRow(DEBERTA_V3_BASE, -100000)).toBe(0)
  })

  it('v1: k + clamp(δ, −k, k − 1), the same for every length (att_span = min(T, k))', () => {
    const c = { ...DEBERTA_V1_BASE, maxRelativePositions: 8 }
    expect(relativeEmbeddingRow(c, 0)).toBe(8)
    expect(relativeEmbeddingRow(c, 7)).toBe(15)
    expect(relativeEmbeddingRow(c, 8)).toBe(15)
    expect(relativeEmbeddingRow(c, -8)).toBe(0)
    expect(relativeEmbeddingRow(c, -9)).toBe(0)
  })

  it('relativeReadKind: exact rows, log buckets beyond position_buckets / 2 (v3), clipped outside the table', () => {
    // deberta-v3-base: 256 buckets, max position 512: exact for |δ| ≤ 128
    expect([0, 128, -128].map((d) => relativeReadKind(DEBERTA_V3_BASE, d))).toEqual(['exact', 'exact', 'exact'])
    expect([129, -129, 511].map((d) => relativeReadKind(DEBERTA_V3_BASE, d))).toEqual(['log-bucket', 'log-bucket', 'log-bucket'])
    // HF does not clamp |δ| ≥ max_position: the bucket passes 255 and c2p / p2c clamp it to the last row
    expect(relativeReadKind(DEBERTA_V3_BASE, 100000)).toBe('clipped')
    const fixture = parseHfConfig(JSON.parse(fs.readFileSync(path.join(V3_DIR, 'config.json'), 'utf8')))
    expect(relativeEmbeddingRow(fixture, 300)).toBe(31) // bucket 18 (golden b16_m128) → clamped
    expect([8, 9, 127, 300].map((d) => relativeReadKind(fixture, d))).toEqual(['exact', 'log-bucket', 'log-bucket', 'clipped'])
    const c = { ...DEBERTA_V1_BASE, maxRelativePositions: 8 }
    expect([-8, 0, 7, 8, -9].map((d) => relativeReadKind(c, d))).toEqual(['exact', 'exact', 'exact', 'clipped', 'clipped'])
  })

  it('relativeRowsDescending lists δ = T−1 … −(T−1)', () => {
    const c = { ...DEBERTA_V1_BASE, maxRelativePositions: 8 }
    expect(Array.from(relativeRowsDescending(c, 3))).toEqual([10, 9, 8, 7, 6])
  })
})
