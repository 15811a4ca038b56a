// zod schemas for what enters the store from outside its own code: workspace states (on save and on import)
// and the .dlab session file. One schema serves both paths, so every exported file imports again.
import { z } from 'zod'
import { BUNDLED_MODELS, type ModelRef } from '../common/api'
import { LabError } from '../common/errors'
import { ARTIFACT_KINDS, RUN_KINDS, RUN_STATUSES, WORKSPACE_IDS, type WorkspaceState } from '../common/sessions'

export const LIMITS = {
  nameLength: 200,
  notesLength: 100_000,
  tagLength: 64,
  tags: 64,
  metricKeyLength: 200,
  errorLength: 10_000,
} as const

export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'not a lowercase hex SHA-256')
export const isoDateSchema = z.iso.datetime()
export const uuidSchema = z.uuid()

// With the u flag, a surrogate class matches only unpaired surrogates (which UTF-8 cannot store).
const wellFormed = (value: string): boolean => !/[\uD800-\uDFFF]/u.test(value)
export const nameSchema = z
  .string()
  .min(1)
  .max(LIMITS.nameLength)
  .refine((v) => v.trim().length > 0, 'name is blank')
  .refine(wellFormed, 'name holds a lone surrogate')
export const notesSchema = z.string().max(LIMITS.notesLength).refine(wellFormed, 'notes hold a lone surrogate')
export const tagSchema = z.string().min(1).max(LIMITS.tagLength).refine(wellFormed, 'tag holds a lone surrogate')
export const tagsSchema = z.array(tagSchema).max(LIMITS.tags)

const int = (min: number, max: number) => z.number().int().min(min).max(max)

/** Mirrors ModelRef in src/common/api.ts (the type check below fails when the two drift apart). */
export const modelRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('synthetic'),
    arch: z.enum(['deberta-v3', 'deberta-v1', 'bert']),
    layers: int(1, 1024),
    hidden: int(1, 1 << 20),
    heads: int(1, 4096),
    intermediate: int(1, 1 << 22),
    positionBuckets: int(0, 1 << 20),
    maxRelativePositions: int(-1, 1 << 20),
    maxPositions: int(1, 1 << 24),
    seed: int(0, Number.MAX_SAFE_INTEGER),
  }),
  z.strictObject({
    kind: z.literal('checkpoint'),
    path: z.string().min(1).max(4096),
    variant: z.enum(['discriminator', 'generator']).optional(),
  }),
  z.strictObject({ kind: z.literal('bundled'), name: z.enum(BUNDLED_MODELS) }),
])
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const modelRefMatchesContract: Same<z.infer<typeof modelRefSchema>, ModelRef> = true
void modelRefMatchesContract

export const runModelRefSchema = z.discriminatedUnion('kind', [
  modelRefSchema.options[0].extend({ weightsSha256: sha256Schema.optional() }),
  modelRefSchema.options[1].extend({ weightsSha256: sha256Schema.optional() }),
  modelRefSchema.options[2].extend({ weightsSha256: sha256Schema.optional() }),
])

/** A JSON object (values are checked for JSON-ness when serialized, see json.ts). */
const jsonRecordSchema = z.record(z.string(), z.unknown())

export const workspaceIdSchema = z.enum(WORKSPACE_IDS)

export const workspaceStateSchema = z.strictObject({
  version: int(1, 1_000_000),
  inputs: jsonRecordSchema,
  model: modelRefSchema.nullable(),
  selections: jsonRecordSchema,
  view: jsonRecordSchema,
  lastResult: z.strictObject({ runId: z.string().min(1).max(200), artifactSha256: sha256Schema.optional() }).nullable(),
})
const workspaceStateMatchesContract: Same<z.infer<typeof workspaceStateSchema>, WorkspaceState> = true
void workspaceStateMatchesContract

/** A JSON value that must be present (JSON.parse never yields undefined, a missing key does). */
const presentJson = z.unknown().refine((v) => v !== undefined, 'missing')

// ---------------------------------------------------------------------------------------------
// .dlab files

export const DLAB_FORMAT = 'deberta-lab-session'
export const DLAB_FORMAT_VERSION = 1

export const manifestEntrySchema = z.strictObject({
  path: z.string().min(1).max(512),
  sha256: sha256Schema,
  size: z.number().int().min(0),
})

export const manifestSchema = z.strictObject({
  format: z.literal(DLAB_FORMAT),
  formatVersion: z.literal(DLAB_FORMAT_VERSION),
  appVersion: z.string().min(1).max(64),
  sessionId: uuidSchema,
  createdAt: isoDateSchema,
  entries: z.array(manifestEntrySchema),
})
export type DlabManifest = z.infer<typeof manifestSchema>

const metricValueSchema = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])

export const sessionFileSchema = z.strictObject({
  session: z.strictObject({
    id: uuidSchema,
    name: nameSchema,
    notes: notesSchema,
    tags: tagsSchema,
    createdAt: isoDateSchema,
    updatedAt: isoDateSchema,
    appVersion: z.string().min(1).max(64),
  }),
  workspaces: z.strictObject(
    Object.fromEntries(WORKSPACE_IDS.map((id) => [id, workspaceStateSchema.optional()])) as Record<
      (typeof WORKSPACE_IDS)[number],
      z.ZodOptional<typeof workspaceStateSchema>
    >,
  ),
  runs: z.array(
    z.strictObject({
      id: uuidSchema,
      kind: z.enum(RUN_KINDS),
      workspace: workspaceIdSchema.nullable(),
      name: nameSchema,
      config: presentJson,
      seed: z.number().int().nullable(),
      backend: z.string().max(200).nullable(),
      model: runModelRefSchema.nullable(),
      status: z.enum(RUN_STATUSES),
      createdAt: isoDateSchema,
      startedAt: isoDateSchema.nullable(),
      endedAt: isoDateSchema.nullable(),
      error: z.string().max(LIMITS.errorLength).nullable(),
      result: presentJson,
    }),
  ),
  metrics: z.array(
    z.strictObject({
      runId: uuidSchema,
      key: z.string().min(1).max(LIMITS.metricKeyLength),
      step: z.number().int(),
      value: metricValueSchema,
    }),
  ),
  artifacts: z.array(
    z.strictObject({
      sha256: sha256Schema,
      runId: uuidSchema.nullable(),
      name: nameSchema,
      kind: z.enum(ARTIFACT_KINDS),
      dtype: z.string().min(1).max(32).nullable(),
      shape: z.array(z.number().int().min(0)).max(32).nullable(),
      mime: z.string().min(1).max(200),
      size: z.number().int().min(0),
      createdAt: isoDateSchema,
    }),
  ),
})
export type SessionFile = z.infer<typeof sessionFileSchema>

/** Parses or throws LabError(code) naming the first problem and where it is. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, code: 'INPUT_INVALID' | 'IMPORT_INVALID', what: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
  throw new LabError(code, `${what} is invalid${where}: ${issue?.message ?? 'invalid'}`)
}
