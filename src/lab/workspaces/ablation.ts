// Ablate and measure: remove a term or a whole head and compare the masked-LM predictions and the hidden states
// with the unablated model's (runAblation), or remove every head in turn and rank the heads by how much the
// masked tokens' log-probability drops (runHeadImportance, one forward per head).
//
// The text holds [MASK] tokens, not the true words, so the token measured at a slot is the unablated model's
// top-1 there (per decoder). A head is removed as in Michel et al. 2019 (ForwardOptions.removedHeads): its
// context vectors are zeroed before the output projection.
//
// Shapes: L layers, NH heads, T tokens, H hidden, V vocabulary rows, S masked slots
import type {
  Ablation,
  AblationRequest,
  AblationResult,
  AblationSlot,
  AttentionTerm,
  HeadImportanceRequest,
  HeadImportanceResult,
  TokenPrediction,
} from '../../common/api'
import { LabError } from '../../common/errors'
import type { DebertaModel, FloatArray, ForwardOptions, ForwardResult } from '../../core/model'
import type { Tokenizer } from '../../core/tokenizer'
import type { JobContext, JobHandler } from '../jobs'
import { encodeText, forwardProgress, loadWorkspaceModel, tokenized } from './common'
import { topKSoftmax } from './decoding'

/** log softmax of one row of logits (float64, max subtracted); refuses NaN/+Inf like the decoding ranking. */
export function logSoftmaxRow(logits: ArrayLike<number>, offset: number, width: number): Float64Array {
  let max = -Infinity
  for (let v = 0; v < width; v++) {
    const logit = logits[offset + v]
    if (Number.isNaN(logit) || logit === Infinity) throw new LabError('NOT_FINITE', 'logits contain NaN or +Infinity: the predictions cannot be compared')
    if (logit > max) max = logit
  }
  let total = 0
  for (let v = 0; v < width; v++) total += Math.exp(logits[offset + v] - max)
  const logTotal = Math.log(total)
  const out = new Float64Array(width)
  for (let v = 0; v < width; v++) out[v] = logits[offset + v] - max - logTotal
  return out
}

/** KL(p ‖ q) in nats from two log-probability rows. */
export function klDivergence(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0
  for (let v = 0; v < logP.length; v++) {
    const p = Math.exp(logP[v])
    if (p > 0) kl += p * (logP[v] - logQ[v])
  }
  return Math.max(0, kl)
}

/** What the decoding ranking leaves out: ids past the tokenizer, and [CLS], [SEP], [PAD], [MASK]. */
export interface RankingRules {
  candidates: number
  exclude: ReadonlySet<number>
  token: (id: number) => string
}

export function rankingRules(tokenizer: Tokenizer): RankingRules {
  const { cls, sep, pad, mask } = tokenizer.special
  return {
    candidates: tokenizer.vocabSize,
    exclude: new Set([cls, sep, pad, mask].filter((id): id is number => id !== undefined)),
    token: (id) => tokenizer.idToToken(id),
  }
}

/** 1 + the number of ranked ids ahead of `id` (higher logit, or equal with a lower id: the ranking's tie order). */
export function rankOf(logits: ArrayLike<number>, offset: number, width: number, id: number, rules: RankingRules): number {
  const target = logits[offset + id]
  let rank = 1
  for (let v = 0; v < Math.min(width, rules.candidates); v++) {
    if (v === id || rules.exclude.has(v)) continue
    const logit = logits[offset + v]
    if (logit > target || (logit === target && v < id)) rank++
  }
  return rank
}

function topK(logits: ArrayLike<number>, row: number, width: number, k: number, rules: RankingRules): TokenPrediction[] {
  return topKSoftmax(logits, row * width, width, k, rules.candidates, rules.exclude).map(({ id, probability }) => ({ id, token: rules.token(id), probability }))
}

/** One slot (row `row` of [S, V] logits) before and after. */
export function slotEffect(before: FloatArray, after: FloatArray, row: number, k: number, rules: RankingRules): AblationSlot {
  const width = before.shape[1]
  const offset = row * width
  const top = topK(before.data, row, width, k, rules)
  const afterTop = topK(after.data, row, width, k, rules)
  const reference = top[0]
  const logBefore = logSoftmaxRow(before.data, offset, width)
  const logAfter = logSoftmaxRow(after.data, offset, width)
  const inBefore = new Set(top.map((p) => p.id))
  const inAfter = new Set(afterTop.map((p) => p.id))
  return {
    reference: { id: reference.id, token: reference.token },
    logProbBefore: logBefore[reference.id],
    logProbAfter: logAfter[reference.id],
    delta: logAfter[reference.id] - logBefore[reference.id],
    rankAfter: rankOf(after.data, offset, width, reference.id, rules),
    kl: klDivergence(logBefore, logAfter),
    before: top,
    after: afterTop,
    entered: afterTop.filter((p) => !inBefore.has(p.id)),
    left: top.filter((p) => !inAfter.has(p.id)),
  }
}

