// "Compare with…" of the Problem demo under Node with the in-memory lab: B runs A's sentence once beside each new
// result of A; the data, options, scalars and provenance name both models and both runs; a reopened view brings
// B's stored result back without running anything; a model the Problem demo refuses is said, with no charts;
// Remove returns to one model. Results are written by hand so every number is known.
import { describe, expect, it } from 'vitest'
import { createApp, effectScope, reactive, shallowRef } from 'vue'
import { DEFAULT_SYNTHETIC_MODEL, type AttentionTerm, type ModelInfo, type ProblemDemoRequest, type ProblemDemoResult, type SyntheticModelRef } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import { chartDataToCsv, extractChartData, type HeatmapData } from '../../src/renderer/charts/data'
import { compareViewDefaults } from '../../src/renderer/composables/useComparison'
import { LAB_KEY } from '../../src/renderer/lab-context'
import { csvWithProvenance } from '../../src/renderer/provenance'
import type { LastRun } from '../../src/renderer/workspace-state'
import { compareProblem, type ProblemEmbeddingTable } from '../../src/renderer/workspaces/problem-comparison'
import { useProblemComparison } from '../../src/renderer/workspaces/useProblemComparison'
import { createMemoryLab, type MemoryLab } from './memory-lab'

const B: SyntheticModelRef = { ...DEFAULT_SYNTHETIC_MODEL, arch: 'bert', seed: 3 }
const B2: SyntheticModelRef = { ...B, seed: 4 }
const settle = async (): Promise<void> => {
  for (let k = 0; k < 10; k++) await new Promise((resolve) => setTimeout(resolve, 0))
}

/**
 * A result over the words of `text` between [CLS] and [SEP]: content row i = [i·scale, …] (E wide), position row
 * i = [−i, …], BERT attention uniform over the T keys, c2c(i, j) = scale·(i − j), c2p only when `terms` has it.
 */
function result(label: string, text: string, opts: { scale: number; width?: number; r2?: [number, number]; terms?: AttentionTerm[]; runId?: string }): ProblemDemoResult {
  const words: Array<[string, number, number]> = []
  for (const m of text.matchAll(/\S+/g)) words.push([m[0], m.index!, m.index! + m[0].length])
  const tokens: Array<[string, number, number]> = [['[CLS]', 0, 0], ...words, ['[SEP]', text.length, text.length]]
  const T = tokens.length
  const E = opts.width ?? 2
  const rows = (f: (i: number) => number) => ({ rows: T, cols: E, data: Float32Array.from({ length: T * E }, (_, x) => f(Math.floor(x / E))) })
  const square = (f: (i: number, j: number) => number) => ({ rows: T, cols: T, data: Float32Array.from({ length: T * T }, (_, x) => f(Math.floor(x / T), x % T)) })
  const terms: ProblemDemoResult['debertaTerms'] = { c2c: square((i, j) => opts.scale * (i - j)) }
  if (opts.terms?.includes('c2p')) terms.c2p = square((i) => opts.scale * i)
  const [content, position] = opts.r2 ?? [0.9, 0.8]
  return {
    ...(opts.runId ? { runId: opts.runId } : {}),
    model: { label } as ModelInfo,
    tokens: { tokens: tokens.map((t) => t[0]), inputIds: tokens.map((_, p) => p), offsets: tokens.map((t) => [t[1], t[2]] as [number, number]) },
    content: rows((i) => i * opts.scale),
    position: rows((i) => -i),
    sum: rows((i) => i * opts.scale - i),
    interference: { contentRecoveryR2: content, positionRecoveryR2: position, sameWord: [] },
    bertAttention: square(() => 1 / T),
    debertaTerms: terms,
  }
}

