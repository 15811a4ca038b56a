// Relative-position tables for disentangled attention.
//
// 1. Once per loaded model: the projected relative embeddings Kr = proj_k(LayerNorm(rel_embeddings)) and
//    Qr = proj_q(LayerNorm(rel_embeddings)), [R, NH·D] each (they do not depend on the input).
// 2. Once per sequence length T (host cache, small LRU): since the relative index depends on δ = i − j only,
//    a length-T sequence reaches W = 2T − 1 distances. Per layer and head we gather the projected rows of
//    those distances (bucket(δ) + span, clamped) into
//      keyDescT [D, W]  column m = Kr row of δ = (T−1) − m   (c2p: Q·keyDescT → [T, W] → rel-shift rows)
//      queryAsc [W, D]  row m    = Qr row of δ = m − (T−1)   (p2c: queryAsc·Kᵀ → [W, T] → rel-shift columns)
//    so c2p / p2c are plain 2-D matmuls plus a rel-shift, never a [T, T, D] tensor or a gather.
//    Where distances share rows (v3's log buckets past ±span/2, v1's clipping past ±k) the tables hold each
//    distinct row once, R' < W columns / rows, and the rel-shift reads column (row) `columnsDesc[m]` / `rowsAsc[m]`
//    for distance m instead of m (LengthTables.compact): base v3 at T = 512 multiplies by 511 rows, not 1023.
//    (The batched form gathers the same rows on the device: RelativeDeviceTables below.)
// The tables are host arrays; a forward uploads them (2·L·H·R′ floats, R′ ≤ W) and disposes them with the pass,
// so tf.memory() is back at its baseline after every forward.
//
// Shapes: R = 2·span rel rows, H hidden, NH heads, D head size, T tokens, W = 2T − 1
import * as tf from '@tensorflow/tfjs-core'
import type { DebertaConfig } from './config'
import { hostTidy, layerNorm, linear, type Linear, type Norm } from './ops'
import type { RelativeProjection } from './params'
import { relativeEmbeddingRow, relativeRowsDescending } from './relative-position'

/**
 * Projects the relative embeddings of one layer (at load). rel [R, H] (host), norm = the encoder's
 * rel-embedding LayerNorm (v2/v3 norm_rel_ebd) or null (v1), projections per head (x [R, H] → [R, D]).
 * Origin: HF DisentangledSelfAttention.disentangled_attention_bias (v2: query_proj/key_proj or
 * pos_query_proj/pos_key_proj of rel_embeddings) and v1's pos_q_proj / pos_proj.
 */
export function projectRelativeEmbeddings(
  rel: tf.Tensor2D,
  norm: Norm | null,
  eps: number,
  keyHeads: Linear[] | null,
  queryHeads: Linear[] | null,
): RelativeProjection {
  return hostTidy(() => {
    const normed = norm ? layerNorm(rel, norm, eps) : rel // [R, H]
    const project = (heads: Linear[] | null): Float32Array | null =>
      heads ? (tf.concat(heads.map((p) => linear(normed, p)), 1).dataSync() as Float32Array) : null // [R, NH·D]
    return { key: project(keyHeads), query: project(queryHeads) }
  })
}

export interface LayerTables {
  /** per head [D, W] (or [D, R'] when compact); null when the layer has no key-side projection */
  keyDescT: Float32Array[] | null
  /** per head [W, D] (or [R', D] when compact) */
  queryAsc: Float32Array[] | null
}

/**
 * The tables' distinct rows (R' < W) and, per distance, where its row is: keyDescT's column of descending
 * distance m (δ = (T−1) − m), queryAsc's row of ascending distance m (δ = m − (T−1)).
 */
export interface CompactColumns {
  /** the distinct rel-embedding rows, descending δ (keyDescT's columns; queryAsc holds them in reverse) */
  rows: Int32Array
  /** [W]: keyDescT column of descending distance m */
  columnsDesc: Int32Array
  /** [W]: queryAsc row of ascending distance m */
  rowsAsc: Int32Array
}

/**
 * Distinct rows of rowsDesc (monotone in δ, so equal rows are adjacent) and the per-distance maps; null when every
 * distance has its own row.
 */
export function compactColumns(rowsDesc: Int32Array): CompactColumns | null {
  const W = rowsDesc.length
  const columnsDesc = new Int32Array(W)
  const rows: number[] = []
  for (let m = 0; m < W; m++) {
    if (m === 0 || rowsDesc[m] !== rowsDesc[m - 1]) rows.push(rowsDesc[m])
    columnsDesc[m] = rows.length - 1
  }
  const R = rows.length
  if (R === W || new Set(rows).size !== R) return null // a row met twice apart: not monotone, keep the plain tables
  const rowsAsc = new Int32Array(W)
  for (let m = 0; m < W; m++) rowsAsc[m] = R - 1 - columnsDesc[W - 1 - m]
  return { rows: Int32Array.from(rows), columnsDesc, rowsAsc }
}

