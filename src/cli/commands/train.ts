// `deberta-lab train`: runs one of the paper's ablations (src/core/train/experiments.ts) for real — trains
// small DeBERTa / BERT variants with several seeds — and records every run with its loss and accuracy
// curves and final weights (`<variant>/seed<k>.safetensors`) in the experiment store. Progress on stderr; one
// JSON line on stdout. Ctrl-C stops at the next training step, records the runs as cancelled and exits 130.
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { parseArgs } from 'node:util'
import { LabError } from '../../common/errors'
import { initBackend } from '../../core/backend'
import {
  BUDGETS,
  DEFAULT_SEEDS,
  EXPERIMENT_NAMES,
  experimentPreset,
  encodeTrainedWeights,
  parseExperimentConfig,
  runExperimentAsync,
  weightsArtifactName,
  type Budget,
  type ExperimentConfig,
  type ExperimentName,
  type ExperimentResult,
} from '../../core/train/experiments'
import { openStoreSafely, resolveStorePath, type ExperimentStore } from '../../store'
import type { CliCommand, CliIo } from '../types'

const MAX_SEEDS = 20
/** progress lines per run on stderr */
const PROGRESS_LINES_PER_RUN = 5

const USAGE = `Usage: deberta-lab train --experiment <name|config.json> [--seeds N] [--budget smoke|default|full]
                       [--session ID] [--store PATH]

Trains small DeBERTa / BERT models on generated data (no downloads) and compares the variants of an ablation.
Every variant runs with seeds 1…N; the summary gives each metric's mean and sample standard deviation.

Experiments:
  attention   disentangled attention (relative c2p + p2c) vs BERT (absolute positions), MLM → probes
  terms       c2c only, +c2p, +p2c, all, MLM → probes
  emd         Enhanced Mask Decoder vs none, on the position-sensitive probes
  length      relative vs absolute positions: offset task, trained on short, tested on long sequences
  clipping    clipped relative distances k = 2, 5, 6, 16 and log buckets on the offset task (offset 4)

A config.json is a full experiment config, or {"preset": "<name>", ...overrides} (see
src/core/train/experiments.ts parseExperimentConfig), e.g.
  {"preset": "terms", "training": {"steps": 400}, "model": {"numLayers": 2}}

Options:
  --experiment <x>   an experiment name or a config.json file
  --seeds <n>        seeds per variant (default ${DEFAULT_SEEDS})
  --budget <b>       smoke (seconds), default (minutes), full (longer, bigger models); default: default
  --session <id>     record the runs in this session (default: a new session "train: <experiment>")
  --store PATH       experiment store file (default: DEBERTA_LAB_STORE, else the user data folder)

Each run's final weights are stored in the session as a safetensors artifact <variant>/seed<k>.safetensors.
Ctrl-C stops at the next training step, records the runs as cancelled and exits with code 130.

Output: progress on stderr; one JSON line on stdout:
  {"experiment", "budget", "backend", "seeds", "sessionId", "seconds",
   "variants": {"<variant>": {"<metric>": {"mean", "std"}}}}`

const badRequest = (message: string): LabError => new LabError('BAD_REQUEST', `${message}\n\n${USAGE}`)

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        experiment: { type: 'string' },
        seeds: { type: 'string' },
        budget: { type: 'string' },
        session: { type: 'string' },
        store: { type: 'string' },
      },
    }).values
  } catch (error) {
    throw badRequest((error as Error).message)
  }
}

function loadExperiment(spec: string, budget: Budget, seeds: number): ExperimentConfig {
  if ((EXPERIMENT_NAMES as readonly string[]).includes(spec)) return experimentPreset(spec as ExperimentName, budget, seeds)
  if (!spec.endsWith('.json')) throw badRequest(`--experiment "${spec}" is neither an experiment (${EXPERIMENT_NAMES.join(', ')}) nor a .json file`)
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(spec, 'utf8'))
  } catch (error) {
    throw new LabError('CONFIG_INVALID', `cannot read ${spec}: ${(error as Error).message}`)
  }
  return parseExperimentConfig(raw, { budget, seeds })
}

/** The one-line summary: per variant, each metric's mean and standard deviation. */
export function summarize(result: ExperimentResult): Record<string, Record<string, { mean: number; std: number }>> {
  const out: Record<string, Record<string, { mean: number; std: number }>> = {}
  for (const v of result.variants) {
    out[v.name] = Object.fromEntries(Object.entries(v.metrics).map(([k, m]) => [k, { mean: round(m.mean), std: round(m.std) }]))
  }
  return out
}

const round = (x: number): number => Number(x.toPrecision(6))

/** The exit code of a command stopped by SIGINT (128 + 2), as shells report it. */
export const EXIT_INTERRUPTED = 130

