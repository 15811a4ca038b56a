import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { loadTokenizer, parseSentencePieceModel, SentencePieceTokenizer } from '../../src/core/tokenizer'
import { PrecompiledCharsmap } from '../../src/core/tokenizer/charsmap'

const SPM_DIR = path.resolve(__dirname, '../fixtures/tokenizer-spm')
const SPM_BYTES = new Uint8Array(fs.readFileSync(path.join(SPM_DIR, 'spm.model')))
const golden = JSON.parse(fs.readFileSync(path.join(SPM_DIR, 'tokenization_golden.json'), 'utf8')) as {
  cases: Array<{
    name: string
    text: string
    text_pair?: string
    tokens: string[]
    ids: number[]
    tokens_pair?: string[]
    ids_pair?: number[]
    input_ids: number[]
    token_type_ids: number[]
    attention_mask: number[]
  }>
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-tok-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

async function expectLabErrorAsync(fn: () => Promise<unknown> | unknown, code: string, text?: RegExp): Promise<void> {
  let caught: unknown
  try {
    await fn()
  } catch (error) {
    caught = error
  }
  expect(caught, 'expected a LabError').toBeInstanceOf(LabError)
  expect((caught as LabError).code, (caught as LabError).message).toBe(code)
  if (text) expect((caught as LabError).message).toMatch(text)
}

describe('SentencePiece tokenizer (spm.model) against the golden cases', async () => {
  const tok = await loadTokenizer(SPM_DIR)

  it('loads as sentencepiece with the DeBERTa-v3 special ids', () => {
    expect(tok.kind).toBe('sentencepiece')
    expect(tok.special).toEqual({ cls: 1, sep: 2, pad: 0, unk: 3, mask: 1000 })
    expect(tok.vocabSize).toBe(1001)
    expect(tok.idToToken(1000)).toBe('[MASK]')
    expect(tok.tokenToId('[MASK]')).toBe(1000)
    expect(tok.tokenToId('▁The')).toBe(31)
    expect(tok.tokenToId('no such piece')).toBeUndefined()
    expect(() => tok.idToToken(5000)).toThrow(LabError)
  })

  for (const c of golden.cases) {
    it(`reproduces case ${c.name}`, () => {
      expect(tok.tokenize(c.text)).toEqual(c.tokens)
      const single = tok.encode(c.text)
      expect(single.inputIds.slice(1, -1)).toEqual(c.ids)
      const enc = tok.encode(c.text, c.text_pair)
      expect(enc.inputIds).toEqual(c.input_ids)
      expect(enc.tokenTypeIds).toEqual(c.token_type_ids)
      expect(enc.attentionMask).toEqual(c.attention_mask)
      expect(enc.tokens.length).toBe(enc.inputIds.length)
      if (c.text_pair !== undefined) {
        expect(tok.tokenize(c.text_pair)).toEqual(c.tokens_pair)
        expect(enc.sequenceIds.filter((s) => s === 1).length).toBe(c.ids_pair!.length)
      }
    })
  }

  it('gives every token an offset span whose NFKC text contains the piece (sans ▁)', () => {
    for (const c of golden.cases) {
      const enc = tok.encode(c.text)
      enc.tokens.forEach((token, i) => {
        const [start, end] = enc.offsets[i]
        expect(start).toBeGreaterThanOrEqual(0)
        expect(end).toBeGreaterThanOrEqual(start)
        expect(end).toBeLessThanOrEqual(c.text.length)
        if (enc.sequenceIds[i] === null) {
          expect([start, end]).toEqual([0, 0])
          return
        }
        const piece = token.replace(/▁/g, '')
        if (piece === '') return
        const span = c.text.slice(start, end)
        expect(span.normalize('NFKC'), `${c.name}: token ${JSON.stringify(token)} at [${start}, ${end})`).toContain(piece)
      })
    }
  })

  it('maps tokens back to exact spans: spaces, accents, NFKC, [MASK], unknowns', () => {
    const spans = (text: string) => {
      const enc = tok.encode(text)
      return enc.tokens.slice(1, -1).map((t, i) => `${t}=${text.slice(...enc.offsets[i + 1])}`)
    }
    expect(spans('The cat quickly ran')).toEqual(['▁The=The', '▁cat=cat', '▁quickly=quickly', '▁ran=ran'])
    expect(spans('   leading spaces')).toEqual(['▁lea=lea', 'd=d', 'ing=ing', '▁sp=sp', 'ace=ace', 's=s'])
    // combining acute (e + U+0301) composes into é: the token covers both code units
    expect(spans('cafe\u0301 x')[0]).toBe('▁café=cafe\u0301')
    expect(spans('ＦＵＬＬ')).toEqual(['▁F=Ｆ', 'U=Ｕ', 'L=Ｌ', 'L=Ｌ'])
    expect(spans('emoji 🙂 and 漢字')).toContain('🙂=🙂')
    expect(spans('emoji 🙂 and 漢字')).toContain('漢字=漢字')
    expect(spans('a\tand')).toEqual(['▁a=a', '▁=\t', 'and=and'])
    const enc = tok.encode('The [MASK] sat')
    expect(enc.offsets[2]).toEqual([4, 10])
  })

  it('decodes ids to readable text', () => {
    const enc = tok.encode('The cat quickly ran across the field.')
    expect(tok.decode(enc.inputIds.slice(1, -1))).toBe('The cat quickly ran across the field.')
    expect(tok.decode(tok.encode('The [MASK] sat.').inputIds)).toBe('[CLS] The [MASK] sat. [SEP]')
  })
})

// ---- hostile and malformed inputs --------------------------------------------------------------------------------

function varint(n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 128) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}
function field(num: number, payload: Uint8Array | number[]): number[] {
  const p = Array.from(payload)
  return [...varint(num * 8 + 2), ...varint(p.length), ...p]
}

