// Hugging Face `tokenizer.json` (the `tokenizers` library format), the subset DeBERTa repositories use:
//   normalizers    Sequence, Precompiled, Replace, Strip, Lowercase, NFC/NFD/NFKC/NFKD, StripAccents, Prepend
//   pre-tokenizers Sequence, Metaspace, ByteLevel, WhitespaceSplit, Whitespace, Punctuation, Digits, Split
//   models         Unigram (deberta-v3 conversions), BPE (deberta v1 / roberta-style conversions),
//                  WordLevel (whole words → ids, unknown words → unk_token; the lab's toy model)
//   post-processor TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence
// Anything else throws TOKENIZER_FORMAT naming the component. Added tokens are split off first (exact match on
// the raw text, lstrip/rstrip honoured).
import { LabError } from '../../common/errors'
import { BaseTokenizer, type AddedToken, type Template, type TemplatePart, type TextToken } from './base'
import { BoundedRegex } from './bounded-regex'
import { BpeModel, GPT2_PATTERN, byteLevelDecode, bytesToUnicode, type BpeToken } from './bpe'
import { PrecompiledCharsmap } from './charsmap'
import { maxOf, type HfTokenizerConfig } from './hf-config'
import { NormalizedString } from './normalized-string'
import type { SpecialTokenIds } from './types'
import { UnigramPieceKind, buildUnigramVocab, unigramSegment, type UnigramVocab } from './unigram'

type Json = Record<string, unknown>
type Normalizer = (s: NormalizedString) => NormalizedString
type PreTokenizer = (parts: NormalizedString[], first: boolean) => NormalizedString[]
type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous'

interface ModelTokens {
  tokens: Array<{ id: number; token: string; a: number; b: number }>
}
interface Model {
  tokenize(word: string): ModelTokens['tokens']
  idToToken(id: number): string | undefined
  tokenToId(token: string): number | undefined
  size: number
}

function fail(message: string): LabError {
  return new LabError('TOKENIZER_FORMAT', `tokenizer.json: ${message}`)
}

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(`${where} is not an object`)
  return v as Json
}

/** A token id: a non-negative integer (ids index arrays: 1.5, -2 or 1e300 would turn into undefined later). */
function isTokenId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function typeOf(v: Json, where: string): string {
  if (typeof v.type !== 'string') throw fail(`${where} has no "type"`)
  return v.type
}

/** A Split/Replace pattern: a literal ({"String"}) or a regex ({"Regex"}) run with a time bound (bounded-regex.ts). */
interface Pattern {
  matchesMany(texts: readonly string[]): Array<Array<[number, number]>>
}

