// The paper's ablations as one-click presets with editable configs. Each experiment trains every variant with
// several seeds (same seed → same data stream for every variant: paired comparisons) and reports per-variant
// means and standard deviations of its metrics.
//
//   attention  disentangled attention (DeBERTa, relative c2p+p2c) vs BERT (absolute positions), MLM → probes
//   terms      c2c only, +c2p, +p2c, all (c2c+c2p+p2c), MLM → probes
//   emd        DeBERTa with vs without the Enhanced Mask Decoder, MLM → position-sensitive probes
//   length     relative vs absolute positions on the offset task, trained short, tested long
//   clipping   clipped relative distances k ∈ {2, 5, 6, 16} and log buckets, on the offset task (offset 4)
import { LabError } from '../../common/errors'
import { encodeSafetensors } from '../checkpoint/safetensors'
import type { HostTensor } from '../checkpoint/types'
import {
  mlmBatch,
  offsetBatch,
  PROBE_SLOTS,
  probeBatch,
  Rng,
  SENTENCE_WORDS,
  sequenceLength,
  VOCAB_SIZE,
  type Batch,
  type LengthRange,
} from './data'
import { defaultTrainableConfig, MAX_TRAIN_HIDDEN, MAX_TRAIN_LENGTH, TrainableModel, type EvalResult, type TrainableConfig } from './model'
import { drain, trainSteps, type TrainProgress, type TrainResult } from './trainer'

export const EXPERIMENT_NAMES = ['attention', 'terms', 'emd', 'length', 'clipping'] as const
export type ExperimentName = (typeof EXPERIMENT_NAMES)[number]
export const BUDGETS = ['smoke', 'default', 'full'] as const
export type Budget = (typeof BUDGETS)[number]
export const DEFAULT_SEEDS = 3

export type TaskSpec =
  | {
      /** masked-LM on grammar sentences; evaluated on the position-sensitive probes and held-out MLM */
      kind: 'mlm'
      trainWords: LengthRange
      evalWords: LengthRange
    }
  | {
      /** predict the token `offset` positions to the left; trained on trainTokens, tested on testTokens */
      kind: 'offset'
      offset: number
      trainTokens: { min: number; max: number }
      testTokens: { min: number; max: number }
    }

export interface TrainingSpec {
  steps: number
  batchSize: number
  learningRate: number
  warmupSteps: number
  clipNorm: number
  weightDecay: number
  /** sequences per evaluation set */
  evalSize: number
}

export interface VariantSpec {
  name: string
  /** patch over the experiment's base model */
  model: Partial<TrainableConfig>
}

export interface ExperimentConfig {
  name: string
  description: string
  task: TaskSpec
  /** base model (vocabulary size is filled in) */
  model: Partial<TrainableConfig>
  variants: VariantSpec[]
  training: TrainingSpec
  seeds: number[]
}

export interface MetricSummary {
  mean: number
  std: number
  values: number[]
}

export interface RunSummary {
  variant: string
  seed: number
  metrics: Record<string, number>
  losses: number[]
  accuracies: number[]
  milliseconds: number
}

export interface ExperimentResult {
  name: string
  task: TaskSpec['kind']
  variants: Array<{ name: string; metrics: Record<string, MetricSummary> }>
  runs: RunSummary[]
  milliseconds: number
}

export interface ExperimentProgress extends TrainProgress {
  variant: string
  seed: number
  /** 0-based index of the run among variants × seeds */
  run: number
  runCount: number
}

export interface RunHooks {
  onProgress?: (progress: ExperimentProgress) => void
  /** throw to cancel (checked before every step) */
  checkCancelled?: () => void
  /** before each run trains */
  onRunStart?: (run: { variant: string; seed: number; run: number; runCount: number; model: TrainableConfig }) => void
  /** after each run, with the trained model (alive only during the call: export weights here) */
  onRunEnd?: (run: RunSummary, model: TrainableModel, result: TrainResult) => void
}

// ---------------------------------------------------------------------------------------------
// Presets

/** MLM presets need more labels than the offset task (≈ 15% of ~12 words per sentence): patched per budget. */
const MLM_TRAINING: Record<Budget, Partial<TrainingSpec>> = {
  smoke: {},
  default: { steps: 300, batchSize: 32, warmupSteps: 30 },
  full: { steps: 2000, batchSize: 32, warmupSteps: 200 },
}

