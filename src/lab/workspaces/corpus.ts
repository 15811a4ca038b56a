// Corpus statistics: every sentence of a text file through the model (one forward each, B = 1, the layers
// streamed through ForwardOptions.onLayerComponents as in the model view), every head summarised per sentence
// and aggregated over the corpus. The job checkpoints its partial aggregates (JobContext.checkpoint, stored by
// the service on the run) every CHECKPOINT_MS and when it is cancelled, and continues from a checkpoint it is
// given, so a cancelled, paused-then-closed or crashed run resumes from its last finished sentence with the same
// numbers as an uninterrupted one (sums in float64, sentences in file order).
//
// Weighting (documented in README "Corpus statistics"): term shares pool Σ|term| over every pair (i, j) of every
// sentence; entropy and mean distance average over every query row of every sentence (a sentence weighs by its
// length T); the distance profile averages p_ij, and each enabled term's score, over every pair (i, j) of every
// sentence with i − j = δ (a pair weighs the same wherever it is); a token pair's total is Σ p over
// its occurrences (query token at i, key token at j) and its mean that total over their count.
//
// Shapes: N sentences, L layers, NH heads, LH = L · NH heads in all (index layer · NH + head), K terms computed,
// T tokens of one sentence, W = 2 · maxTokens − 1 distances (index δ + maxTokens − 1). The term sums by δ are
// L · NH · K · W float64 in a checkpoint (12 · 12 · 3 · 1023 · 8 B = 3.5 MB for a base model, 4.7 MB with p2p).
import { createHash } from 'node:crypto'
import type { AttentionTerm, Matrix } from '../../common/api'
import { ATTENTION_TERMS } from '../../common/api'
import { CORPUS_TOP_PAIRS, MAX_CORPUS_TOKENS, corpusLines, corpusProgressMessage, type CorpusPair, type CorpusRequest, type CorpusResult } from '../../common/corpus'
import { LabError } from '../../common/errors'
import { attentionSpan } from '../../core/config'
import type { LayerComponents } from '../../core/model'
import type { JobHandler } from '../jobs'
import { loadWorkspaceModel } from './common'
import { headStatistics } from './model-view'
import { curveShape, relativeId } from './relative-positions'

/** A checkpoint is sent at most this often (and once more when the job is cancelled). */
export const CHECKPOINT_MS = 2000
/** A head's pair table is pruned to PAIR_TABLE_KEEP pairs (largest Σ p) when it grows past PAIR_TABLE_MAX. */
export const PAIR_TABLE_MAX = 32768
export const PAIR_TABLE_KEEP = 8192

/**
 * What the worker is asked: the LabApi request with the corpus text (the service reads a resumed run's recorded
 * text when the request leaves it out) plus, when resuming, the stored checkpoint's bytes.
 */
export type CorpusJobRequest = Omit<CorpusRequest, 'corpus'> & { corpus: { name: string; text: string }; checkpoint?: Uint8Array }

/** The aggregates after `done` sentences: everything needed to continue. */
export interface CorpusState {
  /** what the numbers depend on: corpus text, model, terms, token limit */
  fingerprint: string
  done: number
  tokens: number
  truncated: number
  terms: AttentionTerm[]
  /** Σ|term| per head and term [LH · K] */
  termSums: Float64Array
  /** Σ over query rows of the row entropy and of the row's mean distance [LH] */
  entropySum: Float64Array
  distanceSum: Float64Array
  /** Σ p_ij by δ [LH · W], and the number of pairs at each δ [W] */
  profileSum: Float64Array
  profilePairs: Float64Array
  /** Σ of each term's score by δ [LH · K · W] (index (h · K + t) · W + δ + maxTokens − 1); zeros for disabled terms */
  scoreSum: Float64Array
  /** per head: (query id · V + key id, Σ p, count) triples, in first-seen order */
  pairs: Float64Array[]
  pruned: boolean[]
  /** per sentence (N rows, the first `done` filled): entropy and distance [N · LH], shares [N · LH · K] */
  sentenceEntropy: Float64Array
  sentenceDistance: Float64Array
  sentenceShares: Float64Array
  sentenceTokens: string[][]
}

// ---------------------------------------------------------------------------------------------
// Checkpoint bytes: "DCK1", uint32 skeleton length, the JSON skeleton (each Float64Array a {"$f64": index,
// "n": length} reference), padding to 8, then the arrays' float64 values in index order. Float64 so a resumed
// run adds onto exactly the sums an uninterrupted one would hold.

