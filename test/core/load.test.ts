// loadPretrained: file picking (safetensors first, .bin fallback, generator layout), config errors, mask id.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findMaskTokenId, loadPretrained, resolveModelFiles } from '../../src/core/load'
import { expectLabErrorAsync, FIXTURES, useBackend, V1_DIR, V3_DIR } from './helpers'

let tmp: string
const folder = (name: string, files: Record<string, string | Buffer>): string => {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir, { recursive: true })
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content)
  return dir
}
const v3Config = (): string => fs.readFileSync(path.join(V3_DIR, 'config.json'), 'utf8')

describe('loadPretrained', () => {
  beforeAll(async () => {
    await useBackend('wasm')
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-load-'))
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  it('prefers model.safetensors and reports the model', async () => {
    const before = tf.memory().numTensors
    const model = await loadPretrained(V3_DIR)
    expect(model.info.source).toMatchObject({ kind: 'checkpoint', format: 'safetensors' })
    expect(model.info).toMatchObject({ modelType: 'deberta-v2', hasMlmHead: true, hasPositionEmbeddings: true })
    // 44 tensors of the fixture, every one used
    expect(model.info.parameterCount).toBe(1008 * 32 + 128 * 32 + 2 * 32 + 2 * (4 * (32 * 32 + 32) + 2 * 32 + 64 * 32 + 64 + 32 * 64 + 32 + 2 * 32) + 32 * 32 + 2 * 32 + 32 * 32 + 32 + 2 * 32 + 1008)
    model.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('falls back to pytorch_model.bin', async () => {
    const dir = folder('bin-only', { 'config.json': v3Config(), 'pytorch_model.bin': fs.readFileSync(path.join(V3_DIR, 'pytorch_model.bin')) })
    const model = await loadPretrained(dir)
    expect(model.info.source).toMatchObject({ format: 'pytorch' })
    model.dispose()
  })

  it('reads the generator layout (generator_config.json + pytorch_model.generator.bin)', async () => {
    const dir = folder('generator', {
      'generator_config.json': fs.readFileSync(path.join(V1_DIR, 'config.json'), 'utf8'),
      'pytorch_model.generator.bin': fs.readFileSync(path.join(V1_DIR, 'pytorch_model.bin')),
    })
    expect(resolveModelFiles(dir, 'generator').weightsPath).toMatch(/pytorch_model\.generator\.bin$/)
    const model = await loadPretrained(dir, { variant: 'generator' })
    expect(model.config.modelType).toBe('deberta')
    model.dispose()
    await expectLabErrorAsync(() => loadPretrained(dir), 'CHECKPOINT_NOT_FOUND')
  })

  it('missing folder or weights → CHECKPOINT_NOT_FOUND', async () => {
    await expectLabErrorAsync(() => loadPretrained(path.join(tmp, 'nope')), 'CHECKPOINT_NOT_FOUND')
    await expectLabErrorAsync(() => loadPretrained(folder('no-weights', { 'config.json': v3Config() })), 'CHECKPOINT_NOT_FOUND')
    await expectLabErrorAsync(() => loadPretrained(folder('no-config', {})), 'CHECKPOINT_NOT_FOUND')
  })

  it('bad config.json → CONFIG_INVALID naming the field; unknown model type → CONFIG_UNSUPPORTED', async () => {
    const weights = fs.readFileSync(path.join(V3_DIR, 'model.safetensors'))
    const broken = await expectLabErrorAsync(() => loadPretrained(folder('unparsable', { 'config.json': '{"model_type": "deberta-v2", ', 'model.safetensors': weights })), 'CONFIG_INVALID')
    expect(broken.message).toContain('config.json')
    const wrongType = JSON.parse(v3Config())
    wrongType.num_attention_heads = 'four'
    const e = await expectLabErrorAsync(() => loadPretrained(folder('wrong-type', { 'config.json': JSON.stringify(wrongType), 'model.safetensors': weights })), 'CONFIG_INVALID')
    expect(e.details?.field).toBe('num_attention_heads')
    const other = { ...JSON.parse(v3Config()), model_type: 'gpt2' }
    await expectLabErrorAsync(() => loadPretrained(folder('gpt2', { 'config.json': JSON.stringify(other), 'model.safetensors': weights })), 'CONFIG_UNSUPPORTED')
    const mismatch = { ...JSON.parse(v3Config()), hidden_size: 48, num_attention_heads: 4 }
    await expectLabErrorAsync(() => loadPretrained(folder('mismatch', { 'config.json': JSON.stringify(mismatch), 'model.safetensors': weights })), 'CHECKPOINT_SHAPE')
  })

  it('takes the [MASK] id from tokenizer files in the folder', async () => {
    const spm = path.join(FIXTURES, 'tokenizer-spm')
    expect(findMaskTokenId(spm)).toBe(1000)
    const dir = folder('with-tokenizer', {
      'config.json': v3Config(),
      'model.safetensors': fs.readFileSync(path.join(V3_DIR, 'model.safetensors')),
      'added_tokens.json': fs.readFileSync(path.join(spm, 'added_tokens.json')),
    })
    const model = await loadPretrained(dir)
    expect(model.config.maskTokenId).toBe(1000)
    model.dispose()
  })
})

describe('modelInfoFields', () => {
  it('maps a loaded model onto the API ModelInfo fields', async () => {
    const { modelInfoFields } = await import('../../src/core/model')
    const model = await loadPretrained(V1_DIR)
    expect(modelInfoFields(model)).toMatchObject({
      modelType: 'deberta',
      layers: 2,
      hidden: 32,
      heads: 4,
      headDim: 8,
      intermediate: 64,
      vocabSize: 128,
      maxPositions: 128,
      positionBuckets: 0,
      maxRelativePositions: 128,
      posAttType: ['c2p', 'p2c'],
      positionBiasedInput: false,
      hasMlmHead: true,
    })
    model.dispose()
  })
})
