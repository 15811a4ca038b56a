// tokenizer.json with a WordLevel model (Hugging Face tokenizers' models/wordlevel): whole pre-tokenized
// words map to ids, unknown words to unk_token; the toy model ships one. Written to a temp dir and loaded
// through loadTokenizer, the app's path.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { loadTokenizer } from '../../src/core/tokenizer'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-wordlevel-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const SPECIAL = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]']

function tokenizerJson(model: Record<string, unknown>): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: SPECIAL.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] } },
    },
    model,
  }
}

const VOCAB = Object.fromEntries([...SPECIAL, 'the', 'dog', 'sees', 'a', 'ball', '.'].map((t, i) => [t, i]))

function folder(name: string, json: unknown): string {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json))
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ mask_token: '[MASK]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]' }))
  return dir
}

describe('tokenizer.json WordLevel', () => {
  it('maps words to ids, unknown words to unk_token, with offsets into the original text', async () => {
    const tok = await loadTokenizer(folder('ok', tokenizerJson({ type: 'WordLevel', vocab: VOCAB, unk_token: '[UNK]' })))
    const text = 'The  dog [MASK] a zebra.'
    const enc = tok.encode(text)
    expect(enc.tokens).toEqual(['[CLS]', 'the', 'dog', '[MASK]', 'a', '[UNK]', '.', '[SEP]'])
    expect(enc.inputIds).toEqual([1, 5, 6, 4, 8, 3, 10, 2])
    // offsets point at the raw text ("The" keeps its capital; the unknown word spans "zebra")
    expect(enc.offsets.slice(1, -1).map(([a, b]) => text.slice(a, b))).toEqual(['The', 'dog', '[MASK]', 'a', 'zebra', '.'])
    expect(tok.special.mask).toBe(4)
    expect(tok.vocabSize).toBe(11)
    expect(tok.decode([5, 6, 7, 8, 9])).toBe('the dog sees a ball')
  })

  it('encodes pairs with type ids', async () => {
    const tok = await loadTokenizer(folder('pair', tokenizerJson({ type: 'WordLevel', vocab: VOCAB, unk_token: '[UNK]' })))
    const enc = tok.encode('the dog', 'sees a ball')
    expect(enc.tokens).toEqual(['[CLS]', 'the', 'dog', '[SEP]', 'sees', 'a', 'ball', '[SEP]'])
    expect(enc.tokenTypeIds).toEqual([0, 0, 0, 0, 1, 1, 1, 1])
  })

  it('refuses bad vocabularies and unknown words without unk_token with typed errors', async () => {
    const expectFormatError = async (fn: () => unknown | Promise<unknown>, pattern: RegExp): Promise<void> => {
      const error = await Promise.resolve()
        .then(fn)
        .then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(LabError)
      expect((error as LabError).code).toBe('TOKENIZER_FORMAT')
      expect((error as LabError).message).toMatch(pattern)
    }
    await expectFormatError(() => loadTokenizer(folder('bad-id', tokenizerJson({ type: 'WordLevel', vocab: { ...VOCAB, x: -1 }, unk_token: '[UNK]' }))), /invalid/)
    await expectFormatError(() => loadTokenizer(folder('bad-unk', tokenizerJson({ type: 'WordLevel', vocab: VOCAB, unk_token: '<unk>' }))), /unk_token/)
    const noUnk = await loadTokenizer(folder('no-unk', tokenizerJson({ type: 'WordLevel', vocab: VOCAB })))
    expect(noUnk.encode('the dog').tokens).toEqual(['[CLS]', 'the', 'dog', '[SEP]'])
    await expectFormatError(() => noUnk.encode('the zebra'), /zebra/)
  })
})
