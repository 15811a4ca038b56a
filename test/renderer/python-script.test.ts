// The Python export's generator: where a script finds the model, what it embeds (view, ids, the lab's numbers
// as they are), and which numbers each chart's export carries. Running the scripts: test/lab/python-reproduce.test.ts.
import { describe, expect, it } from 'vitest'
import type { AttentionResult, DecodingResult, DistanceProfileResult, Matrix, ModelInfo, ModelViewResult } from '../../src/common/api'
import { buildPythonScript, pythonModelSource, pythonNeedsWeights, pythonScope, pythonSupported, type PythonExport } from '../../src/renderer/reproduce/python-script'
import { ablationTerms, attentionPython, decodingPython, distanceProfilePython, modelViewPython, sharesPython } from '../../src/renderer/reproduce/views'

const matrix = (rows: number, cols: number, f: (k: number) => number): Matrix => ({ rows, cols, data: Float32Array.from({ length: rows * cols }, (_, k) => f(k)) })
const model = (ref: ModelInfo['ref']): ModelInfo => ({ label: 'toy-deberta', ref, modelType: 'deberta-v2', weightsSha256: 'ab'.repeat(32) }) as ModelInfo
const tokens = { tokens: ['[CLS]', 'a', '[SEP]'], inputIds: [1, 7, 2], offsets: [] as Array<[number, number]> }

/** The LAB object a script holds. */
function labOf(script: string): Record<string, unknown> & { expected: Record<string, number[]>; view: Record<string, unknown>; model: Record<string, unknown> } {
  const match = /^LAB = __import__\("json"\)\.loads\(r"""(.*)"""\)$/m.exec(script)
  expect(match).not.toBeNull()
  return JSON.parse(match![1])
}

function attentionResult(): AttentionResult {
  return {
    model: model({ kind: 'bundled', name: 'toy-deberta' }),
    tokens,
    layer: 1,
    head: 2,
    terms: { c2c: matrix(3, 3, (k) => k / 10), c2p: matrix(3, 3, (k) => (k - 4) / 7), p2c: matrix(3, 3, (k) => k / 3) },
    scores: matrix(3, 3, (k) => k),
    probabilities: matrix(3, 3, (k) => 1 / 3 + k * 1e-9),
    shares: { layers: 2, heads: 4, terms: ['c2c', 'c2p', 'p2c'], values: Array.from({ length: 24 }, (_, k) => (k % 3) / 3) },
  }
}

describe('buildPythonScript', () => {
  it('embeds the view, the text, the token ids and the lab numbers exactly as float32 values', () => {
    const result = attentionResult()
    const source = attentionPython(result, { text: 'a "quoted" text\nwith """ three quotes', disabledTerms: ['c2p'], ablationScope: 'head' }, 'c2p')!
    const script = buildPythonScript(source, '2026-12-03T12:00:00.000Z')
    expect(script.startsWith('#!/usr/bin/env python3\n')).toBe(true)
    expect(script).toContain('# Exported by DeBERTa Lab 0.1.0 on 2026-12-03T12:00:00.000Z.')
    expect(script).toContain('def main():')
    expect(script).toContain('if __name__ == "__main__":')
    const lab = labOf(script)
    expect(lab.text).toBe('a "quoted" text\nwith """ three quotes')
    expect(lab.inputIds).toEqual([1, 7, 2])
    expect(lab.view).toEqual({ kind: 'attention', layer: 1, head: 2, matrix: 'c2p', disabledTerms: ['c2p'], scope: { layer: 1, head: 2 }, p2p: false })
    expect(lab.expected.matrix).toEqual(Array.from(result.terms.c2p!.data))
    expect(new Float32Array(lab.expected.matrix)).toEqual(result.terms.c2p!.data)
    expect(lab.tolerance).toBe(1e-4)
    expect(lab.model).toMatchObject({ name: 'toy-deberta', modelType: 'deberta-v2', weightsSha256: 'ab'.repeat(32), source: { kind: 'path', path: 'toy-deberta' } })
    // the header says what the script needs, on comment lines only
    for (const line of script.split('\n').slice(0, 12)) expect(line === '' || line.startsWith('#') || line.startsWith('LAB = ')).toBe(true)
  })

  it('writes probabilities with the attention tolerance; a synthetic model’s script reads the folder shipped with it', () => {
    const result = attentionResult()
    expect(attentionPython(result, { text: 'a' }, 'probabilities')!.tolerance).toBe(1e-5)
    expect(attentionPython(result, { text: 'a' }, 'probabilities')!.view).toMatchObject({ matrix: 'probs', scope: null })
    expect(attentionPython(result, { text: 'a' }, 'p2p')).toBeNull() // not computed
    expect(attentionPython(result, null, 'c2c')).toBeNull() // no request text: nothing to reproduce
    const synthetic = { ...result, model: model({ kind: 'synthetic', arch: 'deberta-v3', layers: 2, hidden: 32, heads: 4, intermediate: 64, positionBuckets: 8, maxRelativePositions: 64, maxPositions: 128, seed: 3 }) }
    const syntheticScript = attentionPython(synthetic, { text: 'a' }, 'c2c')!
    expect(pythonNeedsWeights(syntheticScript.model.ref)).toBe(true)
    expect(labOf(buildPythonScript(syntheticScript)).model).toMatchObject({ source: { kind: 'path', path: 'model' } })
    expect(pythonNeedsWeights(result.model.ref)).toBe(false)
    expect(sharesPython(result, { text: 'a', disabledTerms: ['p2c', 'nonsense'] })!.view).toEqual({ kind: 'shares', terms: ['c2c', 'c2p', 'p2c'], disabledTerms: ['p2c'], scope: null, p2p: false })
  })
})