function setup(lab: MemoryLab, answer: (request: ProblemDemoRequest, n: number) => ProblemDemoResult = (request, n) => result('B bert', request.text, { scale: 2, r2: [0.5, 0.25], runId: `run-b-${n}` })) {
  const view = reactive({ ...compareViewDefaults() })
  const selections = reactive({ embedding: 'content' as ProblemEmbeddingTable, term: 'c2c' as AttentionTerm })
  const a = { lastResult: shallowRef<ProblemDemoResult | null>(null), lastRun: shallowRef<LastRun | null>(null), lastRequest: shallowRef<Record<string, unknown> | null>(null) }
  const sent: ProblemDemoRequest[] = []
  const describe = lab.api.describeModel
  lab.api.describeModel = async (ref) => ({ ...(await describe(ref)), label: `B ${ref.kind === 'synthetic' ? `${ref.arch} ${ref.seed}` : ''}` })
  lab.api.runProblemDemo = async (request) => {
    sent.push(request)
    return answer(request, sent.length)
  }
  const app = createApp({})
  app.provide(LAB_KEY, lab)
  const compare = app.runWithContext(() => effectScope().run(() => useProblemComparison({ view, selections, ...a, isResult: (v): v is ProblemDemoResult => !!(v as ProblemDemoResult | null)?.bertAttention })))!
  /** A shows a new result of its own run (scale 1, c2c and c2p) */
  const showA = (jobId: string, text: string): void => {
    a.lastRequest.value = { text }
    a.lastResult.value = result('A toy', text, { scale: 1, terms: ['c2c', 'c2p'], runId: `run-${jobId}` })
    a.lastRun.value = { jobId, runId: `run-${jobId}` }
  }
  return { view, selections, a, sent, compare, showA }
}