/** ‖a − b‖ / ‖b‖ over the rows `rows` of two [1, T, H] arrays (every row when null); 0 when ‖b‖ = 0 and a = b. */
export function relativeChange(a: FloatArray, b: FloatArray, rows: number[] | null = null): number {
  const H = b.shape[b.shape.length - 1]
  const T = b.data.length / H
  let diff = 0
  let norm = 0
  for (const t of rows ?? Array.from({ length: T }, (_, k) => k)) {
    for (let c = t * H; c < (t + 1) * H; c++) {
      const d = a.data[c] - b.data[c]
      diff += d * d
      norm += b.data[c] * b.data[c]
    }
  }
  return norm > 0 ? Math.sqrt(diff / norm) : diff > 0 ? Infinity : 0
}

/** The terms a forward of this model computes (a term it does not compute cannot be removed). */
function computedTerms(model: DebertaModel): AttentionTerm[] {
  const terms: AttentionTerm[] = ['c2c']
  if (model.isRelative) terms.push(...model.config.posAttType.filter((t) => t === 'c2p' || t === 'p2c' || t === 'p2p'))
  return terms
}

/** The forward options that carry out an ablation on this model; INPUT_INVALID naming the field when impossible. */
export function ablationOptions(ablation: Ablation, model: DebertaModel): Pick<ForwardOptions, 'disabledTerms' | 'ablationScope' | 'removedHeads'> {
  const L = model.config.numHiddenLayers
  const NH = model.config.numAttentionHeads
  if (ablation.layer !== undefined && (ablation.layer < 0 || ablation.layer >= L)) {
    throw new LabError('INPUT_INVALID', `layer ${ablation.layer} is outside this model's layers 0 … ${L - 1}`, { field: 'ablation.layer' })
  }
  if (ablation.head !== undefined && (ablation.head < 0 || ablation.head >= NH)) {
    throw new LabError('INPUT_INVALID', `head ${ablation.head} is outside this model's heads 0 … ${NH - 1}`, { field: 'ablation.head' })
  }
  if (ablation.kind === 'head') return { removedHeads: [{ layer: ablation.layer, head: ablation.head }] }
  if (!computedTerms(model).includes(ablation.term)) {
    throw new LabError('INPUT_INVALID', `this model does not compute ${ablation.term} (its terms: ${computedTerms(model).join(', ')}), so there is nothing to remove`, { field: 'ablation.term' })
  }
  if (ablation.head !== undefined && ablation.layer === undefined) throw new LabError('INPUT_INVALID', 'a head is named without its layer', { field: 'ablation.layer' })
  return { disabledTerms: [ablation.term], ...(ablation.layer === undefined ? {} : { ablationScope: { layer: ablation.layer, head: ablation.head } }) }
}

interface MaskedText {
  ids: number[]
  maskPositions: number[]
}

/** The encoded text and its [MASK] positions; the errors of the Decoding workspace when it cannot be decoded. */
async function maskedText(context: JobContext, request: { model: AblationRequest['model']; text: string }) {
  const loaded = await loadWorkspaceModel(context, request.model)
  const { info, model, tokenizer } = loaded
  if (!model.hasMlmHead) throw new LabError('NO_MLM_HEAD', `${info.label} has no masked-language-model head, so it cannot predict masked tokens`)
  const maskId = tokenizer.special.mask
  if (maskId === undefined) throw new LabError('NO_MASK_TOKEN', `the tokenizer of ${info.label} has no [MASK] token`)
  const encoding = encodeText(tokenizer, request.text)
  const masked: MaskedText = { ids: encoding.inputIds, maskPositions: encoding.inputIds.flatMap((id, position) => (id === maskId ? [position] : [])) }
  if (masked.maskPositions.length === 0) {
    throw new LabError('INPUT_INVALID', `the text has no ${tokenizer.idToToken(maskId)}: put one where a word should be predicted`, { field: 'text' })
  }
  return { ...loaded, encoding, masked }
}

