// Payload validation for every LabApi method, shared by the Electron IPC binding and the HTTP server.
// Anything arriving from a renderer or a browser is untrusted until it parses here.
import { z } from 'zod'
import { BACKEND_NAMES, BUNDLED_MODELS, EXPERIMENT_BUDGETS, EXPERIMENT_IDS, LAB_API_METHODS, MAX_EXPERIMENT_SEEDS, type LabApiMethod } from '../common/api'
import { LabError } from '../common/errors'

const WORKSPACES = ['problem', 'attention', 'relative', 'decoding', 'benchmarks', 'experiments'] as const
const TERMS = ['c2c', 'c2p', 'p2c', 'p2p'] as const

const int = (min: number, max: number) => z.number().int().min(min).max(max)
const text = z.string().max(100_000)
const id = z.string().min(1).max(200)
const jobOptions = { jobId: id.optional(), sessionId: id.optional() }

export const modelRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('synthetic'),
    arch: z.enum(['deberta-v3', 'deberta-v1', 'bert']),
    layers: int(1, 48),
    hidden: int(8, 4096),
    heads: int(1, 64),
    intermediate: int(8, 16384),
    positionBuckets: int(0, 1024),
    maxRelativePositions: int(-1, 4096),
    maxPositions: int(2, 4096),
    seed: int(0, 2 ** 31 - 1),
  }),
  z.strictObject({
    kind: z.literal('checkpoint'),
    path: z.string().min(1).max(4096),
    variant: z.enum(['discriminator', 'generator']).optional(),
  }),
  z.strictObject({ kind: z.literal('bundled'), name: z.enum(BUNDLED_MODELS) }),
])

/** Deepest nesting a workspace state may have (real states are a few levels deep). */
export const MAX_STATE_DEPTH = 64

/**
 * True when `value` nests at most `max` levels of arrays/objects. Iterative, so neither a hostile depth nor a
 * cycle (possible over Electron's structured clone) can overflow the stack: a cycle simply exceeds the depth.
 */
export function nestingWithin(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  let visited = 0
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!
    if (item === null || typeof item !== 'object') continue
    if (depth >= max || ++visited > 1_000_000) return false
    for (const child of Object.values(item as Record<string, unknown>)) stack.push([child, depth + 1])
  }
  return true
}

const workspaceState = z
  .record(z.string(), z.unknown())
  .refine((state) => nestingWithin(state, MAX_STATE_DEPTH), `the workspace state nests deeper than ${MAX_STATE_DEPTH} levels (or refers to itself)`)
const base64 = z.string().max(256 * 1024 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64')

/** Argument tuples per method. */
export const METHOD_ARGS: Record<LabApiMethod, z.ZodType<unknown[]>> = {
  getStatus: z.tuple([]),
  describeModel: z.tuple([modelRefSchema]),
  tokenize: z.tuple([z.strictObject({ model: modelRefSchema, text, pair: text.optional() })]),
  runProblemDemo: z.tuple([z.strictObject({ ...jobOptions, model: modelRefSchema, text })]),
  runAttention: z.tuple([
    z.strictObject({
      ...jobOptions,
      model: modelRefSchema,
      text,
      layer: int(0, 1000),
      head: z.union([int(0, 1000), z.literal('mean')]),
      disabledTerms: z.array(z.enum(TERMS)).max(4).optional(),
      p2p: z.boolean().optional(),
    }),
  ]),
  runRelativePositions: z.tuple([
    z.strictObject({ ...jobOptions, model: modelRefSchema, text, compareText: text.optional(), clipK: int(1, 4096).optional() }),
  ]),
  runModelView: z.tuple([
    z.strictObject({ ...jobOptions, model: modelRefSchema, text, disabledTerms: z.array(z.enum(TERMS)).max(4).optional(), p2p: z.boolean().optional() }),
  ]),
  runDistanceProfile: z.tuple([
    z.strictObject({ ...jobOptions, model: modelRefSchema, text, layer: int(0, 1000), disabledTerms: z.array(z.enum(TERMS)).max(4).optional(), p2p: z.boolean().optional() }),
  ]),
  runDecoding: z.tuple([z.strictObject({ ...jobOptions, model: modelRefSchema, text, topK: int(1, 100) })]),
  runBenchmark: z.tuple([
    z.strictObject({
      ...jobOptions,
      preset: z.enum(['xsmall', 'small', 'base', 'large', 'tiny']),
      seqs: z.array(int(1, 4096)).min(1).max(16),
      parts: z.array(z.enum(['matmul', 'attention', 'layer', 'model'])).min(1).max(4),
      variants: z.array(z.enum(['disentangled', 'standard'])).min(1).max(2),
      repeats: int(1, 100),
      backend: z.enum(BACKEND_NAMES).optional(),
    }),
  ]),
  runExperiment: z.tuple([
    z.strictObject({ ...jobOptions, experiment: z.enum(EXPERIMENT_IDS), budget: z.enum(EXPERIMENT_BUDGETS), seeds: int(1, MAX_EXPERIMENT_SEEDS) }),
  ]),
  getPublishedResults: z.tuple([]),
  listJobs: z.tuple([]),
  cancelJob: z.tuple([id]),
  pauseJob: z.tuple([z.strictObject({ jobId: id, paused: z.boolean() })]),
  listSessions: z.tuple([]),
  createSession: z.tuple([z.strictObject({ name: z.string().min(1).max(200) })]),
  openSession: z.tuple([id]),
  renameSession: z.tuple([z.strictObject({ sessionId: id, name: z.string().min(1).max(200) })]),
  duplicateSession: z.tuple([id]),
  deleteSession: z.tuple([id]),
  restoreSession: z.tuple([id]),
  saveWorkspaceState: z.tuple([z.strictObject({ sessionId: id, workspace: z.enum(WORKSPACES), state: workspaceState })]),
  listRuns: z.tuple([id]),
  getRunResult: z.tuple([id]),
  exportSession: z.tuple([id]),
  importSession: z.tuple([z.strictObject({ base64, mode: z.enum(['replace', 'keep-both']).optional() })]),
  saveChartSnapshot: z.tuple([
    z.strictObject({
      sessionId: id,
      workspace: z.enum(WORKSPACES),
      chartId: id,
      format: z.enum(['png', 'svg']),
      base64: base64,
    }),
  ]),
  listModels: z.tuple([]),
  downloadModel: z.tuple([z.strictObject({ jobId: id.optional(), repoId: z.string().min(1).max(200), revision: z.string().min(1).max(200).optional() })]),
  listDirectory: z.tuple([z.strictObject({ path: z.string().min(1).max(4096).optional(), hidden: z.boolean().optional() })]),
}

export function isLabApiMethod(name: string): name is LabApiMethod {
  return (LAB_API_METHODS as readonly string[]).includes(name)
}

/** Parses the arguments of a call or throws LabError BAD_REQUEST naming the method and the problem. */
export function parseArgs(method: string, args: unknown): unknown[] {
  if (!isLabApiMethod(method)) throw new LabError('NOT_FOUND', `unknown method "${method}"`)
  const result = METHOD_ARGS[method].safeParse(args)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
    throw new LabError('BAD_REQUEST', `invalid arguments for ${method}${where}: ${issue?.message ?? 'invalid'}`)
  }
  return result.data
}
