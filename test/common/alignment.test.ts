import { describe, expect, it } from 'vitest'
import { alignTokens, differenceMatrix, poolMatrix, poolingFor } from '../../src/common/alignment'

/** Tokens of `text` given as [token, start, end]. */
const toks = (list: Array<[string, number, number]>) => ({ tokens: list.map((t) => t[0]), offsets: list.map((t) => [t[1], t[2]] as [number, number]) })

// SentencePiece and a word-level tokenizer on the same text, as the lab's tokenizers give them (checked in
// test/lab/workspaces-compare.test.ts on real ones): "▁" alone covers the space before "(", specials are [0, 0].
const TEXT = 'dogs see 12 (ok).'
const SPM = toks([['[CLS]', 0, 0], ['▁dog', 0, 3], ['s', 3, 4], ['▁see', 4, 8], ['▁12', 8, 11], ['▁', 11, 12], ['(', 12, 13], ['ok', 13, 15], [')', 15, 16], ['.', 16, 17], ['[SEP]', 0, 0]])
const WORDS = toks([['[CLS]', 0, 0], ['dogs', 0, 4], ['see', 5, 8], ['12', 9, 11], ['(', 12, 13], ['ok', 13, 15], [').', 15, 17], ['[SEP]', 0, 0]])

describe('alignTokens', () => {
  it('merges overlapping spans of both models into the coarsest segmentation both agree on', () => {
    const { units, sameTokens, complete } = alignTokens(TEXT, WORDS, SPM)
    expect(units.map((u) => u.label)).toEqual(['[CLS]', 'dogs', 'see', '12', '(', 'ok', ').', '[SEP]'])
    expect(units.map((u) => u.a)).toEqual([[0], [1], [2], [3], [4], [5], [6], [7]])
    // "▁" (position 5) has no character of its own but the space: it joins "(" after it
    expect(units.map((u) => u.b)).toEqual([[0], [1, 2], [3], [4], [5, 6], [7], [8, 9], [10]])
    expect([sameTokens, complete]).toEqual([false, true])
    expect(units[1]).toMatchObject({ start: 0, end: 4 })
  })

  it('the same tokens over the same characters are compared token by token', () => {
    const aligned = alignTokens(TEXT, SPM, SPM)
    expect(aligned.sameTokens).toBe(true)
    expect(aligned.units).toHaveLength(10)
  })

  it('pairs specials from the start and from the end; one model’s extra special leaves its unit one-sided', () => {
    const text = 'a b'
    const a = toks([['[CLS]', 0, 0], ['a', 0, 1], ['b', 2, 3], ['[SEP]', 0, 0]])
    const b = toks([['<s>', 0, 0], ['<lang>', 0, 0], ['a', 0, 1], ['b', 2, 3], ['</s>', 0, 0]])
    const { units, complete } = alignTokens(text, a, b)
    expect(units.map((u) => [u.label, u.a, u.b])).toEqual([
      ['[CLS]', [0], [0]],
      ['<lang>', [], [1]],
      ['a', [1], [2]],
      ['b', [2], [3]],
      ['[SEP]', [3], [4]],
    ])
    expect(complete).toBe(false)
  })
})

describe('poolMatrix and differenceMatrix', () => {
  // three tokens of A: [CLS] "dog" "s"; two units: [CLS] and "dogs" = tokens 1, 2
  const units = [
    { start: 0, end: 0, label: '[CLS]', a: [0], b: [0] },
    { start: 0, end: 4, label: 'dogs', a: [1, 2], b: [1] },
  ]
  const P = { rows: 3, cols: 3, data: [0.5, 0.25, 0.25, 0.1, 0.6, 0.3, 0.2, 0.2, 0.6] }

  it('probabilities: sum over the key tokens, mean over the query tokens (rows still sum to 1)', () => {
    expect(poolingFor('probabilities')).toBe('sum-keys')
    const pooled = poolMatrix(P, units, 'a', 'sum-keys')
    expect(Array.from(pooled.data)).toEqual([0.5, 0.5, (0.1 + 0.2) / 2, (0.6 + 0.3 + 0.2 + 0.6) / 2])
    expect(pooled.data[2] + pooled.data[3]).toBeCloseTo(1, 12)
  })

  it('scores and terms: mean over query and key tokens; a side without tokens is NaN', () => {
    expect(poolingFor('c2p')).toBe('mean')
    const pooled = poolMatrix(P, units, 'a', 'mean')
    expect(pooled.data[1]).toBeCloseTo(0.25, 12)
    expect(pooled.data[3]).toBeCloseTo((0.6 + 0.3 + 0.2 + 0.6) / 4, 12)
    const lone = poolMatrix(P, [...units, { start: 5, end: 6, label: 'x', a: [], b: [2] }], 'a', 'mean')
    expect(Number.isNaN(lone.data[2])).toBe(true)
  })

  it('B − A element by element, refused when the shapes differ', () => {
    const d = differenceMatrix({ rows: 1, cols: 2, data: [0.25, 0.75] }, { rows: 1, cols: 2, data: [0.5, 0.5] })
    expect(Array.from(d.data)).toEqual([0.25, -0.25])
    expect(() => differenceMatrix({ rows: 1, cols: 2, data: [0, 0] }, { rows: 2, cols: 1, data: [0, 0] })).toThrow('shapes differ: A is 1 × 2, B is 2 × 1')
  })
})
