// Texts that depend on the model on screen (pure, unit-tested): the attention score scale and the one-line
// model summary. BERT has no relative terms and no relative positions; DeBERTa divides by √((1 + n)·d) with n
// the relative terms it computes (official `scale_factor = 1 + len(pos_att_type)`, +1 for the p2p toggle).
import type { AttentionTerm, ModelInfo } from '../common/api'

type ModelShape = Pick<ModelInfo, 'modelType' | 'posAttType' | 'positionBuckets' | 'maxRelativePositions'>

/** The relative terms (c2p, p2c, and p2p when switched on) a model adds to c2c. */
export function relativeTerms(info: Pick<ModelInfo, 'posAttType'>, p2p = false): AttentionTerm[] {
  const terms = info.posAttType.filter((t) => t !== 'c2c' && t !== 'p2p')
  return p2p && terms.length > 0 ? [...terms, 'p2p'] : terms
}

/** The divisor of the attention scores, e.g. "√d" (BERT), "√(3d)" (DeBERTa: c2p + p2c), "√(4d)" (with p2p). */
export function scoreScale(info: Pick<ModelInfo, 'posAttType'> | null | undefined, p2p = false): string {
  // no model described yet: DeBERTa's released configuration (c2p + p2c)
  const factor = 1 + (info ? relativeTerms(info, p2p).length : p2p ? 3 : 2)
  return factor === 1 ? '√d' : `√(${factor}d)`
}

/** How the model encodes relative positions: log buckets (v3), clipping at k (v1), or none (BERT). */
export function relativePositionSummary(info: ModelShape): string {
  if (info.modelType === 'bert' || relativeTerms(info).length === 0) return 'absolute positions only (no relative terms)'
  if (info.positionBuckets > 0) return `${info.positionBuckets} log buckets up to distance ${info.maxRelativePositions}`
  return `relative distances clipped at k = ${info.maxRelativePositions}`
}

/** The model line under the picker: type, size, terms, positions, parameters. */
export function modelSummary(info: ModelShape & Pick<ModelInfo, 'layers' | 'hidden' | 'heads' | 'parameterCount' | 'hasMlmHead'>): string {
  return [
    info.modelType,
    `${info.layers} layers`,
    `hidden ${info.hidden}`,
    `${info.heads} heads`,
    `terms ${info.posAttType.join(' + ')}`,
    relativePositionSummary(info),
    `${info.parameterCount.toLocaleString()} parameters${info.hasMlmHead ? '' : ' · no MLM head'}`,
  ].join(' · ')
}