const BUDGET_SPECS: Record<Budget, { model: Partial<TrainableConfig>; training: TrainingSpec }> = {
  // plumbing check: any experiment in well under 15 s on 2 cores (wasm)
  smoke: {
    model: { hiddenSize: 16, numHeads: 2, intermediateSize: 32, numLayers: 1 },
    training: { steps: 10, batchSize: 8, learningRate: 1e-2, warmupSteps: 2, clipNorm: 1, weightDecay: 0.01, evalSize: 32 },
  },
  default: {
    model: { hiddenSize: 32, numHeads: 4, intermediateSize: 64, numLayers: 1 },
    training: { steps: 200, batchSize: 16, learningRate: 1e-2, warmupSteps: 20, clipNorm: 1, weightDecay: 0.01, evalSize: 256 },
  },
  full: {
    model: { hiddenSize: 64, numHeads: 4, intermediateSize: 128, numLayers: 2 },
    training: { steps: 1000, batchSize: 32, learningRate: 5e-3, warmupSteps: 100, clipNorm: 1, weightDecay: 0.01, evalSize: 1024 },
  },
}

const MLM_TASK: TaskSpec = { kind: 'mlm', trainWords: { minWords: SENTENCE_WORDS.min, maxWords: 14 }, evalWords: { minWords: SENTENCE_WORDS.min, maxWords: 14 } }
/** log buckets sized for the lab's short sequences (exact up to |δ| < 8, then log up to 64) */
const BUCKETS = { positionBuckets: 16, maxRelativePositions: MAX_TRAIN_LENGTH } as const

/** The preset of an experiment at a budget with `seeds` seeds (1 … seeds). */
export function experimentPreset(name: ExperimentName, budget: Budget = 'default', seeds = DEFAULT_SEEDS): ExperimentConfig {
  if (!(EXPERIMENT_NAMES as readonly string[]).includes(name)) {
    throw new LabError('INPUT_INVALID', `unknown experiment "${String(name)}" (one of ${EXPERIMENT_NAMES.join(', ')})`)
  }
  if (!(BUDGETS as readonly string[]).includes(budget)) throw new LabError('INPUT_INVALID', `unknown budget "${String(budget)}" (one of ${BUDGETS.join(', ')})`)
  const b = BUDGET_SPECS[budget]
  const common = { model: { ...b.model, ...BUCKETS }, training: { ...b.training }, seeds: Array.from({ length: seeds }, (_, k) => k + 1) }
  const mlm = { ...common, training: { ...b.training, ...MLM_TRAINING[budget] } }
  switch (name) {
    case 'attention':
      return {
        ...mlm,
        name,
        description: 'Disentangled attention (DeBERTa: relative c2p + p2c, no absolute positions) vs BERT (absolute positions, c2c): MLM, then the subject/verb/object/preposition probes',
        task: MLM_TASK,
        variants: [
          { name: 'deberta', model: { arch: 'deberta', terms: ['c2p', 'p2c'] } },
          { name: 'bert', model: { arch: 'bert', terms: [] } },
        ],
      }
    case 'terms':
      return {
        ...mlm,
        name,
        description: 'Attention-term ablation of DeBERTa (no absolute positions): c2c only, c2c+c2p, c2c+p2c, all; MLM, then the probes',
        task: MLM_TASK,
        variants: [
          { name: 'c2c', model: { terms: [] } },
          { name: 'c2c+c2p', model: { terms: ['c2p'] } },
          { name: 'c2c+p2c', model: { terms: ['p2c'] } },
          { name: 'all', model: { terms: ['c2p', 'p2c'] } },
        ],
      }
    case 'emd':
      return {
        ...mlm,
        name,
        description: 'Enhanced Mask Decoder (absolute positions added before the last layer) vs none, on the position-sensitive probes',
        task: MLM_TASK,
        variants: [
          { name: 'no-emd', model: { emd: false } },
          { name: 'emd', model: { emd: true } },
        ],
      }
    case 'length':
      return {
        ...common,
        name,
        description: 'Length generalisation on the offset task (fill [MASK] with the token 3 to the left): train on ≤ 16 tokens, test on 24–48',
        task: { kind: 'offset', offset: 3, trainTokens: { min: 8, max: 16 }, testTokens: { min: 24, max: 48 } },
        variants: [
          { name: 'relative', model: { arch: 'deberta', terms: ['c2p', 'p2c'] } },
          { name: 'absolute', model: { arch: 'bert', terms: [] } },
        ],
      }
    case 'clipping':
      return {
        ...common,
        name,
        description:
          'Relative-distance clipping on the offset task with offset 4 (δ = i − j = +4): clipped k = 2, 5, 6, 16 — δ is clamped to [−k, k − 1], so δ = +4 has a row of its own only when k ≥ 6 — and 8 log buckets (exact up to |δ| = 4)',
        task: { kind: 'offset', offset: 4, trainTokens: { min: 10, max: 20 }, testTokens: { min: 10, max: 20 } },
        variants: [
          { name: 'k=2', model: { positionBuckets: 0, maxRelativePositions: 2 } },
          { name: 'k=5', model: { positionBuckets: 0, maxRelativePositions: 5 } },
          { name: 'k=6', model: { positionBuckets: 0, maxRelativePositions: 6 } },
          { name: 'k=16', model: { positionBuckets: 0, maxRelativePositions: 16 } },
          { name: 'buckets=8', model: { positionBuckets: 8, maxRelativePositions: MAX_TRAIN_LENGTH } },
        ],
      }
  }
}

