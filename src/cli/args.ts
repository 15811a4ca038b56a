// Argument parsing shared by the sub-commands: node:util parseArgs (strict, positionals allowed), with any
// problem turned into BAD_REQUEST carrying the command's usage text.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { LabError } from '../common/errors'

type Options = NonNullable<ParseArgsConfig['options']>

export function parseCommandArgs<const O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new LabError('BAD_REQUEST', `${(error as Error).message}\n\n${usage}`)
  }
}
