// The LabApi contract: everything the renderer can ask of the lab. One implementation lives in src/lab
// (transport-agnostic); it is exposed over Electron IPC (src/main + src/preload) and over HTTP in browser
// mode (src/cli/commands/serve.ts). Host-only abilities (dialogs, downloads) are in LabHost.
//
// Every method returns a Promise of plain JSON data. Failures reject with a LabError (code + message);
// transports carry them as { ok: false, error: { code, message } }.
import type { ErrorData } from './errors'
import type { SessionSnapshot, SessionSummary, WorkspaceId, WorkspaceState, RunRecord, ImportMode } from './sessions'

export type { WorkspaceId } from './sessions'

// ---------------------------------------------------------------------------------------------
// Models

export type SyntheticArch = 'deberta-v3' | 'deberta-v1' | 'bert'

/** A seeded random model created without files (the default, so the lab works on first launch). */
export interface SyntheticModelRef {
  kind: 'synthetic'
  arch: SyntheticArch
  layers: number
  hidden: number
  heads: number
  intermediate: number
  /** v3: log-bucket count (position_buckets); ignored by v1 and BERT */
  positionBuckets: number
  /** k: the clipping distance (max_relative_positions); -1 means max_positions */
  maxRelativePositions: number
  maxPositions: number
  seed: number
}

/** A HuggingFace-style folder on disk (config.json + weights + tokenizer). */
export interface CheckpointModelRef {
  kind: 'checkpoint'
  path: string
  variant?: 'discriminator' | 'generator'
}

/** Models shipped in resources/ (trained by the project's own scripts; see resources/<name>/README.md). */
export const BUNDLED_MODELS = ['toy-deberta'] as const
export type BundledModelName = (typeof BUNDLED_MODELS)[number]

/** A model folder shipped with the app: the same on every install, so sessions can refer to it by name. */
export interface BundledModelRef {
  kind: 'bundled'
  name: BundledModelName
}

export type ModelRef = SyntheticModelRef | CheckpointModelRef | BundledModelRef

export type AttentionTerm = 'c2c' | 'c2p' | 'p2c' | 'p2p'
export const ATTENTION_TERMS: readonly AttentionTerm[] = ['c2c', 'c2p', 'p2c', 'p2p']

export interface ModelInfo {
  /** Stable key for caching: same ref → same key */
  key: string
  label: string
  ref: ModelRef
  modelType: 'deberta' | 'deberta-v2' | 'bert'
  layers: number
  hidden: number
  heads: number
  headDim: number
  intermediate: number
  vocabSize: number
  maxPositions: number
  /** 0 when the model does not use log buckets */
  positionBuckets: number
  maxRelativePositions: number
  posAttType: AttentionTerm[]
  shareAttKey: boolean
  positionBiasedInput: boolean
  parameterCount: number
  hasMlmHead: boolean
  tokenizerKind: string
  maskToken?: string
  /** SHA-256 of the weights file for checkpoints */
  weightsSha256?: string
  /** problems found at load that did not stop it, e.g. 'tensor "x": 3 of 768 values are NaN or ±Inf' */
  warnings?: string[]
}

// ---------------------------------------------------------------------------------------------
// Data shapes

/** A dense row-major matrix. */
export interface Matrix {
  rows: number
  cols: number
  data: number[]
}

export interface TokenizedText {
  tokens: string[]
  inputIds: number[]
  offsets: Array<[number, number]>
  /** the tokens the tokenizer could only read as its unknown token, with the text they stand for */
  unknown?: Array<{ position: number; text: string }>
}

/** Every long computation carries a client-chosen job id for progress events and cancel. */
export interface JobOptions {
  jobId?: string
  /** When set, the run is recorded in this session */
  sessionId?: string
}

export interface AppStatus {
  appVersion: string
  backend: string
  /** Why faster backends were skipped */
  backendNotes: string[]
  storePath: string
  /** Set when a damaged store was moved aside at start */
  storeNotice?: { kind: 'recovered'; movedTo: string; reason: string }
  host: 'electron' | 'browser'
  platform: string
}

// ---------------------------------------------------------------------------------------------
// Workspaces (requests and results). Results are what the charts draw, exactly as the core computed.