export interface LengthTables {
  length: number
  /** rel-embedding row of each distance, descending δ */
  rowsDesc: Int32Array
  /** set when distances share rows: the tables then hold the distinct rows only */
  compact: CompactColumns | null
  layers: LayerTables[]
  /** p2p per layer per head: v[m] = Qr[row(δ)]·Kr[row(δ)] for δ = (T−1) − m (unscaled); built on demand */
  p2p: Array<Float32Array[] | null>
}

/** Per-length host tables with a small LRU. */
export class RelativeTableCache {
  private readonly entries = new Map<number, LengthTables>()

  constructor(
    private readonly config: DebertaConfig,
    private readonly projections: RelativeProjection[],
    private readonly capacity = 2,
  ) {}

  get(length: number): LengthTables {
    const hit = this.entries.get(length)
    if (hit) {
      this.entries.delete(length)
      this.entries.set(length, hit)
      return hit
    }
    const built = this.build(length)
    this.entries.set(length, built)
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as number)
    return built
  }

  /** p2p vectors of one layer for this length (needs both projections). */
  p2p(tables: LengthTables, layer: number): Float32Array[] | null {
    const cached = tables.p2p[layer]
    if (cached) return cached
    const proj = this.projections[layer]
    if (!proj?.key || !proj.query) return null
    const { numAttentionHeads: heads, attentionHeadSize: d } = this.config
    const allHead = heads * d
    const width = tables.rowsDesc.length
    const out: Float32Array[] = []
    for (let h = 0; h < heads; h++) {
      const v = new Float32Array(width)
      for (let m = 0; m < width; m++) {
        const base = tables.rowsDesc[m] * allHead + h * d
        let dot = 0
        for (let k = 0; k < d; k++) dot += proj.query[base + k] * proj.key[base + k]
        v[m] = dot
      }
      out.push(v)
    }
    tables.p2p[layer] = out
    return out
  }

  clear(): void {
    this.entries.clear()
  }

  private build(length: number): LengthTables {
    const { numAttentionHeads: heads, attentionHeadSize: d } = this.config
    const allHead = heads * d
    const rowsDesc = relativeRowsDescending(this.config, length)
    const compact = compactColumns(rowsDesc)
    const columns = compact ? compact.rows : rowsDesc // the table's rows, descending δ
    const width = columns.length
    const layers = this.projections.map((proj): LayerTables => {
      let keyDescT: Float32Array[] | null = null
      let queryAsc: Float32Array[] | null = null
      if (proj.key) {
        const kr = proj.key
        keyDescT = []
        for (let h = 0; h < heads; h++) {
          const t = new Float32Array(d * width) // [D, W]
          for (let m = 0; m < width; m++) {
            const base = columns[m] * allHead + h * d
            for (let k = 0; k < d; k++) t[k * width + m] = kr[base + k]
          }
          keyDescT.push(t)
        }
      }
      if (proj.query) {
        const qr = proj.query
        queryAsc = []
        for (let h = 0; h < heads; h++) {
          const t = new Float32Array(width * d) // [W, D]
          for (let m = 0; m < width; m++) {
            // ascending δ = m − (T−1) ↔ descending index W − 1 − m
            const base = columns[width - 1 - m] * allHead + h * d
            t.set(qr.subarray(base, base + d), m * d)
          }
          queryAsc.push(t)
        }
      }
      return { keyDescT, queryAsc }
    })
    return { length, rowsDesc, compact, layers, p2p: this.projections.map(() => null) }
  }
}

/**
 * One layer's tables as tensors for one forward (created and disposed inside the pass), in the form of the
 * attention strategy: per head (keyDescT, queryAsc, p2p) or all heads (keyByDistance, queryByDistance, p2pAll).
 */