function regexFrom(pattern: unknown, where: string): Pattern {
  const p = obj(pattern, `${where}.pattern`)
  if (typeof p.String === 'string') {
    // a literal: linear-time search, no bound needed
    const re = new RegExp(escapeRegExp(p.String), 'gu')
    return { matchesMany: (texts) => texts.map((t) => matchesOf(t, re)) }
  }
  if (typeof p.Regex === 'string') return new BoundedRegex(p.Regex, where)
  throw fail(`${where}.pattern must be {"String": ...} or {"Regex": ...}`)
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

// ---- normalizers -------------------------------------------------------------------------------------------------

function buildNormalizer(spec: unknown): Normalizer {
  if (spec === null || spec === undefined) return (s) => s
  const n = obj(spec, 'normalizer')
  const type = typeOf(n, 'normalizer')
  switch (type) {
    case 'Sequence': {
      if (!Array.isArray(n.normalizers)) throw fail('normalizer Sequence has no "normalizers" list')
      const steps = n.normalizers.map(buildNormalizer)
      return (s) => steps.reduce((acc, f) => f(acc), s)
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return (s) => s.mapGraphemes((g) => g.normalize(type))
    case 'Lowercase':
      return (s) => s.mapChars((c) => c.toLowerCase())
    case 'StripAccents':
      return (s) => s.mapChars((c) => (/\p{Mn}/u.test(c) ? '' : c))
    case 'Strip': {
      const left = n.strip_left !== false
      const right = n.strip_right !== false
      return (s) => {
        let a = 0
        let b = s.length
        if (left) while (a < b && /\s/u.test(s.text[a])) a++
        if (right) while (b > a && /\s/u.test(s.text[b - 1])) b--
        return s.slice(a, b)
      }
    }
    case 'Replace': {
      const re = regexFrom(n.pattern, 'Replace normalizer')
      if (typeof n.content !== 'string') throw fail('Replace normalizer has no "content"')
      const content = n.content
      return (s) => s.replaceSpans(re.matchesMany([s.text])[0], content)
    }
    case 'Prepend': {
      if (typeof n.prepend !== 'string') throw fail('Prepend normalizer has no "prepend"')
      const p = n.prepend
      return (s) => (s.length > 0 ? s.prepend(p) : s)
    }
    case 'Precompiled': {
      if (typeof n.precompiled_charsmap !== 'string') throw fail('Precompiled normalizer has no precompiled_charsmap')
      const blob = new Uint8Array(Buffer.from(n.precompiled_charsmap, 'base64'))
      if (blob.length === 0) return (s) => s
      const map = new PrecompiledCharsmap(blob, 'tokenizer.json precompiled_charsmap')
      return (s) => precompiledNormalize(s, map)
    }
    default:
      throw fail(`normalizer "${type}" is not supported`)
  }
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder()

/** tokenizers' Precompiled::normalize: whole grapheme (< 6 bytes) via its first rule, else char by char. */
function precompiledNormalize(s: NormalizedString, map: PrecompiledCharsmap): NormalizedString {
  const chunks: Array<{ a: number; b: number; out: string }> = []
  for (const g of s.graphemes()) {
    const grapheme = s.text.slice(g.a, g.b)
    const bytes = utf8.encode(grapheme)
    if (bytes.length < 6) {
      const rule = map.firstPrefix(bytes)
      if (rule) {
        chunks.push({ a: g.a, b: g.b, out: utf8Decoder.decode(rule) })
        continue
      }
    }
    for (let i = g.a; i < g.b; ) {
      const cp = s.text.codePointAt(i)!
      const len = cp > 0xffff ? 2 : 1
      const ch = s.text.slice(i, i + len)
      const rule = map.firstPrefix(utf8.encode(ch))
      chunks.push({ a: i, b: i + len, out: rule ? utf8Decoder.decode(rule) : ch })
      i += len
    }
  }
  return s.rewrite(chunks)
}

// ---- pre-tokenizers ----------------------------------------------------------------------------------------------

/** tokenizers' NormalizedString::split with a delimiter behaviour. */
function splitBy(s: NormalizedString, matches: Array<[number, number]>, behavior: SplitBehavior, invert = false): NormalizedString[] {
  // segments covering the string, flagged as match or not
  let segs: Array<{ a: number; b: number; match: boolean }> = []
  let last = 0
  for (const [a, b] of matches) {
    if (a > last) segs.push({ a: last, b: a, match: false })
    if (b > a) segs.push({ a, b, match: true })
    last = Math.max(last, b)
  }
  if (last < s.length) segs.push({ a: last, b: s.length, match: false })
  if (invert) segs = segs.map((x) => ({ ...x, match: !x.match }))
  let out: Array<{ a: number; b: number; match: boolean }> = []
  switch (behavior) {
    case 'Removed':
      out = segs.filter((x) => !x.match)
      break
    case 'Isolated':
      out = segs
      break
    case 'Contiguous':
      for (const x of segs) {
        const prev = out[out.length - 1]
        if (prev && prev.match && x.match) prev.b = x.b
        else out.push({ ...x })
      }
      break
    case 'MergedWithPrevious': {
      let previousMatch = false
      for (const x of segs) {
        const prev = out[out.length - 1]
        if (x.match && !previousMatch) {
          if (prev) prev.b = x.b
          else out.push({ ...x, match: true })
        } else out.push({ ...x, match: false })
        previousMatch = x.match
      }
      break
    }
    case 'MergedWithNext': {
      let previousMatch = false
      for (const x of [...segs].reverse()) {
        const prev = out[out.length - 1]
        if (x.match && !previousMatch) {
          if (prev) prev.a = x.a
          else out.push({ ...x, match: true })
        } else out.push({ ...x, match: false })
        previousMatch = x.match
      }
      out.reverse()
      break
    }
  }
  return out.filter((x) => x.b > x.a).map((x) => s.slice(x.a, x.b))
}

function matchesOf(text: string, re: RegExp): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (const m of text.matchAll(re)) if (m[0].length > 0) out.push([m.index!, m.index! + m[0].length])
  return out
}

const WHITESPACE_WORDS = /[\p{L}\p{N}\p{M}\p{Pc}]+|[^\p{L}\p{N}\p{M}\p{Pc}\s]+/gu
const PUNCTUATION = /[\p{P}!-/:-@[-`{-~]/gu

function behaviorOf(v: unknown, fallback: SplitBehavior, where: string): SplitBehavior {
  if (v === undefined) return fallback
  if (v === 'Removed' || v === 'Isolated' || v === 'MergedWithPrevious' || v === 'MergedWithNext' || v === 'Contiguous') return v
  throw fail(`${where}: unknown split behavior ${JSON.stringify(v)}`)
}

function buildPreTokenizer(spec: unknown, flags: { byteLevel: boolean; metaspace?: string }): PreTokenizer {
  if (spec === null || spec === undefined) return (parts) => parts
  const p = obj(spec, 'pre_tokenizer')
  const type = typeOf(p, 'pre_tokenizer')
  switch (type) {
    case 'Sequence': {
      if (!Array.isArray(p.pretokenizers)) throw fail('pre_tokenizer Sequence has no "pretokenizers" list')
      const steps = p.pretokenizers.map((x) => buildPreTokenizer(x, flags))
      return (parts, first) => steps.reduce((acc, f) => f(acc, first), parts)
    }
    case 'WhitespaceSplit':
      return (parts) => parts.flatMap((s) => splitBy(s, matchesOf(s.text, /\s+/gu), 'Removed'))
    case 'Whitespace':
      return (parts) => parts.flatMap((s) => splitBy(s, matchesOf(s.text, WHITESPACE_WORDS), 'Removed', true))
    case 'Punctuation': {
      const behavior = behaviorOf(p.behavior, 'Isolated', 'Punctuation')
      return (parts) => parts.flatMap((s) => splitBy(s, matchesOf(s.text, PUNCTUATION), behavior))
    }
    case 'Digits': {
      const re = p.individual_digits ? /\p{N}/gu : /\p{N}+/gu
      return (parts) => parts.flatMap((s) => splitBy(s, matchesOf(s.text, re), 'Isolated'))
    }
    case 'Split': {
      const re = regexFrom(p.pattern, 'Split pre_tokenizer')
      const behavior = behaviorOf(p.behavior, 'Isolated', 'Split')
      const invert = p.invert === true
      return (parts) => {
        const matches = re.matchesMany(parts.map((s) => s.text))
        return parts.flatMap((s, i) => splitBy(s, matches[i], behavior, invert))
      }
    }
    case 'Metaspace': {
      const replacement = typeof p.replacement === 'string' ? p.replacement : '\u2581'
      flags.metaspace = replacement
      // prepend_scheme (tokenizers ≥ 0.14) or legacy add_prefix_space
      const scheme =
        typeof p.prepend_scheme === 'string' ? p.prepend_scheme : p.add_prefix_space === false ? 'never' : 'always'
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') throw fail(`Metaspace prepend_scheme "${scheme}" is not supported`)
      const split = p.split !== false
      return (parts, first) =>
        parts.flatMap((s) => {
          let t = s.mapChars((c) => (c === ' ' ? replacement : c))
          if (scheme === 'always' || (scheme === 'first' && first && s.anchor === 0)) {
            if (!t.text.startsWith(replacement)) t = t.prepend(replacement)
          }
          if (!split) return [t]
          const re = new RegExp(escapeRegExp(replacement), 'gu')
          return splitBy(t, matchesOf(t.text, re), 'MergedWithNext')
        })
    }
    case 'ByteLevel': {
      flags.byteLevel = true
      const addPrefixSpace = p.add_prefix_space === true
      const useRegex = p.use_regex !== false
      const chars = bytesToUnicode()
      return (parts) =>
        parts.flatMap((s) => {
          let t = s
          if (addPrefixSpace && !t.text.startsWith(' ')) t = t.prepend(' ')
          const pieces = useRegex ? splitBy(t, matchesOf(t.text, GPT2_PATTERN), 'Isolated') : [t]
          return pieces.map((x) => x.mapChars((c) => Array.from(utf8.encode(c), (b) => chars[b]).join('')))
        })
    }
    default:
      throw fail(`pre_tokenizer "${type}" is not supported`)
  }
}

// ---- models ------------------------------------------------------------------------------------------------------

type ModelKind = 'Unigram' | 'BPE' | 'WordLevel'

function buildModel(spec: unknown): { model: Model; kind: ModelKind } {
  const m = obj(spec, 'model')
  const type = m.type ?? (Array.isArray(m.vocab) ? 'Unigram' : m.merges ? 'BPE' : undefined)
  if (type === 'WordLevel') {
    // tokenizers models/wordlevel: each pre-tokenized word is one token, or unk_token when not in the vocabulary
    const vocabObj = obj(m.vocab, 'WordLevel model vocab')
    const vocab = new Map<string, number>()
    for (const [t, id] of Object.entries(vocabObj)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw fail(`WordLevel vocab id of ${JSON.stringify(t)} is invalid`)
      vocab.set(t, id)
    }
    const unkToken = typeof m.unk_token === 'string' ? m.unk_token : undefined
    const unkId = unkToken === undefined ? undefined : vocab.get(unkToken)
    if (unkToken !== undefined && unkId === undefined) throw fail(`WordLevel unk_token ${JSON.stringify(unkToken)} is not in the vocabulary`)
    const byId = new Map([...vocab].map(([t, id]) => [id, t]))
    return {
      kind: 'WordLevel',
      model: {
        size: maxOf(vocab.values(), -1) + 1,
        idToToken: (id) => byId.get(id),
        tokenToId: (t) => vocab.get(t),
        tokenize(word) {
          const id = vocab.get(word) ?? unkId
          if (id === undefined) throw new LabError('TOKENIZER_FORMAT', `tokenizer.json: WordLevel has no unk_token for unknown word ${JSON.stringify(word)}`)
          return [{ id, token: vocab.has(word) ? word : unkToken!, a: 0, b: word.length }]
        },
      },
    }
  }
  if (type === 'Unigram') {
    if (!Array.isArray(m.vocab)) throw fail('Unigram model has no "vocab" list')
    const pieces = m.vocab.map((entry, i) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
        throw fail(`Unigram vocab entry ${i} is not [piece, score]`)
      }
      return { piece: entry[0] as string, score: entry[1] as number, kind: UnigramPieceKind.Normal }
    })
    const unkId = m.unk_id === undefined || m.unk_id === null ? -1 : m.unk_id
    if (unkId !== -1 && (!isTokenId(unkId) || unkId >= pieces.length)) throw fail(`Unigram unk_id ${JSON.stringify(unkId)} is out of range`)
    const vocab: UnigramVocab = buildUnigramVocab(pieces, unkId, false)
    // tokenizers takes min_score over every piece
    vocab.minScore = -maxOf(pieces.map((p) => -p.score), -Infinity)
    const byteFallback = m.byte_fallback === true
    return {
      kind: 'Unigram',
      model: {
        size: pieces.length,
        idToToken: (id) => pieces[id]?.piece,
        tokenToId: (t) => vocab.pieceToId.get(t),
        tokenize(word) {
          const out: ModelTokens['tokens'] = []
          for (const p of unigramSegment(word, vocab)) {
            const token = word.slice(p.start, p.end)
            if (p.unknown) {
              if (byteFallback) {
                const ids = [...utf8.encode(token)].map((b) => {
                  const t = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`
                  return { t, id: vocab.pieceToId.get(t) }
                })
                if (ids.every((x) => x.id !== undefined)) {
                  for (const x of ids) out.push({ id: x.id!, token: x.t, a: p.start, b: p.end })
                  continue
                }
              }
              if (unkId < 0) throw new LabError('TOKENIZER_FORMAT', `tokenizer.json: no unk_id for unknown text ${JSON.stringify(token)}`)
              out.push({ id: unkId, token, a: p.start, b: p.end })
            } else out.push({ id: p.id, token, a: p.start, b: p.end })
          }
          return out
        },
      },
    }
  }
  if (type === 'BPE') {
    const vocabObj = obj(m.vocab, 'BPE model vocab')
    const vocab = new Map<string, number>()
    for (const [t, id] of Object.entries(vocabObj)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw fail(`BPE vocab id of ${JSON.stringify(t)} is invalid`)
      vocab.set(t, id)
    }
    if (!Array.isArray(m.merges)) throw fail('BPE model has no "merges" list')
    const merges = m.merges.map((x, i): [string, string] => {
      if (typeof x === 'string') {
        const parts = x.split(' ')
        if (parts.length === 2) return [parts[0], parts[1]]
      } else if (Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'string') {
        return [x[0], x[1]]
      }
      throw fail(`BPE merge ${i} is not "a b" or ["a", "b"]`)
    })
    if (m.dropout !== null && m.dropout !== undefined && m.dropout !== 0) throw fail('BPE dropout is not supported')
    const bpe = new BpeModel(vocab, merges, {
      unkToken: typeof m.unk_token === 'string' ? m.unk_token : undefined,
      continuingSubwordPrefix: typeof m.continuing_subword_prefix === 'string' ? m.continuing_subword_prefix : undefined,
      endOfWordSuffix: typeof m.end_of_word_suffix === 'string' ? m.end_of_word_suffix : undefined,
      fuseUnk: m.fuse_unk === true,
      byteFallback: m.byte_fallback === true,
      ignoreMerges: m.ignore_merges === true,
    })
    const byId = new Map([...vocab].map(([t, id]) => [id, t]))
    return {
      kind: 'BPE',
      model: {
        size: maxOf(vocab.values(), -1) + 1,
        idToToken: (id) => byId.get(id),
        tokenToId: (t) => vocab.get(t),
        tokenize: (word) => bpe.tokenizeWord(word).map((t: BpeToken) => ({ id: t.id, token: t.token, a: t.start, b: t.end })),
      },
    }
  }
  throw fail(`model "${String(type)}" is not supported`)
}

