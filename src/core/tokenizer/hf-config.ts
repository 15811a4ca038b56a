// The transformers side-files next to a vocabulary: tokenizer_config.json, special_tokens_map.json and
// added_tokens.json. All are optional; present-but-malformed files throw TOKENIZER_FORMAT.
import * as path from 'node:path'
import { LabError } from '../../common/errors'
import { fileLimits, pathExists, readRegularTextFile } from '../files'

export interface AddedTokenSpec {
  content: string
  /** absent when only named in special_tokens_map.json (id then comes from the vocabulary) */
  id?: number
  lstrip?: boolean
  rstrip?: boolean
  special: boolean
}

export interface HfTokenizerConfig {
  doLowerCase: boolean
  /** role → token text: cls_token, sep_token, pad_token, unk_token, mask_token, bos_token, eos_token */
  specialTokens: Partial<Record<'cls' | 'sep' | 'pad' | 'unk' | 'mask' | 'bos' | 'eos', string>>
  /** role → the flags given with it (e.g. mask lstrip) */
  specialFlags: Partial<Record<string, { lstrip?: boolean; rstrip?: boolean }>>
  addedTokens: AddedTokenSpec[]
  addPrefixSpace?: boolean
  tokenizerClass?: string
}

/** Reads a JSON tokenizer file (regular files only, at most maxBytes: default the side-file cap). */
export function readJsonFile(file: string, maxBytes = fileLimits().tokenizerSideFile): unknown {
  const text = readRegularTextFile(file, { maxBytes, what: path.basename(file), missingCode: 'TOKENIZER_NOT_FOUND', invalidCode: 'TOKENIZER_FORMAT' })
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new LabError('TOKENIZER_FORMAT', `${file} is not valid JSON: ${(error as Error).message}`, { path: file })
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function tokenText(v: unknown): { content: string; lstrip?: boolean; rstrip?: boolean } | undefined {
  if (typeof v === 'string') return { content: v }
  if (isObject(v) && typeof v.content === 'string') {
    return {
      content: v.content,
      lstrip: typeof v.lstrip === 'boolean' ? v.lstrip : undefined,
      rstrip: typeof v.rstrip === 'boolean' ? v.rstrip : undefined,
    }
  }
  return undefined
}

const ROLES = ['cls', 'sep', 'pad', 'unk', 'mask', 'bos', 'eos'] as const

/** Reads whichever of the three files exist in `dir`. */
export function readHfTokenizerConfig(dir: string): HfTokenizerConfig {
  const config: HfTokenizerConfig = { doLowerCase: false, specialTokens: {}, specialFlags: {}, addedTokens: [] }
  const addRole = (role: (typeof ROLES)[number], v: unknown): void => {
    const t = tokenText(v)
    if (!t) return
    config.specialTokens[role] = t.content
    config.specialFlags[role] = { lstrip: t.lstrip, rstrip: t.rstrip }
  }
  const tcPath = path.join(dir, 'tokenizer_config.json')
  if (pathExists(tcPath)) {
    const tc = readJsonFile(tcPath)
    if (!isObject(tc)) throw new LabError('TOKENIZER_FORMAT', `${tcPath} is not a JSON object`, { path: tcPath })
    if (typeof tc.do_lower_case === 'boolean') config.doLowerCase = tc.do_lower_case
    if (typeof tc.add_prefix_space === 'boolean') config.addPrefixSpace = tc.add_prefix_space
    if (typeof tc.tokenizer_class === 'string') config.tokenizerClass = tc.tokenizer_class
    for (const role of ROLES) addRole(role, tc[`${role}_token`])
    if (isObject(tc.added_tokens_decoder)) {
      for (const [id, spec] of Object.entries(tc.added_tokens_decoder)) {
        const t = tokenText(spec)
        if (!t || !/^\d+$/.test(id)) {
          throw new LabError('TOKENIZER_FORMAT', `${tcPath}: bad added_tokens_decoder entry "${id}"`, { path: tcPath })
        }
        const special = isObject(spec) && typeof spec.special === 'boolean' ? spec.special : true
        config.addedTokens.push({ content: t.content, id: Number(id), lstrip: t.lstrip, rstrip: t.rstrip, special })
      }
    }
  }
  const stmPath = path.join(dir, 'special_tokens_map.json')
  if (pathExists(stmPath)) {
    const stm = readJsonFile(stmPath)
    if (!isObject(stm)) throw new LabError('TOKENIZER_FORMAT', `${stmPath} is not a JSON object`, { path: stmPath })
    for (const role of ROLES) if (stm[`${role}_token`] !== undefined) addRole(role, stm[`${role}_token`])
  }
  const atPath = path.join(dir, 'added_tokens.json')
  if (pathExists(atPath)) {
    const at = readJsonFile(atPath)
    if (!isObject(at)) throw new LabError('TOKENIZER_FORMAT', `${atPath} is not a JSON object`, { path: atPath })
    for (const [content, id] of Object.entries(at)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        throw new LabError('TOKENIZER_FORMAT', `${atPath}: id of "${content}" is not a non-negative integer`, { path: atPath })
      }
      if (!config.addedTokens.some((t) => t.content === content)) config.addedTokens.push({ content, id, special: true })
    }
  }
  return config
}

/** Largest value of an iterable (no argument spreading: vocabularies have 10^5 entries). */
export function maxOf(values: Iterable<number>, empty: number): number {
  let best = empty
  for (const v of values) if (v > best) best = v
  return best
}
