// `deberta-lab train`: runs one of the paper's ablations for real through the lab service — trains small DeBERTa
// / BERT variants with several seeds in the lab's compute worker — and records the experiment in a session exactly
// as the app does (src/lab/service.ts runExperiment): one run with every curve, metric and final weights.
// Progress on stderr; one JSON line on stdout. Ctrl-C stops at the next training step, records the run as
// cancelled and exits 130.
import type { ExperimentResult, TrainingProgress } from '../../common/api'
import { LabError } from '../../common/errors'
import { TRAIN_BUDGETS, TRAIN_DEFAULT_SEEDS, TRAIN_MAX_SEEDS } from '../../lab/host-methods'
import { choiceOption, integerOption, parseCommandArgs, pathOption } from '../args'
import { EXIT_INTERRUPTED, noteStoreNotice, runInterruptible, withLab } from '../lab'
import { escapeJson, safeText } from '../text'
import type { CliCommand, CliIo } from '../types'

export { EXIT_INTERRUPTED }

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
  --seeds <n>        seeds per variant (default ${TRAIN_DEFAULT_SEEDS})
  --budget <b>       smoke (seconds), default (minutes), full (longer, bigger models); default: default
  --session <id>     record the runs in this session (default: a new session "train: <experiment>")
  --store PATH       experiment store file (default: DEBERTA_LAB_STORE, else the user data folder)

The experiment is recorded as the app records it (one 'experiment' run with every variant × seed's loss and
accuracy curves, eval metrics and per-variant mean/std), so it shows in the app's Experiments section; each run's
final weights are stored in the session as a safetensors artifact <variant>/seed<k>.safetensors.
Ctrl-C stops at the next training step, records the run as cancelled and exits with code 130.

Output: progress on stderr; one JSON line on stdout:
  {"experiment", "budget", "backend", "seeds", "sessionId", "seconds",
   "variants": {"<variant>": {"<metric>": {"mean", "std"}}}}`

const badRequest = (message: string): LabError => new LabError('BAD_REQUEST', `${message}\n\n${USAGE}`)

const OPTIONS = {
  experiment: { type: 'string' },
  seeds: { type: 'string' },
  budget: { type: 'string' },
  session: { type: 'string' },
  store: { type: 'string' },
} as const

/** The one-line summary: per variant, each metric's mean and standard deviation. */
export function summarize(result: ExperimentResult): Record<string, Record<string, { mean: number; std: number }>> {
  const out: Record<string, Record<string, { mean: number; std: number }>> = {}
  for (const name of result.variantOrder) {
    const metrics = result.variants[name]?.metrics ?? {}
    out[name] = Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, { mean: round(m.mean), std: round(m.std) }]))
  }
  return out
}

const round = (x: number): number => Number(x.toPrecision(6))

/** Prints the streamed training points: a line when a run starts, and a few step lines per run. */
function progressPrinter(name: string, io: CliIo) {
  let current = ''
  let runs = 0
  return (training: TrainingProgress): void => {
    const every = Math.max(1, Math.floor(training.totalSteps / PROGRESS_LINES_PER_RUN))
    for (const p of training.points) {
      const key = `${p.variant}/seed ${p.seed}`
      if (key !== current) {
        current = key
        runs++
        io.stderr(`run ${runs}/${training.runCount} ${safeText(name)}/${safeText(key)}\n`)
      }
      if (p.step % every === 0 || p.step === training.totalSteps) io.stderr(`  step ${p.step}/${training.totalSteps} loss ${p.loss.toFixed(4)} acc ${p.accuracy.toFixed(3)}\n`)
    }
  }
}

export const trainCommand: CliCommand = {
  name: 'train',
  summary: "train small BERT / DeBERTa models and compare the paper's ablations (seeds, means, std)",
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, OPTIONS, USAGE, { positionals: false })
    if (!values.experiment) throw badRequest('missing --experiment')
    const budget = choiceOption(values.budget, '--budget', TRAIN_BUDGETS, 'default')
    const seeds = integerOption(values.seeds, '--seeds', TRAIN_DEFAULT_SEEDS, { min: 1, max: TRAIN_MAX_SEEDS })
    const store = pathOption(values.store, '--store')
    const sessionId = pathOption(values.session, '--session')
    const experiment = values.experiment

    return withLab(store, async (lab) => {
      const plan = await lab.prepareExperiment({ experiment, budget, seeds, sessionId })
      const { config } = plan
      await noteStoreNotice(lab, io)
      const onTraining = progressPrinter(config.name, io)
      let session = ''
      const outcome = await runInterruptible(lab, io, (jobId) =>
        lab.trainExperiment(plan, {
          jobId,
          onStart: (info) => {
            session = info.sessionId ?? ''
            io.stderr(`${safeText(config.name)} (${budget}, ${config.variants.length} variants × ${config.seeds.length} seeds, backend ${safeText(info.backend)}) → session ${safeText(session)}\n`)
          },
          onProgress: (p) => {
            if (p.training) onTraining(p.training)
          },
        }),
      )
      if (outcome.interrupted) {
        io.stderr(`cancelled: ${safeText(config.name)} stopped by Ctrl-C; the run is recorded as cancelled in session ${safeText(session)}\n`)
        return EXIT_INTERRUPTED
      }
      const { result, sessionId: recordedIn } = outcome.value
      for (const curve of result.curves) {
        io.stderr(`${safeText(curve.variant)}/seed ${curve.seed}: ${Object.entries(curve.metrics).map(([k, v]) => `${safeText(k)}=${v.toFixed(3)}`).join(' ')}\n`)
      }
      io.stdout(
        escapeJson(
          JSON.stringify({
            experiment: config.name,
            budget,
            backend: result.backend,
            seeds: config.seeds,
            sessionId: recordedIn,
            seconds: round(result.milliseconds / 1000),
            variants: summarize(result),
          }),
        ) + '\n',
      )
      return 0
    })
  },
}