// ---- the tokenizer -----------------------------------------------------------------------------------------------

export class TokenizerJsonTokenizer extends BaseTokenizer {
  readonly kind = 'tokenizer-json' as const
  readonly vocabSize: number
  readonly special: SpecialTokenIds
  protected readonly addedTokens: AddedToken[]
  protected readonly template: Template
  private readonly normalizer: Normalizer
  private readonly preTokenizer: PreTokenizer
  private readonly model: Model
  private readonly modelKind: ModelKind
  private readonly flags: { byteLevel: boolean; metaspace?: string } = { byteLevel: false }

  constructor(json: unknown, config: HfTokenizerConfig) {
    super()
    const root = obj(json, 'the file')
    if (root.truncation !== null && root.truncation !== undefined) {
      // truncation settings are ignored: the model checks sequence length itself
    }
    this.normalizer = buildNormalizer(root.normalizer)
    this.preTokenizer = buildPreTokenizer(root.pre_tokenizer, this.flags)
    const { model, kind } = buildModel(root.model)
    this.model = model
    this.modelKind = kind
    if (root.decoder && obj(root.decoder, 'decoder').type === 'ByteLevel') this.flags.byteLevel = true

    const added: AddedToken[] = []
    if (root.added_tokens !== undefined && root.added_tokens !== null) {
      if (!Array.isArray(root.added_tokens)) throw fail('"added_tokens" is not a list')
      root.added_tokens.forEach((t, i) => {
        const a = obj(t, `added_tokens[${i}]`)
        if (typeof a.content !== 'string' || !isTokenId(a.id)) throw fail(`added_tokens[${i}] needs "id" (a non-negative integer) and "content"`)
        added.push({ content: a.content, id: a.id, special: a.special === true, lstrip: a.lstrip === true, rstrip: a.rstrip === true })
      })
    }
    for (const t of config.addedTokens) {
      if (t.id !== undefined && !added.some((x) => x.content === t.content)) {
        added.push({ content: t.content, id: t.id, special: t.special, lstrip: t.lstrip ?? false, rstrip: t.rstrip ?? false })
      }
    }
    this.addedTokens = added

    const lookup = (text: string | undefined): number | undefined =>
      text === undefined ? undefined : (added.find((t) => t.content === text)?.id ?? model.tokenToId(text))
    const role = (r: 'cls' | 'sep' | 'pad' | 'unk' | 'mask', ...fallbacks: string[]): number | undefined => {
      for (const text of [config.specialTokens[r], ...fallbacks]) {
        const id = lookup(text)
        if (id !== undefined) return id
      }
      return undefined
    }
    const post = this.buildTemplate(root.post_processor)
    const cls = post.cls ?? role('cls', '[CLS]', '<s>', '<cls>')
    const sep = post.sep ?? role('sep', '[SEP]', '</s>', '<sep>')
    if (cls === undefined || sep === undefined) throw fail('cannot tell the [CLS]/[SEP] tokens (no post_processor and none in the vocabulary)')
    const unk = role('unk', '[UNK]', '<unk>')
    this.special = {
      cls,
      sep,
      pad: role('pad', '[PAD]', '<pad>') ?? 0,
      unk: unk ?? 0,
      mask: role('mask', '[MASK]', '<mask>'),
    }
    this.template = post.template ?? {
      single: [{ special: cls, typeId: 0 }, { sequence: 0, typeId: 0 }, { special: sep, typeId: 0 }],
      pair: [
        { special: cls, typeId: 0 },
        { sequence: 0, typeId: 0 },
        { special: sep, typeId: 0 },
        { sequence: 1, typeId: 1 },
        { special: sep, typeId: 1 },
      ],
    }
    // The post-processor's ids go into every encoding: each must name a token (else decoding them fails later).
    const addedIds = new Set(added.map((t) => t.id))
    for (const part of [...this.template.single, ...this.template.pair]) {
      if ('special' in part && !addedIds.has(part.special) && model.idToToken(part.special) === undefined) {
        throw fail(`post_processor special token id ${part.special} is neither in the vocabulary nor an added token`)
      }
    }
    this.vocabSize = Math.max(model.size, maxOf(addedIds, -1) + 1)
  }

