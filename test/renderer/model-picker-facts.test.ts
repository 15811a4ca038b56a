// The model picker's wording of found models' facts, and the Decoding presets offered per model.
import { describe, expect, it } from 'vitest'
import { DEFAULT_MODEL, DEFAULT_SYNTHETIC_MODEL } from '../../src/common/api'
import { formatBytes, formatParameters, headLabel, kindLabel, originLabel } from '../../src/renderer/components/model-facts'
import { DECODING_PRESETS, presetsFor } from '../../src/renderer/workspaces/useDecodingWorkspace'

describe('found-model facts', () => {
  it('words sizes, parameters, kinds, heads and origins', () => {
    expect(formatBytes(231_784)).toBe('231.8 kB')
    expect(formatBytes(738_000_000)).toBe('738.0 MB')
    expect(formatBytes(3.6e9)).toBe('3.60 GB')
    expect(formatParameters(56_720)).toBe('56.7k parameters')
    expect(formatParameters(184_423_682)).toBe('184M parameters')
    expect(formatParameters(22_000_000)).toBe('22.0M parameters')
    expect(formatParameters(undefined)).toBe('? parameters')
    expect(kindLabel('deberta')).toBe('DeBERTa v1')
    expect(kindLabel('deberta-v2')).toBe('DeBERTa v2/v3')
    expect(kindLabel('bert')).toBe('BERT')
    expect(headLabel({ mlmHead: 'official', emd: true })).toBe('MLM head + EMD')
    expect(headLabel({ mlmHead: 'cls', emd: false })).toBe('MLM head (cls.predictions)')
    expect(headLabel({ mlmHead: null, emd: false })).toBe('no MLM head')
    expect(originLabel({ source: 'cache', refs: ['main'], commit: 'a'.repeat(40) })).toBe('HF cache @ main')
    expect(originLabel({ source: 'cache', refs: [], commit: '0123456789abcdef' })).toBe('HF cache @ 0123456789')
    expect(originLabel({ source: 'recent' })).toBe('recent folder')
  })
})

describe('decoding presets per model', () => {
  it('offers the toy language for the bundled model and the paper’s English sentences otherwise', () => {
    const toy = presetsFor(DEFAULT_MODEL, null)
    expect(toy.length).toBe(6)
    expect(toy.every((p) => p.language === 'toy')).toBe(true)
    const english = presetsFor({ kind: 'checkpoint', path: '/cache/models--microsoft--deberta-base/snapshots/x' }, null)
    expect(english[0].text).toBe('a new [MASK] opened beside the new mall')
    expect(english.map((p) => p.text)).toContain('a new store opened beside the new [MASK]')
    expect(english.length).toBe(DECODING_PRESETS.length - 6)
    expect(presetsFor(DEFAULT_SYNTHETIC_MODEL, null)).toEqual(english)
  })
})