const CHECKPOINT_MAGIC = 'DCK1'

export function encodeCheckpoint(state: CorpusState): Uint8Array {
  const arrays: Float64Array[] = []
  const skeleton = new TextEncoder().encode(
    JSON.stringify(state, (_key, value: unknown) => (value instanceof Float64Array ? { $f64: arrays.push(value) - 1, n: value.length } : value)),
  )
  const start = Math.ceil((8 + skeleton.length) / 8) * 8
  const bytes = new Uint8Array(start + arrays.reduce((n, a) => n + a.byteLength, 0))
  bytes.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0)
  new DataView(bytes.buffer).setUint32(4, skeleton.length, true)
  bytes.set(skeleton, 8)
  let offset = start
  for (const array of arrays) {
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset)
    offset += array.byteLength
  }
  return bytes
}

export function decodeCheckpoint(bytes: Uint8Array): CorpusState {
  const bad = (why: string): LabError => new LabError('INPUT_INVALID', `the corpus checkpoint cannot be read: ${why}`, { field: 'resumeFrom' })
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== CHECKPOINT_MAGIC) throw bad('not a checkpoint')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = view.getUint32(4, true)
  if (8 + length > bytes.length) throw bad('truncated')
  let offset = Math.ceil((8 + length) / 8) * 8
  const take = (n: number): Float64Array => {
    if (!Number.isInteger(n) || n < 0 || offset + 8 * n > bytes.length) throw bad('truncated')
    const copy = new Float64Array(n)
    new Uint8Array(copy.buffer).set(bytes.subarray(offset, offset + 8 * n))
    offset += 8 * n
    return copy
  }
  try {
    // references appear in the skeleton in the order the arrays were written
    return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)), (_key, value: unknown) => {
      const ref = value as { $f64?: number; n?: number } | null
      return ref && typeof ref === 'object' && typeof ref.$f64 === 'number' ? take(ref.n ?? -1) : value
    }) as CorpusState
  } catch (error) {
    if (error instanceof LabError) throw error
    throw bad('the skeleton is not JSON')
  }
}

// ---------------------------------------------------------------------------------------------

/** The ids of a sentence cut to `max` tokens: the first max − 1, then the last ([SEP]). */
export function truncateIds<T>(items: T[], max: number): T[] {
  return items.length <= max ? items : [...items.slice(0, max - 1), items[items.length - 1]]
}

function fingerprintOf(parts: { sha256: string; model: string; disabled: AttentionTerm[]; p2p: boolean; maxTokens: number }): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

/** Adds (key, p) to a head's pair table kept as a Map key → index into `sums`/`counts`. */
class PairTable {
  private readonly index = new Map<number, number>()
  private keys: number[] = []
  private sums: number[] = []
  private counts: number[] = []

  static from(triples: Float64Array): PairTable {
    const table = new PairTable()
    for (let k = 0; k < triples.length; k += 3) {
      table.index.set(triples[k], table.keys.length)
      table.keys.push(triples[k])
      table.sums.push(triples[k + 1])
      table.counts.push(triples[k + 2])
    }
    return table
  }

  add(key: number, p: number): void {
    const at = this.index.get(key)
    if (at === undefined) {
      this.index.set(key, this.keys.length)
      this.keys.push(key)
      this.sums.push(p)
      this.counts.push(1)
    } else {
      this.sums[at] += p
      this.counts[at] += 1
    }
  }

  get size(): number {
    return this.keys.length
  }

  /** Indices ordered by Σ p (largest first; ties by key). */
  private ranked(): number[] {
    return this.keys.map((_, k) => k).sort((a, b) => this.sums[b] - this.sums[a] || this.keys[a] - this.keys[b])
  }

  /** Keeps the `keep` pairs with the largest Σ p, in their first-seen order. */
  prune(keep: number): void {
    const kept = this.ranked().slice(0, keep).sort((a, b) => a - b)
    const keys = kept.map((k) => this.keys[k])
    const sums = kept.map((k) => this.sums[k])
    const counts = kept.map((k) => this.counts[k])
    this.keys = keys
    this.sums = sums
    this.counts = counts
    this.index.clear()
    keys.forEach((key, k) => this.index.set(key, k))
  }

  top(n: number): Array<{ key: number; total: number; count: number }> {
    return this.ranked()
      .slice(0, n)
      .map((k) => ({ key: this.keys[k], total: this.sums[k], count: this.counts[k] }))
  }

