// The contract every tokenizer implementation (SentencePiece spm.model, tokenizer.json, GPT-2 BPE) fulfils.

export interface SpecialTokenIds {
  cls: number
  sep: number
  pad: number
  unk: number
  /** undefined when the tokenizer has no [MASK] token */
  mask?: number
}

export interface Encoding {
  /** With special tokens: [CLS] a [SEP] (b [SEP]) */
  inputIds: number[]
  /** One string per id: the piece, or the special token's text */
  tokens: string[]
  tokenTypeIds: number[]
  attentionMask: number[]
  /** [start, end) UTF-16 offsets into the text the token came from; [0, 0] for special tokens that were not in the text */
  offsets: Array<[number, number]>
  /** 0 for tokens of the first text, 1 for the pair text, null for added [CLS]/[SEP] */
  sequenceIds: Array<0 | 1 | null>
}

export interface Tokenizer {
  readonly kind: 'sentencepiece' | 'tokenizer-json' | 'gpt2-bpe'
  /** Number of ids the tokenizer can produce (max id + 1) */
  readonly vocabSize: number
  readonly special: SpecialTokenIds
  /** Pieces without special tokens around them (the splitting rule of the fixtures README applies) */
  tokenize(text: string): string[]
  encode(text: string, pair?: string): Encoding
  idToToken(id: number): string
  tokenToId(token: string): number | undefined
  /** Readable text for a list of ids (pieces joined, ▁/Ġ turned into spaces) */
  decode(ids: number[]): string
}
