// DeBERTa v1's tokenizer (transformers' DebertaTokenizer, microsoft/deberta-base): GPT-2 byte-level BPE from
// vocab.json + merges.txt, special tokens [CLS]/[SEP]/[PAD]/[UNK]/[MASK] from the vocabulary ([MASK] swallows
// the space before it: lstrip), layout [CLS] a [SEP] (b [SEP]).
import { LabError } from '../../common/errors'
import { BaseTokenizer, debertaTemplate, type AddedToken, type Template, type TextToken } from './base'
import { BpeModel, GPT2_PATTERN, byteLevelDecode, bytesToUnicode } from './bpe'
import { maxOf, type HfTokenizerConfig } from './hf-config'
import type { SpecialTokenIds } from './types'

const DEFAULTS = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', unk: '[UNK]', mask: '[MASK]' } as const

export class Gpt2BpeTokenizer extends BaseTokenizer {
  readonly kind = 'gpt2-bpe' as const
  readonly vocabSize: number
  readonly special: SpecialTokenIds
  protected readonly addedTokens: AddedToken[]
  protected readonly template: Template
  private readonly bpe: BpeModel
  private readonly idToTokenMap: Map<number, string>
  private readonly addPrefixSpace: boolean

  constructor(vocab: Map<string, number>, merges: Array<[string, string]>, config: HfTokenizerConfig) {
    super()
    const unk = config.specialTokens.unk ?? DEFAULTS.unk
    this.bpe = new BpeModel(vocab, merges, { unkToken: vocab.has(unk) ? unk : undefined })
    this.idToTokenMap = new Map([...vocab].map(([t, id]) => [id, t]))
    this.addPrefixSpace = config.addPrefixSpace ?? false
    let nextId = maxOf(vocab.values(), -1) + 1
    const added = new Map<string, AddedToken>()
    for (const t of config.addedTokens) {
      if (t.id === undefined) continue
      added.set(t.content, { content: t.content, id: t.id, special: t.special, lstrip: t.lstrip ?? false, rstrip: t.rstrip ?? false })
      nextId = Math.max(nextId, t.id + 1)
    }
    const ids: Partial<Record<keyof typeof DEFAULTS, number>> = {}
    for (const role of ['cls', 'sep', 'pad', 'unk', 'mask'] as const) {
      const content = config.specialTokens[role] ?? DEFAULTS[role]
      let token = added.get(content)
      if (!token) {
        const flags = config.specialFlags[role] ?? {}
        token = {
          content,
          id: vocab.get(content) ?? nextId++,
          special: true,
          // DebertaTokenizer: "Mask token behave like a normal word, i.e. include the space before it"
          lstrip: flags.lstrip ?? role === 'mask',
          rstrip: flags.rstrip ?? false,
        }
        added.set(content, token)
      }
      ids[role] = token.id
    }
    this.addedTokens = [...added.values()]
    this.special = { cls: ids.cls!, sep: ids.sep!, pad: ids.pad!, unk: ids.unk!, mask: ids.mask }
    this.vocabSize = Math.max(nextId, ...this.addedTokens.map((t) => t.id + 1))
    this.template = debertaTemplate(this.special.cls, this.special.sep)
    if (this.bpe.options.unkToken === undefined && !bytesToUnicode().every((c) => vocab.has(c))) {
      throw new LabError('TOKENIZER_FORMAT', 'vocab.json lacks some byte symbols and has no unk token')
    }
  }

  protected vocabIdToToken(id: number): string | undefined {
    return this.idToTokenMap.get(id)
  }

  protected vocabTokenToId(token: string): number | undefined {
    return this.bpe.vocab.get(token)
  }

  protected decodePieces(tokens: string[]): string {
    return byteLevelDecode(tokens.join(''))
  }

  protected segment(text: string, first: boolean): TextToken[] {
    // slow GPT2Tokenizer: add_prefix_space prepends " " to the text (HF does so once, for the whole input)
    const prefix = this.addPrefixSpace && first ? ' ' : ''
    const input = prefix + text
    const shift = prefix.length
    const byteChars = bytesToUnicode()
    const enc = new TextEncoder()
    const out: TextToken[] = []
    for (const m of input.matchAll(GPT2_PATTERN)) {
      const word = m[0]
      const wordStart = m.index!
      // byte-level alphabet: one symbol per UTF-8 byte; remember each symbol's source code units
      let symbols = ''
      const unitStart: number[] = []
      const unitEnd: number[] = []
      for (let i = 0; i < word.length; ) {
        const ch = String.fromCodePoint(word.codePointAt(i)!)
        for (const b of enc.encode(ch)) {
          symbols += byteChars[b]
          unitStart.push(wordStart + i)
          unitEnd.push(wordStart + i + ch.length)
        }
        i += ch.length
      }
      // byteChars are all single UTF-16 units, so symbol index = code unit index
      for (const t of this.bpe.tokenizeWord(symbols)) {
        // leave leading spaces (Ġ) out of the span when the token has more (like trim_offsets)
        let s = t.start
        while (s < t.end && symbols[s] === 'Ġ') s++
        if (s === t.end) s = t.start
        const start = Math.max(0, unitStart[s] - shift)
        const end = Math.max(start, unitEnd[t.end - 1] - shift)
        out.push({ id: t.id, token: t.token, start, end })
      }
    }
    return out
  }
}
