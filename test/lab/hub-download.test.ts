// The Hub downloader against a local server that answers as the Hub does (fake-hub.ts): the cache layout Python
// shares, resume after a cut connection, checksums, free space, typed errors, offline use, progress and cancel.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DownloadProgress, LabEvent } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import { EventHub } from '../../src/lab/events'
import { createHubService, downloadModel, listFoundModels, selectFiles } from '../../src/lab/hub'
import { fixtureRepos, gitBlobSha1, sha256, startFakeHub, V1_COMMIT, V3_COMMIT, type FakeHub } from './fake-hub'

const V3 = 'fixtures/deberta-v3-tiny'
const V1 = 'fixtures/deberta-v1-tiny'
const RESOURCES = path.resolve(__dirname, '../../resources')

let hub: FakeHub
let tmp: string
let cacheDir: string
const env = () => ({ HF_HUB_CACHE: cacheDir, HF_ENDPOINT: hub.endpoint })

beforeAll(async () => {
  hub = await startFakeHub()
})
afterAll(async () => {
  await hub.close()
})
afterEach(() => {
  hub.log.length = 0
  hub.controls.cut = undefined
  hub.controls.corrupt = undefined
  hub.controls.chunkDelayMs = undefined
  hub.controls.ignoreRange = undefined
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})
function freshCache(): void {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-hub-'))
  cacheDir = path.join(tmp, 'hub')
}

async function failure(promise: Promise<unknown>): Promise<LabError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(LabError)
    return error as LabError
  }
  throw new Error('expected a failure')
}

const repoDir = (repo: string) => path.join(cacheDir, `models--${repo.replace('/', '--')}`)
const v3Bytes = (name: string) => fixtureRepos()[V3].files[name].bytes

describe('file selection', () => {
  it('takes config, safetensors over .bin, and the tokenizer files; refuses sharded or weightless repos', () => {
    expect(selectFiles(['README.md', 'config.json', 'pytorch_model.bin', 'model.safetensors', 'spm.model', 'tokenizer_config.json', 'tf_model.h5'])).toEqual([
      'config.json',
      'model.safetensors',
      'spm.model',
      'tokenizer_config.json',
    ])
    expect(selectFiles(['config.json', 'pytorch_model.bin', 'vocab.txt', 'tokenizer.json'])).toEqual(['config.json', 'pytorch_model.bin', 'tokenizer.json'])
    expect(selectFiles(['config.json', 'pytorch_model.bin', 'vocab.txt'])).toEqual(['config.json', 'pytorch_model.bin', 'vocab.txt'])
    expect(() => selectFiles(['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors'])).toThrow(/sharded/)
    expect(() => selectFiles(['model.safetensors'])).toThrow(/config\.json/)
  })
})

