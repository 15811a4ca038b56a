// Corpus statistics (issue #15 item 6): a text file, one sentence per line, run through the model as a job, and
// every head summarised over the corpus and per sentence. The request and result types of LabApi.runCorpus, the
// corpus limits and the pure parts the renderer shares with the lab: reading the file's text into lines, and
// searching the per-sentence summaries.
import type { AttentionTerm, DistanceProfileResult, JobOptions, Matrix, ModelInfo, ModelRef } from './api'
import { LabError } from './errors'

/** A corpus file is at most this many bytes of UTF-8 text… */
export const MAX_CORPUS_BYTES = 2 * 1024 * 1024
/** …and at most this many non-blank lines (sentences). */
export const MAX_CORPUS_LINES = 10_000
/** Longest sentence kept, in tokens with [CLS] and [SEP]; longer lines are truncated (and counted). Also capped by the model's positions. */
export const MAX_CORPUS_TOKENS = 512
/** Top attended token pairs kept per head in the result. */
export const CORPUS_TOP_PAIRS = 25

/** Why a corpus text was refused (LabError INPUT_INVALID with details.reason). */
export type CorpusProblem = 'empty' | 'binary' | 'too-large' | 'too-many-lines'

export interface CorpusRequest extends JobOptions {
  model: ModelRef
  /**
   * The file's name (for provenance) and its whole text; one sentence per line, blank lines skipped. The text may
   * be left out when resuming (resumeFrom): the lab reads the one the resumed run recorded.
   */
  corpus: { name: string; text?: string }
  disabledTerms?: AttentionTerm[]
  p2p?: boolean
  /**
   * Continue a cancelled, failed or interrupted corpus run of the same session from its last checkpoint (the
   * sentences it had finished are not computed again). The corpus, model and terms must be the same.
   */
  resumeFrom?: string
}

/** The artifact of a recorded corpus run that holds its text (UTF-8, as sent); its sha256 is the text's. */
export const CORPUS_TEXT_ARTIFACT = 'corpus.txt'
export const CORPUS_TEXT_MIME = 'text/plain; charset=utf-8'

/**
 * The corpus as a run's config records it: the text is in the run's CORPUS_TEXT_ARTIFACT, so listing a session's
 * runs does not carry megabytes of text. Runs recorded before hold `{ name, text }` (CorpusRequest's) instead.
 */
export interface RecordedCorpus {
  name: string
  /** SHA-256 of the text (UTF-8), the same as the result's corpus.sha256 and the artifact's */
  sha256: string
  bytes: number
  /** non-blank lines (the sentences) */
  lines: number
  textArtifact: typeof CORPUS_TEXT_ARTIFACT
}

/** A corpus run's recorded config: the request with the corpus recorded as RecordedCorpus. */
export type RecordedCorpusRequest = Omit<CorpusRequest, 'corpus'> & { corpus: RecordedCorpus }

/**
 * Attention by relative distance over a corpus, per head (index layer · heads + head). Every mean is over every
 * pair (i, j) of every sentence with i − j = distances[k] (pairs[k] of them): a pair weighs the same wherever it
 * is, so a long sentence weighs by its number of pairs at that δ.
 */
export interface CorpusProfile {
  distances: number[]
  pairs: number[]
  /** probability[h][k]: the mean of p_ij */
  probability: number[][]
  /**
   * scores[term]: rows = heads (index h), cols = distances; (h, k) is the term's mean score (already divided by
   * the scale, as the forward adds it) over the same pairs. Only the terms in the score (the disabled ones are
   * left out). Float32 like the other matrices: [L · NH, terms, distances] is 12 · 12 · 3 · 1023 values (1.8 MB)
   * for a base model over 512-token sentences. Absent in runs recorded before the term profiles.
   */
  scores?: Partial<Record<AttentionTerm, Matrix>>
  /** the terms of `scores`, in the order of `terms` */
  scoreTerms?: AttentionTerm[]
  /** the relative id each distance reads and where ids merge (v3) or clip (v1), as in the sentence profile */
  buckets?: DistanceProfileResult['buckets']
}

/** One head's most attended (query token → key token) pair: Σ p over its occurrences, their count and mean. */
export interface CorpusPair {
  query: string
  key: string
  total: number
  count: number
  mean: number
}

