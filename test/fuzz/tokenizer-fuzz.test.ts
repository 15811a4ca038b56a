// Property tests of the tokenizer loaders: tokenizer.json mutations (normalizers, pre-tokenizers, models,
// post-processors, added tokens) and spm.model truncations and byte flips. Every input either loads and then
// encodes/decodes, or throws a LabError TOKENIZER_* (or INPUT_INVALID); seeded and bounded in time.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { readHfTokenizerConfig, SentencePieceTokenizer, TokenizerJsonTokenizer, type Tokenizer } from '../../src/core/tokenizer'
import { loadTokenizerSync } from '../../src/core/tokenizer'
import { configureRegexTimeout, DEFAULT_REGEX_TIMEOUT_MS } from '../../src/core/tokenizer/bounded-regex'
import { flipBytes, fuzz, int, mutateJson, pick } from './fuzz-helpers'

const ROOT = path.resolve(__dirname, '../..')
const SPM_DIR = path.join(ROOT, 'test/fixtures/tokenizer-spm')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-fuzz-tok-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const TOKENIZER_CODES = ['TOKENIZER_FORMAT', 'TOKENIZER_NOT_FOUND', 'INPUT_INVALID']
const BUDGET_MS = 2500
const TEXTS = ['The quick brown [MASK] jumps.', '  héllo   wörld 123 ', '', 'a'.repeat(40) + '!', '日本語 😀 x\ty']

function exercise(tok: Tokenizer): void {
  for (const text of TEXTS) {
    const enc = tok.encode(text)
    tok.decode(enc.inputIds)
  }
  tok.encode(TEXTS[0], TEXTS[1])
}

const SPECIAL = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]']
const added = SPECIAL.map((content, id) => ({ id, content, single_word: false, lstrip: content === '[MASK]', rstrip: false, normalized: false, special: true }))
const words = ['the', 'quick', 'brown', 'jumps', '.', 'a', 'h', 'e', 'l', 'o', 'Ġ', 'Ġt', 'he', '▁the', '▁', 'x']
const vocab = Object.fromEntries([...SPECIAL, ...words].map((t, i) => [t, i]))
const template = {
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
  special_tokens: { '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] } },
}

/** Bases covering every component family the loader knows. */
export const BASES_FOR_REPLAY: unknown[] = [
  {
    version: '1.0',
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }, { type: 'Strip' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }, { type: 'Digits', individual_digits: true }] },
    post_processor: template,
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  },
  {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1], trim_offsets: true, add_prefix_space: true },
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', vocab, merges: ['Ġ t', 'h e', 't he'], unk_token: '[UNK]' },
  },
  {
    version: '1.0',
    added_tokens: added,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: '' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\s+(?!\\S)|\\p{L}+' }, behavior: 'Isolated' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
    decoder: { type: 'Metaspace', replacement: '▁' },
    model: { type: 'Unigram', unk_id: 3, vocab: [...SPECIAL, ...words].map((t, i) => [t, -i / 3]) },
  },
]

let counter = 0
function folderWith(files: Record<string, string | Uint8Array>): string {
  const dir = path.join(tmp, `t${counter++}`)
  fs.mkdirSync(dir)
  for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), data)
  return dir
}

