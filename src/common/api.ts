// The LabApi contract: everything the renderer can ask of the lab. One implementation lives in src/lab
// (transport-agnostic); it is exposed over Electron IPC (src/main + src/preload) and over HTTP in browser
// mode (src/cli/commands/serve.ts). Host-only abilities (dialogs, downloads) are in LabHost.
//
// Every method returns a Promise of plain JSON data. Failures reject with a LabError (code + message);
// transports carry them as { ok: false, error: { code, message } }.
import type { ErrorData, Result } from './errors'
import type { SessionSnapshot, SessionSummary, WorkspaceId, WorkspaceState, RunRecord, ImportMode } from './sessions'
import type { CorpusPairRequest, CorpusPairResult, CorpusRequest, CorpusResult } from './corpus'

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
// Models found on this computer and downloads from the Hugging Face Hub (src/lab/hub)

/** A model folder the lab found: bundled, in the Hugging Face cache, or recently used. */
export interface FoundModel {
  source: 'bundled' | 'cache' | 'recent'
  /** repo id for the cache ("microsoft/deberta-v3-base"), folder name otherwise */
  name: string
  /** the folder (for the cache: snapshots/<commit>) */
  path: string
  /** what describeModel loads; null for a broken entry */
  ref: ModelRef | null
  /** cache only: the snapshot's commit and the refs (branches, tags) pointing at it */
  commit?: string
  refs?: string[]
  /** config.json model_type, when readable */
  modelType?: string
  /** bytes on disk of the folder's files (symlinks followed) */
  sizeBytes: number
  /** from the weights file's header or pickle index (no weights read) */
  parameterCount?: number
  weightsFile?: string
  /** the MLM head's key naming: lm_predictions.* (official) or cls.predictions.* */
  mlmHead: 'official' | 'cls' | null
  /** MLM head and absolute position embeddings present, in a DeBERTa: the Enhanced Mask Decoder can run */
  emd: boolean
  /** tokenizer kind, null when the folder has none */
  tokenizer: string | null
  /** why the entry cannot be used; absent when it can */
  broken?: string
}

export interface ModelListing {
  /** the Hugging Face cache scanned (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub) */
  cacheDir: string
  models: FoundModel[]
  /** cached repos of other architectures (not DeBERTa or BERT), not listed */
  otherRepos: number
}

/** Models the picker suggests downloading; sizes are parameters × 4 bytes (float32), before the Hub says. */
export const SUGGESTED_HUB_MODELS: ReadonlyArray<{ repoId: string; note: string; approxBytes: number }> = [
  { repoId: 'microsoft/deberta-v3-xsmall', note: 'v3, 22M backbone + 48M embedding parameters; no MLM head released', approxBytes: 0.28e9 },
  { repoId: 'microsoft/deberta-v3-small', note: 'v3, 44M + 98M parameters; no MLM head released', approxBytes: 0.57e9 },
  { repoId: 'microsoft/deberta-v3-base', note: 'v3, 86M + 98M parameters; no MLM head released', approxBytes: 0.74e9 },
  { repoId: 'microsoft/deberta-base', note: 'v1, ships the lm_predictions head: the official EMD runs', approxBytes: 0.56e9 },
  { repoId: 'microsoft/deberta-v2-xlarge', note: 'v2, 900M parameters', approxBytes: 3.6e9 },
  { repoId: 'bert-base-uncased', note: 'the BERT baseline, 110M parameters', approxBytes: 0.44e9 },
]

export interface DownloadModelRequest {
  jobId?: string
  /** "org/name" on the Hub */
  repoId: string
  /** branch, tag or commit; default "main" */
  revision?: string
}

export interface DownloadedFile {
  name: string
  size: number
  /** the blob's name in the cache: sha256 for LFS files, the git blob sha1 otherwise */
  etag: string
  /** already in the cache: nothing downloaded */
  cached: boolean
}

