// The v1 EMD path end to end, as a user gets it: the v1 fixture (key names as microsoft/deberta-base ships them,
// pytorch_model.bin with lm_predictions.*, a config without "legacy"/"architectures") is downloaded from the fake
// Hub into a temporary Hugging Face cache, found by listModels, loaded by the lab service from the snapshot and
// decoded with the plain head and the EMD; the probabilities must be those of the official code's golden logits.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LabEvent } from '../../src/common/api'
import { openSafetensors } from '../../src/core/checkpoint'
import { parseArgs } from '../../src/lab/validation'
import { createLabService, type LabService } from '../../src/lab/service'
import { FIXTURES, startFakeHub, V1_COMMIT, type FakeHub } from './fake-hub'

let hub: FakeHub
let lab: LabService
let tmp: string

beforeAll(async () => {
  hub = await startFakeHub()
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-emd-v1-'))
  lab = await createLabService({
    storePath: path.join(tmp, 'lab.sqlite'),
    resourcesDir: path.resolve(__dirname, '../../resources'),
    host: 'browser',
    env: { HF_HUB_CACHE: path.join(tmp, 'hub'), HF_ENDPOINT: hub.endpoint },
  })
})
afterAll(async () => {
  await lab?.close()
  await hub?.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** Top k of a golden logits row the way the Decoding workspace ranks: softmax over all ids, specials left out. */
function goldenTopK(row: Float32Array, k: number, special: Set<number>): Array<{ id: number; probability: number }> {
  const values = Array.from(row)
  const max = Math.max(...values)
  const z = values.reduce((a, v) => a + Math.exp(v - max), 0)
  return values
    .map((v, id) => ({ id, v }))
    .filter(({ id }) => !special.has(id))
    .sort((a, b) => b.v - a.v || a.id - b.id)
    .slice(0, k)
    .map(({ id, v }) => ({ id, probability: Math.exp(v - max) / z }))
}

describe('microsoft/deberta-base-shaped checkpoint from the Hub: official EMD and plain head', () => {
  it('downloads, lists, loads from the cache snapshot and decodes with the golden EMD and plain logits', async () => {
    const downloaded = await lab.downloadModel({ repoId: 'fixtures/deberta-v1-tiny' })
    expect(downloaded.commit).toBe(V1_COMMIT)
    expect(downloaded.files.map((f) => f.name)).toEqual(['config.json', 'pytorch_model.bin', 'tokenizer.json', 'tokenizer_config.json'])

    const listing = await lab.listModels()
    const found = listing.models.find((m) => m.name === 'fixtures/deberta-v1-tiny')!
    expect(found).toMatchObject({ source: 'cache', modelType: 'deberta', mlmHead: 'official', emd: true, weightsFile: 'pytorch_model.bin', parameterCount: 38_880 })
    expect(found.ref).toEqual({ kind: 'checkpoint', path: downloaded.path })

    const info = await lab.describeModel(found.ref!)
    expect(info).toMatchObject({ modelType: 'deberta', hasMlmHead: true, maskToken: '[MASK]', vocabSize: 128 })
    // a cache snapshot is named by its repo and commit, not by the commit folder
    expect(info.label).toBe(`fixtures/deberta-v1-tiny @ ${V1_COMMIT.slice(0, 10)}`)

    // sequence 0 of the goldens: [CLS] … [MASK] at 5 and 17 … [SEP], written with the fixture's word-level tokenizer
    const golden = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'deberta-v1-tiny', 'golden.json'), 'utf8')) as { inputs: { input_ids: number[][] } }
    const ids = golden.inputs.input_ids[0]
    const text = ids.slice(1, -1).map((id) => (id === 127 ? '[MASK]' : `w${id}`)).join(' ')
    const result = await lab.runDecoding({ model: found.ref!, text, topK: 8 })
    expect(result.tokens.inputIds).toEqual(ids)
    expect(result.maskPositions).toEqual([5, 17])

    const tensors = openSafetensors(path.join(FIXTURES, 'deberta-v1-tiny', 'golden.safetensors'))
    try {
      const V = 128
      const emd = tensors.readFloat32('mlm.emd_logits')
      const plain = tensors.readFloat32('mlm.plain_logits')
      const special = new Set([0, 1, 2, 127])
      result.predictions.forEach((prediction, row) => {
        for (const [which, logits] of [['emd', emd], ['plain', plain]] as const) {
          const expected = goldenTopK(logits.subarray(row * V, (row + 1) * V), 8, special)
          const actual = prediction[which]
          expect(actual.map((p) => p.id), `${which} ranking at mask ${row}`).toEqual(expected.map((p) => p.id))
          actual.forEach((p, k) => expect(Math.abs(p.probability - expected[k].probability), `${which} p(${p.token})`).toBeLessThan(1e-5))
          expect(actual.map((p) => p.token)).toEqual(expected.map((p) => `w${p.id}`))
        }
        // the two heads really differ here (the goldens' EMD and plain logits differ by up to 1.3)
        expect(prediction.emd.map((p) => p.probability)).not.toEqual(prediction.plain.map((p) => p.probability))
      })
    } finally {
      tensors.close()
    }
  })

  it('cancels a download through cancelJob, and remembers a checkpoint folder that loaded as a recent one', async () => {
    const events: LabEvent[] = []
    const stop = lab.onEvent((e) => events.push(e))
    hub.controls.chunkDelayMs = 50
    try {
      const running = lab.downloadModel({ repoId: 'fixtures/deberta-v3-tiny', jobId: 'download-v3' })
      await expect.poll(() => events.some((e) => e.type === 'progress' && e.jobId === 'download-v3' && e.download?.file === 'model.safetensors'), { timeout: 10_000 }).toBe(true)
      expect(await lab.cancelJob('download-v3')).toBe(true)
      await expect(running).rejects.toMatchObject({ code: 'CANCELLED' })
      expect(events.filter((e) => e.type === 'job-end' && e.jobId === 'download-v3')).toEqual([{ type: 'job-end', jobId: 'download-v3', status: 'cancelled', error: expect.objectContaining({ code: 'CANCELLED' }) }])
    } finally {
      stop()
      hub.controls.chunkDelayMs = undefined
    }
    const folder = path.resolve(__dirname, '../../resources/toy-deberta')
    await lab.describeModel({ kind: 'checkpoint', path: folder })
    const recent = (await lab.listModels()).models.filter((m) => m.source === 'recent')
    expect(recent.map((m) => [m.name, m.path, m.ref])).toEqual([['toy-deberta', folder, { kind: 'checkpoint', path: folder }]])
  })

  it('validates the new methods’ payloads', () => {
    expect(parseArgs('listModels', [])).toEqual([])
    expect(parseArgs('downloadModel', [{ repoId: 'microsoft/deberta-base', revision: 'main' }])).toEqual([{ repoId: 'microsoft/deberta-base', revision: 'main' }])
    expect(() => parseArgs('downloadModel', [{ repoId: '' }])).toThrow(/invalid arguments for downloadModel at 0.repoId/)
    expect(() => parseArgs('downloadModel', [{ repoId: 'a/b', url: 'http://evil' }])).toThrow(/invalid arguments for downloadModel/)
    expect(parseArgs('listDirectory', [{}])).toEqual([{}])
    expect(() => parseArgs('listDirectory', ['/etc'])).toThrow(/invalid arguments for listDirectory/)
  })
})
