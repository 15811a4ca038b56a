// A deliberately naive float64 re-implementation of the HF forward (DebertaV2Model, DebertaModel, BertModel)
// plus the official EMD and LM head, written from the HF code the way it is written there: full
// projections, relative_pos built per (i, j), c2p/p2c by gather with the clamped indices, p2c from
// relative_pos[j, i]. It reads the weights by key name from a TensorSource. The tests compare the optimised
// model (per-head weights, rel-shift, cached tables) against it on configs the fixtures do not cover.
import type { TensorSource } from '../../src/core/checkpoint/types'
import { FLOAT32_MIN, type Activation, type DebertaConfig } from '../../src/core/config'
import { makeLogBucketPosition } from '../../src/core/relative-position'

type Vec = Float64Array<ArrayBufferLike>

interface Weights {
  get(key: string): Vec
  has(key: string): boolean
}

function weightsOf(source: TensorSource): Weights {
  const cache = new Map<string, Vec>()
  return {
    has: (key) => source.has(key),
    get: (key) => {
      let v = cache.get(key)
      if (!v) {
        v = Float64Array.from(source.readFloat32(key))
        cache.set(key, v)
      }
      return v
    },
  }
}

/** y[n, out] = x[n, in]·Wᵀ + b with W [out, in] (nn.Linear). */
function linear(x: Vec, n: number, inp: number, w: Vec, out: number, b: Vec | null): Vec {
  const y = new Float64Array(n * out)
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < out; o++) {
      let acc = b ? b[o] : 0
      for (let i = 0; i < inp; i++) acc += x[r * inp + i] * w[o * inp + i]
      y[r * out + o] = acc
    }
  }
  return y
}

function layerNorm(x: Vec, n: number, width: number, g: Vec, b: Vec, eps: number): Vec {
  const y = new Float64Array(n * width)
  for (let r = 0; r < n; r++) {
    let mean = 0
    for (let i = 0; i < width; i++) mean += x[r * width + i]
    mean /= width
    let v = 0
    for (let i = 0; i < width; i++) v += (x[r * width + i] - mean) ** 2
    v /= width
    const inv = 1 / Math.sqrt(v + eps)
    for (let i = 0; i < width; i++) y[r * width + i] = (x[r * width + i] - mean) * inv * g[i] + b[i]
  }
  return y
}

function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7)
  const s = Math.sign(x)
  const a = Math.abs(x)
  const t = 1 / (1 + 0.3275911 * a)
  return s * (1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a))
}

function act(x: Vec, name: Activation): Vec {
  return x.map((v) => {
    switch (name) {
      case 'gelu':
        return 0.5 * v * (1 + erf(v / Math.SQRT2))
      case 'relu':
        return Math.max(0, v)
      case 'tanh':
        return Math.tanh(v)
      case 'gelu_new':
      case 'gelu_pytorch_tanh':
      case 'gelu_fast':
        return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))
      case 'silu':
      case 'swish':
        return v / (1 + Math.exp(-v))
      case 'sigmoid':
        return 1 / (1 + Math.exp(-v))
      default:
        throw new Error(`reference: activation ${name} not implemented`)
    }
  })
}

export interface ReferenceResult {
  /** L + 1 arrays [B, T, H] */
  hidden: Vec[]
  /** L arrays [B, NH, T, T] */
  probs: Vec[]
  c2c: Vec[]
  c2p: Vec[]
  p2c: Vec[]
  plainLogits?: Vec
  emdLogits?: Vec
}