// ---------------------------------------------------------------------------------------------
// Editable configs (JSON)

const bad = (field: string, why: string): LabError => new LabError('CONFIG_INVALID', `experiment config ${field}: ${why}`, { field })

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

const TRAINABLE_KEYS: ReadonlyArray<keyof TrainableConfig> = [
  'arch',
  'hiddenSize',
  'numLayers',
  'numHeads',
  'intermediateSize',
  'maxPositions',
  'terms',
  'positionBuckets',
  'maxRelativePositions',
  'emd',
]

function modelPatch(value: unknown, field: string): Partial<TrainableConfig> {
  if (value === undefined) return {}
  if (!isRecord(value)) throw bad(field, 'must be an object')
  for (const key of Object.keys(value)) {
    if (!(TRAINABLE_KEYS as readonly string[]).includes(key)) throw bad(`${field}.${key}`, `unknown field (known: ${TRAINABLE_KEYS.join(', ')})`)
  }
  return value as Partial<TrainableConfig>
}

/**
 * An experiment config from JSON: either a full config, or `{ "preset": "terms", "budget": "smoke", … }` whose
 * other fields (description, task, model, variants, training — each merged shallowly — and seeds) override the
 * preset's. Every variant model is validated before anything runs.
 */
export function parseExperimentConfig(raw: unknown, defaults: { budget?: Budget; seeds?: number } = {}): ExperimentConfig {
  if (!isRecord(raw)) throw bad('(root)', 'must be a JSON object')
  let base: ExperimentConfig | null = null
  if (raw.preset !== undefined) {
    const budget = (raw.budget ?? defaults.budget ?? 'default') as Budget
    base = experimentPreset(raw.preset as ExperimentName, budget, defaults.seeds ?? DEFAULT_SEEDS)
  }
  const name = raw.name ?? base?.name
  if (typeof name !== 'string' || name === '') throw bad('name', 'must be a non-empty string')
  const task = (raw.task !== undefined ? { ...(base?.task ?? {}), ...(raw.task as object) } : base?.task) as TaskSpec | undefined
  if (!task || (task.kind !== 'mlm' && task.kind !== 'offset')) throw bad('task.kind', 'must be "mlm" or "offset"')
  const known = ['preset', 'budget', 'name', 'description', 'task', 'model', 'variants', 'training', 'seeds']
  const unknown = Object.keys(raw).filter((k) => !known.includes(k))
  if (unknown.length > 0) throw bad(unknown[0], `is not a config field (fields: ${known.join(', ')})`)
  if (raw.training !== undefined && !isRecord(raw.training)) throw bad('training', 'must be an object of training settings')
  const baseTraining = base?.training ?? BUDGET_SPECS.default.training
  if (isRecord(raw.training)) {
    const extra = Object.keys(raw.training).filter((k) => !(k in baseTraining))
    if (extra.length > 0) throw bad(`training.${extra[0]}`, `is not a training setting (settings: ${Object.keys(baseTraining).join(', ')})`)
  }
  const training = { ...baseTraining, ...(isRecord(raw.training) ? raw.training : {}) } as TrainingSpec
  const variantsRaw = raw.variants ?? base?.variants
  if (!Array.isArray(variantsRaw) || variantsRaw.length === 0) throw bad('variants', 'must be a non-empty list of { name, model }')
  const variants = variantsRaw.map((v, k): VariantSpec => {
    if (!isRecord(v) || typeof v.name !== 'string' || v.name === '') throw bad(`variants[${k}].name`, 'must be a non-empty string')
    return { name: v.name, model: modelPatch(v.model, `variants[${k}].model`) }
  })
  if (new Set(variants.map((v) => v.name)).size !== variants.length) throw bad('variants', 'names must be unique')
  let seeds = base?.seeds ?? Array.from({ length: defaults.seeds ?? DEFAULT_SEEDS }, (_, k) => k + 1)
  if (raw.seeds !== undefined) {
    if (typeof raw.seeds === 'number') seeds = Array.from({ length: raw.seeds }, (_, k) => k + 1)
    else if (Array.isArray(raw.seeds) && raw.seeds.every((s) => Number.isInteger(s))) seeds = raw.seeds as number[]
    else throw bad('seeds', 'must be a count or a list of integers')
  }
  const config: ExperimentConfig = {
    name,
    description: typeof raw.description === 'string' ? raw.description : (base?.description ?? ''),
    task,
    model: { ...(base?.model ?? {}), ...modelPatch(raw.model, 'model') },
    variants,
    training,
    seeds,
  }
  validateExperiment(config)
  return config
}

