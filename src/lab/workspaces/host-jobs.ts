// Worker jobs behind the lab's host methods (src/lab/host-methods.ts), used by the command line: tokenizing with a
// folder's tokenizer, a forward pass written as golden-named safetensors, the speed benchmark of any config, and
// turning an experiment name or config file into a full experiment config. Like every job they run in the compute
// worker, report progress and stop at the next step when cancelled.
import { basename, dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { renameSync, rmSync } from 'node:fs'
import { LabError } from '../../common/errors'
import type { BenchmarkPart } from '../../common/api'
import { runBenchmark, type BenchCaseResult } from '../../core/bench'
import { writeSafetensors, type HostTensor } from '../../core/checkpoint'
import { describeConfig, parseHfConfigText, PRESETS, type DebertaConfig, type PresetName } from '../../core/config'
import type { AttentionVariant } from '../../core/flops'
import { loadPretrained } from '../../core/load'
import { findMaskPositions, type FloatArray, type ForwardResult } from '../../core/model'
import { findTokenizerFiles, loadTokenizer, loadTokenizerSync } from '../../core/tokenizer'
import { experimentPreset, parseExperimentConfig, validateExperiment, type Budget, type ExperimentConfig, type ExperimentName } from '../../core/train/experiments'
import type { JobHandler } from '../jobs'
import { expectedCases } from './benchmark'

export type { BenchCaseResult } from '../../core/bench'
export type { ExperimentConfig } from '../../core/train/experiments'

// ---------------------------------------------------------------------------------------------
// tokenize

export interface FolderTokenizeRequest {
  dir: string
  text: string
  pair?: string
}
export interface FolderEncoding {
  input_ids: number[]
  tokens: string[]
  token_type_ids: number[]
  offsets: Array<[number, number]>
}

export const tokenizeFolder: JobHandler<FolderTokenizeRequest, FolderEncoding> = async (_context, request) => {
  const tokenizer = await loadTokenizer(request.dir)
  const enc = tokenizer.encode(request.text, request.pair)
  return { input_ids: enc.inputIds, tokens: enc.tokens, token_type_ids: enc.tokenTypeIds, offsets: enc.offsets }
}

// ---------------------------------------------------------------------------------------------
// forward

export interface ForwardInputs {
  inputIds: number[][]
  attentionMask?: number[][]
  tokenTypeIds?: number[][]
  maskTokenId?: number
}

export interface ForwardFileJob {
  dir: string
  variant: 'discriminator' | 'generator'
  inputs: ForwardInputs
  /** absolute path, already checked (src/lab/host-files.ts checkOutputTarget) */
  out: string
  components: boolean
  emd: boolean
  p2p: boolean
  maskId?: number
}

export interface ForwardFileValue {
  tensors: number
  batch: number
  length: number
  maskedPositions: number
  /** what was left out and why (no MLM head, no [MASK]) */
  notes: string[]
}

/** The [MASK] id of a folder's tokenizer files, when it has any. */
function tokenizerMaskId(dir: string): number | undefined {
  if (!findTokenizerFiles(dir)) return undefined
  try {
    return loadTokenizerSync(dir).special.mask
  } catch {
    return undefined
  }
}

const f32 = (a: FloatArray): HostTensor => ({ dtype: 'F32', shape: a.shape, data: a.data })
const i64 = (shape: number[], values: ArrayLike<number>): HostTensor => ({
  dtype: 'I64',
  shape,
  data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))),
})

/** The golden-file tensors of a forward result (names as in test/fixtures/*\/golden.safetensors). */
export function goldenTensors(result: ForwardResult, inputs: { inputIds: number[][]; attentionMask: number[][] }): Record<string, HostTensor> {
  const { batchSize: B, length: T } = result
  const out: Record<string, HostTensor> = {
    input_ids: i64([B, T], inputs.inputIds.flat()),
    attention_mask: i64([B, T], inputs.attentionMask.flat()),
  }
  const hidden = result.hiddenStates ?? [result.lastHiddenState]
  if (result.hiddenStates) out.embedding_output = f32(result.hiddenStates[0])
  hidden.forEach((h, l) => (out[`hidden_states.${result.hiddenStates ? l : hidden.length - 1}`] = f32(h)))
  result.attentions?.forEach((a, l) => (out[`attentions.${l}`] = f32(a)))
  if (result.relativePos) out.relative_pos = i64(result.relativePos.shape, result.relativePos.data)
  for (const c of result.components ?? []) {
    out[`layer.${c.layer}.c2c`] = f32(c.c2c)
    if (c.c2p) out[`layer.${c.layer}.c2p`] = f32(c.c2p)
    if (c.p2c) out[`layer.${c.layer}.p2c`] = f32(c.p2c)
    if (c.p2p) out[`layer.${c.layer}.p2p`] = f32(c.p2p)
  }
  const mlm = result.mlm
  if (mlm && mlm.positions.length > 0) {
    out['mlm.masked_positions'] = i64([mlm.positions.length, 2], mlm.positions.flat())
    if (mlm.plainLogits) out['mlm.plain_logits'] = f32(mlm.plainLogits)
    if (mlm.emdLogits) out['mlm.emd_logits'] = f32(mlm.emdLogits)
    mlm.emdStates?.queryStates.forEach((s, k) => (out[`emd.query_states.${k}`] = f32(s)))
    mlm.emdStates?.layerOutputs.forEach((s, k) => (out[`emd.layer_output.${k}`] = f32(s)))
  }
  return out
}