describe('SentencePiece model parsing rejects malformed files', () => {
  it('truncated varints, lengths past the end, bad wire types, random bytes → TOKENIZER_FORMAT', () => {
    const cases: number[][] = [
      [0x0a, 0xff], // length varint truncated
      [0x0a, 0x10, 0x01], // length 16 past the end
      [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // varint > 10 bytes
      [0x0b], // wire type 3 (group)
      [0x00], // field number 0
      [...field(1, [0x0a, 0x05, 0x61])], // piece string runs past its message
    ]
    for (const bytes of cases) {
      expect(() => parseSentencePieceModel(Uint8Array.from(bytes)), JSON.stringify(bytes)).toThrow(
        expect.objectContaining({ code: 'TOKENIZER_FORMAT' }),
      )
    }
    let seed = 12345
    for (let trial = 0; trial < 50; trial++) {
      const junk = new Uint8Array(200).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff)
      try {
        new SentencePieceTokenizer(junk, { doLowerCase: false, specialTokens: {}, specialFlags: {}, addedTokens: [] })
      } catch (error) {
        expect((error as LabError).code).toBe('TOKENIZER_FORMAT')
      }
    }
  })

  it('truncating spm.model anywhere gives TOKENIZER_FORMAT, never a crash or hang', () => {
    for (const fraction of [0.0001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999]) {
      const cut = SPM_BYTES.subarray(0, Math.floor(SPM_BYTES.length * fraction))
      expect(() => new SentencePieceTokenizer(cut, { doLowerCase: false, specialTokens: {}, specialFlags: {}, addedTokens: [] })).toThrow(
        expect.objectContaining({ code: 'TOKENIZER_FORMAT' }),
      )
    }
  })

  it('rejects a precompiled charsmap whose trie size does not fit', () => {
    const blob = new Uint8Array(16)
    new DataView(blob.buffer).setUint32(0, 4096, true)
    expect(() => new PrecompiledCharsmap(blob)).toThrow(expect.objectContaining({ code: 'TOKENIZER_FORMAT' }))
    const model = Uint8Array.from([
      ...field(1, [...field(1, new TextEncoder().encode('<unk>')), 0x18, 2]),
      ...field(1, [...field(1, new TextEncoder().encode('a')), 0x15, 0, 0, 0x80, 0xbf, 0x18, 1]),
      ...field(3, [...field(2, blob)]),
    ])
    expect(() => new SentencePieceTokenizer(model, { doLowerCase: false, specialTokens: {}, specialFlags: {}, addedTokens: [] })).toThrow(
      expect.objectContaining({ code: 'TOKENIZER_FORMAT' }),
    )
  })

  it('works on a minimal hand-built model (no charsmap), with unknowns and byte fallback off', () => {
    const piece = (p: string, score: number, type: number) => {
      const s = new Uint8Array(new Float32Array([score]).buffer)
      return field(1, [...field(1, new TextEncoder().encode(p)), 0x15, ...s, 0x18, type])
    }
    const model = Uint8Array.from([
      ...piece('<unk>', 0, 2),
      ...piece('▁', -1, 1),
      ...piece('a', -2, 1),
      ...piece('b', -2, 1),
      ...piece('▁ab', -1.5, 1),
      ...piece('ab', -4.5, 1), // a + b (−4) beats ab (−4.5)
    ])
    const tok = new SentencePieceTokenizer(model, { doLowerCase: false, specialTokens: {}, specialFlags: {}, addedTokens: [] })
    expect(tok.tokenize('ab abab')).toEqual(['▁ab', '▁ab', 'a', 'b'])
    expect(tok.tokenize('xyab')).toEqual(['▁', 'xy', 'a', 'b'])
    const enc = tok.encode('xyab')
    expect(enc.inputIds).toEqual([enc.inputIds[0], 1, 0, 2, 3, enc.inputIds[5]])
    // no control pieces: [CLS]/[SEP]/[PAD]/[MASK] become added tokens after the vocabulary
    expect([tok.special.pad, tok.special.cls, tok.special.sep, tok.special.mask, tok.special.unk]).toEqual([6, 7, 8, 9, 0])
  })

  it('loadTokenizer: missing folder or files → TOKENIZER_NOT_FOUND, malformed side files → TOKENIZER_FORMAT', async () => {
    await expectLabErrorAsync(() => loadTokenizer(path.join(tmp, 'nope')), 'TOKENIZER_NOT_FOUND')
    const empty = path.join(tmp, 'empty')
    fs.mkdirSync(empty)
    await expectLabErrorAsync(() => loadTokenizer(empty), 'TOKENIZER_NOT_FOUND', /tokenizer\.json.*spm\.model.*vocab\.json \+ merges\.txt/)
    const badCfg = path.join(tmp, 'badcfg')
    fs.mkdirSync(badCfg)
    fs.copyFileSync(path.join(SPM_DIR, 'spm.model'), path.join(badCfg, 'spm.model'))
    fs.writeFileSync(path.join(badCfg, 'tokenizer_config.json'), '{"do_lower_case": tru')
    await expectLabErrorAsync(() => loadTokenizer(badCfg), 'TOKENIZER_FORMAT', /tokenizer_config\.json/)
    const badModel = path.join(tmp, 'badmodel')
    fs.mkdirSync(badModel)
    fs.writeFileSync(path.join(badModel, 'spm.model'), Buffer.from([0x0a, 0xff]))
    await expectLabErrorAsync(() => loadTokenizer(badModel), 'TOKENIZER_FORMAT')
  })

  it('without added_tokens.json, [MASK] gets id = vocabulary size (as for microsoft/deberta-v3-*), and do_lower_case lowers text', async () => {
    const dir = path.join(tmp, 'hub-like')
    fs.mkdirSync(dir)
    fs.copyFileSync(path.join(SPM_DIR, 'spm.model'), path.join(dir, 'spm.model'))
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, vocab_type: 'spm' }))
    const tok = await loadTokenizer(dir)
    expect(tok.special.mask).toBe(1000)
    expect(tok.encode('The [MASK]').inputIds).toEqual([1, ...tok.encode('the').inputIds.slice(1, -1), 1000, 2])
    const enc = tok.encode('THE CAT')
    expect(enc.tokens.slice(1, -1)).toEqual(['▁the', '▁cat'])
    expect(enc.offsets.slice(1, -1)).toEqual([
      [0, 3],
      [4, 7],
    ])
  })
})
