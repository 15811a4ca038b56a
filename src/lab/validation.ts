// Payload validation for every LabApi method, shared by the Electron IPC binding and the HTTP server.
// Anything arriving from a renderer or a browser is untrusted until it parses here.
import { z } from 'zod'
import {
  ABLATION_SCOPES,
  ATTENTION_TERMS,
  BACKEND_NAMES,
  BUNDLED_MODELS,
  EXPERIMENT_BUDGETS,
  EXPERIMENT_IDS,
  MAX_EXPERIMENT_SEEDS,
  MLM_DECODERS,
  isLabApiMethod,
  type LabApi,
  type LabApiMethod,
  type LabArgs,
  type LabMethods,
  type LabResult,
} from '../common/api'
import { LabError } from '../common/errors'
import { MAX_CORPUS_BYTES, MAX_CORPUS_LINES } from '../common/corpus'
import { IMPORT_MODES, WORKSPACE_IDS, type WorkspaceState } from '../common/sessions'
import { jsonShapeProblem } from '../store/json'

export { isLabApiMethod }

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

/**
 * Checks a state as it arrived, before z.record copies it: the copy would turn a "__proto__" key into its
 * prototype (the key silently gone). Such keys are refused at any depth, as the store does (see jsonShapeProblem).
 */
function refuseStateShape(state: unknown, context: z.RefinementCtx): void {
  const problem = jsonShapeProblem(state, MAX_STATE_DEPTH, 1_000_000)
  if (problem !== undefined) context.addIssue({ code: 'custom', message: `the workspace state ${problem}` })
}

// Here a state is a JSON object of bounded depth; the store checks its fields when it writes it (INPUT_INVALID).
const stateObject = z.record(z.string(), z.unknown())
const workspaceState = z
  .unknown()
  .superRefine(refuseStateShape)
  .pipe(z.custom<WorkspaceState>((value) => stateObject.safeParse(value).success, 'the workspace state must be an object'))
  .refine((state) => nestingWithin(state, MAX_STATE_DEPTH), `the workspace state nests deeper than ${MAX_STATE_DEPTH} levels (or refers to itself)`)
