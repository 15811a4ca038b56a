// Ablate and measure charts: every number drawn or exported is the result's own, provenance goes into the
// subtitle (PNG/SVG) and the CSV, the importance table sorts, and the controls map to the right ablation.
import { describe, expect, it } from 'vitest'
import { csvWithProvenance } from '../../src/renderer/provenance'
import type { AblationResult, AblationSlot, HeadImportanceResult } from '../../src/common/api'
import { ablationLabel, buildAblationSlotsOption, buildImportanceOption, buildLayerChangeOption, importanceTable } from '../../src/renderer/charts/ablation'
import { chartDataToCsv, extractChartData } from '../../src/renderer/charts/data'
import { ablationFromControls, ablationViewDefaults } from '../../src/renderer/workspaces/useDecodingAblation'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>
const tokens = { tokens: ['[CLS]', 'a', '[MASK]', '[SEP]'], inputIds: [1, 5, 4, 2], offsets: [] as Array<[number, number]> }
const info = { label: 'toy' } as AblationResult['model']
const provenance = { model: 'toy', text: 'a [MASK]', run: 'run-1', app: 'DeBERTa Lab test' }

const slot = (delta: number): AblationSlot => ({
  reference: { id: 7, token: '▁dog' },
  logProbBefore: -0.5,
  logProbAfter: -0.5 + delta,
  delta,
  rankAfter: 2,
  kl: 0.25,
  before: [{ id: 7, token: '▁dog', probability: 0.6 }, { id: 8, token: '▁cat', probability: 0.2 }],
  after: [{ id: 8, token: '▁cat', probability: 0.5 }, { id: 9, token: '▁man', probability: 0.3 }],
  entered: [{ id: 9, token: '▁man', probability: 0.3 }],
  left: [{ id: 7, token: '▁dog', probability: 0.6 }],
})

const ablationResult = (): AblationResult => ({
  model: info,
  tokens,
  ablation: { kind: 'head', layer: 1, head: 2 },
  topK: 2,
  maskPositions: [2],
  slots: [{ position: 2, plain: slot(-1.25), emd: slot(-0.75) }],
  layerChange: [0, 0, 0.125],
  layerChangeMasked: [0, 0, 0.25],
})

const importanceResult = (): HeadImportanceResult => ({
  model: info,
  tokens,
  decoder: 'plain',
  layers: 2,
  heads: 3,
  maskPositions: [2, 5],
  references: [{ id: 7, token: '▁dog', logProb: -0.5 }, { id: 9, token: '▁man', logProb: -1 }],
  importance: [-0.1, 0.2, -0.5, 0, -0.5, 0.05],
  deltas: [-0.1, -0.1, 0.1, 0.3, -0.4, -0.6, 0, 0, -1, 0, 0.05, 0.05],
  forwards: 7,
  milliseconds: 12,
})