export interface DownloadModelResult {
  repoId: string
  revision: string
  commit: string
  /** the snapshot folder, loadable as a checkpoint */
  path: string
  files: DownloadedFile[]
  bytesDownloaded: number
  milliseconds: number
}

/** Progress of a download job (with the 'progress' event). */
export interface DownloadProgress {
  file: string
  fileIndex: number
  fileCount: number
  /** bytes of all files on disk so far (resumed parts included) and in total */
  bytes: number
  totalBytes: number
  bytesPerSecond: number
}

export interface DirectoryListing {
  /** the folder listed (absolute, symlinks resolved) */
  path: string
  /** null at the home folder: the listing does not go above it */
  parent: string | null
  home: string
  entries: Array<{ name: string; path: string; kind: 'directory' | 'file'; /** holds config.json */ model?: boolean }>
}

// ---------------------------------------------------------------------------------------------
// Data shapes

/**
 * A dense row-major matrix of float32 values: data[i · cols + j]. Float32Array end to end (worker, IPC,
 * store, HTTP's binary answers), so no thread writes or parses its numbers as text (see result-codec.ts).
 */
export interface Matrix {
  rows: number
  cols: number
  data: Float32Array
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

/** tfjs backends, fastest first (the lab picks the first that loads). */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const
export type BackendId = (typeof BACKEND_NAMES)[number]

/** Backends a job may switch to: the selected one and every slower one after it (wasm and cpu always load). */
export function availableBackends(selected: string): BackendId[] {
  const index = (BACKEND_NAMES as readonly string[]).indexOf(selected)
  return index < 0 ? [] : BACKEND_NAMES.slice(index)
}

/**
 * Whether the lab's changes reach the store. saved is false from a failed autosave (another process holds the
 * store's write lock, the disk is full) until a save succeeds, and always for a read-only store; reason says
 * why. Autosaves that failed stay queued and are retried.
 */
export interface StoreSaveStatus {
  saved: boolean
  reason?: string
  /** workspace states waiting to be written */
  pending: number
}

export interface AppStatus {
  appVersion: string
  backend: string
  /** the backend as people read it, e.g. "wasm (threaded SIMD, 2 threads)" or "tensorflow" */
  backendDetail: string
  /** backends a benchmark can run on here (the selected one and the slower ones) */
  backends: BackendId[]
  /** Why faster backends were skipped */
  backendNotes: string[]
  storePath: string
  /** Set when a damaged store was moved aside at start */
  storeNotice?: { kind: 'recovered'; movedTo: string; reason: string }
  /** Whether changes reach the store (a read-only store never does); updated by 'save-status' events */
  storeSave: StoreSaveStatus
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
  /** where the removed terms are removed: every layer and head (default), only `layer`, or only `head` of `layer` */
  ablationScope?: AblationScope
  /** compute the p2p term (a lab toggle; released models do not use it) */
  p2p?: boolean
}
export const ABLATION_SCOPES = ['all', 'layer', 'head'] as const
export type AblationScope = (typeof ABLATION_SCOPES)[number]
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
  /**
   * The relative id (log bucket or clipped distance) the model reads for δ = i − j: ids[δ + T − 1] for
   * δ = −(T − 1) … T − 1 (c2p at (i, j) reads the id of δ(i, j), p2c the id of δ(j, i)). Absent for models
   * without relative positions (BERT) and in results stored before it existed.
   */
  relativeIds?: number[]
  /**
   * The rel-embedding table row (of `tableRows`) c2p (key Kr) and p2c (query Qr) read at (i, j): rows[δ + T − 1], and how
   * δ reaches it: kinds[δ + T − 1] is 'exact' (δ's own row), 'log-bucket' (v3: shared with other distances) or
   * 'clipped' (clamped to the table's end). Absent for models without relative positions and in older results.
   */
  relativeRows?: { rows: number[]; kinds: Array<'exact' | 'log-bucket' | 'clipped'>; tableRows: number }
}