const base64 = z.string().max(256 * 1024 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64')

/**
 * The argument tuple of every LabApi method. Typed per method against LabApi, so a method without a schema, or a
 * schema whose output is not the method's parameters, fails to compile.
 */
export const METHOD_ARGS: { [M in LabApiMethod]: z.ZodType<LabArgs<M>> } = {
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
      disabledTerms: z.array(z.enum(ATTENTION_TERMS)).max(4).optional(),
      ablationScope: z.enum(ABLATION_SCOPES).optional(),
      p2p: z.boolean().optional(),
    }),
  ]),
  runRelativePositions: z.tuple([
    z.strictObject({ ...jobOptions, model: modelRefSchema, text, compareText: text.optional(), clipK: int(1, 4096).optional() }),
  ]),
  runModelView: z.tuple([
    z.strictObject({ ...jobOptions, model: modelRefSchema, text, disabledTerms: z.array(z.enum(ATTENTION_TERMS)).max(4).optional(), p2p: z.boolean().optional() }),
  ]),
  runDistanceProfile: z.tuple([
    z.strictObject({ ...jobOptions, model: modelRefSchema, text, layer: int(0, 1000), disabledTerms: z.array(z.enum(ATTENTION_TERMS)).max(4).optional(), p2p: z.boolean().optional() }),
  ]),
  runCorpus: z.tuple([
    z
      .strictObject({
        ...jobOptions,
        model: modelRefSchema,
        // the byte limit is checked on the UTF-8 length by the job (corpusLines); this bounds the string first
        corpus: z.strictObject({ name: z.string().min(1).max(200), text: z.string().max(MAX_CORPUS_BYTES).optional() }),
        disabledTerms: z.array(z.enum(ATTENTION_TERMS)).max(4).optional(),
        p2p: z.boolean().optional(),
        resumeFrom: id.optional(),
      })
      // a resumed run may leave the text out: the lab reads the one its run recorded
      .refine((request) => request.corpus.text !== undefined || request.resumeFrom !== undefined, {
        message: 'the corpus text is required unless resumeFrom names the run to resume',
        path: ['corpus', 'text'],
      }),
  ]),
  runCorpusPairs: z.tuple([
    z.strictObject({
      ...jobOptions,
      model: modelRefSchema,
      corpus: z.strictObject({ name: z.string().min(1).max(200), sha256: z.string().regex(/^[0-9a-f]{64}$/), runId: id.optional() }),
      sentences: z.array(z.strictObject({ index: int(0, MAX_CORPUS_LINES), text: z.string().max(MAX_CORPUS_BYTES) })).max(MAX_CORPUS_LINES),
      layer: int(0, 1000),
      head: int(0, 1000),
      from: z.string().min(1).max(1000),
      to: z.string().min(1).max(1000),
      disabledTerms: z.array(z.enum(ATTENTION_TERMS)).max(4).optional(),
      p2p: z.boolean().optional(),
    }),
  ]),
  runDecoding: z.tuple([z.strictObject({ ...jobOptions, model: modelRefSchema, text, topK: int(1, 100) })]),
  runAblation: z.tuple([
    z.strictObject({
      ...jobOptions,
      model: modelRefSchema,
      text,
      ablation: z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('term'), term: z.enum(ATTENTION_TERMS), layer: int(0, 1000).optional(), head: int(0, 1000).optional() }),
        z.strictObject({ kind: z.literal('head'), layer: int(0, 1000), head: int(0, 1000) }),
      ]),
      topK: int(1, 100),
    }),
  ]),
  runHeadImportance: z.tuple([z.strictObject({ ...jobOptions, model: modelRefSchema, text, decoder: z.enum(MLM_DECODERS) })]),
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
  saveWorkspaceState: z.tuple([z.strictObject({ sessionId: id, workspace: z.enum(WORKSPACE_IDS), state: workspaceState })]),
  listRuns: z.tuple([id]),
  getRunResult: z.tuple([id]),
  exportSession: z.tuple([id]),
  importSession: z.tuple([z.strictObject({ base64, mode: z.enum(IMPORT_MODES).optional() })]),
  saveChartSnapshot: z.tuple([
    z.strictObject({
      sessionId: id,
      workspace: z.enum(WORKSPACE_IDS),
      chartId: id,
      format: z.enum(['png', 'svg']),
      base64: base64,
    }),
  ]),
  listModels: z.tuple([]),
  downloadModel: z.tuple([z.strictObject({ jobId: id.optional(), repoId: z.string().min(1).max(200), revision: z.string().min(1).max(200).optional() })]),
  listDirectory: z.tuple([z.strictObject({ path: z.string().min(1).max(4096).optional(), hidden: z.boolean().optional() })]),
  exportPythonBundle: z.tuple([z.strictObject({ model: modelRefSchema, script: z.string().max(256 * 1024 * 1024), name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,79}$/) })]),
}

/** Parses the arguments of a call or throws LabError BAD_REQUEST naming the method and the problem. */
export function parseArgs<M extends LabApiMethod>(method: M, args: unknown): LabArgs<M>
export function parseArgs(method: string, args: unknown): unknown[]
export function parseArgs(method: string, args: unknown): unknown[] {
  if (!isLabApiMethod(method)) throw new LabError('NOT_FOUND', `unknown method "${method}"`)
  return parseKnown(method, args)
}

function parseKnown<M extends LabApiMethod>(method: M, args: unknown): LabArgs<M> {
  const schema: z.ZodType<LabArgs<M>> = METHOD_ARGS[method]
  const result = schema.safeParse(args)
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
    throw new LabError('BAD_REQUEST', `invalid arguments for ${method}${where}: ${issue?.message ?? 'invalid'}`)
  }
  return result.data
}

/**
 * A call arriving from a transport (IPC, HTTP): the method name and arguments are untrusted until they parse here;
 * then the lab's method of that name runs with the parsed arguments. Unknown method → NOT_FOUND, bad arguments →
 * BAD_REQUEST (thrown synchronously, before the lab is touched).
 */
export function callLab(lab: LabApi, method: string, args: unknown): Promise<unknown> {
  if (!isLabApiMethod(method)) throw new LabError('NOT_FOUND', `unknown method "${method}"`)
  return callMethod(lab, method, parseKnown(method, args))
}

function callMethod<M extends LabApiMethod>(lab: LabMethods, method: M, args: LabArgs<M>): Promise<LabResult<M>> {
  return lab[method](...args)
}
