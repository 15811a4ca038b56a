// Model view: every layer × head at once (BertViz's model view), each head summarised in the worker — its
// terms' shares of Σ|term|, its attention entropy, its mean attended distance and its pattern pooled to at
// most 32 × 32 bins — so no [L, NH, T, T] array ever leaves the worker. The forward streams each layer's
// components (ForwardOptions.onLayerComponents): one layer's arrays in memory, not L.
//
// Shapes: L layers, NH heads, T tokens, G = min(T, 32) thumbnail bins
import type { AttentionTerm, ModelViewRequest, ModelViewResult } from '../../common/api'
import { ATTENTION_TERMS } from '../../common/api'
import type { JobHandler } from '../jobs'
import { layerShares } from './attention'
import { encodeText, forwardProgress, loadWorkspaceModel, tokenized } from './common'

/** Largest side of a pooled head pattern. */
export const MAX_THUMBNAIL_SIZE = 32

export interface HeadStatistics {
  /** mean over query rows of −Σ_j p ln p (nats) */
  entropy: number
  /** mean over query rows of Σ_j p |i − j| (tokens) */
  distance: number
  /** G × G mean probabilities, row-major */
  thumbnail: number[]
}

/** First index of bin r when n items are split into g bins: ⌊r·n/g⌋. */
export const binStart = (r: number, n: number, g: number): number => Math.floor((r * n) / g)

/** Statistics of one head's [T, T] probabilities starting at `offset` of `probs`. */
export function headStatistics(probs: ArrayLike<number>, offset: number, T: number, size = Math.min(T, MAX_THUMBNAIL_SIZE)): HeadStatistics {
  let entropy = 0
  let distance = 0
  const sums = new Float64Array(size * size)
  // bin of every index: T ≤ 1024, so a small table
  const bin = new Int32Array(T)
  for (let r = 0; r < size; r++) for (let k = binStart(r, T, size); k < binStart(r + 1, T, size); k++) bin[k] = r
  for (let i = 0; i < T; i++) {
    const rowOffset = offset + i * T
    const binRow = bin[i] * size
    for (let j = 0; j < T; j++) {
      const p = probs[rowOffset + j]
      if (p > 0) entropy -= p * Math.log(p)
      distance += p * Math.abs(i - j)
      sums[binRow + bin[j]] += p
    }
  }
  const thumbnail = new Array<number>(size * size)
  for (let r = 0; r < size; r++) {
    const rows = binStart(r + 1, T, size) - binStart(r, T, size)
    for (let c = 0; c < size; c++) thumbnail[r * size + c] = sums[r * size + c] / (rows * (binStart(c + 1, T, size) - binStart(c, T, size)))
  }
  return { entropy: entropy / T, distance: distance / T, thumbnail }
}

export const modelView: JobHandler<ModelViewRequest, ModelViewResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  const encoding = encodeText(tokenizer, request.text)
  const ids = encoding.inputIds
  const T = ids.length
  const L = model.config.numHiddenLayers
  const NH = model.config.numAttentionHeads
  const size = Math.min(T, MAX_THUMBNAIL_SIZE)
  const disabled = new Set<AttentionTerm>(request.disabledTerms ?? [])
  let terms: AttentionTerm[] = []
  const shares: number[] = []
  const entropy: number[] = []
  const distance: number[] = []
  const thumbnails: number[] = []
  model.forward(
    { inputIds: [ids] },
    {
      p2p: request.p2p ?? false,
      disabledTerms: [...disabled],
      onLayerComponents: (_layer, components) => {
        if (terms.length === 0) terms = ATTENTION_TERMS.filter((t) => components[t] !== undefined)
        shares.push(...layerShares(components, terms, disabled))
        for (let h = 0; h < NH; h++) {
          const stats = headStatistics(components.probs.data, h * T * T, T, size)
          entropy.push(stats.entropy)
          distance.push(stats.distance)
          for (const v of stats.thumbnail) thumbnails.push(v)
        }
      },
      onProgress: forwardProgress(context, 0.05, 1, 'forward'),
    },
  )
  context.progress(1, 'done')
  return {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    layers: L,
    heads: NH,
    terms,
    shares,
    entropy,
    distance,
    thumbnails: { size, values: thumbnails },
  }
}
