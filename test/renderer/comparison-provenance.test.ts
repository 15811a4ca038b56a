import { describe, expect, it } from 'vitest'
import { APP_VERSION } from '../../src/common/version'
import { comparisonProvenance, csvWithProvenance, type ComparedSide } from '../../src/renderer/provenance'

const SHA_A = '464b2d92aa0011223344556677889900aabbccddeeff00112233445566778899'
const SHA_B = 'f00dbabe0123456789abcdef0123456789abcdef0123456789abcdef01234567'

const side = (label: string, weightsSha256: string | undefined, runId: string | undefined, onScreen: string | undefined): ComparedSide => ({
  result: { model: { label, ...(weightsSha256 ? { weightsSha256 } : {}) }, ...(runId ? { runId } : {}) },
  run: onScreen === undefined ? null : { runId: onScreen },
})

describe('comparison provenance (two models, one chart)', () => {
  it('names both models, their weights, the text, the workspace entries, both runs and the app, in that order', () => {
    const provenance = comparisonProvenance({ a: side('toy DeBERTa', SHA_A, 'run-a', 'other-a'), b: side('checkpoint v3', SHA_B, 'run-b', undefined) }, 'the dog sees the cat', {
      view: 'c2p',
      level: 'tokens (7)',
    })
    expect(Object.entries(provenance)).toEqual([
      ['model_a', 'toy DeBERTa'],
      ['weights_a', 'sha256 464b2d92aa001122…'],
      ['model_b', 'checkpoint v3'],
      ['weights_b', 'sha256 f00dbabe01234567…'],
      ['text', 'the dog sees the cat'],
      ['view', 'c2p'],
      ['level', 'tokens (7)'],
      ['run_a', 'run-a'],
      ['run_b', 'run-b'],
      ['app', `DeBERTa Lab ${APP_VERSION}`],
    ])
  })

  it('leaves out a weights line for a model without a hash; a run id comes from the run on screen, else "not recorded"', () => {
    const provenance = comparisonProvenance({ a: side('synthetic bert', undefined, undefined, 'run-on-screen'), b: side('toy DeBERTa', SHA_B, undefined, undefined) }, 'a b', {})
    expect(provenance).toEqual({
      model_a: 'synthetic bert',
      model_b: 'toy DeBERTa',
      weights_b: 'sha256 f00dbabe01234567…',
      text: 'a b',
      run_a: 'run-on-screen',
      run_b: 'not recorded',
      app: `DeBERTa Lab ${APP_VERSION}`,
    })
    expect(Object.keys(provenance)).toEqual(['model_a', 'model_b', 'weights_b', 'text', 'run_a', 'run_b', 'app'])
  })

  it('cuts a text over 80 characters to 77 and an ellipsis; 80 stay whole', () => {
    const sides = { a: side('A', undefined, 'r1', undefined), b: side('B', undefined, 'r2', undefined) }
    expect(comparisonProvenance(sides, 'x'.repeat(80), {}).text).toBe('x'.repeat(80))
    expect(comparisonProvenance(sides, 'y'.repeat(81), {}).text).toBe(`${'y'.repeat(77)}…`)
  })

  it('without weights: both models named, no hash, even when the lab hashed them', () => {
    const provenance = comparisonProvenance({ a: side('A', SHA_A, 'r1', undefined), b: side('B', SHA_B, 'r2', undefined) }, 'the [MASK] sat', { top_k: '10' }, { weights: false })
    expect(Object.keys(provenance)).toEqual(['model_a', 'model_b', 'text', 'top_k', 'run_a', 'run_b', 'app'])
    expect(csvWithProvenance('x,y', provenance).split('\n')).toEqual([
      '# model_a: A',
      '# model_b: B',
      '# text: the [MASK] sat',
      '# top_k: 10',
      '# run_a: r1',
      '# run_b: r2',
      `# app: DeBERTa Lab ${APP_VERSION}`,
      'x,y',
    ])
  })
})
