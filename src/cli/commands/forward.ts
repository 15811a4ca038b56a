// `deberta-lab forward <model-dir> --inputs <inputs.json> --out <out.safetensors> [--components] [--emd]`:
// runs the model on given token ids (in the lab's compute worker) and writes every tensor under the names of the
// golden files. The output is never one of the inputs (src/lab/host-files.ts).
import { LabError } from '../../common/errors'
import { MAX_FORWARD_LENGTH, MAX_FORWARD_TOKENS } from '../../lab/host-methods'
import { choiceOption, integerOption, parseCommandArgs, pathOption } from '../args'
import { EXIT_INTERRUPTED, runInterruptible, withLab } from '../lab'
import { safeText, toJsonText } from '../text'
import type { CliCommand } from '../types'

export { MAX_FORWARD_LENGTH, MAX_FORWARD_TOKENS }

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

export const forwardCommand: CliCommand = {
  name: 'forward',
  summary: 'run a model folder on token ids and write hidden states, attentions, components and MLM logits (safetensors)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE)
    if (positionals.length !== 1) throw new LabError('BAD_REQUEST', `expected exactly one <model-dir>\n\n${USAGE}`)
    const inputsFile = pathOption(values.inputs, '--inputs')
    const out = pathOption(values.out, '--out')
    if (!inputsFile || !out) throw new LabError('BAD_REQUEST', `--inputs and --out are required\n\n${USAGE}`)
    const variant = choiceOption(values.variant, '--variant', ['discriminator', 'generator'] as const, 'discriminator')
    const maskId = values['mask-id'] === undefined ? undefined : integerOption(values['mask-id'], '--mask-id', 0)
    return withLab(undefined, async (lab) => {
      const request = { dir: positionals[0], inputsFile, out, variant, components: values.components === true, emd: values.emd === true, p2p: values.p2p === true, maskId }
      const outcome = await runInterruptible(lab, io, async (jobId) => {
        return lab.forwardToFile(request, { jobId, onStart: ({ backend }) => io.stderr(`backend: ${safeText(backend)}\n`) })
      })
      if (outcome.interrupted) {
        io.stderr(`cancelled: forward stopped by Ctrl-C; ${safeText(out)} was not written\n`)
        return EXIT_INTERRUPTED
      }
      const result = outcome.value
      for (const note of result.notes) io.stderr(`note: ${safeText(note)}\n`)
      io.stdout(
        toJsonText({ out: result.out, tensors: result.tensors, batch: result.batch, length: result.length, maskedPositions: result.maskedPositions, backend: result.backend }, undefined) + '\n',
      )
      return 0
    })
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