describe('ablation charts', () => {
  it('names what was removed', () => {
    expect(ablationLabel({ kind: 'head', layer: 1, head: 2 })).toBe('head 1.2 removed (its context zeroed before W_O)')
    expect(ablationLabel({ kind: 'term', term: 'c2p' })).toBe('c2p removed in every layer and head')
    expect(ablationLabel({ kind: 'term', term: 'p2c', layer: 0 })).toBe('p2c removed in layer 0')
    expect(ablationLabel({ kind: 'term', term: 'c2c', layer: 1, head: 3 })).toBe('c2c removed in head 1.3')
  })

  it('slots: bars are each decoder\'s Δ log p; the table and CSV hold every slot number, the top-k changes and the provenance', () => {
    const option = buildAblationSlotsOption(ablationResult(), { provenance }) as AnyRecord
    expect(option.series.map((s: AnyRecord) => s.data)).toEqual([[-1.25], [-0.75]])
    expect(option.title.subtext).toContain('run: run-1')
    const data = extractChartData(option)
    expect(data).toMatchObject({ kind: 'table', columns: ['position', 'decoder', 'reference', 'logp_before', 'logp_after', 'delta_logp', 'rank_after', 'kl_nats', 'entered_topk', 'left_topk'] })
    expect(data.kind === 'table' && data.rows).toEqual([
      [2, 'plain', '▁dog', -0.5, -1.75, -1.25, 2, 0.25, '▁man', '▁dog'],
      [2, 'emd', '▁dog', -0.5, -1.25, -0.75, 2, 0.25, '▁man', '▁dog'],
    ])
    // the drawn data holds no provenance; BaseChart's prop (the same entries) goes in front of the CSV
    expect('provenance' in data).toBe(false)
    const csv = csvWithProvenance(chartDataToCsv(data), provenance).split('\n')
    expect(csv.slice(0, 4)).toEqual(['# model: toy', '# text: a [MASK]', '# run: run-1', '# app: DeBERTa Lab test'])
    expect(csv[5]).toBe('2,plain,▁dog,-0.5,-1.75,-1.25,2,0.25,▁man,▁dog')
  })

  it('layer change: one bar per hidden state, embeddings first', () => {
    const option = buildLayerChangeOption(ablationResult(), { provenance }) as AnyRecord
    expect(option.xAxis.data).toEqual(['embeddings', 'layer 0', 'layer 1'])
    expect(option.series.map((s: AnyRecord) => s.data)).toEqual([[0, 0, 0.125], [0, 0, 0.25]])
    const data = extractChartData(option)
    expect(data.kind === 'table' && data.rows).toEqual([[0, 'embeddings', 0, 0], [1, 'layer 0', 0, 0], [2, 'layer 1', 0.125, 0.25]])
  })

  it('importance: an L × NH signed map of the mean Δ, the table with each slot\'s Δ, sortable by importance', () => {
    const result = importanceResult()
    const option = buildImportanceOption(result, { provenance }) as AnyRecord
    expect(option.yAxis.data).toEqual(['layer 0', 'layer 1'])
    expect(option.xAxis.data).toEqual(['head 0', 'head 1', 'head 2'])
    expect(option.visualMap.min).toBe(-0.5)
    expect(option.visualMap.max).toBe(0.5)
    expect(option.series[0].data).toContainEqual([2, 0, -0.5])
    expect(option.series[0].data).toContainEqual([1, 1, -0.5])
    expect(option.title.subtext).toContain('run: run-1')
    const data = extractChartData(option)
    expect(data.kind === 'table' && data.columns).toEqual(['layer', 'head', 'mean_delta_logp', 'delta_logp_pos2', 'delta_logp_pos5'])
    expect(data.kind === 'table' && data.rows[2]).toEqual([0, 2, -0.5, -0.4, -0.6])
    expect(importanceTable(result, 'importance').rows.map((r) => `${r[0]}.${r[1]}`)).toEqual(['0.2', '1.1', '0.0', '1.0', '1.2', '0.1'])
    expect(importanceTable(result, 'head').rows.map((r) => `${r[0]}.${r[1]}`)).toEqual(['0.0', '0.1', '0.2', '1.0', '1.1', '1.2'])
    expect(() => buildImportanceOption({ ...result, importance: [0] })).toThrow(/expected 2 × 3/)
  })

  it('controls: a head, a term everywhere / in a layer / in a head, with layer and head clamped to the model', () => {
    const c = ablationViewDefaults().ablation
    const shape = { layers: 2, heads: 4 }
    expect(ablationFromControls({ ...c, kind: 'head', layer: 1, head: 3 }, shape)).toEqual({ kind: 'head', layer: 1, head: 3 })
    expect(ablationFromControls({ ...c, kind: 'head', layer: 5, head: 9 }, shape)).toEqual({ kind: 'head', layer: 1, head: 3 })
    expect(ablationFromControls({ ...c, kind: 'term', term: 'p2c', where: 'all', layer: 1 }, shape)).toEqual({ kind: 'term', term: 'p2c' })
    expect(ablationFromControls({ ...c, kind: 'term', term: 'c2p', where: 'layer', layer: 1, head: 2 }, shape)).toEqual({ kind: 'term', term: 'c2p', layer: 1 })
    expect(ablationFromControls({ ...c, kind: 'term', term: 'c2c', where: 'head', layer: 0, head: 2 }, shape)).toEqual({ kind: 'term', term: 'c2c', layer: 0, head: 2 })
  })
})
