// Byte-pair encoding: the merge loop shared by GPT-2 byte-level BPE (vocab.json + merges.txt) and the BPE
// model of tokenizer.json, plus GPT-2's byte ↔ unicode alphabet and pre-tokenisation regex.
import { LabError } from '../../common/errors'

/** GPT-2's pre-tokeniser pattern (openai/gpt-2 encoder.py), in JS unicode-regex syntax. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

let byteEncoder: string[] | undefined
let byteDecoder: Map<string, number> | undefined

/** bytes_to_unicode(): printable stand-ins for the 256 byte values (space → Ġ, newline → Ċ, ...). */
export function bytesToUnicode(): string[] {
  if (!byteEncoder) {
    const bs: number[] = []
    for (let b = 0x21; b <= 0x7e; b++) bs.push(b)
    for (let b = 0xa1; b <= 0xac; b++) bs.push(b)
    for (let b = 0xae; b <= 0xff; b++) bs.push(b)
    const cs = [...bs]
    let n = 0
    for (let b = 0; b < 256; b++) {
      if (!bs.includes(b)) {
        bs.push(b)
        cs.push(256 + n)
        n++
      }
    }
    byteEncoder = new Array<string>(256)
    bs.forEach((b, i) => (byteEncoder![b] = String.fromCodePoint(cs[i])))
  }
  return byteEncoder
}

export function unicodeToBytes(): Map<string, number> {
  if (!byteDecoder) byteDecoder = new Map(bytesToUnicode().map((c, b) => [c, b]))
  return byteDecoder
}

/** Decodes byte-level token text back to a string (unknown characters are kept as UTF-8). */
export function byteLevelDecode(text: string): string {
  const map = unicodeToBytes()
  const bytes: number[] = []
  const enc = new TextEncoder()
  for (const ch of text) {
    const b = map.get(ch)
    if (b !== undefined) bytes.push(b)
    else bytes.push(...enc.encode(ch))
  }
  return new TextDecoder().decode(Uint8Array.from(bytes))
}

export interface BpeOptions {
  unkToken?: string
  continuingSubwordPrefix?: string
  endOfWordSuffix?: string
  fuseUnk?: boolean
  byteFallback?: boolean
  /** use a word found whole in the vocabulary without merging (tokenizers' ignore_merges) */
  ignoreMerges?: boolean
}

export interface BpeToken {
  token: string
  id: number
  /** [start, end) in code units of the word */
  start: number
  end: number
}

export class BpeModel {
  private readonly ranks = new Map<string, number>()
  private readonly cache = new Map<string, BpeToken[]>()

  constructor(
    readonly vocab: Map<string, number>,
    merges: Array<[string, string]>,
    readonly options: BpeOptions = {},
  ) {
    merges.forEach(([a, b], rank) => {
      const key = `${a} ${b}`
      if (!this.ranks.has(key)) this.ranks.set(key, rank)
    })
    if (options.unkToken !== undefined && !vocab.has(options.unkToken)) {
      throw new LabError('TOKENIZER_FORMAT', `BPE unk_token "${options.unkToken}" is not in the vocabulary`)
    }
  }

  /** Splits one pre-token into vocabulary tokens. */
  tokenizeWord(word: string): BpeToken[] {
    const cached = this.cache.get(word)
    if (cached) return cached
    const result = this.merge(word)
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(word, result)
    return result
  }

  private merge(word: string): BpeToken[] {
    const { continuingSubwordPrefix: prefix = '', endOfWordSuffix: suffix = '' } = this.options
    if (word.length === 0) return []
    if (this.options.ignoreMerges && this.vocab.has(word)) return [{ token: word, id: this.vocab.get(word)!, start: 0, end: word.length }]
    // initial symbols: one per code point
    let symbols: Array<{ text: string; start: number; end: number }> = []
    for (let i = 0; i < word.length; ) {
      const ch = String.fromCodePoint(word.codePointAt(i)!)
      symbols.push({ text: ch, start: i, end: i + ch.length })
      i += ch.length
    }
    symbols = symbols.map((s, i) => ({
      ...s,
      text: (i > 0 ? prefix : '') + s.text + (i === symbols.length - 1 ? suffix : ''),
    }))
    for (;;) {
      let bestRank = Infinity
      let best = -1
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(`${symbols[i].text} ${symbols[i + 1].text}`)
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank
          best = i
        }
      }
      if (best < 0) break
      const a = symbols[best]
      const b = symbols[best + 1]
      const bText = prefix && b.text.startsWith(prefix) ? b.text.slice(prefix.length) : b.text
      symbols.splice(best, 2, { text: a.text + bText, start: a.start, end: b.end })
    }
    const out: BpeToken[] = []
    const enc = new TextEncoder()
    for (const s of symbols) {
      const id = this.vocab.get(s.text)
      if (id !== undefined) {
        out.push({ token: s.text, id, start: s.start, end: s.end })
        continue
      }
      if (this.options.byteFallback) {
        const byteIds = [...enc.encode(word.slice(s.start, s.end))].map((b) => {
          const t = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`
          return { t, id: this.vocab.get(t) }
        })
        if (byteIds.every((x) => x.id !== undefined)) {
          for (const x of byteIds) out.push({ token: x.t, id: x.id!, start: s.start, end: s.end })
          continue
        }
      }
      if (this.options.unkToken === undefined) {
        throw new LabError('TOKENIZER_FORMAT', `BPE symbol "${s.text}" is not in the vocabulary and there is no unk_token`)
      }
      const unkId = this.vocab.get(this.options.unkToken)!
      const prev = out[out.length - 1]
      if (this.options.fuseUnk && prev && prev.id === unkId && prev.token === this.options.unkToken) prev.end = s.end
      else out.push({ token: this.options.unkToken, id: unkId, start: s.start, end: s.end })
    }
    return out
  }
}

/** Parses merges.txt (optional "#version" line, then "a b" per line). */
export function parseMergesTxt(text: string, what = 'merges.txt'): Array<[string, string]> {
  const merges: Array<[string, string]> = []
  const lines = text.split(/\r?\n/)
  lines.forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return
    const parts = line.split(' ')
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new LabError('TOKENIZER_FORMAT', `${what}: line ${i + 1} is not "a b": ${JSON.stringify(line.slice(0, 60))}`)
    }
    merges.push([parts[0], parts[1]])
  })
  return merges
}

/** Parses a vocab.json object of token → id. */
export function parseVocabJson(value: unknown, what = 'vocab.json'): Map<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LabError('TOKENIZER_FORMAT', `${what} is not a JSON object of token → id`)
  }
  const vocab = new Map<string, number>()
  for (const [token, id] of Object.entries(value)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new LabError('TOKENIZER_FORMAT', `${what}: id of ${JSON.stringify(token)} is not a non-negative integer`)
    }
    vocab.set(token, id)
  }
  return vocab
}