  triples(): Float64Array {
    const out = new Float64Array(3 * this.keys.length)
    this.keys.forEach((key, k) => out.set([key, this.sums[k], this.counts[k]], 3 * k))
    return out
  }
}

export const corpus: JobHandler<CorpusJobRequest, CorpusResult> = async (context, request) => {
  context.progress(0, 'reading the corpus')
  const text = request.corpus.text
  const { lines, blankLines, bytes } = corpusLines(text)
  const sha256 = createHash('sha256').update(text, 'utf8').digest('hex')
  context.progress(0, 'loading the model')
  const { info, model, tokenizer } = await loadWorkspaceModel(context, request.model)
  const config = model.config
  const L = config.numHiddenLayers
  const NH = config.numAttentionHeads
  const LH = L * NH
  const N = lines.length
  const V = Math.max(tokenizer.vocabSize, config.vocabSize)
  const maxTokens = Math.min(MAX_CORPUS_TOKENS, config.maxPositionEmbeddings)
  const W = 2 * maxTokens - 1
  const disabled = [...new Set(request.disabledTerms ?? [])].sort()
  const disabledSet = new Set<AttentionTerm>(disabled)
  const p2p = request.p2p ?? false
  const fingerprint = fingerprintOf({ sha256, model: info.key, disabled, p2p, maxTokens })

  let state: CorpusState
  let resumed = 0
  if (request.checkpoint) {
    state = decodeCheckpoint(request.checkpoint)
    if (state.fingerprint !== fingerprint) {
      throw new LabError('INPUT_INVALID', 'the checkpoint was computed on another corpus, model, term set or token limit: start a new run', { field: 'resumeFrom' })
    }
    // a checkpoint written before the term profiles has no term sums: its numbers cannot be continued
    if (!(state.scoreSum instanceof Float64Array)) {
      throw new LabError('INPUT_INVALID', 'the checkpoint was written by an earlier version without the term profiles by distance: start a new run', { field: 'resumeFrom' })
    }
    resumed = state.done
  } else {
    state = {
      fingerprint,
      done: 0,
      tokens: 0,
      truncated: 0,
      terms: [],
      termSums: new Float64Array(0),
      entropySum: new Float64Array(LH),
      distanceSum: new Float64Array(LH),
      profileSum: new Float64Array(LH * W),
      profilePairs: new Float64Array(W),
      scoreSum: new Float64Array(0),
      pairs: Array.from({ length: LH }, () => new Float64Array(0)),
      pruned: new Array<boolean>(LH).fill(false),
      sentenceEntropy: new Float64Array(N * LH),
      sentenceDistance: new Float64Array(N * LH),
      sentenceShares: new Float64Array(0),
      sentenceTokens: [],
    }
  }
  const tables = state.pairs.map((triples) => PairTable.from(triples))
  const snapshot = (): Uint8Array => encodeCheckpoint({ ...state, pairs: tables.map((t) => t.triples()) })

  const started = Date.now()
  let lastCheckpoint = started
  let checkpointMs = 0
  const rate = (): number => ((state.done - resumed) * 1000) / Math.max(1, Date.now() - started)
  try {
    for (let s = state.done; s < N; s++) {
      context.checkCancelled()
      const encoding = tokenizer.encode(lines[s])
      const ids = truncateIds(encoding.inputIds, maxTokens)
      const T = ids.length
      if (encoding.inputIds.length > maxTokens) state.truncated++
      model.forward(
        { inputIds: [ids] },
        {
          p2p,
          disabledTerms: disabled,
          onLayerComponents: (layer: number, components: LayerComponents) => {
            if (state.terms.length === 0) {
              state.terms = ATTENTION_TERMS.filter((t) => components[t] !== undefined)
              state.termSums = new Float64Array(LH * state.terms.length)
              state.scoreSum = new Float64Array(LH * state.terms.length * W)
              state.sentenceShares = new Float64Array(N * LH * state.terms.length)
            }
            addLayer(state, tables, components, { sentence: s, layer, NH, T, ids, V, W, maxTokens, disabled: disabledSet })
          },
        },
      )
      for (let d = -(T - 1); d <= T - 1; d++) state.profilePairs[d + maxTokens - 1] += T - Math.abs(d)
      state.tokens += T
      state.sentenceTokens.push(truncateIds(encoding.tokens, maxTokens))
      state.done = s + 1
      context.progress(state.done / N, corpusProgressMessage(state.done, N, rate()))
      // at most every CHECKPOINT_MS, and never more than ~5% of the time in checkpoints (large models and corpora)
      if (Date.now() - lastCheckpoint >= Math.max(CHECKPOINT_MS, 20 * checkpointMs) && state.done < N) {
        const begun = Date.now()
        context.checkpoint?.(snapshot())
        lastCheckpoint = Date.now()
        checkpointMs = lastCheckpoint - begun
      }
      if (state.done % 50 === 0) await context.yieldToEvents()
    }
  } catch (error) {
    // Cancelled (or failed) between sentences: the aggregates hold exactly the finished ones (those of the run it
    // resumed included, so this run can be resumed in turn even when it added none).
    if (state.done > 0) context.checkpoint?.(snapshot())
    if (error instanceof LabError && error.code === 'CANCELLED') {
      throw new LabError('CANCELLED', `cancelled after ${state.done} of ${N} sentences (resumable from there)`, { done: state.done, total: N })
    }
    throw error
  }
  const milliseconds = Date.now() - started
  context.progress(1, corpusProgressMessage(N, N, rate()))
  return toCorpusResult(state, tables, {
    info,
    idToToken: (id) => tokenizer.idToToken(id),
    corpus: { name: request.corpus.name, sha256, bytes, sentences: N, blankLines, maxTokens, lines },
    layers: L,
    heads: NH,
    V,
    disabled,
    p2p,
    resumedFrom: request.resumeFrom ? { runId: request.resumeFrom, sentences: resumed } : undefined,
    buckets: (distances) => {
      const shape = model.isRelative ? curveShape(config) : null
      return shape
        ? { ids: distances.map((d) => relativeId(config, d)), kind: shape.kind, exactLimit: shape.exactLimit, span: attentionSpan(config) }
        : { ids: distances.slice(), kind: 'none', exactLimit: Math.max(0, ...distances), span: 0 }
    },
    backend: context.backend,
    milliseconds,
  })
}

