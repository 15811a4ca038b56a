// `deberta-lab bench`: times attention / layer / model of a preset or config.json on the current backend,
// next to the backend's plain 2-D matmul rate on the same shapes.
import type { BenchmarkPart } from '../../common/api'
import { LabError } from '../../common/errors'
import { describeBackend, initBackend } from '../../core/backend'
import { runBenchmark, type BenchCaseResult } from '../../core/bench'
import { describeConfig, PRESETS, type DebertaConfig, type PresetName } from '../../core/config'
import type { AttentionVariant } from '../../core/flops'
import { readConfigFile } from '../../core/load'
import { parseCommandArgs } from '../args'
import type { CliCommand } from '../types'

const DEFAULT_SEQS = [64, 128, 256, 512]
const DEFAULT_REPEATS = 5
const DEFAULT_PRESET: PresetName = 'base'
const PARTS: BenchmarkPart[] = ['attention', 'layer', 'model']
const VARIANTS: AttentionVariant[] = ['disentangled', 'standard']

const USAGE = `Usage: deberta-lab bench [--preset ${Object.keys(PRESETS).join('|')} | --config config.json]
                       [--seq 64,128,256,512] [--part attention,layer,model] [--variant disentangled,standard]
                       [--repeats N] [--json]

Times the implementation on the current backend with synthetic (seeded random) weights, batch 1:
  attention  one self-attention block + output dense + LayerNorm (one layer of the config)
  layer      one encoder layer (attention block + feed-forward)
  model      a forward of the whole encoder of the config (all layers, full vocabulary; no LM head)
Before the parts of each length, a "matmul" line gives the backend's plain 2-D matmul rate on the layer's
dense shapes; predictedMs = flops at that rate. FLOPs count 2·m·n·k per matmul (src/core/flops.ts).
The "standard" variant is BERT-style attention (c2c only) with the same dimensions.

Options:
  --preset <name>     DeBERTa-v3 preset (default ${DEFAULT_PRESET})
  --config <file>     a HF config.json instead of a preset
  --seq <list>        sequence lengths (default ${DEFAULT_SEQS.join(',')})
  --part <list>       parts to time (default ${PARTS.join(',')})
  --variant <list>    disentangled (default) and/or standard
  --repeats <n>       timed runs per case after one warm-up (default ${DEFAULT_REPEATS})
  --json              one JSON line per case instead of a table`

function parseList<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T[], name: string): T[] {
  if (value === undefined) return fallback
  const items = value.split(',').map((s) => s.trim()).filter(Boolean)
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new LabError('BAD_REQUEST', `--${name}: "${item}" is not one of ${allowed.join(', ')}`)
  }
  return items as T[]
}

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
    let config: DebertaConfig
    let preset: string
    if (values.config !== undefined) {
      config = readConfigFile(values.config)
      preset = values.config
    } else {
      preset = values.preset ?? DEFAULT_PRESET
      if (!(preset in PRESETS)) throw new LabError('BAD_REQUEST', `--preset must be one of ${Object.keys(PRESETS).join(', ')} (got ${preset})`)
      config = PRESETS[preset as PresetName]
    }
    const seqs = values.seq === undefined ? DEFAULT_SEQS : values.seq.split(',').map((s) => Number(s.trim()))
    if (seqs.some((s) => !Number.isInteger(s) || s < 1)) throw new LabError('BAD_REQUEST', `--seq must be a comma-separated list of positive integers`)
    const parts = parseList(values.part, PARTS, PARTS, 'part')
    const variants = parseList(values.variant, VARIANTS, ['disentangled'], 'variant')
    const repeats = values.repeats === undefined ? DEFAULT_REPEATS : Number(values.repeats)
    if (!Number.isInteger(repeats) || repeats < 1) throw new LabError('BAD_REQUEST', '--repeats must be a positive integer')

    const backend = await initBackend()
    io.stderr(`backend ${describeBackend(backend)}; ${preset}: ${describeConfig(config)}; synthetic weights\n`)
    if (!values.json) {
      io.stdout(`${'part'.padEnd(9)} ${'variant'.padEnd(12)} ${'seq'.padStart(5)} ${'median ms'.padStart(10)} ${'min ms'.padStart(9)} ${'max ms'.padStart(9)} ${'GFLOP'.padStart(9)} ${'GFLOP/s'.padStart(8)} ${'predict ms'.padStart(11)}\n`)
    }
    await runBenchmark({
      config,
      preset,
      seqs,
      parts: ['matmul', ...parts],
      variants,
      repeats,
      onCase: (r) => io.stdout((values.json ? JSON.stringify(r) : formatRow(r)) + '\n'),
    })
    if (!values.json) {
      io.stderr(`notes: attention/layer = one synthetic layer of the config; model = all ${config.numHiddenLayers} layers, vocab ${config.vocabSize}; batch 1\n`)
    }
    return 0
  },
}

const OPTIONS = {
  preset: { type: 'string' },
  config: { type: 'string' },
  seq: { type: 'string' },
  part: { type: 'string' },
  variant: { type: 'string' },
  repeats: { type: 'string' },
  json: { type: 'boolean' },
} as const
