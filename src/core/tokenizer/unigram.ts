// Unigram segmentation: the Viterbi best path over all vocabulary pieces, as SentencePiece's
// unigram_model.cc Model::EncodeOptimized does (and HF tokenizers' Unigram, which follows it):
// candidates are scanned by start position then by length, a later candidate wins only with a strictly
// higher score, a character no piece covers becomes an unknown node scored min_score − 10, and runs of
// unknown pieces are merged afterwards (SentencePieceProcessor::PopulateSentencePieceText).

export const UNK_PENALTY = 10

export const enum UnigramPieceKind {
  Normal = 0,
  UserDefined = 1,
  Unused = 2,
}

export interface UnigramVocab {
  /** pieces that can be matched (normal, user-defined, unused) → id */
  pieceToId: Map<string, number>
  /** by id */
  scores: ArrayLike<number>
  /** by id; ids not in pieceToId are never looked up */
  kinds: ArrayLike<number>
  unkId: number
  /** min / max over NORMAL pieces */
  minScore: number
  maxScore: number
  /** longest matchable piece, in UTF-16 code units */
  maxPieceLength: number
  /** SentencePiece accumulates path scores in float32; HF tokenizers in float64 */
  float32: boolean
}

export interface UnigramPiece {
  /** [start, end) UTF-16 indices into the segmented string */
  start: number
  end: number
  id: number
  unknown: boolean
}

const encoder = new TextEncoder()

export function buildUnigramVocab(
  pieces: Array<{ piece: string; score: number; kind: UnigramPieceKind | undefined }>,
  unkId: number,
  float32: boolean,
): UnigramVocab {
  const pieceToId = new Map<string, number>()
  const scores = new Float64Array(pieces.length)
  const kinds = new Uint8Array(pieces.length)
  let minScore = Infinity
  let maxScore = -Infinity
  let maxPieceLength = 1
  pieces.forEach((p, id) => {
    scores[id] = float32 ? Math.fround(p.score) : p.score
    if (p.kind === undefined) return
    kinds[id] = p.kind
    if (!pieceToId.has(p.piece)) pieceToId.set(p.piece, id)
    if (p.piece.length > maxPieceLength) maxPieceLength = p.piece.length
    if (p.kind === UnigramPieceKind.Normal) {
      minScore = Math.min(minScore, scores[id])
      maxScore = Math.max(maxScore, scores[id])
    }
  })
  if (minScore === Infinity) {
    minScore = 0
    maxScore = 0
  }
  return { pieceToId, scores, kinds, unkId, minScore, maxScore, maxPieceLength, float32 }
}

/** Best segmentation of `text` (already normalised). Unknown runs are merged into one piece. */
export function unigramSegment(text: string, vocab: UnigramVocab): UnigramPiece[] {
  const n = text.length
  if (n === 0) return []
  const f = vocab.float32 ? Math.fround : (x: number) => x
  const unkScore = f(vocab.minScore - UNK_PENALTY)
  const bestScore = new Float64Array(n + 1)
  const bestStart = new Int32Array(n + 1).fill(-1)
  const bestId = new Int32Array(n + 1)
  const bestUnknown = new Uint8Array(n + 1)
  bestStart[0] = 0
  let start = 0
  while (start < n) {
    const base = bestScore[start]
    const charLen = charLength(text, start)
    let hasSingle = false
    const limit = Math.min(n, start + vocab.maxPieceLength)
    for (let end = start + 1; end <= limit; end++) {
      // pieces are whole characters: skip ends that split a surrogate pair
      if (end < n && isLowSurrogate(text.charCodeAt(end)) && isHighSurrogate(text.charCodeAt(end - 1))) continue
      const id = vocab.pieceToId.get(text.slice(start, end))
      if (id === undefined) continue
      const kind = vocab.kinds[id]
      if (kind === UnigramPieceKind.Unused) continue
      const score =
        kind === UnigramPieceKind.UserDefined ? f(byteLength(text, start, end) * vocab.maxScore - 0.1) : vocab.scores[id]
      const candidate = f(score + base)
      if (bestStart[end] === -1 || candidate > bestScore[end]) {
        bestScore[end] = candidate
        bestStart[end] = start
        bestId[end] = id
        bestUnknown[end] = 0
      }
      if (end - start === charLen) hasSingle = true
    }
    if (!hasSingle) {
      const end = start + charLen
      const candidate = f(unkScore + base)
      if (bestStart[end] === -1 || candidate > bestScore[end]) {
        bestScore[end] = candidate
        bestStart[end] = start
        bestId[end] = vocab.unkId
        bestUnknown[end] = 1
      }
    }
    start += charLen
  }
  const out: UnigramPiece[] = []
  for (let end = n; end > 0; ) {
    const s = bestStart[end]
    out.push({ start: s, end, id: bestId[end], unknown: bestUnknown[end] === 1 || bestId[end] === vocab.unkId })
    end = s
  }
  out.reverse()
  // merge runs of unknown pieces
  const merged: UnigramPiece[] = []
  for (const p of out) {
    const prev = merged[merged.length - 1]
    if (prev && prev.unknown && p.unknown) prev.end = p.end
    else merged.push(p)
  }
  return merged
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}
function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}
export function charLength(text: string, i: number): number {
  return isHighSurrogate(text.charCodeAt(i)) && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1
}
function byteLength(text: string, start: number, end: number): number {
  return encoder.encode(text.slice(start, end)).length
}