export interface LayerTableTensors {
  keyDescT?: tf.Tensor2D[] | null // per head [D, W], or [D, R'] with `compact`
  queryAsc?: tf.Tensor2D[] | null // per head [W, D], or [R', D] with `compact`
  /** the per-distance maps when keyDescT / queryAsc hold distinct rows only (LengthTables.compact) */
  compact?: CompactColumns | null
  /** per head [T, T], already multiplied by the score scale */
  p2p?: tf.Tensor2D[] | null
  /** Kr of each distance, descending δ = (T−1) − m: [NH, W', D] (W' ≥ W; rows past W are padding) */
  keyByDistance?: tf.Tensor3D | null
  /** Qr of each distance, ascending δ = m − (T−1): [NH, W', D] */
  queryByDistance?: tf.Tensor3D | null
  /** [NH, T, T], already multiplied by the score scale */
  p2pAll?: tf.Tensor3D | null
  /**
   * Qr of each distance, descending δ = (T−1) − m like keyByDistance: [NH, W', D]. Given (tensorflow, no gradient
   * tape) instead of queryByDistance / the blocked queryWindows: p2c is then read off the diagonals of
   * (K/s)·queryDescendingᵀ [NH, T(j), W'] (src/core/attention.ts diagonalP2c), with no rel-shift and no transpose.
   */
  queryDescending?: tf.Tensor3D | null
  /**
   * Blocked form (one sequence, T ≥ RELATIVE_BLOCK_MIN_LENGTH): the rows of nb = ⌈T / block⌉ windows of
   * V = T + block − 1 distances each (rounded up, see TABLE_WIDTH_MULTIPLE), [NH·nb, V, D] (head-major, then window). c2p's window I holds Kr of
   * δ = I·block + block − 1 − m (descending), p2c's window J holds Qr of δ = m − J·block − block + 1
   * (ascending); see src/core/attention.ts blockedRelativeTerms.
   */
  blocked?: { block: number; keyWindows: tf.Tensor3D | null; queryWindows: tf.Tensor3D | null } | null
}

/** Shortest sequence for which the blocked form is used (below it the 2T − 1 distances are few). */
export const RELATIVE_BLOCK_MIN_LENGTH = 192

/**
 * Rows per window of the blocked c2p / p2c (DEBERTA_LAB_RELATIVE_BLOCK=N forces N, 0 turns blocking off).
 * A window of b query rows needs T + b − 1 distances instead of 2T − 1: products and rel-shift copies shrink
 * by (T + b) / 2T, while the gathered rows grow with ⌈T / b⌉·(T + b). Measured on tensorflow (README "Speed").
 */
export function relativeBlockSize(length: number): number {
  const forced = typeof process !== 'undefined' ? process.env.DEBERTA_LAB_RELATIVE_BLOCK : undefined
  if (forced !== undefined && forced !== '') {
    const n = Number(forced)
    return Number.isInteger(n) && n > 0 && n < length ? n : 0
  }
  if (length < RELATIVE_BLOCK_MIN_LENGTH) return 0
  return 128
}

/**
 * Widths of the device tables are rounded up to a multiple of this: TF's batched product with a transposed
 * operand runs ~2× slower at odd widths ([48, 128, 64]·[48, 639, 64]ᵀ 10.3 ms vs 5.1 ms at 640, one thread).
 * The extra rows repeat a valid row; the rel-shift never reads them.
 */
export const TABLE_WIDTH_MULTIPLE = 16

function paddedWidth(n: number): number {
  return Math.ceil(n / TABLE_WIDTH_MULTIPLE) * TABLE_WIDTH_MULTIPLE
}

/** rows followed by copies of its last entry up to `width` */
function padRows(rows: Int32Array, width: number): Int32Array {
  if (rows.length >= width) return rows
  const out = new Int32Array(width).fill(rows[rows.length - 1])
  out.set(rows)
  return out
}

/**
 * Window row indices of the blocked form: c2p (descending δ per window) and p2c (ascending), [nb·V] each,
 * V = T + block − 1 rounded up to TABLE_WIDTH_MULTIPLE.
 */
export function relativeWindowRows(config: DebertaConfig, length: number, block: number): { key: Int32Array; query: Int32Array; width: number } {
  const windows = Math.ceil(length / block)
  const used = length + block - 1
  const width = paddedWidth(used)
  const key = new Int32Array(windows * width)
  const query = new Int32Array(windows * width)
  for (let w = 0; w < windows; w++) {
    for (let m = 0; m < width; m++) {
      const k = Math.min(m, used - 1) // padding repeats the last distance of the window
      key[w * width + m] = relativeEmbeddingRow(config, w * block + block - 1 - k)
      query[w * width + m] = relativeEmbeddingRow(config, k - w * block - block + 1)
    }
  }
  return { key, query, width }
}

/**
 * The batched form's source: each layer's projected relative embeddings Kr / Qr as device tensors
 * [NH, R, D] (head-major, so a forward's gather needs no transpose), uploaded once with the model (they
 * belong to its weights); a forward gathers the rows of the 2T − 1 reachable distances from them (one
 * gather per table and layer, no host work per length).
 */
export class RelativeDeviceTables {
  private readonly layers: Array<{ key: tf.Tensor3D | null; query: tf.Tensor3D | null }>

