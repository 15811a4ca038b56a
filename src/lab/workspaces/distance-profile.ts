// Attention by relative distance: for every head of one layer (and their mean), the mean attention
// probability and each term's mean score over the pairs (i, j) of the sentence with i − j = δ, with the
// relative id each δ reads, so the chart can show where log buckets merge distances (v3) or clip them (v1).
//
// Shapes: NH heads, T tokens, W = 2T − 1 distances δ = −(T − 1) … T − 1 (index k = δ + T − 1)
import type { AttentionTerm, DistanceProfileRequest, DistanceProfileResult } from '../../common/api'
import { ATTENTION_TERMS } from '../../common/api'
import { LabError } from '../../common/errors'
import { attentionSpan } from '../../core/config'
import type { FloatArray } from '../../core/model'
import type { JobHandler } from '../jobs'
import { encodeText, forwardProgress, loadWorkspaceModel, tokenized } from './common'
import { curveShape, relativeId } from './relative-positions'

/**
 * Per head of a [1, NH, T, T] array, the mean over the pairs with i − j = δ, for every δ (W values per head),
 * then one more row: the mean over heads.
 */
export function profileByDistance(array: FloatArray): number[][] {
  const [, heads, T] = array.shape
  const W = 2 * T - 1
  const out: number[][] = []
  const mean = new Array<number>(W).fill(0)
  for (let h = 0; h < heads; h++) {
    const sums = new Float64Array(W)
    const offset = h * T * T
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) sums[i - j + T - 1] += array.data[offset + i * T + j]
    const row = Array.from(sums, (s, k) => s / (T - Math.abs(k - (T - 1))))
    row.forEach((v, k) => (mean[k] += v / heads))
    out.push(row)
  }
  out.push(mean)
  return out
}

export const distanceProfile: JobHandler<DistanceProfileRequest, DistanceProfileResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  const config = model.config
  const L = config.numHiddenLayers
  if (!Number.isInteger(request.layer) || request.layer < 0 || request.layer >= L) {
    throw new LabError('INPUT_INVALID', `layer ${request.layer} does not exist: this model has layers 0–${L - 1}`, { field: 'layer' })
  }
  const encoding = encodeText(tokenizer, request.text)
  const T = encoding.inputIds.length
  const result = model.forward(
    { inputIds: [encoding.inputIds] },
    {
      components: [request.layer],
      p2p: request.p2p ?? false,
      disabledTerms: request.disabledTerms ?? [],
      onProgress: forwardProgress(context, 0.05, 0.9, 'forward'),
    },
  )
  const components = result.components![0]
  const terms = ATTENTION_TERMS.filter((t) => components[t] !== undefined)
  const scores: Partial<Record<AttentionTerm, number[][]>> = {}
  for (const term of terms) scores[term] = profileByDistance(components[term]!)
  const distances = Array.from({ length: 2 * T - 1 }, (_, k) => k - (T - 1))
  const shape = model.isRelative ? curveShape(config) : null
  context.progress(1, 'done')
  return {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    layer: request.layer,
    heads: config.numAttentionHeads,
    terms,
    distances,
    pairs: distances.map((d) => T - Math.abs(d)),
    probability: profileByDistance(components.probs),
    scores,
    buckets: shape
      ? { ids: distances.map((d) => relativeId(config, d)), kind: shape.kind, exactLimit: shape.exactLimit, span: attentionSpan(config) }
      : { ids: distances.slice(), kind: 'none', exactLimit: T - 1, span: 0 },
  }
}
