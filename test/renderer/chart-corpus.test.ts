// Corpus statistics charts: the drawn data and the CSV are the result's numbers (the e2e test checks them against
// the lab's answer), with the corpus' provenance; reading a file as a corpus refuses binary bytes.
import { describe, expect, it } from 'vitest'
import { csvWithProvenance } from '../../src/renderer/provenance'
import type { CorpusResult } from '../../src/common/corpus'
import { LabError } from '../../src/common/errors'
import { buildCorpusHeadsOption, buildCorpusProfileOption, buildCorpusTermProfileOption, corpusHeadValue } from '../../src/renderer/charts/corpus'
import { chartDataToCsv, extractChartData, type TableData } from '../../src/renderer/charts/data'
import { readCorpusFile } from '../../src/renderer/workspaces/useCorpusInstrument'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>

/** 2 layers × 4 heads, terms c2c/c2p/p2c, distances −2 … 2; every number distinct so a wrong index shows. */
function corpusResult(): CorpusResult {
  const LH = 8
  const matrix = (cols: number) => ({ rows: 3, cols, data: Float32Array.from({ length: 3 * cols }, (_, k) => k / 10) })
  return {
    model: { label: 'toy-deberta' } as CorpusResult['model'],
    corpus: { name: 'three.txt', sha256: 'ab'.repeat(32), bytes: 99, sentences: 3, blankLines: 0, truncated: 0, maxTokens: 64, tokens: 14 },
    layers: 2,
    heads: 4,
    terms: ['c2c', 'c2p', 'p2c'],
    disabledTerms: [],
    p2p: false,
    shares: Array.from({ length: LH * 3 }, (_, k) => (k + 1) / 100),
    entropy: Array.from({ length: LH }, (_, h) => 0.5 + h / 10),
    distance: Array.from({ length: LH }, (_, h) => 1 + h / 7),
    profile: { distances: [-2, -1, 0, 1, 2], pairs: [3, 8, 14, 8, 3], probability: Array.from({ length: LH }, (_, h) => [0.1, 0.2, 0.3, 0.25, 0.15].map((p) => p + h / 100)) },
    topPairs: Array.from({ length: LH }, (_, h) => [{ query: `q${h}`, key: `k${h}`, total: 2 + h, count: 4, mean: (2 + h) / 4 }]),
    pairsPruned: new Array<boolean>(LH).fill(false),
    sentences: { text: ['a', 'b', 'c'], tokens: [['a'], ['b'], ['c']], entropy: matrix(LH), distance: matrix(LH), shares: matrix(LH * 3) },
    backend: 'cpu',
    milliseconds: 10,
    sentencesPerSecond: 300,
  }
}
const PROVENANCE = { model: 'toy-deberta', corpus: 'three.txt', sentences: '3', corpus_sha256: 'abc123' }