async function record(
  store: ExperimentStore,
  config: ExperimentConfig,
  sessionId: string,
  backend: string,
  budget: Budget,
  io: CliIo,
  checkCancelled: () => void,
): Promise<ExperimentResult> {
  const summaryRun = store.startRun({ sessionId, kind: 'experiment', name: `train ${config.name}`, config: { budget, experiment: config }, backend })
  let current: { id: string; label: string } | null = null
  const every = Math.max(1, Math.floor(config.training.steps / PROGRESS_LINES_PER_RUN))
  try {
    const result = await runExperimentAsync(config, {
      checkCancelled,
      onRunStart: ({ variant, seed, run, runCount, model }) => {
        const label = `${config.name}/${variant}/seed ${seed}`
        const started = store.startRun({ sessionId, kind: 'experiment', name: label, config: { experiment: config.name, budget, variant, seed, model, task: config.task, training: config.training }, seed, backend })
        current = { id: started.id, label }
        io.stderr(`run ${run + 1}/${runCount} ${label}\n`)
      },
      onProgress: (p) => {
        if (p.step % every === 0 || p.step === p.totalSteps) {
          io.stderr(`  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(3)} lr ${p.learningRate.toExponential(2)}\n`)
        }
      },
      onRunEnd: (run, model) => {
        if (!current) return
        store.putArtifact({
          sessionId,
          runId: current.id,
          name: weightsArtifactName(run.variant, run.seed),
          kind: 'weights',
          data: encodeTrainedWeights(model, { experiment: config.name, variant: run.variant, seed: String(run.seed) }),
        })
        const steps = run.losses.length
        store.logMetrics(current.id, [
          ...run.losses.map((value, k) => ({ key: 'train/loss', step: k + 1, value })),
          ...run.accuracies.map((value, k) => ({ key: 'train/accuracy', step: k + 1, value })),
          ...Object.entries(run.metrics).map(([key, value]) => ({ key: `eval/${key}`, step: steps, value })),
        ])
        store.finishRun(current.id, { status: 'done', result: { metrics: run.metrics, milliseconds: Math.round(run.milliseconds) } })
        io.stderr(`  ${Object.entries(run.metrics).map(([k, v]) => `${k}=${v.toFixed(3)}`).join(' ')}\n`)
        current = null
      },
    })
    const summary = summarize(result)
    store.logMetrics(
      summaryRun.id,
      Object.entries(summary).flatMap(([variant, metrics]) =>
        Object.entries(metrics).flatMap(([key, m]) => [
          { key: `${variant}/${key}/mean`, value: m.mean },
          { key: `${variant}/${key}/std`, value: m.std },
        ]),
      ),
    )
    store.finishRun(summaryRun.id, { status: 'done', result: { variants: summary, seeds: config.seeds, seconds: round(result.milliseconds / 1000) } })
    return result
  } catch (error) {
    const status = error instanceof LabError && error.code === 'CANCELLED' ? 'cancelled' : 'failed'
    const message = (error as Error).message
    const open = current as { id: string } | null
    if (open) store.finishRun(open.id, { status, error: message })
    store.finishRun(summaryRun.id, { status, error: message })
    throw error
  }
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: "train small BERT / DeBERTa models and compare the paper's ablations (seeds, means, std)",
  usage: USAGE,
  async run(argv, io) {
    const values = parse(argv)
    if (!values.experiment) throw badRequest('missing --experiment')
    const budget = (values.budget ?? 'default') as Budget
    if (!(BUDGETS as readonly string[]).includes(budget)) throw badRequest(`--budget must be one of ${BUDGETS.join(', ')}, not "${budget}"`)
    const seeds = values.seeds === undefined ? DEFAULT_SEEDS : Number(values.seeds)
    if (!Number.isInteger(seeds) || seeds < 1 || seeds > MAX_SEEDS) throw badRequest(`--seeds must be an integer in [1, ${MAX_SEEDS}]`)
    const config = loadExperiment(values.experiment, budget, seeds)

    // Ctrl-C: stop at the next training step (a second Ctrl-C falls back to the default: exit at once).
    let interrupted = false
    const onSigint = (): void => {
      interrupted = true
      io.stderr('interrupt: stopping at the next step (Ctrl-C again to quit at once)\n')
    }
    process.once('SIGINT', onSigint)
    try {
      return await trainInStore(values, config, budget, io, () => interrupted)
    } finally {
      process.removeListener('SIGINT', onSigint)
    }
  },
}

async function trainInStore(values: ReturnType<typeof parse>, config: ExperimentConfig, budget: Budget, io: CliIo, isInterrupted: () => boolean): Promise<number> {
  const backend = await initBackend()
  const path = resolveStorePath({ cliFlag: values.store, env: process.env, platform: process.platform, home: homedir() })
  const { store, notice } = openStoreSafely(path)
  if (notice) io.stderr(`note: the store at ${path} was damaged (${notice.reason}); it was moved to ${notice.movedTo} and a fresh store was opened\n`)
  try {
    const sessionId = values.session ? store.getSession(values.session).id : store.createSession({ name: `train: ${config.name}` }).id
    io.stderr(`${config.name} (${budget}, ${config.variants.length} variants × ${config.seeds.length} seeds, backend ${backend.name}) → session ${sessionId}\n`)
    let result: ExperimentResult
    try {
      result = await record(store, config, sessionId, backend.name, budget, io, () => {
        if (isInterrupted()) throw new LabError('CANCELLED', 'interrupted (Ctrl-C)')
      })
    } catch (error) {
      if (!(error instanceof LabError && error.code === 'CANCELLED')) throw error
      io.stderr(`cancelled: ${config.name} stopped by Ctrl-C; the runs are recorded as cancelled in session ${sessionId}\n`)
      return EXIT_INTERRUPTED
    }
    io.stdout(
      JSON.stringify({
        experiment: config.name,
        budget,
        backend: backend.name,
        seeds: config.seeds,
        sessionId,
        seconds: round(result.milliseconds / 1000),
        variants: summarize(result),
      }) + '\n',
    )
    return 0
  } finally {
    store.close()
  }
}
