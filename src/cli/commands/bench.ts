// `deberta-lab bench`: times attention / layer / model of a preset or config.json on the lab worker's backend,
// next to the backend's plain 2-D matmul rate on the same shapes.
import { BENCH_WARMUP_MAX_RUNS as WARMUP_MAX_RUNS, BENCH_WARMUP_MIN_RUNS as WARMUP_MIN_RUNS, BENCH_WARMUP_MS as WARMUP_MS } from '../../common/api'
import { LabError } from '../../common/errors'
import { parseReferenceTimings, referencePointsFor, type ReferenceTiming } from '../../common/reference-timings'
import { readRegularFile } from '../../lab/host-files'
import { BENCH_PRESETS, type BenchCaseResult, type BenchPart, type BenchVariant } from '../../lab/host-methods'
import { choiceListOption, choiceOption, integerListOption, integerOption, parseCommandArgs, pathOption } from '../args'
import { EXIT_INTERRUPTED, runInterruptible, withLab } from '../lab'
import { escapeJson, safeText } from '../text'
import type { CliCommand } from '../types'

const DEFAULT_SEQS = [64, 128, 256, 512]
const DEFAULT_REPEATS = 5
const DEFAULT_PRESET = 'base'
const PARTS: BenchPart[] = ['attention', 'layer', 'model']
const VARIANTS: BenchVariant[] = ['disentangled', 'standard']

const USAGE = `Usage: deberta-lab bench [--preset ${BENCH_PRESETS.join('|')} | --config config.json]
                       [--seq 64,128,256,512] [--part attention,layer,model] [--variant disentangled,standard]
                       [--repeats N] [--warmup-ms MS] [--reference FILE] [--json]

Times the implementation on the current backend with synthetic (seeded random) weights, batch 1:
  attention  one self-attention block + output dense + LayerNorm (one layer of the config)
  layer      one encoder layer (attention block + feed-forward)
  model      a forward of the whole encoder of the config (all layers, full vocabulary; no LM head)
Before the parts of each length, a "matmul" line gives the backend's plain 2-D matmul rate on the layer's
dense shapes; predictedMs = flops at that rate. FLOPs count 2·m·n·k per matmul (src/core/flops.ts).
The "standard" variant is BERT-style attention (c2c only) with the same dimensions.
Progress on stderr; the table (or one JSON line per case) on stdout when the cases are done. Ctrl-C stops.

Options:
  --preset <name>     DeBERTa-v3 preset (default ${DEFAULT_PRESET})
  --config <file>     a HF config.json instead of a preset
  --seq <list>        sequence lengths (default ${DEFAULT_SEQS.join(',')})
  --part <list>       parts to time (default ${PARTS.join(',')})
  --variant <list>    disentangled (default) and/or standard
  --repeats <n>       timed runs per case, after its warm-up (default ${DEFAULT_REPEATS})
  --warmup-ms <ms>    untimed warm-up runs of each case after its first (cold) run, for at least this long
                      (default ${WARMUP_MS}; at least ${WARMUP_MIN_RUNS}, at most ${WARMUP_MAX_RUNS} runs in all). A process's first forwards are
                      slower: TensorFlow and oneDNN prepare each shape, V8 compiles the lab's JS (base, T = 128,
                      tensorflow: ~10 runs). "first ms" is the case's first run.
  --reference <file>  timings to compare with, e.g. HF PyTorch timed on this machine: JSON lines
                      {"seq": 128, "part": "model", "median_ms": 330} (the form a PyTorch timing script such as
                      the team's pytorch-reference.sh prints; "part" optional) or T:ms pairs such as 128:330,
                      512:1050, which stand for any part. Each disentangled case of the same part and length gets
                      "ref ms" and "ratio" = median ms / ref ms (JSON: referenceMs, ratio). Time the reference
                      right before or after.
  --json              one JSON line per case instead of a table`

const HEADER = `${'part'.padEnd(9)} ${'variant'.padEnd(12)} ${'seq'.padStart(5)} ${'median ms'.padStart(10)} ${'min ms'.padStart(9)} ${'max ms'.padStart(9)} ${'GFLOP'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'predict ms'.padStart(11)} ${'first ms'.padStart(9)}`

/** Largest reference file read (the reference script prints ~200 bytes per length). */
const MAX_REFERENCE_BYTES = 1024 * 1024

/** A case with its reference, when one was given for its part and length. */
type ComparedCase = BenchCaseResult & { referenceMs?: number; ratio?: number }

