// Problem demo: what summing content and absolute position embeddings (BERT's input) does, measured on the
// model's own tables, beside DeBERTa's separated attention terms for the same sentence.
import type { AttentionTerm, ProblemDemoRequest, ProblemDemoResult } from '../../common/api'
import { LabError } from '../../common/errors'
import { bertBaselineFrom } from '../../core/bert'
import type { JobHandler } from '../jobs'
import { encodeText, forwardProgress, headMatrix, loadWorkspaceModel, rowsMatrix, tokenized } from './common'
import { recoveryR2, repeatedTokens, rowCosine, vocabularySample } from './interference'

export const problemDemo: JobHandler<ProblemDemoRequest, ProblemDemoResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  const encoding = encodeText(tokenizer, request.text)
  const ids = encoding.inputIds
  const T = ids.length
  const maxPositions = model.config.maxPositionEmbeddings
  if (T > maxPositions) {
    throw new LabError('SEQUENCE_TOO_LONG', `the text has ${T} tokens; the absolute position table has ${maxPositions} rows`, { length: T, max: maxPositions })
  }
  context.checkCancelled()

  // Embedding tables: content rows of the tokens, position rows 0 … T−1, their sum.
  const rows = model.embeddingRows(ids)
  if (!rows.position || !rows.sum) {
    throw new LabError('CHECKPOINT_MISSING_KEY', 'this model has no absolute position embeddings, so there is no BERT-style sum to measure', {
      key: 'embeddings.position_embeddings.weight',
    })
  }
  const width = rows.content.shape[1]
  context.progress(0.1, 'measuring interference')
  await context.yieldToEvents()

  // Recovery R² over (vocabulary sample) × (positions 0 … T−1); see interference.ts.
  const sample = vocabularySample(model.config.vocabSize, Math.min(4096, Math.max(1024, 2 * width)))
  const vocabulary = model.wordEmbeddingRows(sample)
  context.checkCancelled()
  const r2 = recoveryR2(vocabulary.data, sample.length, rows.position.data, T, width)
  context.checkCancelled()

  const special = new Set([tokenizer.special.cls, tokenizer.special.sep, tokenizer.special.pad, tokenizer.special.unk, tokenizer.special.mask].filter((id): id is number => id !== undefined))
  const sameWord = repeatedTokens(ids, special).map(({ id, positions: [a, b] }) => ({
    token: tokenizer.idToToken(id),
    positions: [a, b] as [number, number],
    cosineContent: rowCosine(rows.content.data, width, a, b),
    cosineSum: rowCosine(rows.sum!.data, width, a, b),
  }))

  // BERT's layer-0 attention built from the same tables (word + position, LayerNorm, the same Q/K weights).
  context.progress(0.4, 'BERT baseline, layer 0')
  const baseline = bertBaselineFrom(model)
  let bertAttention
  try {
    const bert = baseline.forward({ inputIds: [ids] }, { components: [0], onProgress: forwardProgress(context, 0.4, 0.7, 'BERT baseline') })
    bertAttention = headMatrix(bert.components![0].probs, 0)
  } finally {
    baseline.dispose()
  }

  // DeBERTa's separated terms, layer 0, head 0 (each already divided by the score scale s).
  context.progress(0.7, 'DeBERTa terms, layer 0')
  const deberta = model.forward({ inputIds: [ids] }, { components: [0], onProgress: forwardProgress(context, 0.7, 1, 'DeBERTa') })
  const layer0 = deberta.components![0]
  const debertaTerms: Partial<Record<AttentionTerm, ReturnType<typeof headMatrix>>> = { c2c: headMatrix(layer0.c2c, 0) }
  if (layer0.c2p) debertaTerms.c2p = headMatrix(layer0.c2p, 0)
  if (layer0.p2c) debertaTerms.p2c = headMatrix(layer0.p2c, 0)
  if (layer0.p2p) debertaTerms.p2p = headMatrix(layer0.p2p, 0)
  context.progress(1, 'done')

  return {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    content: rowsMatrix(rows.content),
    position: rowsMatrix(rows.position),
    sum: rowsMatrix(rows.sum),
    interference: { contentRecoveryR2: r2.content, positionRecoveryR2: r2.position, sameWord },
    bertAttention,
    debertaTerms,
  }
}
