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
// The tables are host arrays; a forward uploads them (≈ 2·L·H·W floats) and disposes them with the pass,
// so tf.memory() is back at its baseline after every forward.
//
// Shapes: R = 2·span rel rows, H hidden, NH heads, D head size, T tokens, W = 2T − 1
import * as tf from '@tensorflow/tfjs-core'
import type { DebertaConfig } from './config'
import { hostTidy, layerNorm, linear, type Linear, type Norm } from './ops'
import type { RelativeProjection } from './params'
import { relativeRowsDescending } from './relative-position'

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
  /** per head [D, W]; null when the layer has no key-side projection */
  keyDescT: Float32Array[] | null
  /** per head [W, D] */
  queryAsc: Float32Array[] | null
}

export interface LengthTables {
  length: number
  /** rel-embedding row of each distance, descending δ */
  rowsDesc: Int32Array
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
    const width = rowsDesc.length
    const layers = this.projections.map((proj): LayerTables => {
      let keyDescT: Float32Array[] | null = null
      let queryAsc: Float32Array[] | null = null
      if (proj.key) {
        const kr = proj.key
        keyDescT = []
        for (let h = 0; h < heads; h++) {
          const t = new Float32Array(d * width) // [D, W]
          for (let m = 0; m < width; m++) {
            const base = rowsDesc[m] * allHead + h * d
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
            const base = rowsDesc[width - 1 - m] * allHead + h * d
            t.set(qr.subarray(base, base + d), m * d)
          }
          queryAsc.push(t)
        }
      }
      return { keyDescT, queryAsc }
    })
    return { length, rowsDesc, layers, p2p: this.projections.map(() => null) }
  }
}

/**
 * One layer's tables as tensors for one forward (created and disposed inside the pass), in the form of the
 * attention strategy: per head (keyDescT, queryAsc, p2p) or all heads (keyByDistance, queryByDistance, p2pAll).
 */
export interface LayerTableTensors {
  keyDescT?: tf.Tensor2D[] | null // per head [D, W]
  queryAsc?: tf.Tensor2D[] | null // per head [W, D]
  /** per head [T, T], already multiplied by the score scale */
  p2p?: tf.Tensor2D[] | null
  /** Kr of each distance, descending δ = (T−1) − m: [NH, W, D] */
  keyByDistance?: tf.Tensor3D | null
  /** Qr of each distance, ascending δ = m − (T−1): [NH, W, D] */
  queryByDistance?: tf.Tensor3D | null
  /** [NH, T, T], already multiplied by the score scale */
  p2pAll?: tf.Tensor3D | null
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

  /** Row indices of one length: descending δ (c2p) and ascending δ (p2c), [W] each. Call inside a scope. */
  indices(desc: Int32Array): { desc: tf.Tensor1D; asc: tf.Tensor1D } {
    return { desc: tf.tensor1d(desc, 'int32'), asc: tf.tensor1d(Int32Array.from(desc).reverse(), 'int32') }
  }

  /** One layer's tables for a forward (tensors of the caller's scope). */
  layer(layer: number, indices: { desc: tf.Tensor1D; asc: tf.Tensor1D }, p2pVectors: Float32Array[] | null, invScale: number, length: number): LayerTableTensors {
    const byDistance = (rows: tf.Tensor3D | null, index: tf.Tensor1D): tf.Tensor3D | null => (rows ? (tf.gather(rows, index, 1) as tf.Tensor3D) : null) // [NH, W, D]
    const { key, query } = this.layers[layer]
    return {
      keyByDistance: byDistance(key, indices.desc),
      queryByDistance: byDistance(query, indices.asc),
      p2pAll: p2pVectors ? (tf.stack(p2pVectors.map((v) => p2pMatrix(v, length, invScale))) as tf.Tensor3D) : null,
    }
  }

  dispose(): void {
    for (const l of this.layers) tf.dispose([l.key, l.query].filter((t): t is tf.Tensor3D => t !== null))
  }
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
  const width = tables.rowsDesc.length
  const t = tables.layers[layer]
  return {
    keyDescT: t.keyDescT ? t.keyDescT.map((a) => tf.tensor2d(a, [d, width])) : null,
    queryAsc: t.queryAsc ? t.queryAsc.map((a) => tf.tensor2d(a, [width, d])) : null,
    p2p: p2pVectors ? p2pVectors.map((v) => p2pMatrix(v, length, invScale)) : null,
  }
}
