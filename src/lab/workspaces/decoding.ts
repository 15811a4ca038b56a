// Decoding: for every [MASK], the top-k tokens of the plain MLM head (on the last hidden states) and of the
// Enhanced Mask Decoder (last layer re-run with absolute positions added to its query input).
import type { DecodingRequest, DecodingResult, TokenPrediction } from '../../common/api'
import { LabError } from '../../common/errors'
import type { Tokenizer } from '../../core/tokenizer'
import type { JobHandler } from '../jobs'
import { encodeText, forwardProgress, loadWorkspaceModel, tokenized } from './common'

/**
 * The k most probable ids of one row of logits under a softmax over the whole vocabulary (computed in
 * float64 with the max subtracted), most probable first; ties keep the lower id first.
 */
export function topKSoftmax(
  logits: ArrayLike<number>,
  offset: number,
  width: number,
  k: number,
  candidates = width,
  exclude: ReadonlySet<number> = new Set(),
): Array<{ id: number; probability: number }> {
  let max = -Infinity
  let nan = 0
  for (let v = 0; v < width; v++) {
    const logit = logits[offset + v]
    if (Number.isNaN(logit)) nan++
    else if (logit > max) max = logit
  }
  // NaN compares false with everything, so a ranking with it would be arbitrary and its softmax NaN; +Inf makes
  // every probability NaN too. Refuse instead of showing made-up predictions.
  if (nan > 0 || max === Infinity) {
    throw new LabError(
      'NOT_FINITE',
      `logits contain ${nan > 0 ? `NaN (${nan} of ${width} values)` : '+Infinity'}: the model's weights hold NaN/Inf values or the computation overflowed (see the model's warnings); the predictions cannot be ranked`,
      { nan, width },
    )
  }
  let total = 0
  for (let v = 0; v < width; v++) total += Math.exp(logits[offset + v] - max)
  const best: Array<{ id: number; logit: number }> = []
  // the softmax is the model's, over all `width` rows; the ranking only over ids the tokenizer has (`candidates`)
  for (let v = 0; v < Math.min(width, candidates); v++) {
    const logit = logits[offset + v]
    if (exclude.has(v) || (best.length === k && logit <= best[k - 1].logit)) continue
    let at = best.length
    while (at > 0 && best[at - 1].logit < logit) at--
    best.splice(at, 0, { id: v, logit })
    if (best.length > k) best.pop()
  }
  return best.map(({ id, logit }) => ({ id, probability: Math.exp(logit - max) / total }))
}

function predictions(tokenizer: Tokenizer, logits: ArrayLike<number>, row: number, width: number, k: number): TokenPrediction[] {
  // Checkpoints often pad the embedding matrix past the tokenizer (deberta-v3: 128100 rows, 128001 ids): those
  // rows are no token, so they are left out of the ranking (their probability stays in the softmax).
  // [CLS], [SEP], [PAD] and [MASK] are not words to fill in: they are left out of the ranking too.
  const { cls, sep, pad, mask } = tokenizer.special
  const special = new Set([cls, sep, pad, mask].filter((id): id is number => id !== undefined))
  return topKSoftmax(logits, row * width, width, k, tokenizer.vocabSize, special).map(({ id, probability }) => ({ id, token: tokenizer.idToToken(id), probability }))
}

export const decoding: JobHandler<DecodingRequest, DecodingResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  if (!model.hasMlmHead) {
    throw new LabError('NO_MLM_HEAD', `${info.label} has no masked-language-model head, so it cannot predict masked tokens`)
  }
  const maskId = tokenizer.special.mask
  if (maskId === undefined) throw new LabError('NO_MASK_TOKEN', `the tokenizer of ${info.label} has no [MASK] token`)
  const topK = Math.max(1, Math.min(100, Math.floor(request.topK)))
  const encoding = encodeText(tokenizer, request.text)
  const maskPositions = encoding.inputIds.flatMap((id, position) => (id === maskId ? [position] : []))
  if (maskPositions.length === 0) {
    throw new LabError('INPUT_INVALID', `the text has no ${tokenizer.idToToken(maskId)}: put one where a word should be predicted`, { field: 'text' })
  }
  const result = model.forward(
    { inputIds: [encoding.inputIds] },
    { mlm: { positions: maskPositions.map((p) => [0, p] as [number, number]), plain: true, emd: true }, onProgress: forwardProgress(context, 0.05, 0.95, 'encoder') },
  )
  const mlm = result.mlm
  if (!mlm?.plainLogits || !mlm.emdLogits) throw new LabError('INTERNAL', 'the forward pass returned no MLM logits')
  const width = mlm.plainLogits.shape[1]
  context.progress(1, 'done')
  return {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    maskPositions,
    predictions: maskPositions.map((position, row) => ({
      position,
      plain: predictions(tokenizer, mlm.plainLogits!.data, row, width, topK),
      emd: predictions(tokenizer, mlm.emdLogits!.data, row, width, topK),
    })),
  }
}
