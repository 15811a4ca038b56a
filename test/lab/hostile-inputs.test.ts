// Inputs found by the API robustness tour: each used to crash the worker, break the backend, or fail with an
// untyped error. Now each is a typed LabError (or simply works), quickly.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL, type SyntheticModelRef } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import { toJson } from '../../src/store/json'
import { MAX_WORKSPACE_TOKENS } from '../../src/lab/workspaces/common'
import { decoding } from '../../src/lab/workspaces/decoding'
import { parseArgs, nestingWithin } from '../../src/lab/validation'
import { ModelCache } from '../../src/lab/models'
import { attention } from '../../src/lab/workspaces/attention'
import { relativePositions } from '../../src/lab/workspaces/relative-positions'
import { RESOURCES, testContext, TINY_V3, type TestContext } from './workspaces-helpers'

let context: TestContext
let tmp: string
beforeAll(async () => {
  context = await testContext()
  tmp = mkdtempSync(join(tmpdir(), 'deberta-lab-hostile-'))
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const code = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  expect(error).toBeInstanceOf(LabError)
  return (error as LabError).code
}

describe('hostile or extreme inputs', () => {
  it(`refuses texts over ${MAX_WORKSPACE_TOKENS} tokens before computing anything (a 20,000-token text used to kill the process)`, async () => {
    const long = Array.from({ length: 20_000 }, () => 'the').join(' ')
    const started = performance.now()
    expect(await code(attention(context, { model: DEFAULT_MODEL, text: long, layer: 0, head: 0, disabledTerms: [], p2p: false }))).toBe('SEQUENCE_TOO_LONG')
    expect(await code(relativePositions(context, { model: DEFAULT_MODEL, text: long }))).toBe('SEQUENCE_TOO_LONG')
    expect(performance.now() - started).toBeLessThan(5000)
    // exactly at the limit it still works (relative-only model: no position table limit)
    const atLimit = Array.from({ length: MAX_WORKSPACE_TOKENS - 2 }, () => 'the').join(' ')
    const ok = await relativePositions(context, { model: DEFAULT_MODEL, text: atLimit })
    expect(ok.tokens.tokens).toHaveLength(MAX_WORKSPACE_TOKENS)
  }, 60_000)

  it('ranks decoding candidates among the tokenizer’s ids only (the model has padded embedding rows)', async () => {
    const result = await decoding(context, { model: TINY_V3, text: 'the [MASK] dog [MASK] the ball', topK: 100 })
    for (const p of result.predictions) {
      expect(p.plain).toHaveLength(100)
      expect(p.plain.every((t) => t.id < 1001 && typeof t.token === 'string')).toBe(true)
      expect(p.emd.every((t) => t.id < 1001)).toBe(true)
    }
  })

  it('refuses synthetic models too large to hold, before allocating them', async () => {
    const huge: SyntheticModelRef = { ...TINY_V3, layers: 48, hidden: 4096, heads: 64, intermediate: 16384, maxPositions: 512 }
    const started = performance.now()
    const error = await context.getModel(huge).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/GiB .* fewer layers/) })
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it('says which synthetic setting to change when k is too small for the log buckets', async () => {
    const error = await context.getModel({ ...TINY_V3, maxPositions: 8, maxRelativePositions: -1, positionBuckets: 32 }).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/k = max positions = 8 is too small for 32 log buckets .* raise k or max positions, or use fewer buckets/) })
  })

  it('reloads a checkpoint whose weights file changed on disk (the reloaded model used to be disposed at once)', async () => {
    const dir = join(tmp, 'v3')
    mkdirSync(dir)
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join('test/fixtures/deberta-v3-tiny', f), join(dir, f))
    for (const f of ['added_tokens.json', 'special_tokens_map.json', 'spm.model', 'tokenizer_config.json']) copyFileSync(join('test/fixtures/tokenizer-spm', f), join(dir, f))
    const cache = new ModelCache(RESOURCES)
    const ref = { kind: 'checkpoint' as const, path: dir }
    const first = await cache.get(ref)
    const later = new Date(Date.now() + 10_000)
    utimesSync(join(dir, 'model.safetensors'), later, later)
    const second = await cache.get(ref)
    expect(second).not.toBe(first)
    const run = (): unknown => (second.model as { forward: (i: unknown) => unknown }).forward({ inputIds: [[1, 5, 2]] })
    expect(run).not.toThrow()
    expect(await cache.get(ref)).toBe(second) // unchanged since: the same loaded model
  })

  it('refuses self-referencing and absurdly nested workspace states with typed errors', () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const state = (inputs: unknown) => [{ sessionId: 's', workspace: 'attention', state: { version: 1, inputs, model: null, selections: {}, view: {}, lastResult: null } }]
    expect(() => parseArgs('saveWorkspaceState', state({ c: circular }))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }))
    const deep = JSON.parse(`${'{"x":'.repeat(8000)}1${'}'.repeat(8000)}`)
    expect(() => parseArgs('saveWorkspaceState', state(deep))).toThrow(/nests deeper/)
    expect(nestingWithin({ a: [{ b: 1 }] }, 64)).toBe(true)
    // the store's own JSON writer (last line of defence) types the failure too
    expect(() => toJson({ c: circular }, 'the state')).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }))
  })

  it('refuses a "__proto__" key in a workspace state (top level or nested) instead of dropping it silently', () => {
    const states = [
      '{"__proto__":{"polluted":1},"version":1,"inputs":{},"model":null,"selections":{},"view":{},"lastResult":null}',
      '{"version":1,"inputs":{"a":{"__proto__":{"polluted":1}}},"model":null,"selections":{},"view":{},"lastResult":null}',
      '{"version":1,"inputs":{},"model":null,"selections":{"list":[{"__proto__":null}]},"view":{},"lastResult":null}',
    ]
    for (const text of states) {
      const args = JSON.parse(`[{"sessionId":"s","workspace":"attention","state":${text}}]`)
      expect(() => parseArgs('saveWorkspaceState', args), text).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringMatching(/__proto__/) }))
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    // "constructor" and "prototype" are ordinary keys
    const fine = JSON.parse('[{"sessionId":"s","workspace":"attention","state":{"version":1,"inputs":{"constructor":1,"prototype":2},"model":null,"selections":{},"view":{},"lastResult":null}}]')
    expect((parseArgs('saveWorkspaceState', fine)[0] as { state: { inputs: unknown } }).state.inputs).toEqual({ constructor: 1, prototype: 2 })
  })
})