/** Every layer × head at once (BertViz's model view), summarised per head in the compute worker. */
export interface ModelViewRequest extends JobOptions {
  model: ModelRef
  text: string
  /** terms removed from the score before the softmax (ablation) */
  disabledTerms?: AttentionTerm[]
  /** compute the p2p term */
  p2p?: boolean
}
export interface ModelViewResult {
  /** the run recorded for this result when the request named a session */
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  layers: number
  heads: number
  /** the terms computed, in ATTENTION_TERMS order */
  terms: AttentionTerm[]
  /** each term's share of Σ|term| per head: shares[(layer · heads + head) · terms.length + t] (disabled terms: 0) */
  shares: number[]
  /** per head (index layer · heads + head): mean over query rows i of −Σ_j p_ij ln p_ij, in nats */
  entropy: number[]
  /** per head: mean over query rows i of Σ_j p_ij |i − j|, in tokens */
  distance: number[]
  /**
   * The attention pattern of each head pooled to size × size bins (size = min(T, 32); bin r covers query rows
   * ⌊r·T/size⌋ … ⌊(r+1)·T/size⌋ − 1, columns likewise): mean probability, values[(head index · size + r) · size + c].
   */
  thumbnails: { size: number; values: number[] }
}

/** Attention by relative distance δ = i − j for every head of one layer, over one sentence. */
export interface DistanceProfileRequest extends JobOptions {
  model: ModelRef
  text: string
  layer: number
  disabledTerms?: AttentionTerm[]
  p2p?: boolean
}
export interface DistanceProfileResult {
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  layer: number
  heads: number
  terms: AttentionTerm[]
  /** δ = −(T − 1) … T − 1 */
  distances: number[]
  /** number of pairs (i, j) with i − j = δ: T − |δ| */
  pairs: number[]
  /** probability[h][k]: mean of p_ij over the pairs with i − j = distances[k]; row `heads` is the mean over heads */
  probability: number[][]
  /** scores[term][h][k]: the term's mean score over the same pairs (row `heads`: mean over heads) */
  scores: Partial<Record<AttentionTerm, number[][]>>
  /**
   * The relative id each δ reads (log bucket for v3, clipped distance for v1, δ itself for BERT: kind 'none');
   * |δ| ≤ exactLimit are exact, beyond it buckets merge distances (v3) or clip at the span (v1).
   */
  buckets: { ids: number[]; kind: 'log-bucket' | 'clipped' | 'none'; exactLimit: number; span: number }
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

// ---------------------------------------------------------------------------------------------
// Ablate and measure (Decoding workspace): remove a term or a whole head and measure what changes in the masked-LM
// predictions and in the hidden states (src/lab/workspaces/ablation.ts).

/**
 * What is removed. 'term': the term is dropped from the attention score before the softmax (the scale is kept) in
 * every layer and head, or only in `layer`, or only in head `head` of `layer`. 'head': head `head` of `layer` is
 * removed as in Michel et al. 2019 — its context vectors are zeroed before the layer's output projection, so it
 * adds nothing to the layer's output (nor to the EMD passes, which re-run the last layer).
 */
export type Ablation = { kind: 'term'; term: AttentionTerm; layer?: number; head?: number } | { kind: 'head'; layer: number; head: number }
export const MLM_DECODERS = ['plain', 'emd'] as const
/** plain: the MLM head on the last hidden states; emd: through the Enhanced Mask Decoder */
export type MlmDecoder = (typeof MLM_DECODERS)[number]

export interface AblationRequest extends JobOptions {
  model: ModelRef
  text: string
  ablation: Ablation
  topK: number
}
/** One masked slot through one decoder, before and after the ablation. */
export interface AblationSlot {
  /** the token measured: the unablated model's top-1 at this slot (the text holds [MASK], not a true token) */
  reference: { id: number; token: string }
  /** natural log of its probability (softmax over the whole vocabulary) before and after; delta = after − before */
  logProbBefore: number
  logProbAfter: number
  delta: number
  /** its rank after the ablation among the ranked ids (1 = still the top prediction) */
  rankAfter: number
  /** KL(before ‖ after) of the two distributions over the whole vocabulary, nats */
  kl: number
  before: TokenPrediction[]
  after: TokenPrediction[]
  /** top-k tokens after that were not in the top-k before, and those that left it */
  entered: TokenPrediction[]
  left: TokenPrediction[]
}
export interface AblationResult {
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  ablation: Ablation
  topK: number
  maskPositions: number[]
  slots: Array<{ position: number; plain: AblationSlot; emd: AblationSlot }>
  /**
   * Per hidden state k = 0 … L (0: the embeddings, k: layer k − 1's output), ‖h′ₖ − hₖ‖ / ‖hₖ‖ (Frobenius norms
   * over every token): 0 up to the ablated layer, then how far the change has spread.
   */
  layerChange: number[]
  /** the same over the masked positions' rows only */
  layerChangeMasked: number[]
}

/** Head importance: every head removed in turn (one forward each), the masked tokens' log-probability change. */
export interface HeadImportanceRequest extends JobOptions {
  model: ModelRef
  text: string
  decoder: MlmDecoder
}
export interface HeadImportanceResult {
  runId?: string
  model: ModelInfo
  tokens: TokenizedText
  decoder: MlmDecoder
  layers: number
  heads: number
  maskPositions: number[]
  /** per slot: the unablated model's top-1 (the token measured) and its log-probability */
  references: Array<{ id: number; token: string; logProb: number }>
  /** per head (index layer · heads + head): mean over the slots of log p′(reference) − log p(reference) */
  importance: number[]
  /** per head and slot: deltas[(layer · heads + head) · slots + s] */
  deltas: number[]
  /**
   * forwards run (1 + layers · heads; each ablated one starts at the removed head's layer from the unablated
   * forward's input of that layer) and the wall time of the job's compute
   */
  forwards: number
  milliseconds: number
}

export type BenchmarkPart = 'matmul' | 'attention' | 'layer' | 'model'
/**
 * Warm-up of each benchmark case (src/core/bench.ts): untimed runs, at least BENCH_WARMUP_MIN_RUNS (the PyTorch reference
 * makes 2) and until BENCH_WARMUP_MS went into those after the first (cold) one, at most BENCH_WARMUP_MAX_RUNS.
 */
export const BENCH_WARMUP_MIN_RUNS = 2
export const BENCH_WARMUP_MS = 2000
export const BENCH_WARMUP_MAX_RUNS = 20
export interface BenchmarkRequest extends JobOptions {
  preset: 'xsmall' | 'small' | 'base' | 'large' | 'tiny'
  seqs: number[]
  parts: BenchmarkPart[]
  /** attention variants compared: disentangled (DeBERTa) and standard (BERT) */
  variants: Array<'disentangled' | 'standard'>
  repeats: number
  /** run on this backend instead of the lab's (one of AppStatus.backends) */
  backend?: BackendId
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

// ---------------------------------------------------------------------------------------------
// Jobs: every computation is a job the lab keeps (listJobs), so any window can follow, pause or cancel it.

/** The LabApi computations run as jobs (the registry's compute and job methods; 'spin' is a test-only job). */
export type JobMethod = LabWorkerMethod | 'spin' | CommandLineJob
/** the command line's jobs (src/lab/workspaces/host-jobs.ts) */
export type CommandLineJob = 'tokenizeFolder' | 'forwardToFile' | 'benchCases' | 'prepareExperiment'
/** interactive: workspace computations, model descriptions, tokenizing; long: experiments and benchmarks (own worker) */
export type JobKind = 'interactive' | 'long'
export type JobState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled'
export const ACTIVE_JOB_STATES: readonly JobState[] = ['queued', 'running', 'paused']

export interface JobInfo {
  jobId: string
  method: JobMethod
  /** the worker it runs on; jobs of one kind run one at a time, in order */
  kind: JobKind
  /** the session the run is recorded in */
  sessionId?: string
  /** what it computes, for people: "experiment terms (default, 3 seeds)" */
  label: string
  state: JobState
  /** experiments can be paused */
  pausable: boolean
  /** progress in [0, 1] and its last message */
  fraction: number
  message: string
  /** a queued job: the job it waits for (the one running on its worker); absent while that worker starts */
  waitingFor?: { jobId: string; label: string; state: JobState }
  /** a queued job: 1 = runs next on its worker */
  queuePosition?: number
  /** epoch milliseconds */
  queuedAt: number
  startedAt?: number
  finishedAt?: number
  /** the run recorded for it (done jobs with a session) */
  runId?: string
  error?: ErrorData
  /** the request's parameters for experiments and benchmarks (what the Experiments section shows again) */
  params?: Record<string, unknown>
  /**
   * listJobs only (not in job events): an active experiment's curves so far, per variant × seed; the value at
   * index k is step k + 1.
   */
  training?: { totalSteps: number; curves: Array<{ variant: string; seed: number; losses: number[]; accuracies: number[] }> }
}

/** The paper's tables as shipped in resources/published-results.json (passed through as JSON). */
export type PublishedResults = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Events

export type LabEvent =
  | { type: 'progress'; jobId: string; fraction: number; message: string; /** experiments only */ training?: TrainingProgress; /** downloads only */ download?: DownloadProgress }
  | { type: 'job-end'; jobId: string; status: 'done' | 'failed' | 'cancelled'; error?: ErrorData }
  /** a pausable job (an experiment) was paused or resumed; it stops at its next training step */
  | { type: 'job-paused'; jobId: string; paused: boolean }
  | { type: 'session-changed'; sessionId: string }
  /** a job was queued, started, paused, resumed or ended, or what it waits for changed (without `training`) */
  | { type: 'job'; job: JobInfo }
  /** whether changes reach the store changed (see StoreSaveStatus) */
  | { type: 'save-status'; status: StoreSaveStatus }

// ---------------------------------------------------------------------------------------------
// The contract

export interface LabApi {
  getStatus(): Promise<AppStatus>

