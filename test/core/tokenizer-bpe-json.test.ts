// Fixtures for the GPT-2 BPE and tokenizer.json tokenizers are generated here, in a temp dir:
//  * a hand-written byte-level BPE (DeBERTa v1 layout: [PAD] [CLS] [SEP] [UNK], the 256 byte symbols, 18 merges,
//    [MASK] last) whose expected output is derived by hand from the merge ranks (see comments);
//  * the same BPE as tokenizer.json (ByteLevel + BPE + TemplateProcessing), which must agree with it;
//  * spm.model converted to tokenizer.json exactly as transformers' DebertaV2Converter does it (Strip,
//    Precompiled, Replace(" {2,}"), Metaspace, Unigram, TemplateProcessing), checked against the SentencePiece
//    golden cases (the fast tokenizer is documented to differ only on pair_empty_second).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { loadTokenizer, parseSentencePieceModel } from '../../src/core/tokenizer'
import { bytesToUnicode } from '../../src/core/tokenizer/bpe'

const SPM_DIR = path.resolve(__dirname, '../fixtures/tokenizer-spm')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-bpe-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

// ---- hand-written byte-level BPE ---------------------------------------------------------------------------------

const MERGES: Array<[string, string]> = [
  ['Ġ', 't'], // 0  Ġt
  ['h', 'e'], // 1  he
  ['Ġt', 'he'], // 2  Ġthe
  ['a', 't'], // 3  at
  ['Ġ', 'c'], // 4  Ġc
  ['Ġc', 'at'], // 5  Ġcat
  ['Ġ', 's'], // 6  Ġs
  ['Ġs', 'at'], // 7  Ġsat
  ['o', 'n'], // 8  on
  ['Ġ', 'on'], // 9  Ġon
  ['Ġ', 'm'], // 10 Ġm
  ['Ġm', 'at'], // 11 Ġmat
  ['T', 'he'], // 12 The
  ['c', 'a'], // 13 ca
  ['Ã', '©'], // 14 Ã© (é = C3 A9)
  ['a', 'f'], // 15 af
  ['c', 'af'], // 16 caf
  ['caf', 'Ã©'], // 17 cafÃ©
]

function bpeVocab(): Record<string, number> {
  const vocab: Record<string, number> = { '[PAD]': 0, '[CLS]': 1, '[SEP]': 2, '[UNK]': 3 }
  bytesToUnicode().forEach((ch, b) => (vocab[ch] = 4 + b))
  MERGES.forEach(([a, b], i) => (vocab[a + b] = 260 + i))
  vocab['[MASK]'] = 260 + MERGES.length // 278
  return vocab
}

function writeGpt2Dir(): string {
  const dir = path.join(tmp, 'gpt2')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(bpeVocab()))
  fs.writeFileSync(path.join(dir, 'merges.txt'), ['#version: 0.2', ...MERGES.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n')
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, vocab_type: 'gpt2' }))
  return dir
}

const V = bpeVocab()