describe('useProblemComparison', () => {
  it('runs A’s sentence on B once per new result of A; rows, attention, term, R² as A | B | B − A, both models and runs named', async () => {
    const lab = createMemoryLab()
    const { view, selections, sent, compare, showA } = setup(lab)
    showA('job-1', 'the small dog')
    expect(await compare.comparison.choose(B)).toBe(true)
    await settle()
    expect(sent.map(({ jobId: _j, sessionId: _s, ...rest }) => rest)).toEqual([{ model: B, text: 'the small dog' }])
    expect(view.compare).toMatchObject({ model: B, runId: 'run-b-1', pairedJobId: 'job-1' })
    const d = compare.data.value!
    expect(d.level).toBe('token')
    // content row 3 ("dog"): A = 3, B = 6, B − A = 3 in each of the 2 dimensions
    expect([d.embedding.a!.data[6], d.embedding.b!.data[6], d.embedding.difference!.data[6]]).toEqual([3, 6, 3])
    // c2c(4, 0) ([SEP] → [CLS]): A 4, B 8
    expect(d.term.difference!.data[4 * 5]).toBe(4)
    expect(Array.from(d.bert.difference!.data).every((v) => v === 0)).toBe(true)
    expect(d.scalars.map((s) => [s.key, s.a, s.b, s.difference])).toEqual([
      ['r2-content', 0.9, 0.5, 0.5 - 0.9],
      ['r2-position', 0.8, 0.25, 0.25 - 0.8],
    ])
    const options = compare.options.value!
    expect((extractChartData(options.embedding.difference!) as HeatmapData).values[3]).toEqual([3, 3])
    expect((extractChartData(options.term.b!) as HeatmapData).values[4][0]).toBe(8)
    const provenance = compare.provenance.value!
    expect(provenance).toMatchObject({ model_a: 'A toy', model_b: 'B bert', run_a: 'run-job-1', run_b: 'run-b-1', embedding: 'content rows', text: 'the small dog' })
    const csv = csvWithProvenance(chartDataToCsv(extractChartData(options.bert.difference!)), provenance).split('\n')
    expect(csv.slice(0, 3)).toEqual(['# model_a: A toy', '# model_b: B bert', '# text: the small dog'])
    expect(csv).toContain('# run_b: run-b-1')
    // B has no c2p: its chart and B − A are left out, with the reason
    selections.term = 'c2p'
    expect(compare.options.value!.term.b).toBeNull()
    expect(compare.options.value!.term.a).not.toBeNull()
    expect(compare.data.value!.term.differenceReason).toBe('B (B bert) has no c2p term')
    // a new result of A: B runs once more, on the new sentence; nothing more without one
    showA('job-2', 'the cat')
    await settle()
    selections.embedding = 'sum'
    await settle()
    expect(sent.map((r) => r.text)).toEqual(['the small dog', 'the cat'])
    expect(compare.data.value!.labels).toEqual(['[CLS]', 'the', 'cat', '[SEP]'])
    expect(compare.provenance.value?.run_b).toBe('run-b-2')
  })

  it('a reopened view shows B’s stored result and runs nothing', async () => {
    const lab = createMemoryLab()
    const { id: sessionId } = await lab.api.createSession({ name: 's' })
    const stored = lab.addRun(sessionId, { workspace: 'problem' }, { result: result('B stored', 'the dog', { scale: 3 }), stored: true })
    const { view, a, sent, compare } = setup(lab)
    Object.assign(view, { compare: { model: B, runId: stored.id, jobId: 'job-b', pairedJobId: 'job-a' } })
    a.lastRequest.value = { text: 'the dog' }
    a.lastRun.value = { jobId: 'job-a', runId: 'run-a' }
    a.lastResult.value = result('A toy', 'the dog', { scale: 1, runId: 'run-a' })
    await settle()
    expect(sent).toEqual([])
    expect(lab.calls.filter((c) => c.method === 'describeModel' || c.method === 'runProblemDemo')).toEqual([])
    expect(compare.data.value?.labels).toEqual(['[CLS]', 'the', 'dog', '[SEP]'])
    // "dog" (row 2): 2 and 6
    expect([compare.data.value!.embedding.a!.data[4], compare.data.value!.embedding.b!.data[4]]).toEqual([2, 6])
    expect(compare.provenance.value).toMatchObject({ model_b: 'B stored', run_b: stored.id })
  })

  it('a model the Problem demo refuses is said, with no charts; another B runs; Remove returns to one model', async () => {
    const lab = createMemoryLab()
    const { view, sent, compare, showA } = setup(lab, (request, n) => {
      if (request.model.kind === 'synthetic' && request.model.seed === 3) {
        throw new LabError('CHECKPOINT_MISSING_KEY', 'this model has no absolute position embeddings, so there is no BERT-style sum to measure', { key: 'embeddings.position_embeddings.weight' })
      }
      return result('B other', request.text, { scale: 2, runId: `run-b-${n}` })
    })
    showA('job-1', 'the dog')
    await compare.comparison.choose(B)
    await settle()
    expect(sent).toHaveLength(1)
    expect(compare.refused.value).toBe('The Problem demo refuses B (B bert 3): it has no absolute position embeddings, so there is no BERT-style sum of content and position to measure; nothing was computed for B')
    expect(compare.data.value).toBeNull()
    expect(compare.options.value).toBeNull()
    expect(view.compare).toMatchObject({ model: B, runId: '' })
    // another B: the refusal goes, B runs beside A
    await compare.comparison.choose(B2)
    expect(compare.refused.value).toBeNull()
    await settle()
    expect(sent).toHaveLength(2)
    expect(compare.data.value?.labels).toEqual(['[CLS]', 'the', 'dog', '[SEP]'])
    compare.comparison.clear()
    expect(view.compare).toEqual(compareViewDefaults().compare)
    expect(compare.data.value).toBeNull()
    showA('job-2', 'the cat')
    await settle()
    expect(sent).toHaveLength(2)
  })

  it('different widths or a span of one model only: both drawn, no B − A, and why', () => {
    const a = result('A', 'the dog', { scale: 1, width: 2 })
    const b = result('B', 'the dog', { scale: 1, width: 3 })
    const wide = compareProblem('the dog', a, b, 'sum', 'c2c')
    expect([wide.embedding.a!.cols, wide.embedding.b!.cols]).toEqual([2, 3])
    expect(wide.embedding.difference).toBeNull()
    expect(wide.embedding.differenceReason).toBe("A's embedding rows are 2 wide, B's 3: a difference needs the same width")
    expect(wide.bert.difference).not.toBeNull()
    // B reads an extra [SEP] after the text: that span has a token of B only
    const T = b.tokens.tokens.length + 1
    const extra: ProblemDemoResult = {
      ...result('B', 'the dog', { scale: 1 }),
      tokens: { tokens: [...b.tokens.tokens, '[SEP]'], inputIds: [...b.tokens.inputIds, 9], offsets: [...b.tokens.offsets, [7, 7]] },
      content: { rows: T, cols: 2, data: Float32Array.from({ length: 2 * T }, (_, x) => Math.floor(x / 2)) },
      bertAttention: { rows: T, cols: T, data: new Float32Array(T * T).fill(1 / T) },
      debertaTerms: { c2c: { rows: T, cols: T, data: new Float32Array(T * T) } },
    }
    const lone = compareProblem('the dog', a, extra, 'content', 'c2c')
    expect(lone.level).toBe('word')
    expect(lone.labels).toEqual(['[CLS]', 'the', 'dog', '[SEP]', '[SEP]'])
    for (const pair of [lone.embedding, lone.bert, lone.term]) {
      expect(pair.difference).toBeNull()
      expect(pair.differenceReason).toBe('“[SEP]” has tokens of B only: the span-level matrices do not match')
    }
    // A has no token in the first [SEP] span: NaN there
    expect(Array.from(lone.embedding.a!.data)).toEqual([0, 0, 1, 1, 2, 2, NaN, NaN, 3, 3])
  })
})