describe('pythonModelSource', () => {
  it('names a Hugging Face cache snapshot by repo and commit, a folder by its path, a bundled model by its name', () => {
    const commit = 'a'.repeat(40)
    expect(pythonModelSource({ kind: 'checkpoint', path: `/home/u/.cache/huggingface/hub/models--microsoft--deberta-v3-base/snapshots/${commit}` })).toMatchObject({
      kind: 'hub',
      repo: 'microsoft/deberta-v3-base',
      revision: commit,
    })
    expect(pythonModelSource({ kind: 'checkpoint', path: '/data/my-model' })).toMatchObject({ kind: 'path', path: '/data/my-model' })
    expect(pythonModelSource({ kind: 'bundled', name: 'toy-deberta' })).toMatchObject({ kind: 'path', path: 'toy-deberta' })
    const synthetic = pythonModelSource({ kind: 'synthetic', arch: 'deberta-v1', layers: 1, hidden: 8, heads: 2, intermediate: 8, positionBuckets: 0, maxRelativePositions: 4, maxPositions: 16, seed: 9 })
    expect(synthetic.note).toContain('exists only inside the lab')
    expect(synthetic).toMatchObject({ kind: 'path', path: 'model' })
    expect(pythonSupported({ kind: 'bundled', name: 'toy-deberta' })).toBe(true)
  })

  it('reads ablation scopes and the instruments’ saved ablation text', () => {
    expect(pythonScope(undefined, 1, 2)).toBeNull()
    expect(pythonScope('all', 1, 2)).toBeNull()
    expect(pythonScope('layer', 1, 2)).toEqual({ layer: 1 })
    expect(pythonScope('head', 1, 2)).toEqual({ layer: 1, head: 2 })
    expect(pythonScope('head', 1, 'mean')).toEqual({ layer: 1 })
    expect(ablationTerms('all terms')).toEqual([])
    expect(ablationTerms('all terms, p2p on')).toEqual([])
    expect(ablationTerms('without c2p')).toEqual(['c2p'])
    expect(ablationTerms('without c2p, p2c, p2p on')).toEqual(['c2p', 'p2c'])
    expect(ablationTerms('without p2p, p2p on')).toEqual(['p2p'])
  })
})

describe('the numbers each chart’s script checks', () => {
  const info = model({ kind: 'checkpoint', path: '/m' })
  it('model view: shares, entropy and distance of every head; distance profile: every head and the mean row', () => {
    const mv = { model: info, tokens, layers: 1, heads: 2, terms: ['c2c', 'c2p', 'p2c'], shares: [0.5, 0.5, 0, 0.2, 0.3, 0.5], entropy: [1, 2], distance: [0.5, 1.5], thumbnails: { size: 1, values: [1, 1] } } as ModelViewResult
    const s = modelViewPython(mv, 'a', 'without p2c')!
    expect(s.view).toEqual({ kind: 'model-view', terms: ['c2c', 'c2p', 'p2c'], disabledTerms: ['p2c'], p2p: false })
    expect(s.expected).toEqual({ shares: mv.shares, entropy: [1, 2], distance: [0.5, 1.5] })
    const dp = { model: info, tokens, layer: 1, heads: 2, terms: ['c2c', 'c2p'], distances: [-1, 0, 1], pairs: [2, 3, 2], probability: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], scores: { c2c: [[1, 1, 1], [2, 2, 2], [3, 3, 3]] }, buckets: { ids: [-1, 0, 1], kind: 'log-bucket', exactLimit: 4, span: 4 } } as unknown as DistanceProfileResult
    const d = distanceProfilePython(dp, 'a', 'all terms')!
    expect(d.view).toEqual({ kind: 'distance-profile', layer: 1, terms: ['c2c'], disabledTerms: [], p2p: false })
    expect(d.expected).toEqual({ probability: [1, 2, 3, 4, 5, 6, 7, 8, 9], c2c: [1, 1, 1, 2, 2, 2, 3, 3, 3] })
    expect(modelViewPython(mv, '', 'all terms')).toBeNull()
  })

  it('decoding: ids (compared exactly) and probabilities of both heads at every [MASK]', () => {
    const p = (id: number, probability: number) => ({ id, token: `t${id}`, probability })
    const result = { model: info, tokens, maskPositions: [1], predictions: [{ position: 1, plain: [p(5, 0.5), p(6, 0.2)], emd: [p(6, 0.4), p(5, 0.3)] }] } as DecodingResult
    const s = decodingPython(result, { text: 'a [MASK]' }, 'decoding-emd-0')!
    expect(s.chartId).toBe('decoding-emd-0')
    expect(s.view).toEqual({ kind: 'decoding', positions: [1], topK: 2 })
    expect(s.expected).toEqual({ 'plain.1.ids': [5, 6], 'plain.1.probability': [0.5, 0.2], 'emd.1.ids': [6, 5], 'emd.1.probability': [0.4, 0.3] })
  })

  it('a script of a view is the same text for the same inputs but its time', () => {
    const source: PythonExport = attentionPython(attentionResult(), { text: 'a' }, 'c2c')!
    expect(buildPythonScript(source, 't')).toBe(buildPythonScript(source, 't'))
  })
})
