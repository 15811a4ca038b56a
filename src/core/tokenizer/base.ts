// Shared machinery of the three tokenizers: splitting on added/special tokens (HF's exact, case-sensitive
// split with lstrip/rstrip), assembling [CLS] a [SEP] (b [SEP]) with type ids, offsets and sequence ids,
// id ↔ token lookup and decoding. Subclasses only segment plain text.
import { LabError } from '../../common/errors'
import type { Encoding, SpecialTokenIds, Tokenizer } from './types'

export interface AddedToken {
  content: string
  id: number
  special: boolean
  /** swallow whitespace on the left / right of the token (HF AddedToken.lstrip / rstrip) */
  lstrip: boolean
  rstrip: boolean
}

/** A token with [start, end) UTF-16 offsets relative to the text passed to segment(). */
export interface TextToken {
  id: number
  token: string
  start: number
  end: number
}

/** One side of a template: a special token, or the tokens of sequence A or B. */
export type TemplatePart = { special: number; typeId: number } | { sequence: 0 | 1; typeId: number }

export interface Template {
  single: TemplatePart[]
  pair: TemplatePart[]
}

export function debertaTemplate(cls: number, sep: number): Template {
  return {
    single: [{ special: cls, typeId: 0 }, { sequence: 0, typeId: 0 }, { special: sep, typeId: 0 }],
    pair: [
      { special: cls, typeId: 0 },
      { sequence: 0, typeId: 0 },
      { special: sep, typeId: 0 },
      { sequence: 1, typeId: 1 },
      { special: sep, typeId: 1 },
    ],
  }
}

export abstract class BaseTokenizer implements Tokenizer {
  abstract readonly kind: Tokenizer['kind']
  abstract readonly vocabSize: number
  abstract readonly special: SpecialTokenIds
  protected abstract readonly addedTokens: AddedToken[]
  protected abstract readonly template: Template

  /** Tokens of a text piece that contains no added token. `first` is true for the piece at offset 0. */
  protected abstract segment(text: string, first: boolean): TextToken[]
  /** Vocabulary lookup (without added tokens). */
  protected abstract vocabIdToToken(id: number): string | undefined
  protected abstract vocabTokenToId(token: string): number | undefined
  /** Text of a run of vocabulary tokens (▁ → space, byte-level decoding, ...). */
  protected abstract decodePieces(tokens: string[]): string

  private addedByContent?: Map<string, AddedToken>
  private addedById?: Map<number, AddedToken>

  protected added(): { byContent: Map<string, AddedToken>; byId: Map<number, AddedToken> } {
    if (!this.addedByContent || !this.addedById) {
      this.addedByContent = new Map(this.addedTokens.map((t) => [t.content, t]))
      this.addedById = new Map(this.addedTokens.map((t) => [t.id, t]))
    }
    return { byContent: this.addedByContent, byId: this.addedById }
  }

  /** All tokens of one text with offsets into it. */
  tokenizeWithOffsets(text: string): TextToken[] {
    const out: TextToken[] = []
    for (const part of this.splitOnAddedTokens(text)) {
      if (part.added) {
        out.push({ id: part.added.id, token: part.added.content, start: part.start, end: part.end })
        continue
      }
      if (part.end <= part.start) continue
      for (const t of this.segment(text.slice(part.start, part.end), part.start === 0)) {
        out.push({ id: t.id, token: t.token, start: t.start + part.start, end: t.end + part.start })
      }
    }
    return out
  }

  tokenize(text: string): string[] {
    return this.tokenizeWithOffsets(text).map((t) => t.token)
  }