export const forwardToFile: JobHandler<ForwardFileJob, ForwardFileValue> = async (context, request) => {
  const { dir, inputs } = request
  context.progress(0, `loading ${dir}`)
  const model = await loadPretrained(dir, { variant: request.variant })
  try {
    context.checkCancelled()
    const notes: string[] = []
    const maskTokenId = request.maskId ?? inputs.maskTokenId ?? tokenizerMaskId(dir) ?? model.config.maskTokenId
    const attentionMask = inputs.attentionMask ?? inputs.inputIds.map((row) => row.map(() => 1))
    let positions: Array<[number, number]> = []
    if (model.hasMlmHead && maskTokenId !== undefined) positions = findMaskPositions(inputs.inputIds, maskTokenId)
    if (request.emd && !model.hasMlmHead) {
      throw new LabError('NO_MLM_HEAD', `${dir}: --emd needs an MLM head (lm_predictions.lm_head or cls.predictions), which this checkpoint does not have`)
    }
    if (!model.hasMlmHead) notes.push('the checkpoint has no MLM head; no mlm.* tensors written')
    else if (maskTokenId === undefined) notes.push('no [MASK] id (use --mask-id); no mlm.* tensors written')
    else if (positions.length === 0) notes.push(`no [MASK] (id ${maskTokenId}) in the inputs; no mlm.* tensors written`)
    const result = model.forward(
      { inputIds: inputs.inputIds, attentionMask, tokenTypeIds: inputs.tokenTypeIds },
      {
        hiddenStates: true,
        attentions: true,
        components: request.components,
        p2p: request.p2p,
        mlm: positions.length > 0 ? { positions, plain: true, emd: request.emd, emdStates: request.emd } : undefined,
        onProgress: (done, total) => {
          context.checkCancelled()
          context.progress((0.9 * done) / Math.max(1, total), `forward: layer ${done} of ${total}`)
        },
      },
    )
    const tensors = goldenTensors(result, { inputIds: inputs.inputIds, attentionMask })
    // a temporary file beside the target, renamed over it: never half a file, never written through a link
    const temp = join(dirname(request.out), `.${basename(request.out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`)
    try {
      writeSafetensors(temp, tensors, { format: 'pt', producer: 'deberta-lab forward' })
      renameSync(temp, request.out)
    } catch (error) {
      rmSync(temp, { force: true })
      if (error instanceof LabError) throw error
      throw new LabError('BAD_REQUEST', `could not write ${request.out}: ${(error as Error).message}`, { path: request.out })
    }
    context.progress(1, `wrote ${Object.keys(tensors).length} tensors`)
    return { tensors: Object.keys(tensors).length, batch: result.batchSize, length: result.length, maskedPositions: positions.length, notes }
  } finally {
    model.dispose()
  }
}

// ---------------------------------------------------------------------------------------------
// bench

export interface BenchCasesJob {
  /** a preset name, or the text of a HF config.json (`configText`, labelled `label`) */
  preset?: string
  configText?: string
  label: string
  seqs: number[]
  parts: BenchmarkPart[]
  variants: AttentionVariant[]
  repeats: number
  /** warm-up time per case (BENCH_WARMUP_MS, src/common/api.ts when absent) */
  warmupMs?: number
}

export interface BenchCasesValue {
  backend: string
  description: string
  layers: number
  vocabSize: number
  cases: BenchCaseResult[]
}

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[]

/** A preset by name; only the presets themselves (`__proto__`, `toString` are not presets). */
export function presetConfig(name: string): DebertaConfig {
  if (!Object.hasOwn(PRESETS, name)) throw new LabError('INPUT_INVALID', `--preset must be one of ${PRESET_NAMES.join(', ')} (got "${name}")`, { field: 'preset', value: name })
  return PRESETS[name as PresetName]
}

export const benchCases: JobHandler<BenchCasesJob, BenchCasesValue> = async (context, request) => {
  const config = request.configText !== undefined ? parseHfConfigText(request.configText, request.label) : presetConfig(request.preset ?? '')
  context.progress(0, `${request.label}: ${describeConfig(config)}; synthetic weights`)
  const total = Math.max(1, expectedCases(request))
  let done = 0
  const cases = await runBenchmark({
    config,
    preset: request.label,
    seqs: request.seqs,
    parts: request.parts,
    variants: request.variants,
    repeats: request.repeats,
    warmupMs: request.warmupMs,
    onCase: (r) => {
      done++
      context.progress(done / total, `${r.part} · ${r.variant} · T = ${r.seq}: ${r.medianMs.toFixed(1)} ms`)
    },
    checkCancelled: () => context.checkCancelled(),
    yieldToEvents: () => context.yieldToEvents(),
  })
  return { backend: context.backend, description: describeConfig(config), layers: config.numHiddenLayers, vocabSize: config.vocabSize, cases }
}

// ---------------------------------------------------------------------------------------------
// experiments

export interface PrepareExperimentJob {
  /** a preset name, or the parsed JSON of a config file */
  preset?: string
  raw?: unknown
  budget: string
  seeds: number
}

/** The full experiment config (validated: every variant's model is built once, with no weights kept). */
export const prepareExperiment: JobHandler<PrepareExperimentJob, ExperimentConfig> = async (_context, request) => {
  const budget = request.budget as Budget
  if (request.raw !== undefined) return parseExperimentConfig(request.raw, { budget, seeds: request.seeds })
  const config = experimentPreset(request.preset as ExperimentName, budget, request.seeds)
  validateExperiment(config)
  return config
}
