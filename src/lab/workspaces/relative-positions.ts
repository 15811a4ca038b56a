// Relative positions: δ(i, j) = i − j, the relative id the model reads for it (log bucket for v3, clipped
// distance for v1), the distance → id curve, a clipping-k control, and the c2p / p2c scores of the same
// word pair at the same distance in two sentences (layer 0, head 0).
import type { RelativePositionsRequest, RelativePositionsResult } from '../../common/api'
import { LabError } from '../../common/errors'
import { attentionSpan, type DebertaConfig } from '../../core/config'
import type { LayerComponents } from '../../core/model'
import { relativeEmbeddingRow } from '../../core/relative-position'
import type { JobHandler } from '../jobs'
import { encodeText, forwardProgress, loadWorkspaceModel, tokenized } from './common'

/** Most distances the curve covers on each side. */
const MAX_CURVE_DISTANCE = 1024
/** Most word pairs the comparison reports. */
const MAX_PAIRS = 12

/**
 * The signed relative id distance δ reads: rel-embedding row − span, i.e. clamp(bucket(δ), −span, span − 1)
 * for v3 and clamp(δ, −k, k − 1) for v1 (the row c2p and p2c use, see core/relative-position.ts).
 */
export function relativeId(config: DebertaConfig, delta: number): number {
  return relativeEmbeddingRow(config, delta) - attentionSpan(config)
}

/** The curve's kind, exact region and distance range for a config. */
export function curveShape(config: DebertaConfig): { kind: 'log-bucket' | 'clipped'; exactLimit: number; maxPosition: number; reach: number } {
  if (config.modelType === 'deberta-v2' && config.positionBuckets > 0) {
    const exactLimit = Math.floor(config.positionBuckets / 2)
    return { kind: 'log-bucket', exactLimit, maxPosition: config.maxRelativePositions, reach: Math.min(MAX_CURVE_DISTANCE, Math.max(config.maxRelativePositions, 2 * exactLimit)) }
  }
  const k = config.maxRelativePositions
  return { kind: 'clipped', exactLimit: k - 1, maxPosition: k, reach: Math.min(MAX_CURVE_DISTANCE, Math.max(16, 2 * k)) }
}

/** The paper's clipping δ(i, j) at k, signed: clamp(i − j, −k, k − 1) (the paper's 0 … 2k − 1 minus k). */
export function clipDistance(delta: number, k: number): number {
  return Math.min(Math.max(delta, -k), k - 1)
}

/**
 * Pairs (i, j) of sentence A and (k, l) of sentence B with the same two token ids at the same distance
 * (i − j = k − l) but other absolute positions (i ≠ k); the nearest distances first.
 */
export function matchingPairs(idsA: number[], idsB: number[], skip: Set<number>, max = MAX_PAIRS): Array<{ a: [number, number]; b: [number, number] }> {
  const out: Array<{ a: [number, number]; b: [number, number]; d: number }> = []
  const seen = new Set<string>()
  for (let i = 0; i < idsA.length; i++) {
    if (skip.has(idsA[i])) continue
    for (let j = 0; j < idsA.length; j++) {
      if (i === j || skip.has(idsA[j])) continue
      const key = `${idsA[i]}:${idsA[j]}:${i - j}`
      if (seen.has(key)) continue
      for (let k = 0; k < idsB.length; k++) {
        const l = k - (i - j)
        if (k === i || l < 0 || l >= idsB.length) continue
        if (idsB[k] === idsA[i] && idsB[l] === idsA[j]) {
          out.push({ a: [i, j], b: [k, l], d: Math.abs(i - j) })
          seen.add(key)
          break
        }
      }
    }
  }
  return out
    .sort((x, y) => x.d - y.d || x.a[0] - y.a[0] || x.a[1] - y.a[1])
    .slice(0, max)
    .map(({ a, b }) => ({ a, b }))
}

function at(components: LayerComponents, term: 'c2p' | 'p2c', i: number, j: number): number {
  const array = components[term]
  if (!array) return 0
  const T = array.shape[3]
  return array.data[i * T + j] // batch 0, head 0
}

export const relativePositions: JobHandler<RelativePositionsRequest, RelativePositionsResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  const config = model.config
  if (!model.isRelative) {
    throw new LabError('CONFIG_UNSUPPORTED', 'this model uses absolute positions only (BERT): choose a DeBERTa model to see relative positions', { field: 'relative_attention' })
  }
  const encoding = encodeText(tokenizer, request.text, 'sentence')
  const T = encoding.inputIds.length
  const delta = new Float32Array(T * T)
  const buckets = new Float32Array(T * T)
  const idOf = new Map<number, number>()
  const id = (d: number): number => {
    let v = idOf.get(d)
    if (v === undefined) idOf.set(d, (v = relativeId(config, d)))
    return v
  }
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      delta[i * T + j] = i - j
      buckets[i * T + j] = id(i - j)
    }
  }
  const shape = curveShape(config)
  const distances = Array.from({ length: 2 * shape.reach + 1 }, (_, k) => k - shape.reach)
  const result: RelativePositionsResult = {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    delta: { rows: T, cols: T, data: delta },
    buckets: { rows: T, cols: T, data: buckets },
    curve: { distances, buckets: distances.map(id), exactLimit: shape.exactLimit, maxPosition: shape.maxPosition, kind: shape.kind },
  }
  if (request.clipK !== undefined) {
    const k = request.clipK
    if (!Number.isInteger(k) || k < 1) throw new LabError('INPUT_INVALID', `the clipping distance k must be a positive integer (got ${k})`, { field: 'clipK' })
    result.clipping = { k, distances, ids: distances.map((d) => clipDistance(d, k)) }
  }
  context.checkCancelled()

  if (request.compareText !== undefined && request.compareText.trim() !== '') {
    const encodingB = encodeText(tokenizer, request.compareText, 'second sentence')
    const special = new Set([tokenizer.special.cls, tokenizer.special.sep, tokenizer.special.pad].filter((v): v is number => v !== undefined))
    const pairs = matchingPairs(encoding.inputIds, encodingB.inputIds, special)
    context.progress(0.2, 'sentence A, layer 0')
    const a = model.forward({ inputIds: [encoding.inputIds] }, { components: [0], onProgress: forwardProgress(context, 0.2, 0.6, 'sentence A') }).components![0]
    context.progress(0.6, 'sentence B, layer 0')
    const b = model.forward({ inputIds: [encodingB.inputIds] }, { components: [0], onProgress: forwardProgress(context, 0.6, 1, 'sentence B') }).components![0]
    result.comparison = {
      tokensB: tokenized(encodingB, tokenizer, request.compareText),
      pairs: pairs.map(({ a: [i, j], b: [k, l] }) => ({
        a: [i, j] as [number, number],
        b: [k, l] as [number, number],
        c2pA: at(a, 'c2p', i, j),
        c2pB: at(b, 'c2p', k, l),
        p2cA: at(a, 'p2c', i, j),
        p2cB: at(b, 'p2c', k, l),
      })),
    }
  }
  context.progress(1, 'done')
  return result
}
