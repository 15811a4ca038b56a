// Search by token pair: for one head, each given sentence's attention from the query tokens matching one pattern
// to the key tokens matching another — score = mean over those query tokens i of Σ_j p_ij over those keys j —
// recomputed with the model (the corpus result keeps per-sentence summaries, not T × T attention). Sentences are
// encoded and cut exactly as the corpus job does.
import type { AttentionTerm } from '../../common/api'
import { MAX_CORPUS_BYTES, MAX_CORPUS_LINES, MAX_CORPUS_TOKENS, tokenMatches, tokenPattern, type CorpusPairHit, type CorpusPairRequest, type CorpusPairResult } from '../../common/corpus'
import { LabError } from '../../common/errors'
import type { JobHandler } from '../jobs'
import { loadWorkspaceModel } from './common'
import { truncateIds } from './corpus'

export const corpusPairs: JobHandler<CorpusPairRequest, CorpusPairResult> = async (context, request) => {
  const from = tokenPattern(request.from)
  const to = tokenPattern(request.to)
  if (!from || !to) throw new LabError('INPUT_INVALID', 'give a token pattern for the query tokens and one for the key tokens', { field: from ? 'to' : 'from' })
  const sentences = request.sentences
  if (sentences.length > MAX_CORPUS_LINES) throw new LabError('INPUT_INVALID', `at most ${MAX_CORPUS_LINES} sentences are searched at once`, { reason: 'too-many-lines' })
  const bytes = sentences.reduce((n, s) => n + s.text.length, 0)
  if (bytes > MAX_CORPUS_BYTES) throw new LabError('INPUT_INVALID', `the sentences hold over ${MAX_CORPUS_BYTES} characters`, { reason: 'too-large' })
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  const config = model.config
  const NH = config.numAttentionHeads
  if (!Number.isInteger(request.layer) || request.layer < 0 || request.layer >= config.numHiddenLayers) {
    throw new LabError('INPUT_INVALID', `layer ${request.layer} does not exist: this model has layers 0–${config.numHiddenLayers - 1}`, { field: 'layer' })
  }
  if (!Number.isInteger(request.head) || request.head < 0 || request.head >= NH) throw new LabError('INPUT_INVALID', `head ${request.head} does not exist: this model has heads 0–${NH - 1}`, { field: 'head' })
  const maxTokens = Math.min(MAX_CORPUS_TOKENS, config.maxPositionEmbeddings)
  const disabled = [...new Set(request.disabledTerms ?? [])].sort() as AttentionTerm[]
  const hits: CorpusPairHit[] = []
  for (const [k, sentence] of sentences.entries()) {
    context.checkCancelled()
    const encoding = tokenizer.encode(sentence.text)
    const ids = truncateIds(encoding.inputIds, maxTokens)
    const tokens = truncateIds(encoding.tokens, maxTokens)
    const T = ids.length
    const queries = tokens.flatMap((t, i) => (tokenMatches(from, t) ? [i] : []))
    const keys = tokens.flatMap((t, j) => (tokenMatches(to, t) ? [j] : []))
    if (queries.length > 0 && keys.length > 0) {
      const probs = model.forward({ inputIds: [ids] }, { components: [request.layer], p2p: request.p2p ?? false, disabledTerms: disabled }).components![0].probs.data
      const offset = request.head * T * T
      let total = 0
      let best = { i: queries[0], j: keys[0], p: -1 }
      for (const i of queries) {
        for (const j of keys) {
          const p = probs[offset + i * T + j]
          total += p
          if (p > best.p) best = { i, j, p }
        }
      }
      hits.push({ index: sentence.index, text: sentence.text, score: total / queries.length, queries: queries.length, best: { ...best, query: tokens[best.i], key: tokens[best.j] } })
    }
    context.progress((k + 1) / sentences.length, `${k + 1} / ${sentences.length} sentences`)
    if (k % 50 === 49) await context.yieldToEvents()
  }
  hits.sort((a, b) => b.score - a.score || a.index - b.index)
  context.progress(1, 'done')
  return { model: info, corpus: request.corpus, layer: request.layer, head: request.head, from: request.from, to: request.to, disabledTerms: disabled, p2p: request.p2p ?? false, hits, scored: hits.length }
}
