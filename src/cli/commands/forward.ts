// `deberta-lab forward <model-dir> --inputs <inputs.json> --out <out.safetensors> [--components] [--emd]`:
// runs the model on given token ids and writes every tensor under the names of the golden files.
import * as fs from 'node:fs'
import { LabError } from '../../common/errors'
import { initBackend } from '../../core/backend'
import { writeSafetensors, type HostTensor } from '../../core/checkpoint'
import { loadPretrained } from '../../core/load'
import { findMaskPositions, type FloatArray, type ForwardResult } from '../../core/model'
import { findTokenizerFiles, loadTokenizerSync } from '../../core/tokenizer'
import { parseCommandArgs } from '../args'
import type { CliCommand } from '../types'
import { checkOutputFile } from '../files'

const USAGE = `Usage: deberta-lab forward <model-dir> --inputs <inputs.json> --out <out.safetensors> [options]

Runs the model in <model-dir> (config.json + model.safetensors or pytorch_model.bin) on the token ids of
<inputs.json> and writes a safetensors file with the tensors named as in test/fixtures/*/golden.safetensors:
  input_ids, attention_mask (I64 [B,T]), embedding_output and hidden_states.0..L (F32 [B,T,H]),
  attentions.0..L-1 (F32 [B,NH,T,T]), relative_pos (I64 [T,T]),
  with --components: layer.N.c2c / layer.N.c2p / layer.N.p2c (F32 [B,NH,T,T], every layer; also layer.N.p2p with --p2p),
  when the checkpoint has an MLM head and the inputs hold [MASK] tokens:
    mlm.masked_positions (I64 [N,2]), mlm.plain_logits (F32 [N,V]),
    with --emd also mlm.emd_logits (F32 [N,V]) and emd.query_states.0/1, emd.layer_output.0/1 (F32 [B,T,H]).

<inputs.json>: {"input_ids": [[...], ...], "attention_mask"?: [[...]], "token_type_ids"?: [[...]],
"mask_token_id"?: n} (camelCase accepted; a golden.json with an "inputs" object works too).
The [MASK] id comes from --mask-id, else inputs.json, else the folder's tokenizer files, else config.json.

Options:
  --inputs <file>        token ids (required)
  --out <file>           safetensors file to write (required)
  --components           write the score components of every layer
  --emd                  also run the Enhanced Mask Decoder
  --p2p                  compute the p2p term (lab toggle; changes the score scale)
  --mask-id <n>          the [MASK] token id
  --variant <name>       discriminator (default) or generator (generator_config.json + pytorch_model.generator.bin)`

interface InputsFile {
  inputIds: number[][]
  attentionMask?: number[][]
  tokenTypeIds?: number[][]
  maskTokenId?: number
}

function isMatrix(value: unknown): value is number[][] {
  return Array.isArray(value) && value.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number'))
}

function asMatrix(value: unknown, field: string): number[][] | undefined {
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return [value as number[]]
  if (isMatrix(value)) return value
  throw new LabError('INPUT_INVALID', `inputs: ${field} must be a list of integer lists`, { field })
}

/** Longest row and most tokens per call: forward writes every hidden state and attention map (T² per head). */
export const MAX_FORWARD_LENGTH = 2048
export const MAX_FORWARD_TOKENS = 8192