  describeModel(model: ModelRef): Promise<ModelInfo>
  tokenize(request: { model: ModelRef; text: string; pair?: string }): Promise<TokenizedText>

  runProblemDemo(request: ProblemDemoRequest): Promise<ProblemDemoResult>
  runAttention(request: AttentionRequest): Promise<AttentionResult>
  runRelativePositions(request: RelativePositionsRequest): Promise<RelativePositionsResult>
  /** Every layer × head summarised: term shares, entropy, mean attended distance, a pooled pattern */
  runModelView(request: ModelViewRequest): Promise<ModelViewResult>
  /** Attention probability and each term's mean score by relative distance δ, per head of one layer */
  runDistanceProfile(request: DistanceProfileRequest): Promise<DistanceProfileResult>
  /** Corpus statistics: every sentence of a text through the model, every head summarised (a pausable, resumable job) */
  runCorpus(request: CorpusRequest): Promise<CorpusResult>
  /** One head of a corpus run's model: sentences ranked by attention from tokens matching one pattern to another */
  runCorpusPairs(request: CorpusPairRequest): Promise<CorpusPairResult>
  runDecoding(request: DecodingRequest): Promise<DecodingResult>
  /** Removes a term or a head and measures the masked-LM predictions and the hidden states before and after */
  runAblation(request: AblationRequest): Promise<AblationResult>
  /** Removes every head in turn (one forward each): the change of the masked tokens' log-probability */
  runHeadImportance(request: HeadImportanceRequest): Promise<HeadImportanceResult>
  runBenchmark(request: BenchmarkRequest): Promise<BenchmarkResult>
  /** Trains the variants of one of the paper's ablations (tiny models, generated data) with several seeds */
  runExperiment(request: ExperimentRequest): Promise<ExperimentResult>
  getPublishedResults(): Promise<PublishedResults>
  /** The lab's jobs: queued, running and paused ones, then the last finished ones (newest first) */
  listJobs(): Promise<JobInfo[]>
  /** Cancels a queued, running or paused job (from any window); resolves true if a job with that id was active */
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