export interface ProblemDemoRequest extends JobOptions {
  model: ModelRef
  text: string
}
export interface ProblemDemoResult {
  /** the run recorded for this result when the request named a session */
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  /** word embedding rows for the tokens [T, E] */
  content: Matrix
  /** absolute position embedding rows 0..T-1 [T, E] */
  position: Matrix
  /** content + position, what BERT feeds its first layer [T, E] */
  sum: Matrix
  interference: {
    /** R² of recovering the content rows from the sum by least squares on the position basis removed, etc. */
    contentRecoveryR2: number
    positionRecoveryR2: number
    /** cosine similarity of the same word's summed embeddings at different positions */
    sameWord: Array<{ token: string; positions: [number, number]; cosineContent: number; cosineSum: number }>
  }
  /** BERT-style attention probabilities of layer 0 head 0 of the baseline built from the same tables [T, T] */
  bertAttention: Matrix
  /** DeBERTa's separated terms for the same sentence, layer 0 head 0 [T, T] each */
  debertaTerms: Partial<Record<AttentionTerm, Matrix>>
}

export interface AttentionRequest extends JobOptions {
  model: ModelRef
  text: string
  layer: number
  head: number | 'mean'
  /** terms removed from the score before the softmax (ablation) */
  disabledTerms?: AttentionTerm[]
  /** compute the p2p term (a lab toggle; released models do not use it) */
  p2p?: boolean
}
export interface AttentionResult {
  /** the run recorded for this result when the request named a session */
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  layer: number
  head: number | 'mean'
  terms: Partial<Record<AttentionTerm, Matrix>>
  /** sum of the enabled terms, before the softmax */
  scores: Matrix
  probabilities: Matrix
  /** each term's share of Σ|term| per layer and head: values[(layer * heads + head) * terms.length + t] */
  shares: { layers: number; heads: number; terms: AttentionTerm[]; values: number[] }
}

export interface RelativePositionsRequest extends JobOptions {
  model: ModelRef
  text: string
  /** a second sentence holding the same word pair at the same distance, other absolute positions */
  compareText?: string
  /** clipping distance k for the synthetic clipping control */
  clipK?: number
}
export interface RelativePositionsResult {
  /** the run recorded for this result when the request named a session */
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  /** δ(i, j) = i − j */
  delta: Matrix
  /** the relative ids the model actually uses (buckets for v3, clipped distances for v1) */
  buckets: Matrix
  curve: { distances: number[]; buckets: number[]; exactLimit: number; maxPosition: number; kind: 'log-bucket' | 'clipped' }
  comparison?: {
    tokensB: TokenizedText
    pairs: Array<{ a: [number, number]; b: [number, number]; c2pA: number; c2pB: number; p2cA: number; p2cB: number }>
  }
  clipping?: { k: number; distances: number[]; ids: number[] }
}

export interface DecodingRequest extends JobOptions {
  model: ModelRef
  text: string
  topK: number
}
export interface TokenPrediction {
  id: number
  token: string
  probability: number
}
export interface DecodingResult {
  /** the run recorded for this result when the request named a session */
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  maskPositions: number[]
  predictions: Array<{ position: number; plain: TokenPrediction[]; emd: TokenPrediction[] }>
}

export type BenchmarkPart = 'matmul' | 'attention' | 'layer' | 'model'
export interface BenchmarkRequest extends JobOptions {
  preset: 'xsmall' | 'small' | 'base' | 'large' | 'tiny'
  seqs: number[]
  parts: BenchmarkPart[]
  /** attention variants compared: disentangled (DeBERTa) and standard (BERT) */
  variants: Array<'disentangled' | 'standard'>
  repeats: number
}
export interface BenchmarkCase {
  part: BenchmarkPart
  variant: 'disentangled' | 'standard'
  seq: number
  medianMs: number
  minMs: number
  maxMs: number
  flops: number
  gflops: number
  /** time the FLOP model predicts at the backend's measured matmul rate */
  predictedMs: number
}
export interface BenchmarkResult {
  backend: string
  preset: string
  cases: BenchmarkCase[]
  runId?: string
}

