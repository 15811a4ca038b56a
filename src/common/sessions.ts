// Session DTOs: what the experiment store (src/store) returns and the lab service and the renderer share.
// Plain data only (JSON-safe except metric values, which may be NaN or ±Infinity in memory).
import type { ModelRef } from './api'

/** The lab's workspaces; each keeps one versioned state per session. */
export const WORKSPACE_IDS = ['problem', 'attention', 'relative', 'decoding', 'benchmarks', 'experiments'] as const
export type WorkspaceId = (typeof WORKSPACE_IDS)[number]

export const RUN_KINDS = ['workspace', 'experiment', 'benchmark'] as const
export type RunKind = (typeof RUN_KINDS)[number]

/**
 * queued → running → done | failed | cancelled. `interrupted` is set when the store is opened and finds a run
 * still queued/running whose process is gone (crash, kill, power loss).
 */
export const RUN_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export type FinishedRunStatus = 'done' | 'failed' | 'cancelled'

export const ARTIFACT_KINDS = ['tensor', 'chart-png', 'chart-svg', 'json', 'weights'] as const
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number]

/** What to do when an imported session's id already exists in the store. */
export const IMPORT_MODES = ['replace', 'keep-both'] as const
export type ImportMode = (typeof IMPORT_MODES)[number]

/**
 * A JSON object. Values must be numbers, strings, booleans, null, arrays and plain objects (no undefined
 * inside arrays, no typed arrays, Maps or class instances): the store refuses anything else with
 * INPUT_INVALID, so what is read back deep-equals what was saved. NaN and ±Infinity are kept (the store
 * tags them); properties holding undefined are dropped, and -0 is read back as 0.
 */
export type JsonRecord = Record<string, unknown>

/** The model a run used, as the lab described it; `weightsSha256` pins checkpoint weights. */
export type RunModelRef = ModelRef & { weightsSha256?: string }

/** Points a workspace at the run whose result it shows. */
export interface ResultRef {
  runId: string
  /** an artifact of that run holding the (large) result, when there is one */
  artifactSha256?: string
}

/** One workspace's saved state. `version` is the workspace's own state-format version (≥ 1). */
export interface WorkspaceState {
  version: number
  inputs: JsonRecord
  model: ModelRef | null
  selections: JsonRecord
  view: JsonRecord
  lastResult: ResultRef | null
}

export interface SessionSummary {
  /** UUID */
  id: string
  name: string
  notes: string
  tags: string[]
  /** ISO 8601 (UTC) */
  createdAt: string
  updatedAt: string
  /** the app version that created the session */
  appVersion: string
  /** set while the session is soft-deleted (undo with restore) */
  deletedAt: string | null
  runCount: number
}

export interface RunRecord {
  /** UUID */
  id: string
  sessionId: string
  kind: RunKind
  /** the workspace that started it, if any */
  workspace: WorkspaceId | null
  name: string
  /** the request/config as JSON */
  config: unknown
  seed: number | null
  backend: string | null
  model: RunModelRef | null
  status: RunStatus
  /** when the run was recorded (queued or started) */
  createdAt: string
  startedAt: string | null
  endedAt: string | null
  error: string | null
  /** small JSON result; large data belongs in artifacts */
  result: unknown
}

export interface MetricPoint {
  runId: string
  key: string
  /** integer step (0 for single-valued metrics) */
  step: number
  /** may be NaN or ±Infinity */
  value: number
}

/** An artifact as linked to a session (and optionally a run). The bytes are fetched separately by sha256. */
export interface ArtifactDescriptor {
  /** lowercase hex SHA-256 of the bytes: the content address */
  sha256: string
  sessionId: string
  runId: string | null
  /** unique per (session, run) */
  name: string
  kind: ArtifactKind
  dtype: string | null
  shape: number[] | null
  mime: string
  size: number
  createdAt: string
}

/** Everything needed to reopen a session exactly as it was left. */
export interface SessionSnapshot {
  session: SessionSummary
  workspaces: Partial<Record<WorkspaceId, WorkspaceState>>
  /** oldest first */
  runs: RunRecord[]
  /** ordered by run, key, step */
  metrics: MetricPoint[]
  artifacts: ArtifactDescriptor[]
}

/** Latest value of each metric key of a run (the comparison-table view). */
export interface LatestMetric {
  runId: string
  key: string
  step: number
  value: number
}

export interface ImportOutcome {
  session: SessionSummary
  /** 'new': no conflict; otherwise the mode that resolved the conflict */
  mode: 'new' | ImportMode
}

/** The damaged-store notice (same shape as AppStatus.storeNotice). */
export interface StoreNotice {
  kind: 'recovered'
  /** where the damaged file was moved */
  movedTo: string
  reason: string
}

/**
 * A run's result kept apart from its row: the row holds this reference and the result itself is the run's
 * artifact (kind 'json'), fetched on demand (LabApi.getRunResult). A result with float32 matrices is always
 * "result.bin" (binary, see result-codec.ts); another result over 1 MiB of JSON is "result.json". Lists of
 * runs stay small; exports carry the artifact.
 */
export interface StoredResultRef {
  $storedResult: string
  /** size of the stored artifact in bytes */
  bytes: number
}

export function isStoredResultRef(value: unknown): value is StoredResultRef {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false
  const v = value as Record<string, unknown>
  return Object.keys(v).length === 2 && typeof v.$storedResult === 'string' && /^[0-9a-f]{64}$/.test(v.$storedResult) && typeof v.bytes === 'number'
}

/** Name of the artifact holding a run's large JSON result. */
export const STORED_RESULT_ARTIFACT = 'result.json'

/** Name of the artifact holding a run's result with float32 matrices, in the binary form of result-codec.ts. */
export const STORED_BINARY_RESULT_ARTIFACT = 'result.bin'
