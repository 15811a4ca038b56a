// Argument parsing shared by every sub-command: node:util parseArgs (strict), with any problem turned into
// BAD_REQUEST carrying the command's usage text, and one reading of option values: whole numbers in plain
// decimal digits only (`0x10`, `1e1`, `1.0`, ` 8` are refused), choices that are own entries of their list
// (`__proto__` is not a preset), and no empty paths.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { LabError } from '../common/errors'

type Options = NonNullable<ParseArgsConfig['options']>

export function parseCommandArgs<const O extends Options>(argv: string[], options: O, usage: string, config: { positionals?: boolean } = {}) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: config.positionals ?? true, strict: true })
  } catch (error) {
    throw new LabError('BAD_REQUEST', `${(error as Error).message}\n\n${usage}`)
  }
}

const DECIMAL = /^[0-9]{1,15}$/

/** A whole number written in plain decimal digits, within [min, max]; INPUT_INVALID naming the option otherwise. */
export function parseInteger(value: string, option: string, range: { min?: number; max?: number } = {}): number {
  const min = range.min ?? 0
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  const bounds = range.max === undefined ? `at least ${min}` : `${min} to ${max}`
  if (!DECIMAL.test(value)) {
    throw new LabError('INPUT_INVALID', `${option} "${value}" is not a whole number in plain decimal digits (${bounds})`, { option, value })
  }
  const n = Number(value)
  if (n < min || n > max) throw new LabError('INPUT_INVALID', `${option} must be ${bounds} (got ${value})`, { option, value })
  return n
}

/** An optional integer option: `fallback` when absent. */
export function integerOption(value: string | undefined, option: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  return value === undefined ? fallback : parseInteger(value, option, range)
}

/** A comma-separated list of integers (`--seq 64,128`). */
export function integerListOption(value: string | undefined, option: string, fallback: number[], range: { min?: number; max?: number } = {}): number[] {
  if (value === undefined) return fallback
  const items = value.split(',').map((s) => s.trim())
  if (items.length === 0 || items.some((s) => s === '')) throw new LabError('INPUT_INVALID', `${option} "${value}" must be a comma-separated list of whole numbers`, { option, value })
  return items.map((item) => parseInteger(item, option, range))
}

/** One of `allowed` (compared as an own list entry, never as an object key). */
export function choiceOption<T extends string>(value: string | undefined, option: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback
  if (!(allowed as readonly string[]).includes(value)) throw new LabError('BAD_REQUEST', `${option} must be one of ${allowed.join(', ')} (got "${value}")`, { option, value })
  return value as T
}

/** A comma-separated list of choices (`--part attention,layer`). */
export function choiceListOption<T extends string>(value: string | undefined, option: string, allowed: readonly T[], fallback: T[]): T[] {
  if (value === undefined) return fallback
  const items = value.split(',').map((s) => s.trim()).filter(Boolean)
  if (items.length === 0) throw new LabError('BAD_REQUEST', `${option} is empty: give one or more of ${allowed.join(', ')}`, { option, value })
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new LabError('BAD_REQUEST', `${option}: "${item}" is not one of ${allowed.join(', ')}`, { option, value: item })
  }
  return items as T[]
}

/** A path option: absent is fine (a default applies), empty is refused rather than read as "the default". */
export function pathOption(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined
  if (value.trim() === '') throw new LabError('INPUT_INVALID', `${option} is empty: give a value, or leave the option out for the default`, { option })
  return value
}
