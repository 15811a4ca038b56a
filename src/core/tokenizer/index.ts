// Tokenizer entry point: finds the tokenizer files of a model folder and loads the matching implementation
// (tokenizer.json > spm.model > vocab.json + merges.txt).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { LabError } from '../../common/errors'
import { fileLimits, readRegularFile, readRegularTextFile } from '../files'
import { parseMergesTxt, parseVocabJson } from './bpe'
import { Gpt2BpeTokenizer } from './gpt2-bpe'
import { readHfTokenizerConfig, readJsonFile } from './hf-config'
import { SentencePieceTokenizer } from './sentencepiece'
import { TokenizerJsonTokenizer } from './tokenizer-json'
import type { Tokenizer } from './types'

export type { Encoding, SpecialTokenIds, Tokenizer } from './types'
export { SentencePieceTokenizer } from './sentencepiece'
export { Gpt2BpeTokenizer } from './gpt2-bpe'
export { TokenizerJsonTokenizer } from './tokenizer-json'
export { parseSentencePieceModel } from './sentencepiece-model'
export { readHfTokenizerConfig } from './hf-config'

export type TokenizerKind = Tokenizer['kind']

export interface TokenizerFiles {
  kind: TokenizerKind
  /** file name → absolute path, for every tokenizer file present (model file first) */
  files: Record<string, string>
}

/** Files looked for, in order of preference, per tokenizer kind. */
export const TOKENIZER_CANDIDATES: ReadonlyArray<{ kind: TokenizerKind; required: string[] }> = [
  { kind: 'tokenizer-json', required: ['tokenizer.json'] },
  { kind: 'sentencepiece', required: ['spm.model'] },
  { kind: 'gpt2-bpe', required: ['vocab.json', 'merges.txt'] },
]

const SIDE_FILES = ['tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json']

/** The tokenizer files in `dir`, or undefined when none of the candidates is complete. */
export function findTokenizerFiles(dir: string): TokenizerFiles | undefined {
  for (const { kind, required } of TOKENIZER_CANDIDATES) {
    if (required.every((f) => isFile(path.join(dir, f)))) {
      const files: Record<string, string> = {}
      for (const f of [...required, ...SIDE_FILES]) {
        const p = path.join(dir, f)
        if (isFile(p)) files[f] = path.resolve(p)
      }
      return { kind, files }
    }
  }
  return undefined
}

/** Loads the tokenizer of a model folder. Throws TOKENIZER_NOT_FOUND or TOKENIZER_FORMAT. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  return loadTokenizerSync(dir)
}

export function loadTokenizerSync(dir: string): Tokenizer {
  if (!isDirectory(dir)) throw new LabError('TOKENIZER_NOT_FOUND', `tokenizer folder not found: ${dir}`, { path: dir })
  const found = findTokenizerFiles(dir)
  if (!found) {
    throw new LabError(
      'TOKENIZER_NOT_FOUND',
      `no tokenizer in ${dir}: looked for ${TOKENIZER_CANDIDATES.map((c) => c.required.join(' + ')).join(', ')}`,
      { path: dir },
    )
  }
  const config = readHfTokenizerConfig(dir)
  switch (found.kind) {
    case 'sentencepiece': {
      const file = found.files['spm.model']
      return new SentencePieceTokenizer(new Uint8Array(readVocabularyFile(file)), config, file)
    }
    case 'tokenizer-json':
      return new TokenizerJsonTokenizer(readJsonFile(found.files['tokenizer.json'], fileLimits().tokenizerJson), config)
    case 'gpt2-bpe': {
      const vocabPath = found.files['vocab.json']
      const mergesPath = found.files['merges.txt']
      const vocab = parseVocabJson(readJsonFile(vocabPath, fileLimits().vocabulary), vocabPath)
      const merges = readRegularTextFile(mergesPath, { maxBytes: fileLimits().vocabulary, what: 'merges.txt', missingCode: 'TOKENIZER_NOT_FOUND', invalidCode: 'TOKENIZER_FORMAT' })
      return new Gpt2BpeTokenizer(vocab, parseMergesTxt(merges, mergesPath), config)
    }
  }
}

function readVocabularyFile(file: string): Buffer {
  return readRegularFile(file, { maxBytes: fileLimits().vocabulary, what: path.basename(file), missingCode: 'TOKENIZER_NOT_FOUND', invalidCode: 'TOKENIZER_FORMAT' })
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}
