// "Compare with…" of the Relative positions workspace under Node with the in-memory lab: B runs A's request once
// beside each new result of A; the data, provenance and options name both models and both runs; a reopened view
// brings B's stored result back without running anything; a BERT as B is said and never run; Remove returns to one
// model. Results are written by hand (δ and clip(δ) of a few words) so every number is known.
import { describe, expect, it } from 'vitest'
import { createApp, effectScope, reactive, shallowRef } from 'vue'
import { DEFAULT_SYNTHETIC_MODEL, type ModelInfo, type ModelRef, type RelativePositionsRequest, type RelativePositionsResult, type SyntheticModelRef } from '../../src/common/api'
import { extractChartData, type HeatmapData, type SeriesData } from '../../src/renderer/charts/data'
import { compareViewDefaults } from '../../src/renderer/composables/useComparison'
import { LAB_KEY } from '../../src/renderer/lab-context'
import type { LastRun } from '../../src/renderer/workspace-state'
import { compareRelative, type RelativeComparedMatrix } from '../../src/renderer/workspaces/relative-comparison'
import { useRelativeComparison } from '../../src/renderer/workspaces/useRelativeComparison'
import { createMemoryLab, type MemoryLab } from './memory-lab'

const B: SyntheticModelRef = { ...DEFAULT_SYNTHETIC_MODEL, arch: 'deberta-v1', seed: 3 }
const BERT: SyntheticModelRef = { ...B, arch: 'bert' }
const settle = async (): Promise<void> => {
  for (let k = 0; k < 10; k++) await new Promise((resolve) => setTimeout(resolve, 0))
}

/** A result over the words of `text` between [CLS] and [SEP], ids clamp(δ, −k, k − 1), the curve over δ = −reach … reach. */
function result(label: string, text: string, k: number, reach: number, runId?: string): RelativePositionsResult {
  const words: Array<[string, number, number]> = []
  for (const m of text.matchAll(/\S+/g)) words.push([m[0], m.index!, m.index! + m[0].length])
  const tokens: Array<[string, number, number]> = [['[CLS]', 0, 0], ...words, ['[SEP]', text.length, text.length]]
  const T = tokens.length
  const clip = (d: number): number => Math.min(Math.max(d, -k), k - 1)
  const delta = Float32Array.from({ length: T * T }, (_, x) => Math.floor(x / T) - (x % T))
  const distances = Array.from({ length: 2 * reach + 1 }, (_, x) => x - reach)
  return {
    ...(runId ? { runId } : {}),
    model: { label } as ModelInfo,
    tokens: { tokens: tokens.map((t) => t[0]), inputIds: tokens.map((_, p) => p), offsets: tokens.map((t) => [t[1], t[2]] as [number, number]) },
    delta: { rows: T, cols: T, data: delta },
    buckets: { rows: T, cols: T, data: delta.map(clip) },
    curve: { distances, buckets: distances.map(clip), exactLimit: k - 1, maxPosition: k, kind: 'clipped' },
  }
}

function setup(lab: MemoryLab, infoOf: (ref: ModelRef) => Partial<ModelInfo> = () => ({})) {
  const view = reactive({ ...compareViewDefaults() })
  const selections = reactive({ matrix: 'buckets' as RelativeComparedMatrix })
  const a = { lastResult: shallowRef<RelativePositionsResult | null>(null), lastRun: shallowRef<LastRun | null>(null), lastRequest: shallowRef<Record<string, unknown> | null>(null) }
  const sent: RelativePositionsRequest[] = []
  let next = 0
  const describe = lab.api.describeModel
  lab.api.describeModel = async (ref) => ({ ...(await describe(ref)), label: `B ${ref.kind === 'synthetic' ? ref.arch : ''}`, ...infoOf(ref) })
  lab.api.runRelativePositions = async (request) => {
    sent.push(request)
    return result('B deberta-v1', request.text, 2, 4, `run-b-${++next}`)
  }
  const app = createApp({})
  app.provide(LAB_KEY, lab)
  const compare = app.runWithContext(() => effectScope().run(() => useRelativeComparison({ view, selections, ...a, isResult: (v): v is RelativePositionsResult => !!(v as RelativePositionsResult | null)?.buckets })))!
  /** A shows a new result of its own run (clipping at k = 3, curve over ±6) */
  const showA = (jobId: string, text: string): void => {
    a.lastRequest.value = { text, clipK: 2 }
    a.lastResult.value = result('A toy', text, 3, 6, `run-${jobId}`)
    a.lastRun.value = { jobId, runId: `run-${jobId}` }
  }
  return { view, selections, a, sent, compare, showA }
}