/** The paper's ablations runnable from the app (src/core/train/experiments.ts presets). */
export const EXPERIMENT_IDS = ['attention', 'terms', 'emd', 'length', 'clipping'] as const
export type ExperimentId = (typeof EXPERIMENT_IDS)[number]
/** smoke: seconds (plumbing check); default: minutes. The CLI's 'full' budget is not offered in the app. */
export const EXPERIMENT_BUDGETS = ['smoke', 'default'] as const
export type ExperimentBudget = (typeof EXPERIMENT_BUDGETS)[number]
export const MAX_EXPERIMENT_SEEDS = 5

export interface ExperimentRequest extends JobOptions {
  experiment: ExperimentId
  budget: ExperimentBudget
  /** seeds 1 … seeds per variant (1–MAX_EXPERIMENT_SEEDS) */
  seeds: number
}
export interface ExperimentMetric {
  mean: number
  /** sample standard deviation over the seeds (0 for one seed) */
  std: number
}
/** One variant × seed: its training loss at every step (4 significant digits) and final eval metrics. */
export interface ExperimentCurve {
  variant: string
  seed: number
  losses: number[]
  /** training-batch accuracy on the masked tokens at every step (absent in results stored before it existed) */
  accuracies?: number[]
  metrics: Record<string, number>
}
export interface ExperimentResult {
  /** the run recorded for this result when the request named a session */
  runId?: string
  experiment: ExperimentId
  budget: ExperimentBudget
  description: string
  /** 'mlm': probes and held-out MLM metrics; 'offset': train_length and test metrics */
  task: 'mlm' | 'offset'
  seeds: number[]
  steps: number
  backend: string
  milliseconds: number
  /** the variants in preset order (the keys of `variants`) */
  variantOrder: string[]
  /** per variant: each metric's mean and std over the seeds */
  variants: Record<string, { metrics: Record<string, ExperimentMetric> }>
  curves: ExperimentCurve[]
}

/** Training progress of an experiment: the loss of every step finished since the previous progress event. */
export interface TrainingProgress {
  /** 0-based run among variants × seeds */
  run: number
  runCount: number
  totalSteps: number
  points: Array<{ variant: string; seed: number; step: number; loss: number; accuracy: number }>
}

/** The paper's tables as shipped in resources/published-results.json (passed through as JSON). */
export type PublishedResults = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Events

export type LabEvent =
  | { type: 'progress'; jobId: string; fraction: number; message: string; /** experiments only */ training?: TrainingProgress }
  | { type: 'job-end'; jobId: string; status: 'done' | 'failed' | 'cancelled'; error?: ErrorData }
  /** a pausable job (an experiment) was paused or resumed; it stops at its next training step */
  | { type: 'job-paused'; jobId: string; paused: boolean }
  | { type: 'session-changed'; sessionId: string }

// ---------------------------------------------------------------------------------------------
// The contract

export interface LabApi {
  getStatus(): Promise<AppStatus>

  describeModel(model: ModelRef): Promise<ModelInfo>
  tokenize(request: { model: ModelRef; text: string; pair?: string }): Promise<TokenizedText>

  runProblemDemo(request: ProblemDemoRequest): Promise<ProblemDemoResult>
  runAttention(request: AttentionRequest): Promise<AttentionResult>
  runRelativePositions(request: RelativePositionsRequest): Promise<RelativePositionsResult>
  runDecoding(request: DecodingRequest): Promise<DecodingResult>
  runBenchmark(request: BenchmarkRequest): Promise<BenchmarkResult>
  /** Trains the variants of one of the paper's ablations (tiny models, generated data) with several seeds */
  runExperiment(request: ExperimentRequest): Promise<ExperimentResult>
  getPublishedResults(): Promise<PublishedResults>
  /** Cancels a running job; resolves true if a job with that id was running */
  cancelJob(jobId: string): Promise<boolean>
  /**
   * Pauses (paused: true) or resumes a running experiment: it stops before its next training step and waits,
   * holding its state, until resumed or cancelled. Resolves false when no pausable job has that id.
   */
  pauseJob(request: { jobId: string; paused: boolean }): Promise<boolean>