  private buildTemplate(spec: unknown): { template?: Template; cls?: number; sep?: number } {
    if (spec === null || spec === undefined) return {}
    const p = obj(spec, 'post_processor')
    const type = typeOf(p, 'post_processor')
    const pairOf = (v: unknown, name: string): number => {
      if (!Array.isArray(v) || !isTokenId(v[1])) throw fail(`${type} "${name}" is not [token, id]`)
      return v[1]
    }
    const typeIdOf = (v: unknown): number => {
      if (v === undefined || v === null) return 0
      if (!isTokenId(v)) throw fail(`TemplateProcessing type_id ${JSON.stringify(v)} is not a non-negative integer`)
      return v
    }
    switch (type) {
      case 'TemplateProcessing': {
        const specials = obj(p.special_tokens ?? {}, 'TemplateProcessing special_tokens')
        const parts = (list: unknown, which: string): TemplatePart[] => {
          if (!Array.isArray(list)) throw fail(`TemplateProcessing "${which}" is not a list`)
          return list.flatMap((item): TemplatePart[] => {
            const x = obj(item, `TemplateProcessing ${which} item`)
            if (x.Sequence) {
              const s = obj(x.Sequence, 'Sequence')
              return [{ sequence: s.id === 'B' ? 1 : 0, typeId: typeIdOf(s.type_id) }]
            }
            if (x.SpecialToken) {
              const s = obj(x.SpecialToken, 'SpecialToken')
              const def = specials[String(s.id)]
              const ids = def ? obj(def, 'special token').ids : undefined
              if (!Array.isArray(ids) || !ids.every(isTokenId)) {
                throw fail(`TemplateProcessing special token ${JSON.stringify(s.id)} has no ids`)
              }
              return ids.map((id: number) => ({ special: id, typeId: typeIdOf(s.type_id) }))
            }
            throw fail(`TemplateProcessing ${which} item is neither Sequence nor SpecialToken`)
          })
        }
        const template = { single: parts(p.single, 'single'), pair: parts(p.pair, 'pair') }
        const firstSpecial = template.single.find((x) => 'special' in x) as { special: number } | undefined
        const lastSpecial = [...template.single].reverse().find((x) => 'special' in x) as { special: number } | undefined
        return { template, cls: firstSpecial?.special, sep: lastSpecial?.special }
      }
      case 'RobertaProcessing': {
        const cls = pairOf(p.cls, 'cls')
        const sep = pairOf(p.sep, 'sep')
        return {
          cls,
          sep,
          template: {
            single: [{ special: cls, typeId: 0 }, { sequence: 0, typeId: 0 }, { special: sep, typeId: 0 }],
            pair: [
              { special: cls, typeId: 0 },
              { sequence: 0, typeId: 0 },
              { special: sep, typeId: 0 },
              { special: sep, typeId: 0 },
              { sequence: 1, typeId: 0 },
              { special: sep, typeId: 0 },
            ],
          },
        }
      }
      case 'BertProcessing': {
        const cls = pairOf(p.cls, 'cls')
        const sep = pairOf(p.sep, 'sep')
        return {
          cls,
          sep,
          template: {
            single: [{ special: cls, typeId: 0 }, { sequence: 0, typeId: 0 }, { special: sep, typeId: 0 }],
            pair: [
              { special: cls, typeId: 0 },
              { sequence: 0, typeId: 0 },
              { special: sep, typeId: 0 },
              { sequence: 1, typeId: 1 },
              { special: sep, typeId: 1 },
            ],
          },
        }
      }
      case 'ByteLevel':
        return {}
      case 'Sequence': {
        if (!Array.isArray(p.processors)) throw fail('post_processor Sequence has no "processors" list')
        let out: { template?: Template; cls?: number; sep?: number } = {}
        for (const x of p.processors) {
          const r = this.buildTemplate(x)
          if (r.template) out = r
        }
        return out
      }
      default:
        throw fail(`post_processor "${type}" is not supported`)
    }
  }