/** Bounds of an experiment config: far above the presets (full budget), low enough to end. */
export const MAX_TRAIN_STEPS = 100_000
export const MAX_TRAIN_BATCH = 1024
export const MAX_EVAL_SIZE = 20_000
export const MAX_CONFIG_SEEDS = 20

/** Throws CONFIG_INVALID / INPUT_INVALID for anything runExperiment would trip on. */
export function validateExperiment(config: ExperimentConfig): void {
  const t = config.training
  const positiveInt = (v: number, field: string): void => {
    if (!Number.isInteger(v) || v < 1) throw bad(`training.${field}`, `must be a positive integer (got ${String(v)})`)
  }
  positiveInt(t.steps, 'steps')
  positiveInt(t.batchSize, 'batchSize')
  positiveInt(t.evalSize, 'evalSize')
  if (t.steps > MAX_TRAIN_STEPS) throw bad('training.steps', `must be at most ${MAX_TRAIN_STEPS} (got ${t.steps})`)
  if (t.batchSize > MAX_TRAIN_BATCH) throw bad('training.batchSize', `must be at most ${MAX_TRAIN_BATCH} (got ${t.batchSize})`)
  if (t.evalSize > MAX_EVAL_SIZE) throw bad('training.evalSize', `must be at most ${MAX_EVAL_SIZE} (got ${t.evalSize})`)
  if (config.seeds.length > MAX_CONFIG_SEEDS) throw bad('seeds', `at most ${MAX_CONFIG_SEEDS} seeds`)
  if (!Number.isInteger(t.warmupSteps) || t.warmupSteps < 0) throw bad('training.warmupSteps', 'must be an integer ≥ 0')
  if (!(t.learningRate > 0)) throw bad('training.learningRate', 'must be > 0')
  if (!(t.weightDecay >= 0)) throw bad('training.weightDecay', 'must be ≥ 0')
  if (typeof t.clipNorm !== 'number' || Number.isNaN(t.clipNorm)) throw bad('training.clipNorm', 'must be a number (≤ 0: no clipping)')
  if (config.seeds.length < 1) throw bad('seeds', 'need at least one seed')
  const maxTokens = config.task.kind === 'mlm' ? sequenceLength(Math.max(config.task.trainWords.maxWords, config.task.evalWords.maxWords)) : config.task.testTokens.max
  if (maxTokens > MAX_TRAIN_LENGTH) throw bad('task', `sequences of ${maxTokens} tokens exceed ${MAX_TRAIN_LENGTH}`)
  for (const v of config.variants) {
    const model = variantModel(config, v)
    if (model.hiddenSize > MAX_TRAIN_HIDDEN) throw bad(`variants.${v.name}.hiddenSize`, `exceeds ${MAX_TRAIN_HIDDEN}`)
    // constructing validates the config (CONFIG_INVALID names the field); 0 variables are kept
    new TrainableModel(model, 0).dispose()
  }
  // the data generators check their ranges
  const rng = new Rng(0)
  makeBatches(config.task, rng, rng, 1)
}

