// Renderer texts that follow the model on screen, result inputs against controls, session names and export
// provenance (pure functions, Node).
import { describe, expect, it } from 'vitest'
import { modelSummary, relativePositionSummary, scoreScale } from '../../src/renderer/model-text'
import { ATTENTION_INPUT_FIELDS, RELATIVE_INPUT_FIELDS, attentionInputs, changedKeys, compareInputs, quoteText } from '../../src/renderer/result-inputs'
import { contentSessionName, filterSessions, isAutomaticName, newSessionName, sessionStamp } from '../../src/renderer/session-names'
import { csvWithProvenance, exportJson, resultProvenance } from '../../src/renderer/provenance'
import { requestInputs } from '../../src/renderer/workspace-state'
import { rovingTarget } from '../../src/renderer/composables/useRovingFocus'
import type { ModelInfo } from '../../src/common/api'
import { APP_VERSION } from '../../src/common/version'

type Shape = Parameters<typeof modelSummary>[0]
const v3: Shape = { modelType: 'deberta-v2', posAttType: ['c2c', 'c2p', 'p2c'], positionBuckets: 32, maxRelativePositions: 64, layers: 2, hidden: 64, heads: 4, parameterCount: 12345, hasMlmHead: true }
const bert: Shape = { ...v3, modelType: 'bert', posAttType: ['c2c'], positionBuckets: 0, maxRelativePositions: 8 }
const v1: Shape = { ...v3, modelType: 'deberta', positionBuckets: 0, maxRelativePositions: 128 }

describe('texts that follow the model', () => {
  it('divides by √d for BERT and by √((1 + relative terms)·d) for DeBERTa', () => {
    expect(scoreScale({ posAttType: ['c2c'] })).toBe('√d')
    expect(scoreScale({ posAttType: ['c2c', 'c2p', 'p2c'] })).toBe('√(3d)')
    expect(scoreScale({ posAttType: ['c2c', 'c2p', 'p2c'] }, true)).toBe('√(4d)')
    expect(scoreScale({ posAttType: ['c2c', 'c2p'] })).toBe('√(2d)')
    // p2p is a toggle of the relative models only
    expect(scoreScale({ posAttType: ['c2c'] }, true)).toBe('√d')
  })

  it('gives BERT no k and no buckets, v3 its buckets, v1 its clipping k', () => {
    expect(relativePositionSummary(bert)).toBe('absolute positions only (no relative terms)')
    expect(modelSummary(bert)).not.toMatch(/k =/)
    expect(relativePositionSummary(v3)).toBe('32 log buckets up to distance 64')
    expect(relativePositionSummary(v1)).toBe('relative distances clipped at k = 128')
    expect(modelSummary(v3)).toBe(`deberta-v2 · 2 layers · hidden 64 · 4 heads · terms c2c + c2p + p2c · 32 log buckets up to distance 64 · ${(12345).toLocaleString()} parameters`)
  })
})

describe('the inputs of the result on screen', () => {
  const terms = ['c2c', 'c2p', 'p2c']
  const recorded = { text: 'the small dog', layer: 0, head: 0, disabledTerms: [], p2p: false }

  it('marks the controls that differ: the issue’s case (another text, head set to mean)', () => {
    const now = { text: 'a '.repeat(600), layer: 0, head: 'mean', disabledTerms: [], p2p: false }
    const inputs = compareInputs(ATTENTION_INPUT_FIELDS, attentionInputs(recorded, terms), attentionInputs(now, terms))
    expect(inputs.map((i) => [i.label, i.shown, i.changed])).toEqual([
      ['text', '“the small dog”', true],
      ['layer', '0', false],
      ['head', '0', true],
      ['terms', 'c2c + c2p + p2c', false],
    ])
    expect(inputs[2].now).toBe('mean over heads')
    expect([...changedKeys(inputs)]).toEqual(['text', 'head'])
  })

  it('reads the head control ("0") and the request (0) as the same input, and ablation as the terms in the score', () => {
    const same = compareInputs(ATTENTION_INPUT_FIELDS, attentionInputs(recorded, terms), attentionInputs({ ...recorded, head: '0' }, terms))
    expect(changedKeys(same).size).toBe(0)
    const ablated = attentionInputs({ ...recorded, disabledTerms: ['c2p'], p2p: true }, terms)
    expect(ablated.terms).toBe('c2c + p2c + p2p')
    expect(attentionInputs({ ...recorded, p2p: true }, ['c2c']).terms).toBe('c2c')
  })

  it('reads a recorded request without the model and job fields, and absent optional fields as off', () => {
    expect(requestInputs({ model: { kind: 'bundled' }, jobId: 'j', sessionId: 's', text: 't', topK: 3 })).toEqual({ text: 't', topK: 3 })
    expect(requestInputs(null)).toBeNull()
    const inputs = compareInputs(RELATIVE_INPUT_FIELDS, { compareText: undefined, clipK: undefined, text: 'a b' }, { text: 'a b', compareText: undefined, clipK: 4 })
    expect(inputs.map((i) => [i.key, i.shown, i.changed])).toEqual([
      ['text', '“a b”', false],
      ['compareText', 'none', false],
      ['clipK', 'off', true],
    ])
    expect(compareInputs(RELATIVE_INPUT_FIELDS, null, { text: 'x' })).toEqual([])
  })

  it('quotes long texts short, with their length', () => {
    expect(quoteText('a  b\nc')).toBe('“a b c”')
    expect(quoteText('x'.repeat(100), 10)).toBe('“xxxxxxxxx…” (100 characters)')
  })
})

