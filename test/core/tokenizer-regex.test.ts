// Split and Replace regexes from tokenizer.json run with a time bound (src/core/tokenizer/bounded-regex.ts):
// catastrophic backtracking is refused with TOKENIZER_FORMAT naming the pattern, within the bound; ordinary
// patterns (lookahead, \p{…}) match exactly as JavaScript's own regexes do.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { loadTokenizerSync } from '../../src/core/tokenizer'
import { BoundedRegex, configureRegexTimeout, DEFAULT_REGEX_TIMEOUT_MS } from '../../src/core/tokenizer/bounded-regex'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-regex-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const SPECIAL = ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]']
let count = 0
function tokenizerWith(parts: { normalizer?: unknown; pre_tokenizer?: unknown }): string {
  const dir = path.join(tmp, `t${count++}`)
  fs.mkdirSync(dir)
  const vocab = Object.fromEntries([...SPECIAL, 'a', 'b', '!', 'aaaa'].map((t, i) => [t, i]))
  fs.writeFileSync(
    path.join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      added_tokens: SPECIAL.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: parts.normalizer ?? null,
      pre_tokenizer: parts.pre_tokenizer ?? { type: 'WhitespaceSplit' },
      post_processor: null,
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
    }),
  )
  return dir
}

function refusal(fn: () => unknown): { error: LabError; ms: number } {
  const start = performance.now()
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(LabError)
    return { error: error as LabError, ms: performance.now() - start }
  }
  throw new Error('expected a refusal')
}

describe('tokenizer.json regexes run with a time bound', () => {
  beforeAll(() => {
    configureRegexTimeout(300)
  })
  afterEach(() => {
    configureRegexTimeout(300)
  })
  afterAll(() => {
    configureRegexTimeout(DEFAULT_REGEX_TIMEOUT_MS)
  })

  const evil = 'a'.repeat(34) + '!'

  it('refuses a Split pattern with catastrophic backtracking, naming it, within the bound', () => {
    const tok = loadTokenizerSync(tokenizerWith({ pre_tokenizer: { type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated' } }))
    expect(tok.encode('aaaa').tokens.slice(1, -1)).toEqual(['aaaa'])
    const { error, ms } = refusal(() => tok.encode(evil))
    expect(error.code).toBe('TOKENIZER_FORMAT')
    expect(error.message).toMatch(/Split pre_tokenizer: regex "\(a\+\)\+\$" took more than 300 ms on 35 characters of text \(catastrophic backtracking\)/)
    expect(ms).toBeLessThan(5000)
    // the tokenizer still works on ordinary text afterwards
    expect(tok.encode('a').tokens.slice(1, -1)).toEqual(['a'])
  })

  it('refuses a Replace normalizer pattern with catastrophic backtracking', () => {
    const tok = loadTokenizerSync(tokenizerWith({ normalizer: { type: 'Replace', pattern: { Regex: '(a|a)+$' }, content: 'b' } }))
    expect(tok.encode('aaaa').tokens.slice(1, -1)).toEqual(['b'])
    const { error, ms } = refusal(() => tok.encode(evil))
    expect(error.message).toMatch(/Replace normalizer: regex "\(a\|a\)\+\$" took more than 300 ms/)
    expect(ms).toBeLessThan(5000)
  })

  it('bounds one whole text, not each part: many parts together are refused too', () => {
    const tok = loadTokenizerSync(tokenizerWith({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Split', pattern: { Regex: '(a|a)+$' }, behavior: 'Isolated' }] } }))
    const { error } = refusal(() => tok.encode(Array.from({ length: 400 }, () => 'a'.repeat(16) + '!').join(' ')))
    expect(error.code).toBe('TOKENIZER_FORMAT')
  })

  it('matches exactly like JavaScript for the GPT-2 pattern (lookahead, \\p{L}, \\p{N})', () => {
    const gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
    const texts = ["Hello world, it's 2024!  Ünïcödé   text\t\n", '', '   ', '日本語 テキスト 123 😀😀 x']
    const bounded = new BoundedRegex(gpt2, 'test').matchesMany(texts)
    const native = texts.map((t) => [...t.matchAll(new RegExp(gpt2, 'gu'))].filter((m) => m[0].length > 0).map((m) => [m.index, m.index + m[0].length]))
    expect(bounded).toEqual(native)
  })

  it('refuses a pattern JavaScript cannot compile at load, as before', () => {
    expect(() => loadTokenizerSync(tokenizerWith({ pre_tokenizer: { type: 'Split', pattern: { Regex: '(?<' }, behavior: 'Isolated' } }))).toThrow(/regex "\(\?<" is not supported/)
  })

  it('refuses bad bounds', () => {
    expect(() => configureRegexTimeout(0)).toThrow(LabError)
  })
})