export const ablation: JobHandler<AblationRequest, AblationResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer, encoding, masked } = await maskedText(context, request)
  const options = ablationOptions(request.ablation, model)
  const topKCount = Math.max(1, Math.min(100, Math.floor(request.topK)))
  const mlm = { positions: masked.maskPositions.map((p) => [0, p] as [number, number]), plain: true, emd: true }
  const full = model.forward({ inputIds: [masked.ids] }, { hiddenStates: true, mlm, onProgress: forwardProgress(context, 0.05, 0.5, 'unablated') })
  const ablated = model.forward({ inputIds: [masked.ids] }, { ...options, hiddenStates: true, mlm, onProgress: forwardProgress(context, 0.5, 0.95, 'ablated') })
  const rules = rankingRules(tokenizer)
  const logits = (r: typeof full, decoder: 'plainLogits' | 'emdLogits'): FloatArray => {
    const array = r.mlm?.[decoder]
    if (!array) throw new LabError('INTERNAL', 'the forward pass returned no MLM logits')
    return array
  }
  context.progress(1, 'done')
  return {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    ablation: request.ablation,
    topK: topKCount,
    maskPositions: masked.maskPositions,
    slots: masked.maskPositions.map((position, row) => ({
      position,
      plain: slotEffect(logits(full, 'plainLogits'), logits(ablated, 'plainLogits'), row, topKCount, rules),
      emd: slotEffect(logits(full, 'emdLogits'), logits(ablated, 'emdLogits'), row, topKCount, rules),
    })),
    layerChange: full.hiddenStates!.map((h, k) => relativeChange(ablated.hiddenStates![k], h)),
    layerChangeMasked: full.hiddenStates!.map((h, k) => relativeChange(ablated.hiddenStates![k], h, masked.maskPositions)),
  }
}

/**
 * Cancel discards the job (CANCELLED, nothing recorded): a partial table would rank heads of the first layers
 * only, which reads like a finding. The result on screen stays the previous complete one.
 */
export const headImportance: JobHandler<HeadImportanceRequest, HeadImportanceResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer, encoding, masked } = await maskedText(context, request)
  const started = Date.now()
  const L = model.config.numHiddenLayers
  const NH = model.config.numAttentionHeads
  const S = masked.maskPositions.length
  const field = request.decoder === 'emd' ? 'emdLogits' : 'plainLogits'
  const mlm = { positions: masked.maskPositions.map((p) => [0, p] as [number, number]), plain: request.decoder === 'plain', emd: request.decoder === 'emd' }
  const stopIfCancelled = (): void => context.checkCancelled()
  const logProbs = (result: ForwardResult): Float64Array[] => {
    const logits = result.mlm?.[field]
    if (!logits) throw new LabError('INTERNAL', 'the forward pass returned no MLM logits')
    const V = logits.shape[1]
    return masked.maskPositions.map((_, s) => logSoftmaxRow(logits.data, s * V, V))
  }
  const rules = rankingRules(tokenizer)
  // the unablated forward keeps every layer's input: removing a head of layer l leaves layers 0 … l − 1 as they
  // are, so each ablated forward starts at layer l from that input (the same numbers as a whole forward, tested)
  const full = model.forward({ inputIds: [masked.ids] }, { mlm, hiddenStates: true, onProgress: stopIfCancelled })
  const base = logProbs(full)
  // the token measured at each slot: the unablated top-1 among the ranked ids (the Decoding workspace's ranking)
  const references = base.map((row) => {
    const [best] = topKSoftmax(row, 0, row.length, 1, rules.candidates, rules.exclude)
    return { id: best.id, token: rules.token(best.id), logProb: row[best.id] }
  })
  const total = L * NH
  const importance: number[] = []
  const deltas: number[] = []
  for (let layer = 0; layer < L; layer++) {
    for (let head = 0; head < NH; head++) {
      const done = layer * NH + head
      context.progress(done / total, `head ${layer}.${head} (${done} of ${total} heads done)`)
      await context.yieldToEvents()
      context.checkCancelled()
      const rows = logProbs(model.forward({ inputIds: [masked.ids] }, { mlm, removedHeads: [{ layer, head }], resumeFrom: { layer, hidden: full.hiddenStates![layer] }, onProgress: stopIfCancelled }))
      let sum = 0
      rows.forEach((row, s) => {
        const delta = row[references[s].id] - references[s].logProb
        deltas.push(delta)
        sum += delta
      })
      importance.push(sum / S)
    }
  }
  context.progress(1, `${total} of ${total} heads done`)
  return {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    decoder: request.decoder,
    layers: L,
    heads: NH,
    maskPositions: masked.maskPositions,
    references,
    importance,
    deltas,
    forwards: 1 + total,
    milliseconds: Date.now() - started,
  }
}