describe('session names', () => {
  const date = new Date(2026, 11, 3, 9, 41)

  it('names a new session by its date and then after its first run, never replacing a name the user typed', () => {
    expect(sessionStamp(date)).toBe('2026-12-03 09:41')
    expect(newSessionName(date)).toBe('Session 2026-12-03 09:41')
    expect(isAutomaticName(newSessionName(date))).toBe(true)
    // sessions made within the same minute get distinct names
    expect(newSessionName(date, ['Session 2026-12-03 09:41'])).toBe('Session 2026-12-03 09:41 (2)')
    expect(newSessionName(date, ['Session 2026-12-03 09:41', 'Session 2026-12-03 09:41 (2)'])).toBe('Session 2026-12-03 09:41 (3)')
    expect(isAutomaticName('Session 2026-12-03 09:41 (3)')).toBe(true)
    expect(isAutomaticName('Untitled session')).toBe(true)
    expect(isAutomaticName('QA rename check')).toBe(false)
    expect(contentSessionName('Attention', 'the small dog sees the small ball near the house', date)).toBe('Attention: the small dog sees the small ball near… (2026-12-03 09:41)')
    expect(contentSessionName('Decoding', '  ', date)).toBe('Session 2026-12-03 09:41')
    expect(isAutomaticName(contentSessionName('Attention', 'x', date))).toBe(false)
  })

  it('finds sessions by every word of the query in the name or the dates', () => {
    const sessions = [
      { name: 'Attention: the small dog (2026-12-03 09:41)', createdAt: '2026-12-03T09:41:00Z', updatedAt: '2026-12-03T09:50:00Z' },
      { name: 'QA rename check', createdAt: '2025-01-02T10:00:00Z', updatedAt: '2025-01-02T10:00:00Z' },
    ]
    expect(filterSessions(sessions, 'small ATTENTION').map((s) => s.name)).toEqual([sessions[0].name])
    expect(filterSessions(sessions, '2025-01').map((s) => s.name)).toEqual(['QA rename check'])
    expect(filterSessions(sessions, '')).toHaveLength(2)
    expect(filterSessions(sessions, 'horse')).toEqual([])
  })
})

describe('roving focus in the sessions list', () => {
  it('moves with the arrows, Home and End, stops at the ends and ignores other keys', () => {
    expect(rovingTarget('ArrowDown', 0, 3)).toBe(1)
    expect(rovingTarget('ArrowDown', 2, 3)).toBe(2)
    expect(rovingTarget('ArrowUp', 0, 3)).toBe(0)
    expect(rovingTarget('ArrowUp', 2, 3)).toBe(1)
    expect(rovingTarget('Home', 2, 3)).toBe(0)
    expect(rovingTarget('End', 0, 3)).toBe(2)
    expect(rovingTarget('Tab', 0, 3)).toBeNull()
    expect(rovingTarget('ArrowDown', 0, 0)).toBeNull()
  })
})

describe('export provenance', () => {
  const model = { label: 'toy DeBERTa', ref: { kind: 'bundled', name: 'toy-deberta' }, weightsSha256: 'ab'.repeat(32) } as unknown as ModelInfo

  it('names the app version, the model with its weights hash, the inputs and the run', () => {
    const provenance = resultProvenance({ model, runId: 'run-1' }, { text: 'the dog, "quoted"\nline', layer: 1, head: 'mean' }, { terms: 'c2c + p2c' })!
    expect(provenance).toEqual({
      app: 'DeBERTa Lab',
      appVersion: APP_VERSION,
      model: { name: 'toy DeBERTa', ref: { kind: 'bundled', name: 'toy-deberta' }, weightsSha256: 'ab'.repeat(32) },
      inputs: { text: 'the dog, "quoted"\nline', layer: 1, head: 'mean', terms: 'c2c + p2c' },
      runId: 'run-1',
    })
    const csv = csvWithProvenance('series,x,y\n', provenance)
    expect(csv.split('\n')).toEqual([
      `# DeBERTa Lab ${APP_VERSION}`,
      '# model: toy DeBERTa',
      '# model_ref: {"kind":"bundled","name":"toy-deberta"}',
      `# weights_sha256: ${'ab'.repeat(32)}`,
      '# text: the dog, "quoted" line',
      '# layer: 1',
      '# head: mean',
      '# terms: c2c + p2c',
      '# run_id: run-1',
      'series,x,y',
      '',
    ])
    const json = JSON.parse(exportJson({ chartId: 'c', workspace: 'attention', exportedAt: 'now', provenance, data: { kind: 'series', series: [] } }))
    expect(json.provenance.model.weightsSha256).toBe('ab'.repeat(32))
    expect(json.provenance.inputs.text).toBe('the dog, "quoted"\nline')
  })

  it('says a synthetic model has no weights file to hash', () => {
    const synthetic = { label: 'synthetic', ref: { kind: 'synthetic', seed: 42 } } as unknown as ModelInfo
    expect(csvWithProvenance('x\n', resultProvenance({ model: synthetic }, { text: 't' }))).toContain('# weights_sha256: none (synthetic model')
    expect(resultProvenance(null, { text: 't' })).toBeNull()
  })
})