describe('GPT-2 byte-level BPE (vocab.json + merges.txt), DeBERTa v1 layout', async () => {
  const tok = await loadTokenizer(writeGpt2Dir())

  it('loads as gpt2-bpe with specials from the vocabulary', () => {
    expect(tok.kind).toBe('gpt2-bpe')
    expect(tok.special).toEqual({ cls: 1, sep: 2, pad: 0, unk: 3, mask: 278 })
    expect(tok.vocabSize).toBe(279)
  })

  it('applies merges by rank (hand-derived)', () => {
    // "The" → T h e → (he) → (The);  " cat" → Ġ c a t → (at) → (Ġc) → (Ġcat); " on" → (on) → (Ġon)
    expect(tok.tokenize('The cat sat on the mat.')).toEqual(['The', 'Ġcat', 'Ġsat', 'Ġon', 'Ġthe', 'Ġmat', '.'])
    // "café" → c a f Ã ©: "c a" (rank 13) beats "Ã ©" (14) and "a f" (15); then nothing joins "ca f" → ca f Ã©
    expect(tok.tokenize('café')).toEqual(['ca', 'f', 'Ã©'])
    // unmerged bytes of an emoji: F0 9F 99 82
    expect(tok.tokenize('🙂')).toEqual(['ð', 'Ł', 'Ļ', 'Ĥ'])
    expect(tok.tokenize('a\nb')).toEqual(['a', 'Ċ', 'b'])
  })

  it('encodes with [CLS]/[SEP], type ids, and [MASK] swallowing the space before it', () => {
    const enc = tok.encode('The [MASK] sat', 'on')
    expect(enc.tokens).toEqual(['[CLS]', 'The', '[MASK]', 'Ġsat', '[SEP]', 'on', '[SEP]'])
    expect(enc.inputIds).toEqual([1, V.The, 278, V['Ġsat'], 2, V.on, 2])
    expect(enc.tokenTypeIds).toEqual([0, 0, 0, 0, 0, 1, 1])
    expect(enc.sequenceIds).toEqual([null, 0, 0, 0, null, 1, null])
    expect(enc.offsets).toEqual([
      [0, 0],
      [0, 3],
      [4, 10],
      [11, 14],
      [0, 0],
      [0, 2],
      [0, 0],
    ])
  })

  it('maps tokens to UTF-16 offsets in the original text (multi-byte characters, leading spaces trimmed)', () => {
    const text = 'café 🙂 cat'
    const enc = tok.encode(text)
    const spans = enc.tokens.slice(1, -1).map((t, i) => `${t}=${text.slice(...enc.offsets[i + 1])}`)
    expect(spans).toEqual(['ca=ca', 'f=f', 'Ã©=é', 'Ġ= ', 'ð=🙂', 'Ł=🙂', 'Ļ=🙂', 'Ĥ=🙂', 'Ġcat=cat'])
  })

  it('decodes back to text', () => {
    expect(tok.decode(tok.encode('The cat sat on the mat.').inputIds.slice(1, -1))).toBe('The cat sat on the mat.')
    expect(tok.decode(tok.encode('café 🙂').inputIds.slice(1, -1))).toBe('café 🙂')
  })

  it('rejects malformed vocab.json / merges.txt with TOKENIZER_FORMAT', async () => {
    const dir = path.join(tmp, 'gpt2-bad')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify({ a: 'one' }))
    fs.writeFileSync(path.join(dir, 'merges.txt'), 'a b\n')
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'TOKENIZER_FORMAT' })
    fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(bpeVocab()))
    fs.writeFileSync(path.join(dir, 'merges.txt'), 'a b c\n')
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'TOKENIZER_FORMAT', message: expect.stringMatching(/line 1/) })
  })
})

// ---- tokenizer.json ----------------------------------------------------------------------------------------------

function writeTokenizerJson(name: string, json: unknown): string {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json))
  return dir
}

const added = (id: number, content: string, lstrip = false) => ({
  id,
  content,
  single_word: false,
  lstrip,
  rstrip: false,
  normalized: false,
  special: true,
})

const template = (cls: number, sep: number) => ({
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
  pair: [
    { SpecialToken: { id: '[CLS]', type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: '[SEP]', type_id: 0 } },
    { Sequence: { id: 'B', type_id: 1 } },
    { SpecialToken: { id: '[SEP]', type_id: 1 } },
  ],
  special_tokens: {
    '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
    '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
  },
})

/** spm.model → tokenizer.json as transformers' DebertaV2Converter writes it. */
function debertaV2TokenizerJson(): unknown {
  const model = parseSentencePieceModel(new Uint8Array(fs.readFileSync(path.join(SPM_DIR, 'spm.model'))))
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '[PAD]'), added(1, '[CLS]'), added(2, '[SEP]'), added(3, '[UNK]'), added(1000, '[MASK]')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Strip', strip_left: true, strip_right: true },
        { type: 'Precompiled', precompiled_charsmap: Buffer.from(model.normalizerSpec.precompiledCharsmap).toString('base64') },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }],
    },
    post_processor: template(1, 2),
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab: model.pieces.map((p) => [p.piece, p.score]), byte_fallback: false },
  }
}

function byteLevelTokenizerJson(): unknown {
  const vocab = bpeVocab()
  return {
    version: '1.0',
    added_tokens: [added(0, '[PAD]'), added(1, '[CLS]'), added(2, '[SEP]'), added(3, '[UNK]'), added(278, '[MASK]', true)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: template(1, 2),
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      vocab,
      merges: MERGES.map(([a, b]) => `${a} ${b}`),
    },
  }
}

