// `deberta-lab bench`: times attention / layer / model of a preset or config.json on the lab worker's backend,
// next to the backend's plain 2-D matmul rate on the same shapes.
import { BENCH_WARMUP_MAX_RUNS as WARMUP_MAX_RUNS, BENCH_WARMUP_MIN_RUNS as WARMUP_MIN_RUNS, BENCH_WARMUP_MS as WARMUP_MS } from '../../common/api'
import { LabError } from '../../common/errors'
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
                       [--repeats N] [--warmup-ms MS] [--json]

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
  --json              one JSON line per case instead of a table`

const HEADER = `${'part'.padEnd(9)} ${'variant'.padEnd(12)} ${'seq'.padStart(5)} ${'median ms'.padStart(10)} ${'min ms'.padStart(9)} ${'max ms'.padStart(9)} ${'GFLOP'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'predict ms'.padStart(11)} ${'first ms'.padStart(9)}`

function formatRow(r: BenchCaseResult): string {
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
  return cols.join(' ')
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
      const lines = report.cases.map((r) => (values.json ? escapeJson(JSON.stringify(r)) : formatRow(r)))
      io.stdout((values.json ? lines : [HEADER, ...lines]).join('\n') + '\n')
      if (!values.json) io.stderr(`notes: attention/layer = one synthetic layer of the config; model = all ${report.layers} layers, vocab ${report.vocabSize}; batch 1\n`)
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
  json: { type: 'boolean' },
} as const