export function referenceForward(
  config: DebertaConfig,
  source: TensorSource,
  ids: number[][],
  mask: number[][],
  options: { types?: number[][]; positions?: Array<[number, number]> } = {},
): ReferenceResult {
  const W = weightsOf(source)
  const B = ids.length
  const T = ids[0].length
  const { hiddenSize: H, embeddingSize: E, numAttentionHeads: NH, attentionHeadSize: D, intermediateSize: I, numHiddenLayers: L } = config
  const A = NH * D
  const eps = config.layerNormEps
  const isBert = config.modelType === 'bert'
  const isV1 = config.modelType === 'deberta'
  const P = isBert ? 'bert.' : 'deberta.'
  const relative = config.relativeAttention && !isBert
  const pos = config.posAttType

  // relative_pos[i][j] (HF build_relative_position)
  const relPos = (i: number, j: number): number =>
    config.modelType === 'deberta-v2' && config.positionBuckets > 0 ? makeLogBucketPosition(i - j, config.positionBuckets, config.maxRelativePositions) : i - j
  const scaleFactor = isBert ? 1 : isV1 ? 1 + pos.length : 1 + (pos.includes('c2p') ? 1 : 0) + (pos.includes('p2c') ? 1 : 0)
  const s = Math.sqrt(D * scaleFactor)

  const result: ReferenceResult = {
    hidden: Array.from({ length: L + 1 }, () => new Float64Array(B * T * H)),
    probs: Array.from({ length: L }, () => new Float64Array(B * NH * T * T)),
    c2c: Array.from({ length: L }, () => new Float64Array(B * NH * T * T)),
    c2p: Array.from({ length: L }, () => new Float64Array(B * NH * T * T)),
    p2c: Array.from({ length: L }, () => new Float64Array(B * NH * T * T)),
  }

  // relative embeddings (v2: all 2·span rows, optional LayerNorm; v1: raw table, sliced per length)
  let relTable: Vec | null = null
  let span = 0
  let relRows = 0
  if (relative) {
    if (isV1) {
      span = Math.min(T, config.maxRelativePositions)
      relRows = 2 * span
      const full = W.get(`${P}encoder.rel_embeddings.weight`)
      relTable = full.slice((config.maxRelativePositions - span) * H, (config.maxRelativePositions + span) * H)
    } else {
      span = config.positionBuckets > 0 ? config.positionBuckets : config.maxRelativePositions
      relRows = 2 * span
      relTable = W.get(`${P}encoder.rel_embeddings.weight`)
      if (config.normRelEmbedding === 'layer_norm') {
        relTable = layerNorm(relTable, relRows, H, W.get(`${P}encoder.LayerNorm.weight`), W.get(`${P}encoder.LayerNorm.bias`), eps)
      }
    }
  }
  const clampIndex = (v: number): number => Math.min(Math.max(v, 0), 2 * span - 1)

  const attentionLayer = (l: number, xq: Vec, xkv: Vec, m: number[], b: number, record: boolean): Vec => {
    const S = `${P}encoder.layer.${l}.attention.self`
    let q: Vec, k: Vec, v: Vec
    if (isV1) {
      const inProj = W.get(`${S}.in_proj.weight`)
      const qp = linear(xq, T, H, inProj, 3 * A, null)
      const kvp = linear(xkv, T, H, inProj, 3 * A, null)
      q = new Float64Array(T * A)
      k = new Float64Array(T * A)
      v = new Float64Array(T * A)
      const qb = W.get(`${S}.q_bias`)
      const vb = W.get(`${S}.v_bias`)
      for (let t = 0; t < T; t++) {
        for (let h = 0; h < NH; h++) {
          for (let d = 0; d < D; d++) {
            q[t * A + h * D + d] = qp[t * 3 * A + 3 * D * h + d] + qb[h * D + d]
            k[t * A + h * D + d] = kvp[t * 3 * A + 3 * D * h + D + d]
            v[t * A + h * D + d] = kvp[t * 3 * A + 3 * D * h + 2 * D + d] + vb[h * D + d]
          }
        }
      }
    } else {
      const n = isBert ? ['query', 'key', 'value'] : ['query_proj', 'key_proj', 'value_proj']
      q = linear(xq, T, H, W.get(`${S}.${n[0]}.weight`), A, W.get(`${S}.${n[0]}.bias`))
      k = linear(xkv, T, H, W.get(`${S}.${n[1]}.weight`), A, W.get(`${S}.${n[1]}.bias`))
      v = linear(xkv, T, H, W.get(`${S}.${n[2]}.weight`), A, W.get(`${S}.${n[2]}.bias`))
    }
    let posKey: Vec | null = null
    let posQuery: Vec | null = null
    if (relative && relTable) {
      if (isV1) {
        if (pos.includes('c2p')) posKey = linear(relTable, relRows, H, W.get(`${S}.pos_proj.weight`), A, null)
        if (pos.includes('p2c')) posQuery = linear(relTable, relRows, H, W.get(`${S}.pos_q_proj.weight`), A, W.get(`${S}.pos_q_proj.bias`))
      } else if (config.shareAttKey) {
        posKey = linear(relTable, relRows, H, W.get(`${S}.key_proj.weight`), A, W.get(`${S}.key_proj.bias`))
        posQuery = linear(relTable, relRows, H, W.get(`${S}.query_proj.weight`), A, W.get(`${S}.query_proj.bias`))
      } else {
        if (pos.includes('c2p')) posKey = linear(relTable, relRows, H, W.get(`${S}.pos_key_proj.weight`), A, W.get(`${S}.pos_key_proj.bias`))
        if (pos.includes('p2c')) posQuery = linear(relTable, relRows, H, W.get(`${S}.pos_query_proj.weight`), A, W.get(`${S}.pos_query_proj.bias`))
      }
    }
    const ctx = new Float64Array(T * A)
    const dot = (a: Vec, ar: number, c: Vec, cr: number, h: number): number => {
      let acc = 0
      for (let d = 0; d < D; d++) acc += a[ar * A + h * D + d] * c[cr * A + h * D + d]
      return acc
    }
    for (let h = 0; h < NH; h++) {
      for (let i = 0; i < T; i++) {
        const scores = new Float64Array(T)
        for (let j = 0; j < T; j++) {
          const c2c = dot(q, i, k, j, h) / s
          let score = c2c
          const idx = ((b * NH + h) * T + i) * T + j
          if (record) result.c2c[l][idx] = c2c
          if (relative && pos.includes('c2p') && posKey) {
            const c2p = dot(q, i, posKey, clampIndex(relPos(i, j) + span), h) / s
            score += c2p
            if (record) result.c2p[l][idx] = c2p
          }
          if (relative && pos.includes('p2c') && posQuery) {
            const p2c = dot(k, j, posQuery, clampIndex(-relPos(j, i) + span), h) / s
            score += p2c
            if (record) result.p2c[l][idx] = p2c
          }
          const valid = isBert ? m[j] === 1 : m[i] === 1 && m[j] === 1
          scores[j] = valid ? score : FLOAT32_MIN
        }
        let max = -Infinity
        for (const x of scores) max = Math.max(max, x)
        let sum = 0
        const p = scores.map((x) => {
          const e = Math.exp(x - max)
          sum += e
          return e
        })
        for (let j = 0; j < T; j++) {
          p[j] /= sum
          if (record) result.probs[l][((b * NH + h) * T + i) * T + j] = p[j]
          for (let d = 0; d < D; d++) ctx[i * A + h * D + d] += p[j] * v[j * A + h * D + d]
        }
      }
    }
    const O = `${P}encoder.layer.${l}.attention.output`
    const dense = linear(ctx, T, A, W.get(`${O}.dense.weight`), H, W.get(`${O}.dense.bias`))
    for (let i = 0; i < T * H; i++) dense[i] += xq[i]
    return layerNorm(dense, T, H, W.get(`${O}.LayerNorm.weight`), W.get(`${O}.LayerNorm.bias`), eps)
  }

  const layer = (l: number, xq: Vec, xkv: Vec, m: number[], b: number, record: boolean): Vec => {
    const Lk = `${P}encoder.layer.${l}`
    const attn = attentionLayer(l, xq, xkv, m, b, record)
    const inter = act(linear(attn, T, H, W.get(`${Lk}.intermediate.dense.weight`), I, W.get(`${Lk}.intermediate.dense.bias`)), config.hiddenAct)
    const out = linear(inter, T, I, W.get(`${Lk}.output.dense.weight`), H, W.get(`${Lk}.output.dense.bias`))
    for (let i = 0; i < T * H; i++) out[i] += attn[i]
    return layerNorm(out, T, H, W.get(`${Lk}.output.LayerNorm.weight`), W.get(`${Lk}.output.LayerNorm.bias`), eps)
  }

  const lmHead = (x: Vec, n: number): Vec => {
    const naming = isBert ? 'cls.predictions.transform' : 'lm_predictions.lm_head'
    const biasKey = isBert ? 'cls.predictions.bias' : 'lm_predictions.lm_head.bias'
    let y = act(linear(x, n, H, W.get(`${naming}.dense.weight`), E, W.get(`${naming}.dense.bias`)), config.hiddenAct)
    y = layerNorm(y, n, E, W.get(`${naming}.LayerNorm.weight`), W.get(`${naming}.LayerNorm.bias`), eps)
    return linear(y, n, E, W.get(`${P}embeddings.word_embeddings.weight`), config.vocabSize, W.get(biasKey))
  }

  const positions = options.positions ?? []
  const headRows = (x: Vec, b: number): { rows: number[]; states: Vec } => {
    const rows = positions.map((p, r) => (p[0] === b ? r : -1)).filter((r) => r >= 0)
    const states = new Float64Array(rows.length * H)
    rows.forEach((r, k) => states.set(x.subarray(positions[r][1] * H, positions[r][1] * H + H), k * H))
    return { rows, states }
  }
  if (positions.length > 0 && (W.has('lm_predictions.lm_head.bias') || W.has('cls.predictions.bias'))) {
    result.plainLogits = new Float64Array(positions.length * config.vocabSize)
    if (!isBert) result.emdLogits = new Float64Array(positions.length * config.vocabSize)
  }

  for (let b = 0; b < B; b++) {
    const m = mask[b]
    // embeddings (HF DebertaV2Embeddings / BertEmbeddings)
    let x: Vec = new Float64Array(T * E)
    const word = W.get(`${P}embeddings.word_embeddings.weight`)
    for (let t = 0; t < T; t++) x.set(word.subarray(ids[b][t] * E, ids[b][t] * E + E), t * E)
    if (config.positionBiasedInput || isBert) {
      const p = W.get(`${P}embeddings.position_embeddings.weight`)
      for (let i = 0; i < T * E; i++) x[i] += p[i]
    }
    if (config.typeVocabSize > 0) {
      const tt = W.get(`${P}embeddings.token_type_embeddings.weight`)
      for (let t = 0; t < T; t++) {
        const id = options.types ? options.types[b][t] : 0
        for (let e = 0; e < E; e++) x[t * E + e] += tt[id * E + e]
      }
    }
    if (E !== H) x = linear(x, T, E, W.get(`${P}embeddings.embed_proj.weight`), H, null)
    x = layerNorm(x, T, H, W.get(`${P}embeddings.LayerNorm.weight`), W.get(`${P}embeddings.LayerNorm.bias`), eps)
    if (!isBert) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) x[t * H + h] *= m[t]
    result.hidden[0].set(x, b * T * H)
    const embeddingOut = x
    let prev = x
    for (let l = 0; l < L; l++) {
      prev = x
      x = layer(l, x, x, m, b, true)
      if (l === 0 && config.modelType === 'deberta-v2' && config.convKernelSize > 0) {
        // HF ConvLayer(hidden_states = embedding output, residual = layer output, mask)
        const k = config.convKernelSize
        const pad = (k - 1) / 2
        const g = config.convGroups
        const per = H / g
        const cw = W.get(`${P}encoder.conv.conv.weight`)
        const cb = W.get(`${P}encoder.conv.conv.bias`)
        const out = new Float64Array(T * H)
        for (let t = 0; t < T; t++) {
          for (let o = 0; o < H; o++) {
            let acc = cb[o]
            const grp = Math.floor(o / per)
            for (let kk = 0; kk < k; kk++) {
              const src = t + kk - pad
              if (src < 0 || src >= T) continue
              for (let c = 0; c < per; c++) acc += cw[(o * per + c) * k + kk] * embeddingOut[src * H + grp * per + c]
            }
            out[t * H + o] = m[t] ? acc : 0
          }
        }
        const activated = act(out, config.convAct)
        for (let i = 0; i < T * H; i++) activated[i] += x[i]
        x = layerNorm(activated, T, H, W.get(`${P}encoder.conv.LayerNorm.weight`), W.get(`${P}encoder.conv.LayerNorm.bias`), eps)
        for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) x[t * H + h] *= m[t]
      }
      result.hidden[l + 1].set(x, b * T * H)
    }
    if (result.plainLogits) {
      const { rows, states } = headRows(x, b)
      const logits = lmHead(states, rows.length)
      rows.forEach((r, kk) => result.plainLogits!.set(logits.subarray(kk * config.vocabSize, (kk + 1) * config.vocabSize), r * config.vocabSize))
    }
    if (result.emdLogits) {
      // official EnhancedMaskDecoder.emd_context_layer
      let decoded = x
      if (!config.positionBiasedInput) {
        const p = W.get(`${P}embeddings.position_embeddings.weight`)
        let query: Vec = new Float64Array(T * H)
        for (let i = 0; i < T * H; i++) query[i] = p[i] + prev[i]
        for (let pass = 0; pass < 2; pass++) query = layer(L - 1, query, prev, m, b, false)
        decoded = query
      }
      const { rows, states } = headRows(decoded, b)
      const logits = lmHead(states, rows.length)
      rows.forEach((r, kk) => result.emdLogits!.set(logits.subarray(kk * config.vocabSize, (kk + 1) * config.vocabSize), r * config.vocabSize))
    }
  }
  return result
}