export function readInputsFile(path: string): InputsFile {
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(path, 'utf8'))
  } catch (error) {
    throw new LabError('INPUT_INVALID', `cannot read ${path}: ${(error as Error).message}`, { path })
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new LabError('INPUT_INVALID', `${path} must hold a JSON object`, { path })
  let obj = raw as Record<string, unknown>
  if (obj.inputs && typeof obj.inputs === 'object' && !Array.isArray(obj.inputs)) obj = obj.inputs as Record<string, unknown>
  const pick = (...names: string[]): unknown => names.map((n) => obj[n]).find((v) => v !== undefined)
  const inputIds = asMatrix(pick('input_ids', 'inputIds'), 'input_ids')
  if (!inputIds) throw new LabError('INPUT_INVALID', `${path}: input_ids is missing`, { field: 'input_ids', path })
  const maskTokenId = pick('mask_token_id', 'maskTokenId')
  if (maskTokenId !== undefined && maskTokenId !== null && !Number.isInteger(maskTokenId)) {
    throw new LabError('INPUT_INVALID', `${path}: mask_token_id must be an integer`, { field: 'mask_token_id' })
  }
  return {
    inputIds,
    attentionMask: asMatrix(pick('attention_mask', 'attentionMask'), 'attention_mask'),
    tokenTypeIds: asMatrix(pick('token_type_ids', 'tokenTypeIds'), 'token_type_ids'),
    maskTokenId: maskTokenId === null ? undefined : (maskTokenId as number | undefined),
  }
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

/** The golden-file tensors of a forward result. */
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

export const forwardCommand: CliCommand = {
  name: 'forward',
  summary: 'run a model folder on token ids and write hidden states, attentions, components and MLM logits (safetensors)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE)
    if (positionals.length !== 1) throw new LabError('BAD_REQUEST', `expected exactly one <model-dir>\n\n${USAGE}`)
    if (!values.inputs || !values.out) throw new LabError('BAD_REQUEST', `--inputs and --out are required\n\n${USAGE}`)
    const variant = values.variant ?? 'discriminator'
    if (variant !== 'discriminator' && variant !== 'generator') {
      throw new LabError('BAD_REQUEST', `--variant must be discriminator or generator (got ${variant})`)
    }
    let maskIdOption: number | undefined
    if (values['mask-id'] !== undefined) {
      maskIdOption = Number(values['mask-id'])
      if (!Number.isInteger(maskIdOption) || maskIdOption < 0) throw new LabError('BAD_REQUEST', `--mask-id must be a non-negative integer`)
    }
    const dir = positionals[0]
    checkOutputFile(values.out, '--out file')
    const inputs = readInputsFile(values.inputs)
    const T = Math.max(...inputs.inputIds.map((row) => row.length))
    if (T > MAX_FORWARD_LENGTH) throw new LabError('SEQUENCE_TOO_LONG', `${values.inputs}: rows of ${T} tokens; forward takes at most ${MAX_FORWARD_LENGTH} (it writes every attention map)`, { length: T, max: MAX_FORWARD_LENGTH })
    const total = inputs.inputIds.length * T
    if (total > MAX_FORWARD_TOKENS) throw new LabError('INPUT_INVALID', `${values.inputs}: ${inputs.inputIds.length} rows × ${T} tokens; forward takes at most ${MAX_FORWARD_TOKENS} tokens in all: split the batch`)

    const backend = await initBackend()
    io.stderr(`backend: ${backend.name}\n`)
    const model = await loadPretrained(dir, { variant })
    try {
      const maskTokenId = maskIdOption ?? inputs.maskTokenId ?? tokenizerMaskId(dir) ?? model.config.maskTokenId
      const attentionMask = inputs.attentionMask ?? inputs.inputIds.map((row) => row.map(() => 1))
      let positions: Array<[number, number]> = []
      if (model.hasMlmHead && maskTokenId !== undefined) positions = findMaskPositions(inputs.inputIds, maskTokenId)
      if (values.emd && !model.hasMlmHead) {
        throw new LabError('NO_MLM_HEAD', `${dir}: --emd needs an MLM head (lm_predictions.lm_head or cls.predictions), which this checkpoint does not have`)
      }
      if (!model.hasMlmHead) io.stderr('note: the checkpoint has no MLM head; no mlm.* tensors written\n')
      else if (maskTokenId === undefined) io.stderr('note: no [MASK] id (use --mask-id); no mlm.* tensors written\n')
      else if (positions.length === 0) io.stderr(`note: no [MASK] (id ${maskTokenId}) in the inputs; no mlm.* tensors written\n`)
      const wantMlm = positions.length > 0
      const result = model.forward(
        { inputIds: inputs.inputIds, attentionMask, tokenTypeIds: inputs.tokenTypeIds },
        {
          hiddenStates: true,
          attentions: true,
          components: values.components === true,
          p2p: values.p2p === true,
          mlm: wantMlm ? { positions, plain: true, emd: values.emd === true, emdStates: values.emd === true } : undefined,
        },
      )
      const tensors = goldenTensors(result, { inputIds: inputs.inputIds, attentionMask })
      writeSafetensors(values.out, tensors, { format: 'pt', producer: 'deberta-lab forward' })
      io.stdout(
        JSON.stringify({
          out: values.out,
          tensors: Object.keys(tensors).length,
          batch: result.batchSize,
          length: result.length,
          maskedPositions: positions.length,
          backend: backend.name,
        }) + '\n',
      )
      return 0
    } finally {
      model.dispose()
    }
  },
}

const OPTIONS = {
  inputs: { type: 'string' },
  out: { type: 'string' },
  components: { type: 'boolean' },
  emd: { type: 'boolean' },
  p2p: { type: 'boolean' },
  'mask-id': { type: 'string' },
  variant: { type: 'string' },
} as const
