// Attention decomposition: the disentangled terms, their sum and the softmax for one layer and head (or the
// mean over heads), with terms switched off (ablation), and each term's share of Σ|term| per layer × head.
import type { AttentionRequest, AttentionResult, AttentionTerm, Matrix } from '../../common/api'
import { ATTENTION_TERMS } from '../../common/api'
import { LabError } from '../../common/errors'
import type { LayerComponents } from '../../core/model'
import type { JobHandler } from '../jobs'
import { encodeText, forwardProgress, headMatrix, loadWorkspaceModel, meanOverHeads, tokenized } from './common'
import { relativeId } from './relative-positions'
import { relativeEmbeddingRow, relativeReadKind } from '../../core/relative-position'
import { relativeEmbeddingRows } from '../../core/config'

/** Host memory the recorded components of one forward pass may take; more layers take more passes. */
export const COMPONENT_BUDGET_BYTES = 192 * 1024 * 1024

/** The layers each forward pass records so that one pass stays within the budget. */
export function layerChunks(layers: number, bytesPerLayer: number, budget = COMPONENT_BUDGET_BYTES): number[][] {
  const perPass = Math.max(1, Math.floor(budget / Math.max(1, bytesPerLayer)))
  const chunks: number[][] = []
  for (let start = 0; start < layers; start += perPass) chunks.push(Array.from({ length: Math.min(perPass, layers - start) }, (_, k) => start + k))
  return chunks
}

/**
 * Σ_ij |term| per head for every computed term of one layer, as shares of their total over the enabled
 * terms (disabled terms: 0). Returns heads × terms values.
 */
/** `onlyHead`: the disabled terms are removed in that head only (an ablation scoped to one head). */
export function layerShares(components: LayerComponents, terms: AttentionTerm[], disabled: Set<AttentionTerm>, onlyHead?: number): number[] {
  const [, heads, T] = components.c2c.shape
  const size = T * T
  const out: number[] = []
  for (let h = 0; h < heads; h++) {
    const sums = terms.map((term) => {
      const array = components[term]
      if (!array || (disabled.has(term) && (onlyHead === undefined || onlyHead === h))) return 0
      let total = 0
      const offset = h * size
      for (let k = 0; k < size; k++) total += Math.abs(array.data[offset + k])
      return total
    })
    const all = sums.reduce((a, b) => a + b, 0)
    out.push(...sums.map((s) => (all > 0 ? s / all : 0)))
  }
  return out
}

export const attention: JobHandler<AttentionRequest, AttentionResult> = async (context, request) => {
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  const L = model.config.numHiddenLayers
  const NH = model.config.numAttentionHeads
  if (!Number.isInteger(request.layer) || request.layer < 0 || request.layer >= L) {
    throw new LabError('INPUT_INVALID', `layer ${request.layer} does not exist: this model has layers 0–${L - 1}`, { field: 'layer' })
  }
  if (request.head !== 'mean' && (!Number.isInteger(request.head) || request.head < 0 || request.head >= NH)) {
    throw new LabError('INPUT_INVALID', `head ${request.head} does not exist: this model has heads 0–${NH - 1}`, { field: 'head' })
  }
  const encoding = encodeText(tokenizer, request.text)
  const ids = encoding.inputIds
  const T = ids.length
  const disabled = new Set<AttentionTerm>(request.disabledTerms ?? [])
  const scope = request.ablationScope ?? 'all'
  if (scope === 'head' && request.head === 'mean') {
    throw new LabError('INPUT_INVALID', 'an ablation of one head needs a head, not the mean over heads', { field: 'ablationScope' })
  }
  const ablationScope = scope === 'all' ? undefined : { layer: request.layer, ...(scope === 'head' ? { head: request.head as number } : {}) }
  const NO_TERMS = new Set<AttentionTerm>()

  // c2c, c2p, p2c, p2p, scores, probs: at most six [NH, T, T] float32 arrays per recorded layer.
  const chunks = layerChunks(L, 6 * NH * T * T * 4)
  let terms: AttentionTerm[] = []
  const shares: number[] = []
  let main: LayerComponents | undefined
  for (const [pass, layers] of chunks.entries()) {
    const from = pass / chunks.length
    const result = model.forward(
      { inputIds: [ids] },
      {
        components: layers,
        p2p: request.p2p ?? false,
        disabledTerms: [...disabled],
        ablationScope,
        onProgress: forwardProgress(context, from, from + 1 / chunks.length, chunks.length > 1 ? `pass ${pass + 1} of ${chunks.length}` : 'forward'),
      },
    )
    for (const components of result.components ?? []) {
      if (terms.length === 0) terms = ATTENTION_TERMS.filter((t) => components[t] !== undefined)
      const inScope = !ablationScope || components.layer === ablationScope.layer
      shares.push(...layerShares(components, terms, inScope ? disabled : NO_TERMS, ablationScope?.head))
      if (components.layer === request.layer) main = components
    }
    await context.yieldToEvents()
    context.checkCancelled()
  }
  if (!main) throw new LabError('INTERNAL', `layer ${request.layer} was not recorded`)

  const pick = (array: NonNullable<LayerComponents['c2p']>): Matrix => (request.head === 'mean' ? meanOverHeads(array) : headMatrix(array, request.head))
  const shown: Partial<Record<AttentionTerm, Matrix>> = {}
  for (const term of terms) shown[term] = pick(main[term]!)
  context.progress(1, 'done')
  const relativeIds = model.config.relativeAttention ? Array.from({ length: 2 * T - 1 }, (_, k) => relativeId(model.config, k - (T - 1))) : undefined
  const deltas = Array.from({ length: 2 * T - 1 }, (_, k) => k - (T - 1))
  const relativeRows = model.config.relativeAttention
    ? { rows: deltas.map((d) => relativeEmbeddingRow(model.config, d)), kinds: deltas.map((d) => relativeReadKind(model.config, d)), tableRows: relativeEmbeddingRows(model.config) }
    : undefined
  return {
    model: info,
    tokens: tokenized(encoding, tokenizer, request.text),
    layer: request.layer,
    head: request.head,
    terms: shown,
    scores: pick(main.scores),
    probabilities: pick(main.probs),
    shares: { layers: L, heads: NH, terms, values: shares },
    ...(relativeIds ? { relativeIds } : {}),
    ...(relativeRows ? { relativeRows } : {}),
  }
}