export interface CorpusResult {
  runId?: string
  model: ModelInfo
  corpus: {
    name: string
    /** SHA-256 of the text as sent (UTF-8) */
    sha256: string
    bytes: number
    /** sentences (non-blank lines) computed */
    sentences: number
    /** blank lines skipped */
    blankLines: number
    /** sentences cut to maxTokens */
    truncated: number
    maxTokens: number
    /** query rows over all sentences (Σ T) */
    tokens: number
  }
  /** the run this one continued, and how many sentences came from its checkpoint */
  resumedFrom?: { runId: string; sentences: number }
  layers: number
  heads: number
  terms: AttentionTerm[]
  disabledTerms: AttentionTerm[]
  p2p: boolean
  /**
   * Per head (index layer · heads + head), over the corpus. shares: each term's share of Σ|term| summed over all
   * pairs (i, j) of all sentences, shares[(head index) · terms.length + t]; entropy and distance: the mean over
   * all query rows of all sentences (each row weighs the same, so a long sentence weighs by its length).
   */
  shares: number[]
  entropy: number[]
  distance: number[]
  /**
   * Attention by relative distance over the corpus: probability[head index][k] is the mean of p_ij over every
   * pair (i, j) of every sentence with i − j = distances[k]; pairs[k] counts those pairs.
   */
  profile: CorpusProfile
  /** per head, the CORPUS_TOP_PAIRS pairs with the largest Σ p (special tokens included) */
  topPairs: CorpusPair[][]
  /** per head: whether its pair table was pruned while counting (then the totals of rare pairs are lower bounds) */
  pairsPruned: boolean[]
  /** per sentence, in file order: its text, tokens, and every head's summary (rows = sentences, cols = heads or heads × terms) */
  sentences: {
    text: string[]
    tokens: string[][]
    entropy: Matrix
    distance: Matrix
    shares: Matrix
  }
  backend: string
  /** time spent computing in this run (not the resumed part) and its rate */
  milliseconds: number
  sentencesPerSecond: number
}

/** Progress of a corpus job, in its progress message: "412 / 5000 sentences · 85.1 sentences/s". */
export const corpusProgressMessage = (done: number, total: number, rate: number): string => `${done} / ${total} sentences · ${rate.toFixed(1)} sentences/s`

const utf8Length = (text: string): number => new TextEncoder().encode(text).length

/** The non-blank lines of a text, trimmed, and how many blank ones were skipped (no checks: see corpusLines). */
export function splitCorpusLines(text: string): { lines: string[]; blankLines: number } {
  const all = text.split(/\r\n|\n|\r/)
  if (all.length > 0 && all[all.length - 1] === '') all.pop()
  const lines = all.map((line) => line.trim()).filter((line) => line !== '')
  return { lines, blankLines: all.length - lines.length }
}

/** The sentences of a corpus text: its non-blank lines, trimmed; refuses empty, binary and too large texts. */
export function corpusLines(text: string): { lines: string[]; blankLines: number; bytes: number } {
  const bytes = utf8Length(text)
  if (bytes > MAX_CORPUS_BYTES) {
    throw new LabError('INPUT_INVALID', `the corpus has ${bytes} bytes; at most ${MAX_CORPUS_BYTES} (2 MiB) are read`, { reason: 'too-large' satisfies CorpusProblem, bytes, max: MAX_CORPUS_BYTES })
  }
  // NUL or other C0 controls (but tab, CR, LF, FF), or U+FFFD from undecodable bytes: not a text file
  const control = text.search(/[\u0000-\u0008\u000E-\u001F\uFFFD]/)
  if (control >= 0) {
    throw new LabError('INPUT_INVALID', `the corpus is not a UTF-8 text file (byte-like character U+${text.charCodeAt(control).toString(16).toUpperCase().padStart(4, '0')} at offset ${control})`, {
      reason: 'binary' satisfies CorpusProblem,
      offset: control,
    })
  }
  const { lines, blankLines } = splitCorpusLines(text)
  if (lines.length === 0) throw new LabError('INPUT_INVALID', 'the corpus has no sentences: every line is blank', { reason: 'empty' satisfies CorpusProblem })
  if (lines.length > MAX_CORPUS_LINES) {
    throw new LabError('INPUT_INVALID', `the corpus has ${lines.length} sentences; at most ${MAX_CORPUS_LINES} are computed`, {
      reason: 'too-many-lines' satisfies CorpusProblem,
      lines: lines.length,
      max: MAX_CORPUS_LINES,
    })
  }
  return { lines, blankLines, bytes }
}

// ---------------------------------------------------------------------------------------------
// Search over the per-sentence summaries (the renderer's filter; pure, so it is tested in Node)

export type CorpusSortKey = 'entropy' | 'distance' | AttentionTerm

export interface CorpusQuery {
  layer: number
  head: number
  sortBy: CorpusSortKey
  descending: boolean
  /**
   * Token pattern: sentences are kept when one of their tokens matches it (case-insensitive regular expression,
   * whole token; `dog|cat`, `walk.*`). Empty: every sentence.
   */
  pattern: string
  limit: number
}

export interface CorpusHit {
  /** sentence index in the corpus (0-based, non-blank lines) */
  index: number
  text: string
  value: number
  entropy: number
  distance: number
  /** the tokens that matched the pattern */
  matched: string[]
}