interface LayerContext {
  sentence: number
  layer: number
  NH: number
  T: number
  ids: number[]
  V: number
  W: number
  maxTokens: number
  disabled: Set<AttentionTerm>
}

/** Adds one layer of one sentence to the aggregates and writes the sentence's per-head summaries. */
export function addLayer(state: CorpusState, tables: PairTable[], components: LayerComponents, c: LayerContext): void {
  const { T, NH, ids, V, W, maxTokens } = c
  const K = state.terms.length
  const LH = state.entropySum.length
  const size = T * T
  const probs = components.probs.data
  for (let head = 0; head < NH; head++) {
    const h = c.layer * NH + head
    const offset = head * size
    // term shares as the model view computes them (layerShares): Σ|term| over the sentence's pairs, disabled terms 0
    const sums = state.terms.map((term) => {
      const array = components[term]
      if (!array || c.disabled.has(term)) return 0
      let total = 0
      for (let k = 0; k < size; k++) total += Math.abs(array.data[offset + k])
      return total
    })
    const all = sums.reduce((a, b) => a + b, 0)
    for (let t = 0; t < K; t++) {
      state.termSums[h * K + t] += sums[t]
      state.sentenceShares[(c.sentence * LH + h) * K + t] = all > 0 ? sums[t] / all : 0
    }
    // entropy and mean distance as the model view computes them (means over the sentence's query rows)
    const stats = headStatistics(probs, offset, T, 1)
    state.sentenceEntropy[c.sentence * LH + h] = stats.entropy
    state.sentenceDistance[c.sentence * LH + h] = stats.distance
    state.entropySum[h] += stats.entropy * T
    state.distanceSum[h] += stats.distance * T
    // by distance, and by (query token, key token)
    const profile = h * W + maxTokens - 1
    const table = tables[h]
    for (let i = 0; i < T; i++) {
      const row = offset + i * T
      const queryKey = ids[i] * V
      for (let j = 0; j < T; j++) {
        const p = probs[row + j]
        state.profileSum[profile + i - j] += p
        table.add(queryKey + ids[j], p)
      }
    }
    // each enabled term's score by distance
    for (let t = 0; t < K; t++) {
      const array = components[state.terms[t]]
      if (!array || c.disabled.has(state.terms[t])) continue
      const scores = array.data
      const at = (h * K + t) * W + maxTokens - 1
      for (let i = 0; i < T; i++) {
        const row = offset + i * T
        for (let j = 0; j < T; j++) state.scoreSum[at + i - j] += scores[row + j]
      }
    }
    if (table.size > PAIR_TABLE_MAX) {
      table.prune(PAIR_TABLE_KEEP)
      state.pruned[h] = true
    }
  }
}

