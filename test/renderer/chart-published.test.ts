import { describe, expect, it } from 'vitest'
import {
  autoAxisMin,
  buildPublishedTableOption,
  claimText,
  discrepanciesFor,
  findTable,
  isWrongFigure,
  parsePublished,
  sourceCaption,
} from '../../src/renderer/charts/published'
import { extractChartData } from '../../src/renderer/charts/data'
import raw from '../../resources/published-results.json'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into ECharts option objects by path
type AnyRecord = Record<string, any>
const data = parsePublished(raw as unknown as Record<string, unknown>)

describe('published results', () => {
  it('draws GLUE (Table 1) with one bar series per model and the printed values, null where the paper prints "-"', () => {
    const table = findTable(data, 'deberta_glue_dev_large')
    const option = buildPublishedTableOption(table) as AnyRecord
    expect(option.xAxis.data).toEqual(['CoLA', 'QQP', 'MNLI-m', 'MNLI-mm', 'SST-2', 'STS-B', 'QNLI', 'RTE', 'MRPC', 'Avg'])
    const deberta = option.series.find((s: AnyRecord) => s.name === 'DeBERTa_large')
    expect(deberta.type).toBe('bar')
    expect(deberta.data[0]).toBe(70.5) // CoLA
    expect(deberta.data[9]).toBe(90.0) // Avg as printed
    const bert = option.series.find((s: AnyRecord) => s.name === 'BERT_large')
    expect(bert.data[3]).toBeNull() // MNLI-mm '-'
    // bars start at zero: their lengths compare honestly
    expect(option.yAxis.min).toBe(0)
    expect(option.yAxis.name).toBe('score')
  })

  it('draws tables whose rows differ by tenths of a point as dots on a named, truncated axis', () => {
    const table = findTable(data, 'deberta_base_ablation')
    const option = buildPublishedTableOption(table, { models: ['DeBERTa_base', '-EMD', '-C2P', '-P2C'], style: 'dots' }) as AnyRecord
    expect(option.series.map((s: AnyRecord) => s.type)).toEqual(['scatter', 'scatter', 'scatter', 'scatter'])
    const min = autoAxisMin(table.rows.filter((r) => ['DeBERTa_base', '-EMD', '-C2P', '-P2C'].includes(r.model)).flatMap((r) => Object.values(r.values)))
    expect(option.yAxis.min).toBe(min)
    expect(min).toBeGreaterThan(0)
    expect(option.yAxis.name).toBe(`score (axis from ${min}, not 0)`)
    // dodged like grouped bars: four dots 12 px apart, centred on the column
    expect(option.series.map((s: AnyRecord) => s.symbolOffset[0])).toEqual([-18, -6, 6, 18])
    // seven long column names ("SQuAD v1.1 F1", …) turn so that they do not collide in a narrow window
    expect(option.xAxis.axisLabel).toMatchObject({ interval: 0, rotate: 30 })
    expect((buildPublishedTableOption({ id: 't', title: 't', source: 's', columns: ['A', 'B'], rows: [] }) as AnyRecord).xAxis.axisLabel.rotate).toBe(0)
  })

  it('draws the SuperGLUE human baseline as a dashed line, not a bar', () => {
    const table = findTable(data, 'superglue_test')
    const option = buildPublishedTableOption(table, { baselineModel: 'Human' }) as AnyRecord
    const human = option.series.find((s: AnyRecord) => s.name === 'Human (baseline)')
    expect(human.type).toBe('line')
    expect(human.lineStyle.type).toBe('dashed')
    expect(human.data.at(-1)).toBe(89.8)
    expect(option.series.filter((s: AnyRecord) => s.type === 'bar').map((s: AnyRecord) => s.name)).not.toContain('Human')
    const single = option.series.find((s: AnyRecord) => s.name === 'DeBERTa_1.5B+SiFT')
    expect(single.data.at(-1)).toBe(89.9)
  })

  it('draws the base-model ablation rows selected by name', () => {
    const table = findTable(data, 'deberta_base_ablation')
    const models = ['DeBERTa_base', '-EMD', '-C2P', '-P2C']
    const chart = extractChartData(buildPublishedTableOption(table, { models }))
    expect(chart.kind).toBe('series')
    if (chart.kind !== 'series') return
    expect(chart.series.map((s) => s.name)).toEqual(models)
    const race = (name: string) => chart.series.find((s) => s.name === name)!.points.find((p) => p.x === 'RACE')!.y
    expect(race('DeBERTa_base')).toBe(71.7)
    expect(race('-EMD')).toBe(70.3)
    expect(race('-C2P')).toBe(69.3)
    expect(race('-P2C')).toBe(69.6)
  })

  it('captions each chart with its source and finds the notebook figures the source contradicts', () => {
    const glue = findTable(data, 'deberta_glue_dev_large')
    expect(sourceCaption(data, glue).text).toContain('Table 1')
    expect(sourceCaption(data, glue).url).toBe('https://arxiv.org/abs/2006.03654v6')
    const glueNotes = discrepanciesFor(data, glue, 'GLUE')
    expect(glueNotes.map((d) => d.seed_figure)).toEqual([
      'GLUE: BERT-Large 80.5',
      'GLUE: RoBERTa-Large 88.5',
      'GLUE: ELECTRA-Large 88.8',
      'GLUE: DeBERTa-Large 90.1',
      'GLUE: DeBERTa-XLarge 91.1',
      'MNLI 91.1%',
    ])
    expect(glueNotes.filter(isWrongFigure)).toHaveLength(5)
    const superglue = discrepanciesFor(data, findTable(data, 'superglue_test'), 'SuperGLUE')
    expect(superglue.find((d) => d.seed_figure === 'SuperGLUE: DeBERTa-Large 89.9')?.verdict).toBe('wrong_model')
    expect(superglue.some((d) => d.seed_figure.startsWith('GLUE:'))).toBe(false)
  })

  it('states each checked figure as a claim that needs no notebook', () => {
    expect(claimText({ seed_figure: 'GLUE: BERT-Large 80.5' })).toBe('BERT-Large scores 80.5 on GLUE')
    expect(claimText({ seed_figure: 'SuperGLUE: DeBERTa-Large 89.9' })).toBe('DeBERTa-Large scores 89.9 on SuperGLUE')
    expect(claimText({ seed_figure: 'SQuAD 2.0 95.5% F1' })).toBe('“SQuAD 2.0 95.5% F1”')
    for (const d of data.discrepancies) expect(claimText(d)).not.toMatch(/notebook/i)
  })

  it('rejects a file without tables', () => {
    expect(() => parsePublished({ sources: {} })).toThrow(/tables/)
  })
})
