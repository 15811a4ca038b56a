// Facts about a model folder without loading its weights: config.json's model_type, the weights file's tensor
// index (safetensors header or the pickle of pytorch_model.bin; src/core/checkpoint reads both lazily), the MLM
// head's keys, the tokenizer and the size on disk. A folder that cannot be used says why (`broken`).
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { FoundModel } from '../../common/api'
import { openTensorFile } from '../../core/checkpoint'
import { resolveModelFolder } from '../../core/checkpoint/folder'
import { readConfigFile } from '../../core/load'
import { findTokenizerFiles, TOKENIZER_CANDIDATES } from '../../core/tokenizer'

/** The model types the lab runs (config.json model_type). */
export const LAB_MODEL_TYPES = ['deberta', 'deberta-v2', 'bert'] as const

export type FolderFacts = Omit<FoundModel, 'source' | 'name' | 'ref' | 'commit' | 'refs'>

/** Sum of the sizes of the files in `dir` (symlinks followed, one level of subfolders); missing blobs are named. */
function folderSize(dir: string): { bytes: number; dangling: string[] } {
  let bytes = 0
  const dangling: string[] = []
  const visit = (folder: string, depth: number): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      let stat: fs.Stats
      try {
        stat = fs.statSync(full)
      } catch {
        dangling.push(path.relative(dir, full))
        continue
      }
      if (stat.isFile()) bytes += stat.size
      else if (stat.isDirectory() && depth < 1) visit(full, depth + 1)
    }
  }
  visit(dir, 0)
  return { bytes, dangling }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Inspects a folder. Returns null when config.json names a model type the lab does not run (the folder is
 * someone else's model, not a broken one).
 */
export function inspectModelFolder(dir: string): FolderFacts | null {
  const facts: FolderFacts = { path: dir, sizeBytes: 0, mlmHead: null, emd: false, tokenizer: null }
  const problems: string[] = []
  try {
    const size = folderSize(dir)
    facts.sizeBytes = size.bytes
    if (size.dangling.length > 0) problems.push(`${size.dangling.join(', ')}: the file it links to is missing (interrupted download or cleaned cache)`)
  } catch (error) {
    return { ...facts, broken: `cannot read the folder: ${message(error)}` }
  }
  const configPath = path.join(dir, 'config.json')
  let raw: { model_type?: unknown }
  try {
    raw = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { model_type?: unknown }
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    return { ...facts, broken: [...problems, missing ? 'no config.json' : `config.json is unreadable: ${message(error)}`].join('; ') }
  }
  if (typeof raw.model_type === 'string') {
    facts.modelType = raw.model_type
    if (!(LAB_MODEL_TYPES as readonly string[]).includes(raw.model_type)) return null
  }
  try {
    readConfigFile(configPath)
  } catch (error) {
    problems.push(message(error))
  }
  facts.tokenizer = findTokenizerFiles(dir)?.kind ?? null
  if (!facts.tokenizer) problems.push(`no tokenizer (looked for ${TOKENIZER_CANDIDATES.map((c) => c.required.join(' + ')).join(', ')})`)
  try {
    const files = resolveModelFolder(dir)
    facts.weightsFile = path.basename(files.weightsPath)
    const source = openTensorFile(files.weightsPath)
    try {
      let count = 0
      let positions = false
      for (const entry of source.entries()) {
        if (/^lm_predictions\.lm_head\.|\.lm_predictions\.lm_head\./.test(entry.name)) facts.mlmHead = 'official'
        else if (/(^|\.)cls\.predictions\./.test(entry.name) && facts.mlmHead === null) facts.mlmHead = 'cls'
        if (entry.name.endsWith('embeddings.position_embeddings.weight')) positions = true
        if (entry.dtype.startsWith('F') || entry.dtype === 'BF16') count += entry.shape.reduce((a, b) => a * b, 1)
      }
      facts.parameterCount = count
      facts.emd = facts.mlmHead !== null && positions && facts.modelType !== 'bert'
    } finally {
      source.close()
    }
  } catch (error) {
    // a weights link whose blob is gone is already named above
    const weightsLinkDangling = problems.length > 0 && /(^|, )(model\.safetensors|pytorch_model\.bin)(,|:)/.test(problems[0])
    if (!weightsLinkDangling) problems.push(message(error))
  }
  if (problems.length > 0) facts.broken = problems.join('; ')
  return facts
}
