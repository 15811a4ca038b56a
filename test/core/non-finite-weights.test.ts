// Weights holding NaN/±Inf load, but the model's info says which tensors and how many values (counted while
// the readers convert them), so a user sees why decoding refuses to rank (NOT_FINITE).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSafetensors, writeSafetensors, type HostTensor } from '../../src/core/checkpoint'
import { loadPretrained } from '../../src/core/load'
import { useBackend } from './helpers'

const TOY = path.resolve(__dirname, '../../resources/toy-deberta')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-nonfinite-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** A copy of the toy model whose tensors are changed by `edit`. */
function toyWith(name: string, edit: (tensors: Record<string, HostTensor>) => void): string {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir)
  for (const f of fs.readdirSync(TOY)) if (f !== 'model.safetensors') fs.copyFileSync(path.join(TOY, f), path.join(dir, f))
  const src = openSafetensors(path.join(TOY, 'model.safetensors'))
  const tensors: Record<string, HostTensor> = {}
  for (const e of src.entries()) tensors[e.name] = { dtype: 'F32', shape: e.shape, data: src.readFloat32(e.name) }
  src.close()
  edit(tensors)
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors)
  return dir
}

describe('non-finite weights', () => {
  beforeAll(async () => {
    await useBackend('cpu')
  })

  it('names each tensor holding NaN/±Inf and how many values, in the model info', async () => {
    let word = ''
    let norm = ''
    const dir = toyWith('nan', (t) => {
      word = Object.keys(t).find((k) => k.endsWith('word_embeddings.weight')) as string
      norm = Object.keys(t).find((k) => k.endsWith('embeddings.LayerNorm.weight')) as string
      const w = t[word].data as Float32Array
      w[0] = NaN
      w[5] = Infinity
      w[w.length - 1] = -Infinity
      ;(t[norm].data as Float32Array)[3] = NaN
    })
    const model = await loadPretrained(dir)
    try {
      const wordSize = model.config.vocabSize * model.config.embeddingSize
      expect(model.info.warnings).toEqual([`tensor "${word}": 3 of ${wordSize} values are NaN or ±Inf`, `tensor "${norm}": 1 of ${model.config.embeddingSize} values are NaN or ±Inf`])
    } finally {
      model.dispose()
    }
  })

  it('has no warnings for finite weights', async () => {
    const model = await loadPretrained(TOY)
    expect(model.info.warnings).toEqual([])
    model.dispose()
  })
})
