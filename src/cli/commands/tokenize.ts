// `deberta-lab tokenize <model-dir> --text "..." [--pair "..."]`: prints the encoding as JSON.
import { LabError } from '../../common/errors'
import { parseCommandArgs } from '../args'
import { runInterruptible, withLab } from '../lab'
import { escapeJson } from '../text'
import type { CliCommand } from '../types'

const USAGE = `Usage: deberta-lab tokenize <model-dir> --text "..." [--pair "..."] [--compact]

Tokenizes text with the tokenizer found in <model-dir> (tokenizer.json, spm.model, or vocab.json + merges.txt)
and prints {"input_ids", "tokens", "token_type_ids", "offsets"} as JSON. Offsets are [start, end) UTF-16
positions in the text the token came from ([0, 0] for added [CLS]/[SEP]).

Options:
  --text <string>   the text to tokenize (required)
  --pair <string>   a second text: [CLS] text [SEP] pair [SEP]
  --compact         one-line JSON`

export const tokenizeCommand: CliCommand = {
  name: 'tokenize',
  summary: 'tokenize text with a model folder\'s tokenizer and print ids, tokens and offsets as JSON',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE)
    if (positionals.length !== 1) throw new LabError('BAD_REQUEST', `expected exactly one <model-dir>\n\n${USAGE}`)
    if (values.text === undefined) throw new LabError('BAD_REQUEST', `--text is required\n\n${USAGE}`)
    const text = values.text
    return withLab(undefined, async (lab) => {
      const outcome = await runInterruptible(lab, io, (jobId) => lab.tokenizeFolder({ dir: positionals[0], text, pair: values.pair }, { jobId }))
      if (outcome.interrupted) return 130
      const result = outcome.value
      io.stdout(escapeJson(values.compact ? JSON.stringify(result) : formatJson({ ...result })) + '\n')
      return 0
    })
  },
}

const OPTIONS = { text: { type: 'string' }, pair: { type: 'string' }, compact: { type: 'boolean' } } as const

/** Pretty JSON with each array on one line (readable for long token lists). */
function formatJson(value: Record<string, unknown>): string {
  const lines = Object.entries(value).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
  return `{\n${lines.join(',\n')}\n}`
}