  constructor(config: DebertaConfig, projections: RelativeProjection[]) {
    const { numAttentionHeads: heads, attentionHeadSize: d } = config
    const upload = (a: Float32Array | null): tf.Tensor3D | null => {
      if (!a) return null
      const rows = a.length / (heads * d)
      const byHead = new Float32Array(a.length) // [R, NH, D] → [NH, R, D]
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < heads; h++) byHead.set(a.subarray((r * heads + h) * d, (r * heads + h + 1) * d), (h * rows + r) * d)
      }
      return tf.tensor3d(byHead, [heads, rows, d])
    }
    this.layers = projections.map((p) => ({ key: upload(p.key), query: upload(p.query) }))
  }

  /**
   * Row indices of one length (call inside a scope): descending δ (c2p) and ascending δ (p2c), [W] each; or,
   * when `block` > 0 (one sequence), the window rows of the blocked form.
   */
  indices(config: DebertaConfig, length: number, desc: Int32Array, block = 0, diagonal = false): DeviceTableIndices {
    const width = paddedWidth(desc.length)
    const descending = (): tf.Tensor1D => tf.tensor1d(padRows(desc, width), 'int32')
    if (block > 0) {
      const rows = relativeWindowRows(config, length, block)
      return {
        block,
        desc: tf.tensor1d(rows.key, 'int32'),
        asc: diagonal ? null : tf.tensor1d(rows.query, 'int32'),
        queryDesc: diagonal ? descending() : null,
      }
    }
    const all = descending()
    return { block: 0, desc: all, asc: diagonal ? null : tf.tensor1d(padRows(Int32Array.from(desc).reverse(), width), 'int32'), queryDesc: diagonal ? all : null }
  }

  /** One layer's tables for a forward (tensors of the caller's scope). */
  layer(layer: number, indices: DeviceTableIndices, p2pVectors: Float32Array[] | null, invScale: number, length: number): LayerTableTensors {
    const gathered = (rows: tf.Tensor3D | null, index: tf.Tensor1D | null): tf.Tensor3D | null =>
      rows && index ? (tf.gather(rows, index, 1) as tf.Tensor3D) : null // [NH, W or nb·V, D]
    const { key, query } = this.layers[layer]
    const p2pAll = p2pVectors ? (tf.stack(p2pVectors.map((v) => p2pMatrix(v, length, invScale))) as tf.Tensor3D) : null
    const queryDescending = gathered(query, indices.queryDesc)
    if (indices.block > 0) {
      const windows = Math.ceil(length / indices.block)
      const asWindows = (t: tf.Tensor3D | null): tf.Tensor3D | null =>
        t ? (tf.reshape(t, [t.shape[0] * windows, t.shape[1] / windows, t.shape[2]]) as tf.Tensor3D) : null // [NH·nb, V, D]
      return {
        blocked: { block: indices.block, keyWindows: asWindows(gathered(key, indices.desc)), queryWindows: asWindows(gathered(query, indices.asc)) },
        queryDescending,
        p2pAll,
      }
    }
    return { keyByDistance: gathered(key, indices.desc), queryByDistance: gathered(query, indices.asc), queryDescending, p2pAll }
  }

  /** The uploaded projections. */
  tensors(): tf.Tensor3D[] {
    return this.layers.flatMap((l) => [l.key, l.query].filter((t): t is tf.Tensor3D => t !== null))
  }

  dispose(): void {
    tf.dispose(this.tensors())
  }
}

export interface DeviceTableIndices {
  /** rows per window of the blocked form, or 0 */
  block: number
  /** c2p's rows: descending δ, or the windows' rows when block > 0 */
  desc: tf.Tensor1D
  /** p2c's rows for the rel-shift form: ascending δ (or the windows'); null in the diagonal form */
  asc: tf.Tensor1D | null
  /** p2c's rows for the diagonal form: descending δ over all 2T − 1 distances; else null */
  queryDesc: tf.Tensor1D | null
}

/** p2p[i, j] = v[(T−1) − (i − j)] / s as a [T, T] tensor. */
function p2pMatrix(v: Float32Array, length: number, invScale: number): tf.Tensor2D {
  const m = new Float32Array(length * length)
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) m[i * length + j] = v[length - 1 - i + j] * invScale
  }
  return tf.tensor2d(m, [length, length])
}

export function uploadLayerTables(
  config: DebertaConfig,
  tables: LengthTables,
  layer: number,
  p2pVectors: Float32Array[] | null,
  invScale: number,
): LayerTableTensors {
  const d = config.attentionHeadSize
  const length = tables.length
  const width = (tables.compact?.rows ?? tables.rowsDesc).length
  const t = tables.layers[layer]
  return {
    keyDescT: t.keyDescT ? t.keyDescT.map((a) => tf.tensor2d(a, [d, width])) : null,
    queryAsc: t.queryAsc ? t.queryAsc.map((a) => tf.tensor2d(a, [width, d])) : null,
    compact: tables.compact,
    p2p: p2pVectors ? p2pVectors.map((v) => p2pMatrix(v, length, invScale)) : null,
  }
}
