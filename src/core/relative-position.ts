// Relative positions: HF's log buckets, the [T, T] relative_pos matrix, and the rel-embedding row each
// distance δ = i − j reads (after the att_span clamp of c2p / p2c).
//
// Shapes: T tokens, W = 2T − 1 distances δ ∈ [−(T−1), T−1], S = att_span, R = 2S rel-embedding rows
import { attentionSpan, type DebertaConfig } from './config'

const f32 = Math.fround

/**
 * HF `make_log_bucket_position(relative_pos, bucket_size, max_position)` (modeling_deberta_v2.py) for one
 * distance, evaluated with torch's float32 semantics (long / int → float32 true division, float32 log):
 *
 *   mid = bucket_size // 2
 *   abs_pos = (−mid < rel < mid) ? mid − 1 : |rel|
 *   log_pos = ceil(log(abs_pos / mid) / log((max_position − 1) / mid) · (mid − 1)) + mid
 *   bucket  = (abs_pos ≤ mid) ? rel : sign(rel) · log_pos
 *
 * HF does NOT clamp |rel| to max_position (the official code does): beyond it the bucket keeps growing
 * (b16_m128: rel = 300 → 18); the c2p / p2c clamp to [0, 2·span) takes care of it later.
 */
export function makeLogBucketPosition(relPos: number, bucketSize: number, maxPosition: number): number
export function makeLogBucketPosition(relPos: ArrayLike<number>, bucketSize: number, maxPosition: number): Int32Array
export function makeLogBucketPosition(relPos: number | ArrayLike<number>, bucketSize: number, maxPosition: number): number | Int32Array {
  return typeof relPos === 'number' ? logBucket(relPos, bucketSize, maxPosition) : makeLogBucketPositions(relPos, bucketSize, maxPosition)
}

function logBucket(relPos: number, bucketSize: number, maxPosition: number): number {
  const mid = Math.floor(bucketSize / 2)
  const absPos = relPos < mid && relPos > -mid ? mid - 1 : Math.abs(relPos)
  if (absPos <= mid) return relPos
  const ratio = f32(absPos / mid)
  const num = f32(Math.log(ratio))
  const den = f32(Math.log(f32((maxPosition - 1) / mid)))
  const logPos = Math.ceil(f32(f32(num / den) * (mid - 1))) + mid
  return Math.sign(relPos) * logPos
}

/** makeLogBucketPosition over many distances. */
export function makeLogBucketPositions(relPos: ArrayLike<number>, bucketSize: number, maxPosition: number): Int32Array {
  const out = new Int32Array(relPos.length)
  for (let i = 0; i < relPos.length; i++) out[i] = logBucket(relPos[i], bucketSize, maxPosition)
  return out
}

/**
 * HF `build_relative_position(query_size, key_size, bucket_size, max_position)`: entry [i, j] = i − j, mapped
 * through the log buckets when bucket_size > 0 and max_position > 0. Returns [querySize, keySize] row-major.
 */
export function buildRelativePosition(querySize: number, keySize: number, bucketSize = -1, maxPosition = -1): Int32Array {
  const out = new Int32Array(querySize * keySize)
  const buckets = bucketSize > 0 && maxPosition > 0
  // the value depends on i − j only: compute each distance once
  const byDistance = new Int32Array(querySize + keySize - 1)
  for (let d = -(keySize - 1); d <= querySize - 1; d++) {
    byDistance[d + keySize - 1] = buckets ? logBucket(d, bucketSize, maxPosition) : d
  }
  for (let i = 0; i < querySize; i++) {
    for (let j = 0; j < keySize; j++) out[i * keySize + j] = byDistance[i - j + keySize - 1]
  }
  return out
}

/** The model's relative position for a distance δ = i − j: a log bucket (v2/v3 with position_buckets) or δ itself. */
export function relativePositionOf(config: DebertaConfig, delta: number): number {
  if (config.modelType === 'deberta-v2' && config.positionBuckets > 0) {
    return makeLogBucketPosition(delta, config.positionBuckets, config.maxRelativePositions)
  }
  return delta
}

/** relative_pos [T, T] as the model uses it (HF DebertaV2Encoder.get_rel_pos / DebertaEncoder.get_rel_pos). */
export function relativePositionMatrix(config: DebertaConfig, length: number): Int32Array {
  if (config.modelType === 'deberta-v2' && config.positionBuckets > 0) {
    return buildRelativePosition(length, length, config.positionBuckets, config.maxRelativePositions)
  }
  return buildRelativePosition(length, length)
}

/**
 * The rel-embedding row (index into the full [2S, H] table) that distance δ = i − j reads:
 *
 * v2/v3 (HF DisentangledSelfAttention.disentangled_attention_bias): c2p index = clamp(relative_pos + S, 0, 2S − 1)
 *   into rel_embeddings[0 : 2S]. p2c index = clamp(−relative_pos[j, i] + S, 0, 2S − 1); relative_pos is odd in δ
 *   (bucket(−δ) = −bucket(δ)), so p2c reads the same row for the same (i, j).
 * v1 (HF modeling_deberta.py disentangled_att_bias): att_span = min(T, k); rows
 *   [k − att_span, k + att_span) are sliced and clamp(δ + att_span, 0, 2·att_span − 1) indexes them, i.e. global
 *   row k + clamp(δ, −att_span, att_span − 1). Since |δ| ≤ T − 1, that equals k + clamp(δ, −k, k − 1) for every T.
 */
export function relativeEmbeddingRow(config: DebertaConfig, delta: number): number {
  const span = attentionSpan(config)
  const rel = relativePositionOf(config, delta)
  return Math.min(Math.max(rel + span, 0), 2 * span - 1)
}

/**
 * Rows for the distances a length-T sequence reaches, in descending distance order:
 * entry m is the row of δ = (T − 1) − m, m = 0 … 2T − 2. (c2p's rel-shift wants this order; p2c's the reverse.)
 */
export function relativeRowsDescending(config: DebertaConfig, length: number): Int32Array {
  const width = 2 * length - 1
  const rows = new Int32Array(width)
  for (let m = 0; m < width; m++) rows[m] = relativeEmbeddingRow(config, length - 1 - m)
  return rows
}

/** How a distance reaches its rel-embedding row: its own row, a log bucket shared with other distances, or clipped to the table's end. */
export type RelativeReadKind = 'exact' | 'log-bucket' | 'clipped'

/**
 * exact: the row is δ's own (|δ| ≤ position_buckets / 2 for v3, −span ≤ δ < span for v1); log-bucket: v3 beyond
 * that, where make_log_bucket_position merges distances; clipped: the bucket (or δ) lies outside [−span, span) and
 * the c2p / p2c clamp reads the first or last row (see relativeEmbeddingRow).
 */
export function relativeReadKind(config: DebertaConfig, delta: number): RelativeReadKind {
  const span = attentionSpan(config)
  const rel = relativePositionOf(config, delta)
  if (rel + span < 0 || rel + span > 2 * span - 1) return 'clipped'
  return rel === delta && !(config.modelType === 'deberta-v2' && config.positionBuckets > 0 && Math.abs(delta) > Math.floor(config.positionBuckets / 2)) ? 'exact' : 'log-bucket'
}