interface ResultParts {
  info: CorpusResult['model']
  idToToken: (id: number) => string
  corpus: { name: string; sha256: string; bytes: number; sentences: number; blankLines: number; maxTokens: number; lines: string[] }
  layers: number
  heads: number
  V: number
  disabled: AttentionTerm[]
  p2p: boolean
  resumedFrom?: { runId: string; sentences: number }
  /** the relative ids of the distances of the result */
  buckets: (distances: number[]) => NonNullable<CorpusResult['profile']['buckets']>
  backend: string
  milliseconds: number
}

export function toCorpusResult(state: CorpusState, tables: PairTable[], parts: ResultParts): CorpusResult {
  const LH = parts.layers * parts.heads
  const K = state.terms.length
  const N = parts.corpus.sentences
  const { maxTokens } = parts.corpus
  const W = 2 * maxTokens - 1
  // distances that occur in the corpus: |δ| ≤ longest sentence − 1
  const reach = state.profilePairs.reduce((r, count, k) => (count > 0 ? Math.max(r, Math.abs(k - (maxTokens - 1))) : r), 0)
  const ks = Array.from({ length: 2 * reach + 1 }, (_, k) => k - reach + maxTokens - 1)
  const shares: number[] = []
  for (let h = 0; h < LH; h++) {
    const all = Array.from({ length: K }, (_, t) => state.termSums[h * K + t]).reduce((a, b) => a + b, 0)
    for (let t = 0; t < K; t++) shares.push(all > 0 ? state.termSums[h * K + t] / all : 0)
  }
  const distances = ks.map((k) => k - (maxTokens - 1))
  const scoreTerms = state.terms.filter((term) => !parts.disabled.includes(term))
  const scores: Partial<Record<AttentionTerm, Matrix>> = {}
  for (const term of scoreTerms) {
    const t = state.terms.indexOf(term)
    const data = new Float32Array(LH * ks.length)
    for (let h = 0; h < LH; h++) ks.forEach((k, c) => (data[h * ks.length + c] = state.scoreSum[(h * K + t) * W + k] / state.profilePairs[k]))
    scores[term] = { rows: LH, cols: ks.length, data }
  }
  const pairName = (key: number): [string, string] => [parts.idToToken(Math.floor(key / parts.V)), parts.idToToken(key % parts.V)]
  return {
    model: parts.info,
    corpus: {
      name: parts.corpus.name,
      sha256: parts.corpus.sha256,
      bytes: parts.corpus.bytes,
      sentences: N,
      blankLines: parts.corpus.blankLines,
      truncated: state.truncated,
      maxTokens,
      tokens: state.tokens,
    },
    ...(parts.resumedFrom ? { resumedFrom: parts.resumedFrom } : {}),
    layers: parts.layers,
    heads: parts.heads,
    terms: state.terms,
    disabledTerms: parts.disabled,
    p2p: parts.p2p,
    shares,
    entropy: Array.from(state.entropySum, (v) => v / state.tokens),
    distance: Array.from(state.distanceSum, (v) => v / state.tokens),
    profile: {
      distances,
      pairs: ks.map((k) => state.profilePairs[k]),
      probability: Array.from({ length: LH }, (_, h) => ks.map((k) => state.profileSum[h * W + k] / state.profilePairs[k])),
      scores,
      scoreTerms,
      buckets: parts.buckets(distances),
    },
    topPairs: tables.map((table) =>
      table.top(CORPUS_TOP_PAIRS).map(({ key, total, count }): CorpusPair => {
        const [query, keyToken] = pairName(key)
        return { query, key: keyToken, total, count, mean: total / count }
      }),
    ),
    pairsPruned: state.pruned.slice(),
    sentences: {
      text: parts.corpus.lines,
      tokens: state.sentenceTokens,
      entropy: { rows: N, cols: LH, data: Float32Array.from(state.sentenceEntropy) },
      distance: { rows: N, cols: LH, data: Float32Array.from(state.sentenceDistance) },
      shares: { rows: N, cols: LH * K, data: Float32Array.from(state.sentenceShares) },
    },
    backend: parts.backend,
    milliseconds: parts.milliseconds,
    sentencesPerSecond: ((N - (parts.resumedFrom?.sentences ?? 0)) * 1000) / Math.max(1, parts.milliseconds),
  }
}