  encode(text: string, pair?: string): Encoding {
    const a = this.tokenizeWithOffsets(text)
    const b = pair === undefined ? undefined : this.tokenizeWithOffsets(pair)
    const enc: Encoding = { inputIds: [], tokens: [], tokenTypeIds: [], attentionMask: [], offsets: [], sequenceIds: [] }
    for (const part of b === undefined ? this.template.single : this.template.pair) {
      if ('special' in part) {
        enc.inputIds.push(part.special)
        enc.tokens.push(this.idToToken(part.special))
        enc.tokenTypeIds.push(part.typeId)
        enc.attentionMask.push(1)
        enc.offsets.push([0, 0])
        enc.sequenceIds.push(null)
      } else {
        const seq = part.sequence === 0 ? a : b!
        for (const t of seq) {
          enc.inputIds.push(t.id)
          enc.tokens.push(t.token)
          enc.tokenTypeIds.push(part.typeId)
          enc.attentionMask.push(1)
          enc.offsets.push([t.start, t.end])
          enc.sequenceIds.push(part.sequence)
        }
      }
    }
    return enc
  }

  idToToken(id: number): string {
    const added = this.added().byId.get(id)
    if (added) return added.content
    const token = Number.isInteger(id) ? this.vocabIdToToken(id) : undefined
    if (token === undefined) {
      throw new LabError('TOKEN_OUT_OF_RANGE', `token id ${id} is outside the vocabulary (size ${this.vocabSize})`, { id })
    }
    return token
  }

  tokenToId(token: string): number | undefined {
    return this.added().byContent.get(token)?.id ?? this.vocabTokenToId(token)
  }

  decode(ids: number[]): string {
    const parts: string[] = []
    let run: string[] = []
    const flush = (): void => {
      if (run.length) parts.push(this.decodePieces(run))
      run = []
    }
    for (const id of ids) {
      const added = this.added().byId.get(id)
      if (added) {
        flush()
        parts.push(` ${added.content} `)
      } else run.push(this.idToToken(id))
    }
    flush()
    return parts.join('').replace(/ {2,}/g, ' ').trim()
  }

  /**
   * Splits text on exact, case-sensitive occurrences of added tokens (leftmost, then longest), applying lstrip/rstrip
   * to the neighbouring text. Text parts may be empty.
   */
  protected splitOnAddedTokens(text: string): Array<{ start: number; end: number; added?: AddedToken }> {
    const tokens = this.addedTokens
    const parts: Array<{ start: number; end: number; added?: AddedToken }> = []
    if (tokens.length === 0) return [{ start: 0, end: text.length }]
    const firstChars = new Set(tokens.map((t) => t.content[0]))
    let textStart = 0
    let i = 0
    while (i < text.length) {
      if (!firstChars.has(text[i])) {
        i++
        continue
      }
      let best: AddedToken | undefined
      for (const t of tokens) {
        if (t.content.length > 0 && (!best || t.content.length > best.content.length) && text.startsWith(t.content, i)) best = t
      }
      if (!best) {
        i++
        continue
      }
      let textEnd = i
      if (best.lstrip) while (textEnd > textStart && isWhitespace(text[textEnd - 1])) textEnd--
      parts.push({ start: textStart, end: textEnd })
      parts.push({ start: i, end: i + best.content.length, added: best })
      i += best.content.length
      if (best.rstrip) while (i < text.length && isWhitespace(text[i])) i++
      textStart = i
    }
    parts.push({ start: textStart, end: text.length })
    return parts
  }
}

export function isWhitespace(c: string): boolean {
  return /\s/u.test(c)
}

/** UTF-16 index of every UTF-8 byte offset of `text` (length bytes + 1). */
export function utf8ToUtf16Offsets(text: string): { bytes: Uint8Array; toUtf16: Int32Array } {
  const bytes = new TextEncoder().encode(text)
  const toUtf16 = new Int32Array(bytes.length + 1)
  let b = 0
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!
    const units = cp > 0xffff ? 2 : 1
    const nb = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
    for (let k = 0; k < nb; k++) toUtf16[b + k] = i
    b += nb
    i += units
  }
  toUtf16[bytes.length] = text.length
  return { bytes, toUtf16 }
}
