// "Compare with…" of the Problem demo: the lab's answers (problemDemo) for model A and model B, aligned, pooled and
// subtracted by the renderer's functions, against the results read with plain loops and the core's embedding rows.
// Same tokens: the v3 fixture checkpoint and a synthetic v1 (one SentencePiece tokenizer). Different tokens: the
// bundled toy model (word level) and a synthetic BERT (SentencePiece: "sees" is ▁see + s). Refused: a v3 checkpoint
// without an absolute position table, and a sentence longer than B's position table.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CheckpointModelRef, ModelRef, ProblemDemoResult } from '../../src/common/api'
import { toErrorData } from '../../src/common/errors'
import { openSafetensors, writeSafetensors } from '../../src/core/checkpoint/safetensors'
import { problemDemo } from '../../src/lab/workspaces/problem-demo'
import { compareProblem, problemRefusal, problemRequestForB } from '../../src/renderer/workspaces/problem-comparison'
import { testContext, TINY_BERT, TINY_V1, type TestContext } from './workspaces-helpers'

const TOY: ModelRef = { kind: 'bundled', name: 'toy-deberta' }
const BERT: ModelRef = { ...TINY_BERT, seed: 5 }
let tmp: string
let V3: CheckpointModelRef
let context: TestContext

/** The v3 fixture with its SentencePiece tokenizer; without its absolute position table when `noPositions`. */
function v3Folder(name: string, noPositions = false): CheckpointModelRef {
  const dir = join(tmp, name)
  mkdirSync(dir)
  copyFileSync('test/fixtures/deberta-v3-tiny/config.json', join(dir, 'config.json'))
  for (const f of readdirSync('test/fixtures/tokenizer-spm').filter((n) => n !== 'tokenization_golden.json')) copyFileSync(join('test/fixtures/tokenizer-spm', f), join(dir, f))
  if (!noPositions) copyFileSync('test/fixtures/deberta-v3-tiny/model.safetensors', join(dir, 'model.safetensors'))
  else {
    const source = openSafetensors('test/fixtures/deberta-v3-tiny/model.safetensors')
    const kept = source
      .entries()
      .filter((e) => !e.name.includes('position_embeddings'))
      .map((e) => [e.name, { dtype: 'F32' as const, shape: e.shape, data: source.readFloat32(e.name) }])
    writeSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(kept))
    source.close()
  }
  return { kind: 'checkpoint', path: dir }
}

/** Row i of a row-major matrix. */
const rowOf = (m: { cols: number; data: ArrayLike<number> }, i: number): number[] => Array.from(m.data).slice(i * m.cols, (i + 1) * m.cols)

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6): void {
  expect(actual.length).toBe(expected.length)
  let worst = 0
  for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(actual[k] - expected[k]))
  expect(worst).toBeLessThan(tolerance)
}

/**
 * The token positions of `result` in each unit of `text` ([CLS], its words, [SEP]), read off the offsets: a token
 * belongs to the word its characters (without white space) fall in; one without characters of its own (a lone ▁)
 * to the word after it.
 */