describe('useRelativeComparison', () => {
  it('runs A’s request on B once per new result of A; A | B | B − A, both curves and the provenance name both models and runs', async () => {
    const lab = createMemoryLab()
    const { view, selections, sent, compare, showA } = setup(lab)
    showA('job-1', 'the small dog sees')
    expect(await compare.comparison.choose(B)).toBe(true)
    await settle()
    expect(sent.map(({ jobId: _j, sessionId: _s, ...rest }) => rest)).toEqual([{ model: B, text: 'the small dog sees', clipK: 2 }])
    expect(view.compare).toMatchObject({ model: B, runId: 'run-b-1', pairedJobId: 'job-1' })
    const d = compare.data.value!
    expect(d.level).toBe('token')
    // [SEP] (5) → [CLS] (0): δ = 5, A clips at k = 3 → 2, B at k = 2 → 1
    expect([d.a.matrix.data[5 * 6], d.b.matrix.data[5 * 6], d.difference!.data[5 * 6]]).toEqual([2, 1, -1])
    expect([d.a.matrix.data[1], d.b.matrix.data[1], d.difference!.data[1]]).toEqual([-1, -1, 0])
    const options = compare.options.value!
    expect((extractChartData(options.difference!) as HeatmapData).values[5][0]).toBe(-1)
    const curve = extractChartData(options.curve) as SeriesData
    expect(curve.series.map((s) => s.name)).toEqual(['A: A toy', 'B: B deberta-v1'])
    // one range: the shorter reach (B's ±4) or the text's longest distance (6 tokens: ±5), whichever is further;
    // B's curve (reported over ±4) carries its end ids on
    expect(curve.series[1].points.map((p) => [p.x, p.y])).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5].map((x) => [x, Math.min(Math.max(x, -2), 1)]))
    expect(curve.series[0].points.map((p) => p.y)).toEqual([-3, -3, -3, -2, -1, 0, 1, 2, 2, 2, 2])
    expect(compare.provenance.value).toMatchObject({ model_a: 'A toy', model_b: 'B deberta-v1', run_a: 'run-job-1', run_b: 'run-b-1', positions_a: 'clipped at k = 3', positions_b: 'clipped at k = 2', matrix: 'relative id used' })
    selections.matrix = 'delta'
    expect(Array.from(compare.data.value!.difference!.data).every((v) => v === 0)).toBe(true)
    // a new result of A: B runs once more, on the new text
    showA('job-2', 'the cat')
    await settle()
    expect(sent.map((r) => r.text)).toEqual(['the small dog sees', 'the cat'])
    expect(compare.data.value!.a.labels).toEqual(['[CLS]', 'the', 'cat', '[SEP]'])
    expect(compare.provenance.value?.run_b).toBe('run-b-2')
  })

  it('a reopened view shows B’s stored result and runs nothing', async () => {
    const lab = createMemoryLab()
    const { id: sessionId } = await lab.api.createSession({ name: 's' })
    const stored = lab.addRun(sessionId, { workspace: 'relative' }, { result: result('B stored', 'the dog', 2, 4), stored: true })
    const { view, a, sent, compare } = setup(lab)
    Object.assign(view, { compare: { model: B, runId: stored.id, jobId: 'job-b', pairedJobId: 'job-a' } })
    a.lastRequest.value = { text: 'the dog' }
    a.lastRun.value = { jobId: 'job-a', runId: 'run-a' }
    a.lastResult.value = result('A toy', 'the dog', 3, 6, 'run-a')
    await settle()
    expect(sent).toEqual([])
    expect(lab.calls.filter((c) => c.method === 'describeModel')).toEqual([])
    expect(compare.data.value?.b.labels).toEqual(['[CLS]', 'the', 'dog', '[SEP]'])
    expect(compare.provenance.value).toMatchObject({ model_b: 'B stored', run_b: stored.id })
  })

  it('a BERT as B is said instead of run; Remove returns to one model', async () => {
    const lab = createMemoryLab()
    const { view, sent, compare, showA } = setup(lab, (ref) => (ref.kind === 'synthetic' && ref.arch === 'bert' ? { modelType: 'bert', posAttType: ['c2c'], label: 'synthetic bert' } : {}))
    showA('job-1', 'the dog')
    await compare.comparison.choose(BERT)
    await settle()
    expect(sent).toEqual([])
    expect(compare.comparison.unavailable.value).toMatch(/^B \(synthetic bert\) has no relative positions: BERT adds an absolute position embedding/)
    expect(compare.data.value).toBeNull()
    expect(view.compare).toMatchObject({ model: BERT, runId: '' })
    // another B: the reason goes, B runs
    await compare.comparison.choose(B)
    await settle()
    expect(compare.comparison.unavailable.value).toBeNull()
    expect(sent).toHaveLength(1)
    compare.comparison.clear()
    expect(view.compare).toEqual(compareViewDefaults().compare)
    expect(compare.data.value).toBeNull()
    showA('job-2', 'the cat')
    await settle()
    expect(sent).toHaveLength(1)
  })

  it('a span with tokens of one model only: both over the spans (NaN where a model has none), no B − A, and why', () => {
    const a = result('A', 'the dog', 3, 6)
    const b = result('B', 'the dog', 2, 4)
    // B reads an extra special token after the text ([SEP] [SEP]): the last span has a token of B only
    const T = b.tokens.tokens.length + 1
    const delta = Float32Array.from({ length: T * T }, (_, x) => Math.floor(x / T) - (x % T))
    const extended: RelativePositionsResult = {
      ...b,
      tokens: { tokens: [...b.tokens.tokens, '[SEP]'], inputIds: [...b.tokens.inputIds, 9], offsets: [...b.tokens.offsets, [7, 7]] },
      delta: { rows: T, cols: T, data: delta },
      buckets: { rows: T, cols: T, data: delta },
    }
    const shown = compareRelative('the dog', a, extended, 'delta')
    expect(shown.level).toBe('word')
    expect(shown.a.labels).toEqual(['[CLS]', 'the', 'dog', '[SEP]', '[SEP]'])
    expect(shown.difference).toBeNull()
    expect(shown.differenceReason).toBe('“[SEP]” has tokens of B only: the span-level matrices do not match')
    // A has no token in the first [SEP] span (its [SEP] pairs with B's last): NaN there, its own δ elsewhere
    expect(Array.from(shown.a.matrix.data).slice(0, 5)).toEqual([0, -1, -2, NaN, -3])
    expect(Array.from(shown.b.matrix.data).slice(0, 5)).toEqual([0, -1, -2, -3, -4])
  })
})