describe('corpus charts', () => {
  const result = corpusResult()

  it('colours every head by the chosen summary; its CSV is the per-head table with the corpus provenance', () => {
    for (const metric of ['entropy', 'distance', 'c2c', 'c2p', 'p2c'] as const) {
      const option = buildCorpusHeadsOption(result, metric, { selected: { layer: 1, head: 2 }, provenance: PROVENANCE }) as AnyRecord
      const cells = option.series[0].data as AnyRecord[]
      expect(cells).toHaveLength(8)
      cells.forEach((cell, h) => expect(cell.value).toEqual([h % 4, Math.floor(h / 4), corpusHeadValue(result, metric, h)]))
      expect(cells[6].itemStyle).toMatchObject({ borderWidth: 3 })
    }
    expect(corpusHeadValue(result, 'c2p', 5)).toBe(result.shares[5 * 3 + 1])
    const data = extractChartData(buildCorpusHeadsOption(result, 'entropy', { provenance: PROVENANCE })) as TableData
    expect(data.columns).toEqual(['layer', 'head', 'entropy', 'distance', 'share_c2c', 'share_c2p', 'share_p2c', 'top_pair_query', 'top_pair_key', 'top_pair_total', 'top_pair_count', 'top_pair_mean'])
    expect(data.rows[5]).toEqual([1, 1, result.entropy[5], result.distance[5], ...result.shares.slice(15, 18), result.topPairs[5][0].query, result.topPairs[5][0].key, result.topPairs[5][0].total, result.topPairs[5][0].count, result.topPairs[5][0].mean])
    expect('provenance' in data).toBe(false)
    const csv = csvWithProvenance(chartDataToCsv(data), PROVENANCE)
    expect(csv.split('\n').slice(0, 4)).toEqual(['# model: toy-deberta', '# corpus: three.txt', '# sentences: 3', '# corpus_sha256: abc123'])
    expect(csv.split('\n')[5].startsWith('0,0,')).toBe(true)
  })

  it('draws one head by δ beside the mean over heads, from the result', () => {
    const option = buildCorpusProfileOption(result, 1, 2, { provenance: PROVENANCE }) as AnyRecord
    const h = 6
    const k = result.profile.distances.indexOf(-1)
    expect(option.series[0].data[k]).toEqual([-1, result.profile.probability[h][k]])
    const mean = result.profile.probability.reduce((s, row) => s + row[k], 0) / 8
    expect(option.series[1].data[k][1]).toBeCloseTo(mean, 12)
    expect(mean).toBeCloseTo(0.2 + 0.035, 12)
    const data = extractChartData(option) as TableData
    expect(data.columns).toEqual(['delta', 'pairs', 'probability_l1h2', 'probability_mean_over_heads'])
    expect(data.rows[k].slice(0, 2)).toEqual([-1, result.profile.pairs[k]])
    expect(option.title.subtext).toContain('corpus: three.txt')
    expect(() => buildCorpusProfileOption(result, 2, 0)).toThrow(/not in this result/)
  })

  /** the result with term profiles: scores[term][h][k] = term index + h / 10 + k / 100 (distinct), log buckets beyond |δ| = 1 */
  function withTerms(terms: Array<'c2c' | 'c2p' | 'p2c' | 'p2p'>): CorpusResult {
    const r = corpusResult()
    const W = r.profile.distances.length
    const all = ['c2c', 'c2p', 'p2c', 'p2p'] as const
    r.profile.scoreTerms = terms
    r.profile.scores = Object.fromEntries(terms.map((term) => [term, { rows: 8, cols: W, data: Float32Array.from({ length: 8 * W }, (_, n) => all.indexOf(term) + Math.floor(n / W) / 10 + (n % W) / 100) }]))
    r.profile.buckets = { ids: [-2, -2, 0, 1, 2], kind: 'log-bucket', exactLimit: 1, span: 4 }
    return r
  }

  it('draws one head\'s term scores by δ; its CSV is one row per δ with pairs, probability and each term\'s mean', () => {
    const r = withTerms(['c2c', 'c2p', 'p2c', 'p2p'])
    const option = buildCorpusTermProfileOption(r, 1, 2, { provenance: PROVENANCE }) as AnyRecord
    const h = 6
    expect(option.series.map((s: AnyRecord) => s.name)).toEqual(['c2c', 'c2p', 'p2c', 'p2p'])
    option.series.forEach((series: AnyRecord, t: number) => {
      const m = r.profile.scores![r.profile.scoreTerms![t]]!
      expect(series.data).toEqual(r.profile.distances.map((d, k) => [d, m.data[h * 5 + k]]))
    })
    // p2c of head 6 at δ = 1 (k = 3): 2 + 0.6 + 0.03
    expect(option.series[2].data[3][1]).toBeCloseTo(2.63, 6)
    const data = extractChartData(option) as TableData
    expect(data.columns).toEqual(['delta', 'pairs', 'relative_id', 'probability_l1h2', 'c2c_l1h2', 'c2p_l1h2', 'p2c_l1h2', 'p2p_l1h2'])
    expect(data.rows).toHaveLength(5)
    data.rows.forEach((row, k) => {
      expect(row.slice(0, 4)).toEqual([r.profile.distances[k], r.profile.pairs[k], r.profile.buckets!.ids[k], r.profile.probability[h][k]])
      expect(row.slice(4)).toEqual(r.profile.scoreTerms!.map((t) => r.profile.scores![t]!.data[h * 5 + k]))
    })
    const csv = csvWithProvenance(chartDataToCsv(data), PROVENANCE).split('\n')
    expect(csv.slice(0, 4)).toEqual(['# model: toy-deberta', '# corpus: three.txt', '# sentences: 3', '# corpus_sha256: abc123'])
    expect(csv[4]).toBe('delta,pairs,relative_id,probability_l1h2,c2c_l1h2,c2p_l1h2,p2c_l1h2,p2p_l1h2')
    expect(csv[5].split(',').slice(0, 3)).toEqual(['-2', '3', '-2'])
    expect(option.title.subtext).toContain('corpus: three.txt')
    // shading as the sentence profile: the log-bucket regions beyond |δ| = 1, and the merged bucket δ −2 … −1
    const areas = option.series[0].markArea.data as AnyRecord[][]
    expect(areas.map(([from, to]) => [from.name, from.xAxis, to.xAxis])).toEqual([
      ['log buckets', -2.5, -1.5],
      ['log buckets', 1.5, 2.5],
      ['', -2.5, -0.5],
    ])
    // the probability chart above carries the same shading
    expect((buildCorpusProfileOption(r, 1, 2) as AnyRecord).series[0].markArea.data).toEqual(areas)
    expect(() => buildCorpusTermProfileOption(r, 0, 4)).toThrow(/not in this result/)
  })

  it('draws the terms in the score only, and nothing for a run recorded without term profiles', () => {
    const r = withTerms(['c2c', 'p2c'])
    const data = extractChartData(buildCorpusTermProfileOption(r, 0, 1)!) as TableData
    expect(data.columns).toEqual(['delta', 'pairs', 'relative_id', 'probability_l0h1', 'c2c_l0h1', 'p2c_l0h1'])
    expect(data.rows[0].slice(4)).toEqual([r.profile.scores!.c2c!.data[5], r.profile.scores!.p2c!.data[5]])
    expect(buildCorpusTermProfileOption(result, 0, 0)).toBeNull()
    expect((buildCorpusProfileOption(result, 0, 0) as AnyRecord).series[0].markArea).toBeUndefined()
  })
})

describe('reading a corpus file', () => {
  it('decodes UTF-8 and counts sentences; bytes that are not UTF-8 text are refused as binary', () => {
    expect(readCorpusFile('a.txt', new TextEncoder().encode('one\n\ntwo\n'))).toEqual({ name: 'a.txt', text: 'one\n\ntwo\n', sentences: 2, bytes: 9 })
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13)
    expect(() => readCorpusFile('x.png', png)).toThrow(LabError)
    try {
      readCorpusFile('x.png', png)
    } catch (error) {
      expect((error as LabError).details).toMatchObject({ reason: 'binary' })
    }
    expect(() => readCorpusFile('empty.txt', new Uint8Array(0))).toThrow(/no sentences/)
  })
})