function wordTokens(text: string, result: ProblemDemoResult): number[][] {
  const words = [...text.matchAll(/\S+/g)].map((m) => [m.index!, m.index! + m[0].length])
  const T = result.tokens.tokens.length
  const units: number[][] = [[0], ...words.map(() => []), [T - 1]]
  let pending: number[] = []
  for (let p = 1; p < T - 1; p++) {
    const [ts, te] = result.tokens.offsets[p]
    const piece = text.slice(ts, te)
    if (!piece.trim()) {
      pending.push(p)
      continue
    }
    const start = ts + (piece.length - piece.trimStart().length)
    const w = words.findIndex(([s, e]) => start >= s && start < e)
    units[w + 1].push(...pending, p)
    pending = []
  }
  return units
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dl-compare-problem-'))
  V3 = v3Folder('v3')
  context = await testContext()
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('Problem demo, two models on one sentence', () => {
  it('v3 checkpoint vs synthetic v1 (same tokens): rows, BERT baseline, term and R² of A, B and B − A token by token', async () => {
    const text = 'the new store opened beside the new mall'
    expect(problemRequestForB({ text, extra: 1 })).toEqual({ request: { text }, notes: [] })
    const a = await problemDemo(context, { model: V3, text })
    const b = await problemDemo(context, { model: TINY_V1, text })
    const shown = compareProblem(text, a, b, 'sum', 'c2p')
    expect(shown.level).toBe('token')
    expect(shown.labels).toEqual(a.tokens.tokens)
    const T = a.tokens.tokens.length
    // the rows: B's content + position from the core's own embedding tables
    const { model } = await context.getModel(TINY_V1)
    const core = model.embeddingRows(b.tokens.inputIds)
    expectClose(shown.embedding.b!.data, Array.from(core.sum!.data))
    expectClose(shown.embedding.a!.data, Array.from(a.sum.data))
    expectClose(shown.embedding.difference!.data, Array.from(b.sum.data, (v, k) => v - a.sum.data[k]))
    expect([shown.embedding.difference!.rows, shown.embedding.difference!.cols]).toEqual([T, 32])
    expectClose(shown.bert.difference!.data, Array.from(b.bertAttention.data, (v, k) => v - a.bertAttention.data[k]))
    expectClose(shown.term.difference!.data, Array.from(b.debertaTerms.c2p!.data, (v, k) => v - a.debertaTerms.c2p!.data[k]))
    expect(Math.max(...Array.from(shown.term.difference!.data, Math.abs))).toBeGreaterThan(1e-3)
    // the scalars: both R² and B − A, then the repeated words' cosines at the same tokens
    const [content, position, ...cosines] = shown.scalars
    expect(content).toMatchObject({ key: 'r2-content', a: a.interference.contentRecoveryR2, b: b.interference.contentRecoveryR2 })
    expect(content.difference).toBeCloseTo(b.interference.contentRecoveryR2 - a.interference.contentRecoveryR2, 12)
    expect(position).toMatchObject({ key: 'r2-position', a: a.interference.positionRecoveryR2, b: b.interference.positionRecoveryR2 })
    expect(a.interference.sameWord.length).toBeGreaterThan(0)
    expect(cosines).toHaveLength(2 * a.interference.sameWord.length)
    const first = a.interference.sameWord[0]
    const firstB = b.interference.sameWord.find((e) => e.positions.join() === first.positions.join())!
    expect(cosines[1]).toMatchObject({ key: `cos-sum-${first.positions.join('-')}`, a: first.cosineSum, b: firstB.cosineSum })
  })

  it('toy model vs BERT (different tokenizers): span rows are the mean of their tokens, probabilities summed over keys; BERT has no c2p', async () => {
    const text = 'the small dog sees the small ball near the house'
    const a = await problemDemo(context, { model: TOY, text })
    const b = await problemDemo(context, { model: BERT, text })
    expect(a.tokens.tokens).not.toEqual(b.tokens.tokens)
    const shown = compareProblem(text, a, b, 'content', 'c2p')
    expect(shown.level).toBe('word')
    expect(shown.labels).toEqual(['[CLS]', ...text.split(' '), '[SEP]'])
    const unitsA = wordTokens(text, a)
    const unitsB = wordTokens(text, b)
    expect(unitsB[4].map((p) => b.tokens.tokens[p])).toEqual(['▁see', 's'])
    const meanRows = (m: ProblemDemoResult['content'], units: number[][]): number[] =>
      units.flatMap((positions) => rowOf(m, positions[0]).map((_, e) => positions.reduce((s, p) => s + m.data[p * m.cols + e], 0) / positions.length))
    const rowsA = meanRows(a.content, unitsA)
    const rowsB = meanRows(b.content, unitsB)
    expectClose(shown.embedding.a!.data, rowsA)
    expectClose(shown.embedding.b!.data, rowsB)
    expect(shown.widths).toEqual({ a: 32, b: 32 })
    expectClose(shown.embedding.difference!.data, rowsB.map((v, k) => v - rowsA[k]))
    // BERT's probabilities at the span level: mean over query tokens of the sum over key tokens
    const pooled = (m: ProblemDemoResult['bertAttention'], units: number[][]): number[] =>
      units.flatMap((qs) => units.map((ks) => qs.reduce((s, i) => s + ks.reduce((t, j) => t + m.data[i * m.cols + j], 0), 0) / qs.length))
    const bertA = pooled(a.bertAttention, unitsA)
    const bertB = pooled(b.bertAttention, unitsB)
    expectClose(shown.bert.a!.data, bertA)
    expectClose(shown.bert.b!.data, bertB)
    expectClose(shown.bert.difference!.data, bertB.map((v, k) => v - bertA[k]))
    const U = unitsA.length
    for (let u = 0; u < U; u++) expect(bertB.slice(u * U, (u + 1) * U).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5)
    // the BERT has c2c only: no c2p chart for B and no difference, said
    expect(shown.term.b).toBeNull()
    expect(shown.term.difference).toBeNull()
    expect(shown.term.differenceReason).toBe(`B (${b.model.label}) has no c2p term`)
    const c2c = compareProblem(text, a, b, 'content', 'c2c')
    expect(c2c.term.difference).not.toBeNull()
    // "small" repeats at spans 2 and 6 in both models
    const small = c2c.scalars.find((s) => s.key === 'cos-sum-2-6')!
    expect(small.name).toBe('cos(content + position) of “small” at spans 2 and 6')
    expect(small.a).toBe(a.interference.sameWord.find((e) => a.tokens.tokens[e.positions[0]] === 'small')!.cosineSum)
  })

  it('a model the Problem demo refuses is said: no absolute position table, or a sentence longer than it', async () => {
    const bare = v3Folder('v3-no-positions', true)
    const caught = await problemDemo(context, { model: bare, text: 'the dog' }).catch((e: unknown) => e)
    const error = toErrorData(caught)
    expect(error.code).toBe('CHECKPOINT_MISSING_KEY')
    expect(problemRefusal(error, 'tiny v3')).toBe('The Problem demo refuses B (tiny v3): it has no absolute position embeddings, so there is no BERT-style sum of content and position to measure; nothing was computed for B')
    const short: ModelRef = { ...TINY_V1, maxPositions: 4 }
    const long = toErrorData(await problemDemo(context, { model: short, text: 'the new store opened' }).catch((e: unknown) => e))
    expect(long.code).toBe('SEQUENCE_TOO_LONG')
    expect(problemRefusal(long, 'short v1')).toBe(`The Problem demo refuses B (short v1): ${long.message}; nothing was computed for B`)
    // any other failure is an error, not a refusal
    expect(problemRefusal({ code: 'CANCELLED', message: 'cancelled' }, 'x')).toBeNull()
    expect(problemRefusal(null, 'x')).toBeNull()
  })
})