export function variantModel(config: ExperimentConfig, variant: VariantSpec): TrainableConfig {
  return defaultTrainableConfig(VOCAB_SIZE, { ...config.model, ...variant.model })
}

// ---------------------------------------------------------------------------------------------
// Running

function makeBatches(task: TaskSpec, trainRng: Rng, evalRng: Rng, batchSize: number): { train: () => Batch; eval: (size: number) => Record<string, Batch> } {
  if (task.kind === 'mlm') {
    return {
      train: () => mlmBatch(trainRng, batchSize, task.trainWords),
      eval: (size) => ({ probes: probeBatch(evalRng, size, task.evalWords, PROBE_SLOTS), mlm: mlmBatch(evalRng, size, task.evalWords) }),
    }
  }
  const trainTask = { offset: task.offset, minTokens: task.trainTokens.min, maxTokens: task.trainTokens.max }
  const testTask = { offset: task.offset, minTokens: task.testTokens.min, maxTokens: task.testTokens.max }
  return {
    train: () => offsetBatch(trainRng, batchSize, trainTask),
    eval: (size) => ({ train_length: offsetBatch(evalRng, size, trainTask), test: offsetBatch(evalRng, size, testTask) }),
  }
}

/** Evaluates in chunks of `chunk` sequences (bounded memory), pooling the counts. */
function evaluateChunked(model: TrainableModel, batch: Batch, chunk: number): EvalResult {
  const parts: EvalResult[] = []
  for (let start = 0; start < batch.batchSize; start += chunk) {
    parts.push(model.evaluate(sliceBatch(batch, start, Math.min(batch.batchSize, start + chunk))))
  }
  const correct = parts.reduce((a, p) => a + p.correct, 0)
  const total = parts.reduce((a, p) => a + p.total, 0)
  const loss = parts.reduce((a, p) => a + p.loss * p.total, 0) / Math.max(1, total)
  const result: EvalResult = { loss, accuracy: total === 0 ? 0 : correct / total, correct, total }
  const slots = new Map<string, { correct: number; total: number }>()
  for (const p of parts) {
    for (const [slot, c] of Object.entries(p.slotCounts ?? {})) {
      const acc = slots.get(slot) ?? { correct: 0, total: 0 }
      acc.correct += c.correct
      acc.total += c.total
      slots.set(slot, acc)
    }
  }
  if (slots.size > 0) result.bySlot = Object.fromEntries([...slots].map(([slot, c]) => [slot, c.correct / c.total]))
  return result
}

/** Rows [start, end) of a batch (flat positions of accept / slotOf re-based). */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  const T = batch.length
  const from = start * T
  const to = end * T
  const out: Batch = {
    batchSize: end - start,
    length: T,
    inputIds: batch.inputIds.slice(from, to),
    attentionMask: batch.attentionMask.slice(from, to),
    labels: batch.labels.slice(from, to),
  }
  if (batch.accept) out.accept = new Map([...batch.accept].filter(([n]) => n >= from && n < to).map(([n, v]) => [n - from, v]))
  if (batch.slotOf) out.slotOf = new Map([...batch.slotOf].filter(([n]) => n >= from && n < to).map(([n, v]) => [n - from, v]))
  return out
}

const EVAL_CHUNK = 64
/** the final training loss is the mean of the last FINAL_LOSS_WINDOW steps */
const FINAL_LOSS_WINDOW = 10

function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function sampleStd(values: number[]): number {
  if (values.length < 2) return 0
  const m = mean(values)
  return Math.sqrt(values.reduce((a, v) => a + (v - m) * (v - m), 0) / (values.length - 1))
}

/** Seeds of the data streams: the same for every variant (paired comparison), distinct for train and eval. */
const trainDataSeed = (seed: number): number => (seed * 0x9e3779b1) >>> 0
const evalDataSeed = (seed: number): number => (seed * 0x85ebca6b + 0x2545f491) >>> 0