function formatRow(r: ComparedCase, withReference: boolean): string {
  const cols = [
    r.part.padEnd(9),
    r.variant.padEnd(12),
    String(r.seq).padStart(5),
    r.medianMs.toFixed(1).padStart(10),
    r.minMs.toFixed(1).padStart(9),
    r.maxMs.toFixed(1).padStart(9),
    (r.flops / 1e9).toFixed(3).padStart(9),
    r.gflops.toFixed(2).padStart(8),
    (r.predictedMs === undefined ? '' : r.predictedMs.toFixed(1)).padStart(11),
    r.firstMs.toFixed(1).padStart(9),
  ]
  if (withReference) cols.push((r.referenceMs === undefined ? '' : r.referenceMs.toFixed(1)).padStart(8), (r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`).padStart(6))
  return cols.join(' ')
}

/**
 * The reference timings of --reference: every line must read (a typo must not silently drop a length), and a
 * line that names a preset must name the one benchmarked.
 */
export function readReferenceFile(file: string, preset: string | undefined): ReferenceTiming[] {
  const text = readRegularFile(file, 'reference file', MAX_REFERENCE_BYTES).toString('utf8')
  const { points, problems } = parseReferenceTimings(text)
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).map((p) => `  ${safeText(p)}`).join('\n')
    throw new LabError('INPUT_INVALID', `the reference file ${file} has ${problems.length} unreadable part${problems.length === 1 ? '' : 's'}:\n${shown}`, { path: file })
  }
  if (points.length === 0) throw new LabError('INPUT_INVALID', `the reference file ${file} holds no timing (JSON lines with seq and median_ms, or T:ms pairs)`, { path: file })
  const other = preset === undefined ? undefined : points.find((p) => p.preset !== undefined && p.preset !== preset)
  if (other) {
    throw new LabError('INPUT_INVALID', `the reference file ${file} times preset ${safeText(other.preset!)} at T = ${other.seq}, but this bench runs preset ${preset}`, { path: file })
  }
  return points
}

/**
 * Each timed part with the reference of its part and length, if any. Only the disentangled variant: the reference
 * times DeBERTa (HF DebertaV2Model), never the BERT-style "standard" attention; matmul rate lines have none.
 */
export function compareWithReference(cases: readonly BenchCaseResult[], points: readonly ReferenceTiming[]): ComparedCase[] {
  return cases.map((r) => {
    if (r.part === 'matmul' || r.variant !== 'disentangled') return r
    const ref = referencePointsFor(points, r.part).find((p) => p.seq === r.seq)
    return ref ? { ...r, referenceMs: ref.ms, ratio: r.medianMs / ref.ms } : r
  })
}

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'time attention / layer / model of a DeBERTa-v3 preset (synthetic weights) against plain matmul',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE)
    if (positionals.length > 0) throw new LabError('BAD_REQUEST', `unexpected argument ${positionals[0]}\n\n${USAGE}`)
    if (values.preset !== undefined && values.config !== undefined) throw new LabError('BAD_REQUEST', '--preset and --config exclude each other')
    const configFile = pathOption(values.config, '--config')
    const preset = configFile === undefined ? choiceOption(values.preset, '--preset', BENCH_PRESETS, DEFAULT_PRESET) : undefined
    const seqs = integerListOption(values.seq, '--seq', DEFAULT_SEQS, { min: 1 })
    const parts = choiceListOption(values.part, '--part', PARTS, PARTS)
    const variants = choiceListOption(values.variant, '--variant', VARIANTS, ['disentangled'])
    const repeats = integerOption(values.repeats, '--repeats', DEFAULT_REPEATS, { min: 1 })
    const warmupMs = integerOption(values['warmup-ms'], '--warmup-ms', WARMUP_MS, { min: 0 })
    const referenceFile = pathOption(values.reference, '--reference')
    const reference = referenceFile === undefined ? null : readReferenceFile(referenceFile, preset)

    return withLab(undefined, async (lab) => {
      const outcome = await runInterruptible(lab, io, (jobId) =>
        lab.benchmarkCases(
          { preset, configFile, seqs, parts, variants, repeats, warmupMs },
          { jobId, onStart: ({ backend }) => io.stderr(`backend ${safeText(backend)}\n`), onProgress: (p) => io.stderr(`${safeText(p.message)}\n`) },
        ),
      )
      if (outcome.interrupted) {
        io.stderr('cancelled: bench stopped by Ctrl-C\n')
        return EXIT_INTERRUPTED
      }
      const report = outcome.value
      const cases: ComparedCase[] = reference ? compareWithReference(report.cases, reference) : report.cases
      const lines = cases.map((r) => (values.json ? escapeJson(JSON.stringify(r)) : formatRow(r, reference !== null)))
      const header = reference ? `${HEADER} ${'ref ms'.padStart(8)} ${'ratio'.padStart(6)}` : HEADER
      io.stdout((values.json ? lines : [header, ...lines]).join('\n') + '\n')
      if (!values.json) io.stderr(`notes: attention/layer = one synthetic layer of the config; model = all ${report.layers} layers, vocab ${report.vocabSize}; batch 1\n`)
      if (reference) {
        const missing = cases.filter((r) => r.part !== 'matmul' && r.variant === 'disentangled' && r.referenceMs === undefined).map((r) => `${r.part} T = ${r.seq}`)
        const impls = [...new Set(reference.map((p) => p.impl).filter((i): i is string => i !== undefined))]
        io.stderr(`reference: ${safeText(referenceFile!)}${impls.length ? ` (${safeText(impls.join(', '))})` : ''}; ratio = median ms / reference ms${missing.length ? `; no reference for ${missing.join(', ')}` : ''}\n`)
      }
      return 0
    })
  },
}

const OPTIONS = {
  preset: { type: 'string' },
  config: { type: 'string' },
  seq: { type: 'string' },
  part: { type: 'string' },
  variant: { type: 'string' },
  repeats: { type: 'string' },
  'warmup-ms': { type: 'string' },
  reference: { type: 'string' },
  json: { type: 'boolean' },
} as const