describe('download into the Hugging Face cache', () => {
  it('writes blobs/<etag>, relative snapshot links and refs/main, only the files the lab needs, the token never to the file host', async () => {
    freshCache()
    hub.controls.token = 'hf_secret'
    const result = await downloadModel({ repoId: V3, env: { ...env(), HF_TOKEN: 'hf_secret' } })
    expect(result.commit).toBe(V3_COMMIT)
    expect(result.path).toBe(path.join(repoDir(V3), 'snapshots', V3_COMMIT))
    expect(result.files.map((f) => f.name)).toEqual(['config.json', 'model.safetensors', 'spm.model', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json'])
    expect(fs.readdirSync(result.path).sort()).toEqual(['added_tokens.json', 'config.json', 'model.safetensors', 'special_tokens_map.json', 'spm.model', 'tokenizer_config.json'])
    // LFS files are named by their sha256, the others by their git blob sha1: exactly huggingface_hub's names
    const weights = v3Bytes('model.safetensors')
    const config = v3Bytes('config.json')
    expect(fs.readlinkSync(path.join(result.path, 'model.safetensors'))).toBe(path.join('..', '..', 'blobs', sha256(weights)))
    expect(fs.readlinkSync(path.join(result.path, 'config.json'))).toBe(path.join('..', '..', 'blobs', gitBlobSha1(config)))
    expect(fs.readFileSync(path.join(result.path, 'model.safetensors')).equals(weights)).toBe(true)
    expect(fs.readFileSync(path.join(repoDir(V3), 'refs', 'main'), 'utf8')).toBe(V3_COMMIT)
    expect(fs.readdirSync(path.join(repoDir(V3), 'blobs')).some((f) => f.endsWith('.incomplete'))).toBe(false)
    expect(result.bytesDownloaded).toBe(result.files.reduce((s, f) => s + f.size, 0))
    // the token went to the Hub, never to the file host the LFS files redirect to
    expect(hub.log.filter((r) => r.host === 'hub').every((r) => r.authorization === 'Bearer hf_secret')).toBe(true)
    const fileRequests = hub.log.filter((r) => r.host === 'files')
    expect(fileRequests.map((r) => r.url.split('?')[0]).sort()).toEqual([`/blobs/${sha256(weights)}`, `/blobs/${sha256(v3Bytes('spm.model'))}`].sort())
    expect(fileRequests.every((r) => r.authorization === undefined)).toBe(true)

    // the cache scan finds it, with facts read from the weights header
    const listing = listFoundModels({ resourcesDir: RESOURCES, env: env() })
    const found = listing.models.find((m) => m.source === 'cache')!
    expect(found).toMatchObject({ name: V3, commit: V3_COMMIT, refs: ['main'], modelType: 'deberta-v2', mlmHead: 'official', emd: true, tokenizer: 'sentencepiece', weightsFile: 'model.safetensors' })
    expect(found.broken).toBeUndefined()
    expect(found.ref).toEqual({ kind: 'checkpoint', path: result.path })
    expect(found.parameterCount).toBe(56_720) // the float tensors of the header, counted independently (Python)
    expect(found.sizeBytes).toBe(result.files.reduce((s, f) => s + f.size, 0))

    // a second download finds every file in the cache
    hub.log.length = 0
    const again = await downloadModel({ repoId: V3, env: { ...env(), HF_TOKEN: 'hf_secret' } })
    expect(again.bytesDownloaded).toBe(0)
    expect(again.files.every((f) => f.cached)).toBe(true)
    expect(hub.log.some((r) => r.host === 'files')).toBe(false)
  })

  it('resumes a file after the connection is cut mid-file, with a Range request from the cut', async () => {
    freshCache()
    const weights = v3Bytes('model.safetensors')
    hub.controls.cut = { sha256: sha256(weights), afterBytes: 100_000, times: 1 }
    const result = await downloadModel({ repoId: V3, env: env() })
    const gets = hub.log.filter((r) => r.host === 'files' && r.url.startsWith(`/blobs/${sha256(weights)}`))
    expect(gets.map((r) => r.range)).toEqual([undefined, 'bytes=100000-'])
    expect(fs.readFileSync(path.join(result.path, 'model.safetensors')).equals(weights)).toBe(true)
  })

  it('keeps the partial file when the connection keeps failing, and the next download resumes it', async () => {
    freshCache()
    const weights = v3Bytes('model.safetensors')
    const sha = sha256(weights)
    hub.controls.cut = { sha256: sha, afterBytes: 65_536, times: Infinity }
    const error = await failure(downloadModel({ repoId: V3, env: env(), retries: 1 }))
    expect(error.code).toBe('HUB_OFFLINE')
    const partial = path.join(repoDir(V3), 'blobs', `${sha}.incomplete`)
    expect(fs.statSync(partial).size).toBe(65_536)
    expect(fs.existsSync(path.join(repoDir(V3), 'snapshots', V3_COMMIT, 'model.safetensors'))).toBe(false)
    hub.controls.cut = undefined
    hub.log.length = 0
    const result = await downloadModel({ repoId: V3, env: env() })
    expect(hub.log.filter((r) => r.host === 'files' && r.url.startsWith(`/blobs/${sha}`)).map((r) => r.range)).toEqual(['bytes=65536-'])
    // config.json came before the weights and is complete: only the rest of the weights and the later files are fetched
    expect(result.files.filter((f) => f.cached).map((f) => f.name)).toEqual(['config.json'])
    expect(result.bytesDownloaded).toBe(result.files.filter((f) => !f.cached).reduce((s, f) => s + f.size, 0) - 65_536)
    expect(fs.readFileSync(path.join(result.path, 'model.safetensors')).equals(weights)).toBe(true)
  })

  it('starts a partial file over when the server ignores Range, and fetches nothing for a partial file that is complete', async () => {
    freshCache()
    const weights = v3Bytes('model.safetensors')
    const spm = v3Bytes('spm.model')
    const blobs = path.join(repoDir(V3), 'blobs')
    fs.mkdirSync(blobs, { recursive: true })
    // a stale partial of the weights, and a spm.model whose download ended just before the rename
    fs.writeFileSync(path.join(blobs, `${sha256(weights)}.incomplete`), weights.subarray(0, 1000))
    fs.writeFileSync(path.join(blobs, `${sha256(spm)}.incomplete`), spm)
    hub.controls.ignoreRange = true
    const result = await downloadModel({ repoId: V3, env: env() })
    const files = hub.log.filter((r) => r.host === 'files')
    expect(files.map((r) => [r.url.split('?')[0], r.range])).toEqual([[`/blobs/${sha256(weights)}`, 'bytes=1000-']])
    expect(fs.readFileSync(path.join(result.path, 'model.safetensors')).equals(weights)).toBe(true)
    expect(fs.readFileSync(path.join(result.path, 'spm.model')).equals(spm)).toBe(true)
  })

  it('refuses a file whose sha256 is not the ETag, and deletes it', async () => {
    freshCache()
    const sha = sha256(v3Bytes('model.safetensors'))
    hub.controls.corrupt = new Set([sha])
    const error = await failure(downloadModel({ repoId: V3, env: env() }))
    expect(error.code).toBe('DOWNLOAD_CHECKSUM')
    expect(error.message).toContain(sha)
    expect(fs.readdirSync(path.join(repoDir(V3), 'blobs')).filter((f) => f.startsWith(sha))).toEqual([])
    expect(fs.existsSync(path.join(repoDir(V3), 'snapshots', V3_COMMIT, 'model.safetensors'))).toBe(false)
  })

  it('checks the free space before writing anything', async () => {
    freshCache()
    const error = await failure(downloadModel({ repoId: V3, env: env(), freeBytes: () => 10_000 }))
    expect(error.code).toBe('DISK_FULL')
    expect(error.details).toMatchObject({ free: 10_000 })
    expect((error.details as { needed: number }).needed).toBeGreaterThan(231_784)
    expect(hub.log.some((r) => r.host === 'files' || r.method === 'GET' && r.url.includes('/resolve/'))).toBe(false)
    expect(fs.existsSync(path.join(repoDir(V3), 'snapshots'))).toBe(false)
  })

  it('says 401 (private, no token), 403 (gated), 404 (repository, revision) as typed errors', async () => {
    freshCache()
    const repos = { ...fixtureRepos() }
    repos['acme/private'] = { ...repos[V3], private: true }
    repos['acme/gated'] = { ...repos[V3], gated: true }
    const other = await startFakeHub(repos, { token: 'hf_right' })
    try {
      const at = { HF_HUB_CACHE: cacheDir, HF_ENDPOINT: other.endpoint }
      expect((await failure(downloadModel({ repoId: 'acme/private', env: at }))).code).toBe('HUB_UNAUTHORIZED')
      const wrong = await failure(downloadModel({ repoId: 'acme/private', env: { ...at, HF_TOKEN: 'hf_wrong' } }))
      expect(wrong.code).toBe('HUB_UNAUTHORIZED')
      expect(wrong.message).toContain('HF_TOKEN sent was refused')
      const gated = await failure(downloadModel({ repoId: 'acme/gated', env: { ...at, HF_TOKEN: 'hf_wrong' } }))
      expect(gated.code).toBe('HUB_GATED')
      expect(gated.message).toContain(`${other.endpoint}/acme/gated`)
      expect((await downloadModel({ repoId: 'acme/gated', env: { ...at, HF_TOKEN: 'hf_right' } })).commit).toBe(V3_COMMIT)
      const missing = await failure(downloadModel({ repoId: 'acme/nothing', env: at }))
      expect(missing.code).toBe('HUB_NOT_FOUND')
      const revision = await failure(downloadModel({ repoId: V3, revision: 'v9', env: at }))
      expect(revision.code).toBe('HUB_NOT_FOUND')
      expect(revision.message).toContain('no such revision')
      expect((await failure(downloadModel({ repoId: '../etc', env: at }))).code).toBe('INPUT_INVALID')
    } finally {
      await other.close()
    }
  })

  it('offline: an unreachable endpoint is HUB_OFFLINE; HF_HUB_OFFLINE=1 uses the cache and sends nothing', async () => {
    freshCache()
    const closed = await startFakeHub()
    const deadEndpoint = closed.endpoint
    await closed.close()
    const unreachable = await failure(downloadModel({ repoId: V1, env: { HF_HUB_CACHE: cacheDir, HF_ENDPOINT: deadEndpoint } }))
    expect(unreachable.code).toBe('HUB_OFFLINE')
    expect(unreachable.message).toContain(deadEndpoint)
    expect((await failure(downloadModel({ repoId: V1, env: { ...env(), HF_HUB_OFFLINE: '1' } }))).code).toBe('HUB_OFFLINE')
    await downloadModel({ repoId: V1, env: env() })
    hub.log.length = 0
    const cached = await downloadModel({ repoId: V1, env: { ...env(), HF_HUB_OFFLINE: '1' } })
    expect(cached.commit).toBe(V1_COMMIT)
    expect(cached.files.map((f) => f.name).sort()).toEqual(['config.json', 'pytorch_model.bin', 'tokenizer.json', 'tokenizer_config.json'])
    expect(hub.log).toEqual([])
    // an unreachable Hub falls back to the cached revision, as huggingface_hub does
    expect((await downloadModel({ repoId: V1, env: { HF_HUB_CACHE: cacheDir, HF_ENDPOINT: deadEndpoint } })).commit).toBe(V1_COMMIT)
  })
})

describe('download as a lab job', () => {
  it('reports bytes and rate, and Cancel stops it keeping the partial file', async () => {
    freshCache()
    hub.controls.chunkDelayMs = 40
    const events = new EventHub()
    const seen: LabEvent[] = []
    events.on((e) => seen.push(e))
    const service = createHubService({ resourcesDir: RESOURCES, storePath: ':memory:', events, env: env() })
    const running = service.downloadModel({ repoId: V3, jobId: 'dl-1' })
    await expect(service.downloadModel({ repoId: V3, jobId: 'dl-2' })).rejects.toMatchObject({ code: 'BUSY' })
    // wait until the weights are half way, then cancel
    const weights = v3Bytes('model.safetensors').length
    for (let i = 0; i < 200; i++) {
      const last = seen.filter((e) => e.type === 'progress').pop() as { download?: DownloadProgress } | undefined
      if (last?.download?.file === 'model.safetensors' && last.download.bytes > 50_000) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(service.cancel('dl-1')).toBe(true)
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(seen.at(-1)).toMatchObject({ type: 'job-end', jobId: 'dl-1', status: 'cancelled' })
    const progress = seen.filter((e): e is Extract<LabEvent, { type: 'progress' }> => e.type === 'progress' && !!e.download)
    expect(progress.length).toBeGreaterThan(2)
    const last = progress.at(-1)!.download!
    expect(last.totalBytes).toBeGreaterThan(weights)
    expect(last.bytesPerSecond).toBeGreaterThan(0)
    expect(progress.at(-1)!.message).toMatch(/^model\.safetensors \(2\/6\) · [\d.]+ kB of 487\.9 kB · [\d.]+ [kM]B\/s$/)
    const partial = path.join(repoDir(V3), 'blobs', `${sha256(v3Bytes('model.safetensors'))}.incomplete`)
    expect(fs.statSync(partial).size).toBeGreaterThan(0)
    expect(service.cancel('dl-1')).toBe(false)
  })
})