describe('tokenizer.json loader under mutation', () => {
  // a mutated Split pattern may backtrack: keep each refusal short while fuzzing
  afterEach(() => {
    configureRegexTimeout(DEFAULT_REGEX_TIMEOUT_MS)
  })

  it('loads and uses every base', () => {
    for (const base of BASES_FOR_REPLAY) exercise(new TokenizerJsonTokenizer(structuredClone(base), readHfTokenizerConfig(tmp)))
  })

  it('mutated tokenizer.json files load and encode, or give TOKENIZER_* errors', async () => {
    const config = readHfTokenizerConfig(tmp)
    configureRegexTimeout(250)
    const cases = await fuzz('tokenizer.json', { seed: 2024, budgetMs: BUDGET_MS, allowed: TOKENIZER_CODES }, (random) => {
      let json = structuredClone(pick(random, BASES_FOR_REPLAY))
      const rounds = 1 + int(random, 4)
      for (let i = 0; i < rounds; i++) json = mutateJson(random, json)
      exercise(new TokenizerJsonTokenizer(json, config))
    })
    expect(cases).toBeGreaterThan(20)
  })

  it('mutated text of tokenizer.json and its side files, loaded from a folder', async () => {
    configureRegexTimeout(250)
    await fuzz('tokenizer folder', { seed: 77, budgetMs: BUDGET_MS, allowed: TOKENIZER_CODES }, (random) => {
      const text = JSON.stringify(pick(random, BASES_FOR_REPLAY))
      const bytes = Buffer.from(text)
      const mutated = random() < 0.5 ? flipBytes(random, bytes) : bytes.subarray(0, int(random, bytes.length))
      const side = pick(random, [{}, { tokenizer_config: '{"mask_token": {"content": 5}}' }, { tokenizer_config: '[]' }, { added_tokens: '{"[X]": -1}' }, { added_tokens: '{"[X]": 1e400}' }, { special_tokens_map: '{"mask_token": null}' }])
      const files: Record<string, string | Uint8Array> = { 'tokenizer.json': mutated }
      if ('tokenizer_config' in side) files['tokenizer_config.json'] = side.tokenizer_config as string
      if ('added_tokens' in side) files['added_tokens.json'] = side.added_tokens as string
      if ('special_tokens_map' in side) files['special_tokens_map.json'] = side.special_tokens_map as string
      exercise(loadTokenizerSync(folderWith(files)))
    })
  })
})

describe('spm.model loader under mutation', () => {
  const spm = new Uint8Array(fs.readFileSync(path.join(SPM_DIR, 'spm.model')))
  const config = readHfTokenizerConfig(SPM_DIR)

  it('truncations and byte flips load and encode, or give TOKENIZER_* errors', async () => {
    const cases = await fuzz('spm.model', { seed: 31337, budgetMs: BUDGET_MS, allowed: TOKENIZER_CODES }, (random) => {
      const roll = random()
      const bytes =
        roll < 0.4
          ? spm.subarray(0, int(random, spm.length))
          : roll < 0.7
            ? flipBytes(random, spm, 0, Math.min(spm.length, 64 + int(random, 4096)))
            : flipBytes(random, spm)
      exercise(new SentencePieceTokenizer(bytes, config, 'spm.model'))
    })
    expect(cases).toBeGreaterThan(20)
  })
})

describe('tokenizer.json cases found by fuzzing', () => {
  const config = readHfTokenizerConfig(tmp)
  const base = (): Record<string, unknown> => structuredClone(BASES_FOR_REPLAY[0]) as Record<string, unknown>
  const refused = (json: unknown, message: RegExp): void => {
    expect(() => new TokenizerJsonTokenizer(json, config)).toThrow(expect.objectContaining({ code: 'TOKENIZER_FORMAT', message: expect.stringMatching(message) }))
  }

  it('refuses ids that are not non-negative integers (they would fail only when decoding)', () => {
    const fractional = base()
    ;(fractional.added_tokens as Array<{ id: unknown }>)[0].id = 1.5
    refused(fractional, /added_tokens\[0\] needs "id" \(a non-negative integer\)/)
    const template = base()
    ;(template.post_processor as { special_tokens: Record<string, { ids: unknown[] }> }).special_tokens['[CLS]'].ids = [-1]
    refused(template, /TemplateProcessing special token "\[CLS\]" has no ids/)
    const typeId = base()
    ;(typeId.post_processor as { single: Array<{ Sequence?: { type_id: unknown } }> }).single[1].Sequence!.type_id = 'x'
    refused(typeId, /type_id "x" is not a non-negative integer/)
  })

  it('refuses post-processor ids that name no token', () => {
    const json = base()
    ;(json.post_processor as { special_tokens: Record<string, { ids: number[] }> }).special_tokens['[SEP]'].ids = [2, 999]
    refused(json, /post_processor special token id 999 is neither in the vocabulary nor an added token/)
  })

  it('loads 200,000 added tokens (no argument spreading)', () => {
    const json = base()
    json.added_tokens = Array.from({ length: 200_000 }, (_, i) => ({ id: i, content: i < 5 ? SPECIAL[i] : `<extra_${i}>`, special: true }))
    expect(new TokenizerJsonTokenizer(json, config).vocabSize).toBe(200_000)
  })
})
