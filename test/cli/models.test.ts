// `deberta-lab models download|list`, in-process through main(), against the fake Hub and a temporary cache.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelListing } from '../../src/common/api'
import { main } from '../../src/cli/index'
import { startFakeHub, V3_COMMIT, type FakeHub } from '../lab/fake-hub'

let hub: FakeHub
let tmp: string
const saved: Record<string, string | undefined> = {}
const ENV_KEYS = ['HF_HUB_CACHE', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'DEBERTA_LAB_STORE']

beforeAll(async () => {
  hub = await startFakeHub()
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-cli-models-'))
  for (const key of ENV_KEYS) saved[key] = process.env[key]
  process.env.HF_HUB_CACHE = path.join(tmp, 'hub')
  process.env.HF_ENDPOINT = hub.endpoint
  process.env.DEBERTA_LAB_STORE = path.join(tmp, 'lab.sqlite')
  delete process.env.HF_TOKEN
  delete process.env.HF_HUB_OFFLINE
})
afterAll(async () => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key]
    else process.env[key] = saved[key]
  }
  await hub.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) }, out: () => out.join(''), err: () => err.join('') }
}

describe('deberta-lab models', () => {
  it('downloads into the cache, prints the snapshot folder, and lists it with its facts', async () => {
    const run = capture()
    expect(await main(['models', 'download', 'fixtures/deberta-v3-tiny', '--revision', 'main'], run.io)).toBe(0)
    const snapshot = path.join(tmp, 'hub', 'models--fixtures--deberta-v3-tiny', 'snapshots', V3_COMMIT)
    expect(run.out()).toBe(`${snapshot}\n`)
    expect(run.err()).toMatch(/downloaded {2}model\.safetensors {2}231\.8 kB/)
    expect(run.err()).toContain(`fixtures/deberta-v3-tiny@main = commit ${V3_COMMIT}`)

    const json = capture()
    expect(await main(['models', 'list', '--json'], json.io)).toBe(0)
    const listing = JSON.parse(json.out()) as ModelListing
    expect(listing.cacheDir).toBe(path.join(tmp, 'hub'))
    expect(listing.models.find((m) => m.source === 'cache')).toMatchObject({ name: 'fixtures/deberta-v3-tiny', path: snapshot, parameterCount: 56_720, emd: true })

    const text = capture()
    expect(await main(['models', 'list'], text.io)).toBe(0)
    expect(text.out()).toContain('cache    fixtures/deberta-v3-tiny@main  deberta-v2 · ')
    expect(text.out()).toContain('56.7k parameters · MLM head + EMD · tokenizer sentencepiece')
  })

  it('fails with the Hub’s typed error and a usage error for bad arguments', async () => {
    const missing = capture()
    expect(await main(['models', 'download', 'acme/nothing'], missing.io)).toBe(1)
    expect(missing.err()).toMatch(/^error \[HUB_NOT_FOUND\]: acme\/nothing@main: 404/)
    const bad = capture()
    expect(await main(['models', 'download'], bad.io)).toBe(1)
    expect(bad.err()).toMatch(/^error \[BAD_REQUEST\]: unexpected arguments: download/)
  })
})
