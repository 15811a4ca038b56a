// Experiments: one of the paper's ablations (src/core/train/experiments.ts preset) trained in the worker —
// every variant × seed — with progress carrying each step's loss and accuracy (for live curves) and cancel between steps.
// The result holds per-variant means/stds and every run's loss curve; the service records it and its metrics.
// With a session, the job value also carries each run's final weights (a safetensors blob per variant × seed —
// the models are tiny, tens of kB) for the service to store; the service strips them from the LabApi result.
import type { ExperimentRequest, ExperimentResult, TrainingProgress } from '../../common/api'
import {
  encodeTrainedWeights,
  experimentPreset,
  runExperiment,
  weightsArtifactName,
  type ExperimentConfig,
  type ExperimentResult as CoreExperimentResult,
} from '../../core/train/experiments'
import type { JobHandler } from '../jobs'

/** Progress events at most this often (above the worker's 100 ms throttle, so none carrying points is dropped). */
const PROGRESS_EVERY_MS = 150

/** 4 significant digits: enough for a loss curve, a third of the JSON of a full double. */
export const compact = (value: number): number => (Number.isFinite(value) ? Number(value.toPrecision(4)) : value)

/** The LabApi result from the core's (means and stds per variant, compact curves per run). */
export function toExperimentResult(core: CoreExperimentResult, request: ExperimentRequest, extra: { description: string; steps: number; seeds: number[]; backend: string }): ExperimentResult {
  return {
    experiment: request.experiment,
    budget: request.budget,
    description: extra.description,
    task: core.task,
    seeds: extra.seeds,
    steps: extra.steps,
    backend: extra.backend,
    milliseconds: Math.round(core.milliseconds),
    variantOrder: core.variants.map((v) => v.name),
    variants: Object.fromEntries(
      core.variants.map((v) => [v.name, { metrics: Object.fromEntries(Object.entries(v.metrics).map(([key, m]) => [key, { mean: m.mean, std: m.std }])) }]),
    ),
    curves: core.runs.map((r) => ({ variant: r.variant, seed: r.seed, losses: r.losses.map(compact), accuracies: r.accuracies.map(compact), metrics: r.metrics })),
  }
}

/** One run's final weights: a safetensors file named `<variant>/seed<k>.safetensors`. */
export interface TrainedWeights {
  variant: string
  seed: number
  name: string
  data: Uint8Array
}

/** What the worker returns: the LabApi result plus, when recording into a session, the trained weights. */
export type ExperimentJobValue = ExperimentResult & { weights?: TrainedWeights[] }

/** A request may carry a whole experiment config (the CLI's config files); else the preset is used. */
export type ExperimentJobRequest = ExperimentRequest & { config?: ExperimentConfig }

export const experiment: JobHandler<ExperimentJobRequest, ExperimentJobValue> = async (context, request) => {
  const config = request.config ?? experimentPreset(request.experiment, request.budget, request.seeds)
  const runCount = config.variants.length * config.seeds.length
  let pending: TrainingProgress['points'] = []
  let lastSent = Date.now()
  context.progress(0, `${config.name}: ${config.variants.length} variants × ${config.seeds.length} seeds`)
  const weights: TrainedWeights[] = []
  const core = runExperiment(config, {
    onRunEnd: request.sessionId
      ? (run, model) => weights.push({ variant: run.variant, seed: run.seed, name: weightsArtifactName(run.variant, run.seed), data: encodeTrainedWeights(model, { experiment: config.name, variant: run.variant, seed: String(run.seed) }) })
      : undefined,
    checkCancelled: () => context.checkCancelled(),
    onProgress: (p) => {
      pending.push({ variant: p.variant, seed: p.seed, step: p.step, loss: compact(p.loss), accuracy: compact(p.accuracy) })
      const now = Date.now()
      if (now - lastSent < PROGRESS_EVERY_MS) return
      lastSent = now
      const message = `${p.variant} · seed ${p.seed} (run ${p.run + 1}/${p.runCount}) · step ${p.step}/${p.totalSteps} · loss ${p.loss.toFixed(3)}`
      context.progress((p.run + p.step / p.totalSteps) / runCount, message, { run: p.run, runCount, totalSteps: p.totalSteps, points: pending })
      pending = []
    },
  })
  // fraction 1 is never throttled: the last points arrive before the result
  context.progress(1, 'evaluated', { run: runCount - 1, runCount, totalSteps: config.training.steps, points: pending })
  const result = toExperimentResult(core, request, { description: config.description, steps: config.training.steps, seeds: config.seeds, backend: context.backend })
  return request.sessionId ? { ...result, weights } : result
}
