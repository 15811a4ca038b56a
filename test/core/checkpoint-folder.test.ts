import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { resolveModelFolder } from '../../src/core/checkpoint'

const FIXTURES = path.resolve(__dirname, '../fixtures')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-folder-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function folder(name: string, files: string[]): string {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir, { recursive: true })
  for (const f of files) fs.writeFileSync(path.join(dir, f), f.endsWith('.json') ? '{}' : 'x')
  return dir
}

function error(fn: () => unknown): LabError {
  try {
    fn()
  } catch (e) {
    if (e instanceof LabError) return e
    throw e
  }
  throw new Error('expected a LabError')
}

describe('resolveModelFolder', () => {
  it('prefers model.safetensors over pytorch_model.bin', () => {
    const m = resolveModelFolder(path.join(FIXTURES, 'deberta-v3-tiny'))
    expect(m.configPath).toBe(path.join(FIXTURES, 'deberta-v3-tiny', 'config.json'))
    expect(m.weightsPath).toBe(path.join(FIXTURES, 'deberta-v3-tiny', 'model.safetensors'))
    expect(m.weightsFormat).toBe('safetensors')
    expect(m.tokenizer).toBeUndefined()
  })

  it('falls back to pytorch_model.bin and finds the tokenizer files', () => {
    const dir = folder('bin-spm', ['config.json', 'pytorch_model.bin', 'spm.model', 'tokenizer_config.json'])
    const m = resolveModelFolder(dir)
    expect(m.weightsPath).toBe(path.join(dir, 'pytorch_model.bin'))
    expect(m.weightsFormat).toBe('pytorch')
    expect(m.tokenizer).toEqual({
      kind: 'sentencepiece',
      files: { 'spm.model': path.join(dir, 'spm.model'), 'tokenizer_config.json': path.join(dir, 'tokenizer_config.json') },
    })
  })

  it('ranks tokenizer.json > spm.model > vocab.json + merges.txt', () => {
    expect(resolveModelFolder(folder('t1', ['config.json', 'model.safetensors', 'spm.model', 'tokenizer.json'])).tokenizer?.kind).toBe(
      'tokenizer-json',
    )
    expect(resolveModelFolder(folder('t2', ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'])).tokenizer?.kind).toBe(
      'gpt2-bpe',
    )
    expect(resolveModelFolder(folder('t3', ['config.json', 'model.safetensors', 'vocab.json'])).tokenizer).toBeUndefined()
  })

  it('resolves the generator of a microsoft/deberta-v3-* style folder', () => {
    const dir = folder('v3-hub', [
      'config.json',
      'pytorch_model.bin',
      'generator_config.json',
      'pytorch_model.generator.bin',
      'spm.model',
    ])
    const g = resolveModelFolder(dir, 'generator')
    expect(g.variant).toBe('generator')
    expect(g.configPath).toBe(path.join(dir, 'generator_config.json'))
    expect(g.weightsPath).toBe(path.join(dir, 'pytorch_model.generator.bin'))
    expect(g.tokenizer?.kind).toBe('sentencepiece')
    expect(resolveModelFolder(dir).weightsPath).toBe(path.join(dir, 'pytorch_model.bin'))
  })

  it('reports CHECKPOINT_NOT_FOUND listing what was looked for', () => {
    const missingDir = error(() => resolveModelFolder(path.join(tmp, 'nope')))
    expect(missingDir.code).toBe('CHECKPOINT_NOT_FOUND')
    const noWeights = error(() => resolveModelFolder(folder('cfg-only', ['config.json'])))
    expect(noWeights.code).toBe('CHECKPOINT_NOT_FOUND')
    expect(noWeights.message).toMatch(/model\.safetensors or pytorch_model\.bin/)
    const noConfig = error(() => resolveModelFolder(folder('w-only', ['model.safetensors'])))
    expect(noConfig.message).toMatch(/config\.json/)
    const noGenerator = error(() => resolveModelFolder(folder('disc-only', ['config.json', 'model.safetensors']), 'generator'))
    expect(noGenerator.message).toMatch(/generator_config\.json.*model\.generator\.safetensors or pytorch_model\.generator\.bin/)
    const sharded = error(() => resolveModelFolder(folder('sharded', ['config.json', 'model.safetensors.index.json'])))
    expect(sharded.message).toMatch(/sharded/)
    const file = path.join(tmp, 'a-file')
    fs.writeFileSync(file, 'x')
    expect(error(() => resolveModelFolder(file)).code).toBe('CHECKPOINT_NOT_FOUND')
  })
})