  /** Model folders found on this computer: bundled, the Hugging Face cache, recently used folders */
  listModels(): Promise<ModelListing>
  /** Downloads the files the lab needs from the Hub into the Hugging Face cache (a job: progress, cancelJob) */
  downloadModel(request: DownloadModelRequest): Promise<DownloadModelResult>
  /**
   * A chart's Python reproduction for a model transformers cannot load by name (synthetic): a zip of
   * <name>/reproduce.py and <name>/model/ (config.json, model.safetensors, tokenizer files), base64
   */
  exportPythonBundle(request: { model: ModelRef; script: string; name: string }): Promise<{ fileName: string; base64: string }>
  /** Lists a folder inside the user's home (default: home), for the browser-mode folder picker */
  listDirectory(request: { path?: string; hidden?: boolean }): Promise<DirectoryListing>

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

/** The request/response methods of LabApi (everything but onEvent). */
export type LabApiMethod = Exclude<keyof LabApi, 'onEvent'>
/** A method's argument tuple and its result, as LabApi declares them. */
export type LabArgs<M extends LabApiMethod> = Parameters<LabApi[M]>
export type LabResult<M extends LabApiMethod> = Awaited<ReturnType<LabApi[M]>>
/** Every method's result, by name. */
export type LabResults = { [M in LabApiMethod]: LabResult<M> }
/** One function per method (of K) taking the method's arguments and resolving with R[method]. */
export type LabMethodsOf<R extends { [M in K]: unknown }, K extends LabApiMethod = LabApiMethod> = { [M in K]: (...args: LabArgs<M>) => Promise<R[M]> }
/** The request/response part of LabApi as one record: what every transport implements. */
export type LabMethods = LabMethodsOf<LabResults>

/**
 * How the lab service answers a method:
 * - `call`: on the service's own thread (the store, resource files, job control);
 * - `compute`: in the compute worker, by the worker handler of the same name (src/lab/workspaces/index.ts);
 * - `job`: in the compute worker like `compute`, with progress and cancel by job id, and recorded as a run of
 *   `workspace` when the request names a session.
 */
export type LabMethodSpec = { kind: 'call' } | { kind: 'compute' } | { kind: 'job'; workspace: WorkspaceId }

/**
 * The registry of LabApi methods. The IPC channels and the preload bridge, the IPC binding, the HTTP client and
 * server, the renderer's bridge adapter, the argument schemas (src/lab/validation.ts) and the worker's handler
 * table are derived from it: a LabApi method missing here, or a name that is not a LabApi method, fails to
 * compile. Adding a method: declare it in LabApi, add it here, add its argument schema to METHOD_ARGS
 * (src/lab/validation.ts); a `compute` or `job` method also needs its handler in JOB_HANDLERS.
 */
export const LAB_METHODS = {
  getStatus: { kind: 'call' },
  describeModel: { kind: 'compute' },
  tokenize: { kind: 'compute' },
  runProblemDemo: { kind: 'job', workspace: 'problem' },
  runAttention: { kind: 'job', workspace: 'attention' },
  runRelativePositions: { kind: 'job', workspace: 'relative' },
  runModelView: { kind: 'job', workspace: 'attention' },
  runDistanceProfile: { kind: 'job', workspace: 'attention' },
  runCorpus: { kind: 'job', workspace: 'attention' },
  runCorpusPairs: { kind: 'job', workspace: 'attention' },
  runDecoding: { kind: 'job', workspace: 'decoding' },
  runAblation: { kind: 'job', workspace: 'decoding' },
  runHeadImportance: { kind: 'job', workspace: 'decoding' },
  runBenchmark: { kind: 'job', workspace: 'benchmarks' },
  runExperiment: { kind: 'job', workspace: 'experiments' },
  getPublishedResults: { kind: 'call' },
  cancelJob: { kind: 'call' },
  pauseJob: { kind: 'call' },
  listSessions: { kind: 'call' },
  createSession: { kind: 'call' },
  openSession: { kind: 'call' },
  renameSession: { kind: 'call' },
  duplicateSession: { kind: 'call' },
  deleteSession: { kind: 'call' },
  restoreSession: { kind: 'call' },
  saveWorkspaceState: { kind: 'call' },
  listRuns: { kind: 'call' },
  getRunResult: { kind: 'call' },
  exportSession: { kind: 'call' },
  importSession: { kind: 'call' },
  saveChartSnapshot: { kind: 'call' },
  listJobs: { kind: 'call' },
  listModels: { kind: 'call' },
  downloadModel: { kind: 'call' },
  listDirectory: { kind: 'call' },
  exportPythonBundle: { kind: 'compute' },
} as const satisfies { [M in LabApiMethod]: LabMethodSpec }

/** Method names of LabApi that are plain request/response calls (everything but onEvent), in registry order. */
export const LAB_API_METHODS: readonly LabApiMethod[] = Object.keys(LAB_METHODS) as LabApiMethod[]

/** Methods the compute worker runs (registry kind `compute` or `job`). */
export type LabWorkerMethod = { [M in LabApiMethod]: (typeof LAB_METHODS)[M]['kind'] extends 'call' ? never : M }[LabApiMethod]

export function isLabApiMethod(name: string): name is LabApiMethod {
  return Object.prototype.hasOwnProperty.call(LAB_METHODS, name)
}

/**
 * One function per registry method, each forwarding its arguments to `call(method, args)`: how the transports
 * (preload bridge, HTTP client, the renderer's bridge adapter) build their side without listing the methods again.
 */
export function fromRegistry<R extends { [M in LabApiMethod]: unknown }>(call: <M extends LabApiMethod>(method: M, args: LabArgs<M>) => Promise<R[M]>): LabMethodsOf<R> {
  return buildMethods<R, LabApiMethod>(LAB_API_METHODS, call)
}

// Generic in the method names K so that `built[method]` is typed per method.
function buildMethods<R extends { [M in K]: unknown }, K extends LabApiMethod>(
  methods: readonly K[],
  call: <M extends K>(method: M, args: LabArgs<M>) => Promise<R[M]>,
): LabMethodsOf<R, K> {
  const built: Partial<LabMethodsOf<R, K>> = {}
  const add = <M extends K>(method: M): void => {
    built[method] = (...args: LabArgs<M>) => call(method, args)
  }
  for (const method of methods) add(method)
  // complete: `add` ran for every name in `methods`, which for fromRegistry are all of LAB_METHODS' keys
  return built as LabMethodsOf<R, K>
}

/** LabHost's functions (what a host does besides being of a kind). */
export type LabHostFunction = Exclude<keyof LabHost, 'kind'>

/**
 * What the preload exposes as `window.deberta`: each LabApi method and host function answers the transport
 * envelope (because only an Error's message would survive contextBridge), and the event subscription.
 */
export type LabBridgeResults = { [M in LabApiMethod]: Result<LabResult<M>> }
export type LabBridgeMethods = LabMethodsOf<LabBridgeResults>
export interface LabBridge extends LabBridgeMethods {
  onEvent(listener: (event: LabEvent) => void): () => void
  host: { [F in LabHostFunction]: (...args: Parameters<LabHost[F]>) => Promise<Result<Awaited<ReturnType<LabHost[F]>>>> }
}

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
 * show learned predictions and patterns without any download. Its vocabulary is its toy language's 100 words.
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