/** Trains and evaluates every variant × seed (synchronously; call from a worker or the CLI). */
export function runExperiment(config: ExperimentConfig, hooks: RunHooks = {}): ExperimentResult {
  return drain(experimentSteps(config, hooks))
}

/** runExperiment letting the event loop run between training steps (e.g. for a SIGINT handler to set a cancel flag). */
export async function runExperimentAsync(config: ExperimentConfig, hooks: RunHooks = {}): Promise<ExperimentResult> {
  const steps = experimentSteps(config, hooks)
  for (;;) {
    const next = steps.next()
    if (next.done) return next.value
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}

/** runExperiment as a generator that yields after every training step. */
export function* experimentSteps(config: ExperimentConfig, hooks: RunHooks = {}): Generator<void, ExperimentResult> {
  validateExperiment(config)
  const started = performance.now()
  const runs: RunSummary[] = []
  const runCount = config.variants.length * config.seeds.length
  const t = config.training
  let runIndex = 0
  for (const variant of config.variants) {
    for (const seed of config.seeds) {
      const modelConfig = variantModel(config, variant)
      hooks.onRunStart?.({ variant: variant.name, seed, run: runIndex, runCount, model: modelConfig })
      const model = new TrainableModel(modelConfig, seed)
      try {
        const batches = makeBatches(config.task, new Rng(trainDataSeed(seed)), new Rng(evalDataSeed(seed)), t.batchSize)
        const run = runIndex
        const result = yield* trainSteps(model, {
          learningRate: t.learningRate,
          warmupSteps: t.warmupSteps,
          totalSteps: t.steps,
          clipNorm: t.clipNorm,
          optimizer: { weightDecay: t.weightDecay },
          makeBatch: () => batches.train(),
          checkCancelled: hooks.checkCancelled,
          onProgress: hooks.onProgress ? (p) => hooks.onProgress!({ ...p, variant: variant.name, seed, run, runCount }) : undefined,
        })
        const metrics: Record<string, number> = { final_loss: mean(result.losses.slice(-FINAL_LOSS_WINDOW)) }
        for (const [name, batch] of Object.entries(batches.eval(t.evalSize))) {
          const ev = evaluateChunked(model, batch, EVAL_CHUNK)
          metrics[`${name}_accuracy`] = ev.accuracy
          metrics[`${name}_loss`] = ev.loss
          for (const [slot, acc] of Object.entries(ev.bySlot ?? {})) metrics[`probe_${slot}_accuracy`] = acc
        }
        const summary: RunSummary = { variant: variant.name, seed, metrics, losses: result.losses, accuracies: result.accuracies, milliseconds: result.milliseconds }
        runs.push(summary)
        hooks.onRunEnd?.(summary, model, result)
      } finally {
        model.dispose()
      }
      runIndex++
    }
  }
  const variants = config.variants.map((v) => {
    const own = runs.filter((r) => r.variant === v.name)
    const keys = [...new Set(own.flatMap((r) => Object.keys(r.metrics)))]
    const metrics: Record<string, MetricSummary> = {}
    for (const key of keys) {
      const values = own.map((r) => r.metrics[key])
      metrics[key] = { mean: mean(values), std: sampleStd(values), values }
    }
    return { name: v.name, metrics }
  })
  return { name: config.name, task: config.task.kind, variants, runs, milliseconds: performance.now() - started }
}

// ---------------------------------------------------------------------------------------------
// Trained weights

/** Name of a run's final weights artifact: `<variant>/seed<k>.safetensors`. */
export function weightsArtifactName(variant: string, seed: number): string {
  return `${variant}/seed${seed}.safetensors`
}

/** A trained model's weights as host tensors: checkpoint key names, torch layout, F32. */
export function trainedWeightTensors(model: TrainableModel): Record<string, HostTensor> {
  const shapes = model.weightShapes()
  return Object.fromEntries(Object.entries(model.exportWeights()).map(([name, data]) => [name, { dtype: 'F32' as const, shape: shapes[name], data }]))
}

/** A trained model's weights as an in-memory safetensors file. */
export function encodeTrainedWeights(model: TrainableModel, metadata?: Record<string, string>): Uint8Array {
  return encodeSafetensors(trainedWeightTensors(model), metadata)
}