describe('tokenizer.json', async () => {
  const golden = JSON.parse(fs.readFileSync(path.join(SPM_DIR, 'tokenization_golden.json'), 'utf8')).cases as Array<{
    name: string
    text: string
    text_pair?: string
    tokens: string[]
    input_ids: number[]
    token_type_ids: number[]
  }>
  const unigram = await loadTokenizer(writeTokenizerJson('v3-json', debertaV2TokenizerJson()))

  it('picks tokenizer.json over spm.model', async () => {
    const dir = writeTokenizerJson('both', debertaV2TokenizerJson())
    fs.copyFileSync(path.join(SPM_DIR, 'spm.model'), path.join(dir, 'spm.model'))
    expect((await loadTokenizer(dir)).kind).toBe('tokenizer-json')
    expect(unigram.special).toEqual({ cls: 1, sep: 2, pad: 0, unk: 3, mask: 1000 })
    expect(unigram.vocabSize).toBe(1001)
  })

  for (const c of golden) {
    if (c.name === 'pair_empty_second') continue // tokenizers' template drops an empty second sequence's [SEP]
    it(`Unigram (converted from spm.model) reproduces golden case ${c.name}`, () => {
      expect(unigram.tokenize(c.text)).toEqual(c.tokens)
      const enc = unigram.encode(c.text, c.text_pair)
      expect(enc.inputIds).toEqual(c.input_ids)
      expect(enc.tokenTypeIds).toEqual(c.token_type_ids)
    })
  }

  it('Unigram offsets map to the original text', () => {
    const text = '  The  cafe\u0301 ＦＵ'
    const enc = unigram.encode(text)
    const spans = enc.tokens.slice(1, -1).map((t, i) => `${t}=${text.slice(...enc.offsets[i + 1])}`)
    expect(spans).toEqual(['▁The=The', '▁café=cafe\u0301', '▁F=Ｆ', 'U=Ｕ'])
  })

  it('ByteLevel BPE agrees with the vocab.json + merges.txt tokenizer', async () => {
    const json = await loadTokenizer(writeTokenizerJson('v1-json', byteLevelTokenizerJson()))
    const gpt2 = await loadTokenizer(path.join(tmp, 'gpt2'))
    for (const text of ['The cat sat on the mat.', 'café 🙂 cat', 'The [MASK] sat', 'tabs\tand  spaces\n']) {
      const a = json.encode(text, 'on the mat')
      const b = gpt2.encode(text, 'on the mat')
      expect(a.tokens, text).toEqual(b.tokens)
      expect(a.inputIds).toEqual(b.inputIds)
      expect(a.offsets).toEqual(b.offsets)
    }
    expect(json.decode(json.encode('café 🙂').inputIds)).toBe('[CLS] café 🙂 [SEP]')
  })

  it('rejects unknown components with TOKENIZER_FORMAT naming them', async () => {
    const variants: Array<[string, (j: Record<string, unknown>) => void, RegExp]> = [
      ['normalizer', (j) => (j.normalizer = { type: 'BertNormalizer' }), /normalizer "BertNormalizer"/],
      ['pretok', (j) => (j.pre_tokenizer = { type: 'CharDelimiterSplit', delimiter: ' ' }), /pre_tokenizer "CharDelimiterSplit"/],
      ['model', (j) => (j.model = { type: 'WordPiece', vocab: {} }), /model "WordPiece"/],
      ['post', (j) => (j.post_processor = { type: 'Fancy' }), /post_processor "Fancy"/],
      ['vocab', (j) => ((j.model as Record<string, unknown>).vocab = [['a', 'x']]), /vocab entry 0/],
      ['regex', (j) => (j.normalizer = { type: 'Replace', pattern: { Regex: '(?<' }, content: '' }), /regex/],
    ]
    for (const [name, mutate, message] of variants) {
      const json = debertaV2TokenizerJson() as Record<string, unknown>
      mutate(json)
      await expect(loadTokenizer(writeTokenizerJson(`bad-${name}`, json)), name).rejects.toMatchObject({
        code: 'TOKENIZER_FORMAT',
        message: expect.stringMatching(message),
      })
    }
    const dir = path.join(tmp, 'bad-json')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": ')
    await expect(loadTokenizer(dir)).rejects.toBeInstanceOf(LabError)
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'TOKENIZER_FORMAT' })
  })
})