  listSessions(): Promise<SessionSummary[]>
  createSession(request: { name: string }): Promise<SessionSummary>
  openSession(sessionId: string): Promise<SessionSnapshot>
  renameSession(request: { sessionId: string; name: string }): Promise<SessionSummary>
  duplicateSession(sessionId: string): Promise<SessionSummary>
  /** Soft delete: restoreSession undoes it */
  deleteSession(sessionId: string): Promise<void>
  restoreSession(sessionId: string): Promise<SessionSummary>
  saveWorkspaceState(request: { sessionId: string; workspace: WorkspaceId; state: WorkspaceState }): Promise<void>
  /** The runs of a session, oldest first; a large result appears as a StoredResultRef (see getRunResult). */
  listRuns(sessionId: string): Promise<RunRecord[]>
  /** A run's whole result (resolves a StoredResultRef from the run's "result.json" artifact). */
  getRunResult(runId: string): Promise<unknown>
  /** The .dlab file's bytes, base64 */
  exportSession(sessionId: string): Promise<{ fileName: string; base64: string }>
  importSession(request: { base64: string; mode?: ImportMode }): Promise<SessionSummary>
  /** Stores a chart image in the session (content-addressed) */
  saveChartSnapshot(request: { sessionId: string; workspace: WorkspaceId; chartId: string; format: 'png' | 'svg'; base64: string }): Promise<{ sha256: string }>

  /** Subscribe to progress and session events; returns the unsubscribe function */
  onEvent(listener: (event: LabEvent) => void): () => void
}

/** What only the host (Electron window or browser page) can do. */
export interface LabHost {
  readonly kind: 'electron' | 'browser'
  /** Electron: save dialog and write; browser: download. */
  saveFile(request: { suggestedName: string; mime: string; base64: string }): Promise<{ saved: boolean; path?: string }>
  /** Electron: open dialog; browser: file input. Resolves null when the user cancels. */
  openFile(request: { accept: string[] }): Promise<{ name: string; base64: string } | null>
  /** Electron: folder dialog; browser: null (the UI shows a path field instead). */
  pickModelFolder(): Promise<string | null>
  /** Updates the window title (Electron) or document title (browser). */
  setTitle(title: string): Promise<void>
}

/** Method names of LabApi that are plain request/response calls (everything but onEvent). */
export const LAB_API_METHODS = [
  'getStatus',
  'describeModel',
  'tokenize',
  'runProblemDemo',
  'runAttention',
  'runRelativePositions',
  'runDecoding',
  'runBenchmark',
  'runExperiment',
  'getPublishedResults',
  'cancelJob',
  'pauseJob',
  'listSessions',
  'createSession',
  'openSession',
  'renameSession',
  'duplicateSession',
  'deleteSession',
  'restoreSession',
  'saveWorkspaceState',
  'listRuns',
  'getRunResult',
  'exportSession',
  'importSession',
  'saveChartSnapshot',
] as const satisfies ReadonlyArray<Exclude<keyof LabApi, 'onEvent'>>

export type LabApiMethod = (typeof LAB_API_METHODS)[number]

/** IPC channel for a method: `lab:<method>` (domain:verb). */
export const ipcChannel = (method: LabApiMethod): string => `lab:${method}`
export const IPC_EVENT_CHANNEL = 'lab:event'
export const HOST_CHANNELS = {
  saveFile: 'host:saveFile',
  openFile: 'host:openFile',
  pickModelFolder: 'host:pickModelFolder',
  setTitle: 'host:setTitle',
} as const

/** Default synthetic model: small enough to run instantly, shaped like deberta-v3. */
/**
 * The model selected on first launch: the trained toy DeBERTa (resources/toy-deberta), so Decoding and Attention
 * show learned predictions and patterns without any download. Its vocabulary is the generated language's 52 words.
 */
export const DEFAULT_MODEL: BundledModelRef = { kind: 'bundled', name: 'toy-deberta' }

/** The synthetic model the picker proposes (seeded random weights, 512 positions, the spm tokenizer). */
export const DEFAULT_SYNTHETIC_MODEL: SyntheticModelRef = {
  kind: 'synthetic',
  arch: 'deberta-v3',
  layers: 4,
  hidden: 128,
  heads: 4,
  intermediate: 512,
  positionBuckets: 32,
  maxRelativePositions: -1,
  maxPositions: 512,
  seed: 42,
}
