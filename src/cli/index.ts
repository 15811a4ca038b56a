// `deberta-lab` entry: dispatches to one sub-command per file in ./commands.
import { toErrorData } from '../common/errors'
import { safeLines, safeText } from './text'
import { APP_VERSION } from '../common/version'
import type { CliCommand, CliIo } from './types'
import { benchCommand } from './commands/bench'
import { forwardCommand } from './commands/forward'
import { modelsCommand } from './commands/models'
import { serveCommand } from './commands/serve'
import { sessionsCommand } from './commands/sessions'
import { tokenizeCommand } from './commands/tokenize'
import { trainCommand } from './commands/train'

export const COMMANDS: CliCommand[] = [forwardCommand, tokenizeCommand, benchCommand, trainCommand, sessionsCommand, modelsCommand, serveCommand]

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    `deberta-lab ${APP_VERSION} — DeBERTa's disentangled attention, computed for real`,
    '',
    'Usage: deberta-lab <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  --help, -h     show help (also: deberta-lab <command> --help)',
    '  --version, -v  print the version',
  ].join('\n')
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(helpText() + '\n')
    return name === undefined ? 1 : 0
  }
  if (name === '--version' || name === '-v') {
    io.stdout(APP_VERSION + '\n')
    return 0
  }
  const command = COMMANDS.find((c) => c.name === name)
  if (!command) {
    io.stderr(`error: unknown command "${safeText(name)}"\n\n${helpText()}\n`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage + '\n')
    return 0
  }
  try {
    return await command.run(rest, io)
  } catch (error) {
    const data = toErrorData(error)
    io.stderr(`error [${data.code}]: ${safeLines(data.message)}\n`)
    return 1
  }
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}