/** A token pattern as a whole-token, case-insensitive regular expression; INPUT_INVALID when it does not parse. */
export function tokenPattern(pattern: string): RegExp | null {
  const source = pattern.trim()
  if (source === '') return null
  try {
    return new RegExp(`^(?:${source})$`, 'iu')
  } catch (error) {
    throw new LabError('INPUT_INVALID', `the token pattern "${source}" is not a regular expression: ${(error as Error).message}`, { field: 'pattern' })
  }
}

/** The tokenizer's marks around a word piece (▁ of SentencePiece, Ġ of GPT-2, ## of WordPiece) do not count. */
const bare = (token: string): string => token.replace(/^(▁|Ġ|##)/, '')

/** The sentences of a corpus result for one head, filtered by a token pattern and sorted by one of its summaries. */
export function searchCorpus(result: Pick<CorpusResult, 'heads' | 'layers' | 'terms' | 'sentences'>, query: CorpusQuery): { hits: CorpusHit[]; matching: number } {
  const LH = result.layers * result.heads
  const h = query.layer * result.heads + query.head
  if (!Number.isInteger(h) || query.layer < 0 || query.head < 0 || query.layer >= result.layers || query.head >= result.heads) {
    throw new LabError('INPUT_INVALID', `head ${query.layer}.${query.head} does not exist`, { field: 'head' })
  }
  const regex = tokenPattern(query.pattern)
  const { text, tokens, entropy, distance, shares } = result.sentences
  const nTerms = result.terms.length
  const t = result.terms.indexOf(query.sortBy as AttentionTerm)
  if (query.sortBy !== 'entropy' && query.sortBy !== 'distance' && t < 0) {
    throw new LabError('INPUT_INVALID', `the corpus run has no term ${query.sortBy}`, { field: 'sortBy' })
  }
  const hits: CorpusHit[] = []
  for (let s = 0; s < text.length; s++) {
    const matched = regex ? tokens[s].filter((token) => regex.test(token) || regex.test(bare(token))) : []
    if (regex && matched.length === 0) continue
    const e = entropy.data[s * LH + h]
    const d = distance.data[s * LH + h]
    const value = query.sortBy === 'entropy' ? e : query.sortBy === 'distance' ? d : shares.data[(s * LH + h) * nTerms + t]
    hits.push({ index: s, text: text[s], value, entropy: e, distance: d, matched: [...new Set(matched)] })
  }
  hits.sort((a, b) => (query.descending ? b.value - a.value : a.value - b.value) || a.index - b.index)
  return { hits: hits.slice(0, Math.max(0, query.limit)), matching: hits.length }
}

// ---------------------------------------------------------------------------------------------
// Search by token pair: which sentences make one head attend from tokens matching one pattern to tokens
// matching another ("head 1.2, from verbs to subjects"). The page picks the sentences that hold both (from the
// corpus result's tokens) and the lab recomputes that head's attention for them (LabApi.runCorpusPairs).

export interface CorpusPairRequest extends JobOptions {
  model: ModelRef
  /** the corpus run searched (provenance) */
  corpus: { name: string; sha256: string; runId?: string }
  /** the sentences to score, with their index in the corpus */
  sentences: Array<{ index: number; text: string }>
  layer: number
  head: number
  /** token patterns (see tokenPattern): query tokens attending (from) and key tokens attended (to) */
  from: string
  to: string
  disabledTerms?: AttentionTerm[]
  p2p?: boolean
}

export interface CorpusPairHit {
  index: number
  text: string
  /** mean over the query tokens matching `from` of Σ p_ij over the key tokens j matching `to` */
  score: number
  /** query tokens matching `from` */
  queries: number
  /** the largest single p_ij among those pairs */
  best: { query: string; key: string; i: number; j: number; p: number }
}

export interface CorpusPairResult {
  runId?: string
  model: ModelInfo
  corpus: { name: string; sha256: string; runId?: string }
  layer: number
  head: number
  from: string
  to: string
  disabledTerms: AttentionTerm[]
  p2p: boolean
  /** sentences sent without a token matching both patterns (after truncation) are left out */
  hits: CorpusPairHit[]
  scored: number
}

/** Whether a token matches a pattern, as the search reads it (the word-start marks ▁ Ġ ## ignored). */
export const tokenMatches = (regex: RegExp, token: string): boolean => regex.test(token) || regex.test(bare(token))

/** The sentences of a corpus result holding a token matching `from` and one matching `to` (the pair search's candidates). */
export function pairCandidates(result: Pick<CorpusResult, 'sentences'>, from: string, to: string): Array<{ index: number; text: string }> {
  const a = tokenPattern(from)
  const b = tokenPattern(to)
  if (!a || !b) throw new LabError('INPUT_INVALID', 'give a token pattern for the query tokens and one for the key tokens', { field: a ? 'to' : 'from' })
  const out: Array<{ index: number; text: string }> = []
  result.sentences.tokens.forEach((tokens, index) => {
    if (tokens.some((t) => tokenMatches(a, t)) && tokens.some((t) => tokenMatches(b, t))) out.push({ index, text: result.sentences.text[index] })
  })
  return out
}