  protected vocabIdToToken(id: number): string | undefined {
    return this.model.idToToken(id)
  }

  protected vocabTokenToId(token: string): number | undefined {
    return this.model.tokenToId(token)
  }

  protected decodePieces(tokens: string[]): string {
    if (this.flags.byteLevel) return byteLevelDecode(tokens.join(''))
    // tokenizers without a decoder joins the tokens with spaces; word-level vocabularies need exactly that
    if (this.modelKind === 'WordLevel') return tokens.join(' ')
    const bytes: number[] = []
    for (const t of tokens) {
      const m = /^<0x([0-9A-F]{2})>$/.exec(t)
      if (m) bytes.push(parseInt(m[1], 16))
      else bytes.push(...utf8.encode(t))
    }
    let text = utf8Decoder.decode(Uint8Array.from(bytes))
    if (this.flags.metaspace) text = text.split(this.flags.metaspace).join(' ')
    return text.startsWith(' ') ? text.slice(1) : text
  }

  protected segment(text: string, first: boolean): TextToken[] {
    const normalized = this.normalizer(NormalizedString.from(text))
    // tokenizers drops splits that normalise to nothing before pre-tokenising (so Metaspace adds no lone ▁)
    if (normalized.length === 0) return []
    const words = this.preTokenizer([normalized], first)
    const out: TextToken[] = []
    const isSpaceUnit = (c: string): boolean =>
      c === ' ' || c === this.flags.metaspace || (this.flags.byteLevel && c === 'Ġ')
    for (const word of words) {
      if (word.length === 0) continue
      for (const t of this.model.tokenize(word.text)) {
        // leave leading/trailing space markers out of the span when the token has more
        let a = t.a
        let b = t.b
        while (a < b && isSpaceUnit(word.text[a])) a++
        while (b > a && isSpaceUnit(word.text[b - 1])) b--
        if (a === b) {
          a = t.a
          b = t.b
        }
        const [start, end] = word.span(a, b)
        out.push({ id: t.id, token: t.token, start, end })
      }
    }
    return out
  }
}
