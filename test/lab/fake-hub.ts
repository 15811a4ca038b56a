// A local stand-in for the Hugging Face Hub over HTTP on 127.0.0.1, answering as huggingface.co does
// (huggingface_hub file_download.py / @huggingface/hub file-download-info.ts read these headers):
//   GET  /api/models/{repo}/revision/{rev}       → {"id", "sha", "siblings": [{"rfilename"}]}
//   HEAD|GET /{repo}/resolve/{rev}/{file}
//     non-LFS: 200, ETag "<git blob sha1>", Content-Length, X-Repo-Commit
//     LFS:     302 to a separate file host, X-Linked-Etag "<sha256>", X-Linked-Size, X-Repo-Commit, ETag
//   errors:    401 (private, no/wrong token), 403 GatedRepo, 404 RepoNotFound/RevisionNotFound/EntryNotFound
// The file host serves /blobs/<sha256> with Range (206 + Content-Range) and can cut the connection mid-file or
// send corrupted bytes. Every request is logged for the tests.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'
import { encodeSafetensors, openSafetensors, type HostTensor } from '../../src/core/checkpoint'

export const FIXTURES = path.resolve(__dirname, '../fixtures')

export interface FakeFile {
  bytes: Buffer
  lfs: boolean
}

export interface FakeRepo {
  /** revision name → commit */
  revisions: Record<string, string>
  files: Record<string, FakeFile>
  private?: boolean
  gated?: boolean
}

export interface LoggedRequest {
  host: 'hub' | 'files'
  method: string
  url: string
  range?: string
  authorization?: string
}

export interface FakeHubControls {
  /** cut the connection after this many bytes of a blob's body; `times` cuts left (Infinity: always) */
  cut?: { sha256: string; afterBytes: number; times: number }
  /** serve these blobs with one byte flipped */
  corrupt?: Set<string>
  /** ms to wait between 16 KiB chunks on the file host */
  chunkDelayMs?: number
  /** the token that opens private and gated repos */
  token?: string
  /** answer Range requests with the whole file (200), as some servers and proxies do */
  ignoreRange?: boolean
}

export function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex')
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

const read = (...parts: string[]) => fs.readFileSync(path.join(FIXTURES, ...parts))

/** The v1 fixture's tokenizer: WordLevel, "w4" … "w126" are ids 4 … 126, so golden ids can be written as text. */
export function v1TokenizerJson(): Buffer {
  const special = ['[PAD]', '[CLS]', '[SEP]', '[UNK]']
  const vocab: Record<string, number> = {}
  special.forEach((t, i) => (vocab[t] = i))
  for (let id = 4; id < 127; id++) vocab[`w${id}`] = id
  vocab['[MASK]'] = 127
  const added = [...special, '[MASK]'].map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
  const json = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [1], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [2], tokens: ['[SEP]'] } },
    },
    model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
  }
  return Buffer.from(JSON.stringify(json))
}

/** config.json as the Hub's microsoft/deberta-* configs have it: no "legacy", no "architectures". */
function hubConfig(fixture: string): Buffer {
  const config = JSON.parse(read(fixture, 'config.json').toString('utf8')) as Record<string, unknown>
  delete config.legacy
  delete config.architectures
  return Buffer.from(JSON.stringify(config, null, 2))
}

/** The v3 fixture's weights without lm_predictions.*: how microsoft/deberta-v3-* were released (no MLM head). */
export function headlessV3Weights(): Buffer {
  const source = openSafetensors(path.join(FIXTURES, 'deberta-v3-tiny', 'model.safetensors'))
  try {
    const tensors: Record<string, HostTensor> = {}
    for (const entry of source.entries()) {
      if (entry.name.startsWith('lm_predictions.')) continue
      tensors[entry.name] = { dtype: 'F32', shape: entry.shape, data: source.readFloat32(entry.name) }
    }
    return Buffer.from(encodeSafetensors(tensors, { format: 'pt' }))
  } finally {
    source.close()
  }
}

export const V3_COMMIT = 'a'.repeat(39) + '3'
export const V3_HEADLESS_COMMIT = 'c'.repeat(39) + '3'
export const V1_COMMIT = 'b'.repeat(39) + '1'

/** The fixture checkpoints as Hub repos (weights and spm.model in LFS, like the real ones). */
export function fixtureRepos(): Record<string, FakeRepo> {
  const tokenizerSide = (name: string): FakeFile => ({ bytes: read('tokenizer-spm', name), lfs: false })
  return {
    'fixtures/deberta-v3-tiny': {
      revisions: { main: V3_COMMIT },
      files: {
        '.gitattributes': { bytes: Buffer.from('*.bin filter=lfs\n'), lfs: false },
        'README.md': { bytes: Buffer.from('# deberta-v3-tiny\n'), lfs: false },
        'config.json': { bytes: hubConfig('deberta-v3-tiny'), lfs: false },
        'model.safetensors': { bytes: read('deberta-v3-tiny', 'model.safetensors'), lfs: true },
        'pytorch_model.bin': { bytes: read('deberta-v3-tiny', 'pytorch_model.bin'), lfs: true },
        'golden.safetensors': { bytes: read('deberta-v3-tiny', 'golden.safetensors'), lfs: true },
        'spm.model': { bytes: read('tokenizer-spm', 'spm.model'), lfs: true },
        'tokenizer_config.json': tokenizerSide('tokenizer_config.json'),
        'special_tokens_map.json': tokenizerSide('special_tokens_map.json'),
        'added_tokens.json': tokenizerSide('added_tokens.json'),
      },
    },
    'fixtures/deberta-v3-tiny-headless': {
      revisions: { main: V3_HEADLESS_COMMIT },
      files: {
        'config.json': { bytes: hubConfig('deberta-v3-tiny'), lfs: false },
        'model.safetensors': { bytes: headlessV3Weights(), lfs: true },
        'spm.model': { bytes: read('tokenizer-spm', 'spm.model'), lfs: true },
        'tokenizer_config.json': tokenizerSide('tokenizer_config.json'),
        'added_tokens.json': tokenizerSide('added_tokens.json'),
      },
    },
    // microsoft/deberta-base ships pytorch_model.bin with the official lm_predictions.* head
    'fixtures/deberta-v1-tiny': {
      revisions: { main: V1_COMMIT },
      files: {
        'config.json': { bytes: hubConfig('deberta-v1-tiny'), lfs: false },
        'pytorch_model.bin': { bytes: read('deberta-v1-tiny', 'pytorch_model.bin'), lfs: true },
        'tokenizer.json': { bytes: v1TokenizerJson(), lfs: false },
        'tokenizer_config.json': { bytes: Buffer.from(JSON.stringify({ mask_token: '[MASK]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]' })), lfs: false },
      },
    },
  }
}

export interface FakeHub {
  endpoint: string
  fileHost: string
  log: LoggedRequest[]
  controls: FakeHubControls
  repos: Record<string, FakeRepo>
  close(): Promise<void>
}

function splitRepoPath(parts: string[], repos: Record<string, FakeRepo>): { repoId: string; rest: string[] } | undefined {
  for (const take of [2, 1]) {
    const repoId = parts.slice(0, take).join('/')
    if (repos[repoId]) return { repoId, rest: parts.slice(take) }
  }
  return undefined
}

export async function startFakeHub(repos: Record<string, FakeRepo> = fixtureRepos(), controls: FakeHubControls = {}): Promise<FakeHub> {
  const log: LoggedRequest[] = []
  const blobs = new Map<string, Buffer>()
  for (const repo of Object.values(repos)) for (const file of Object.values(repo.files)) if (file.lfs) blobs.set(sha256(file.bytes), file.bytes)

  const files = http.createServer((req, res) => {
    log.push({ host: 'files', method: req.method ?? '', url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization })
    const match = /^\/blobs\/([0-9a-f]{64})\?/.exec(req.url ?? '')
    const original = match ? blobs.get(match[1]) : undefined
    if (!match || !original) {
      res.writeHead(404).end()
      return
    }
    const sha = match[1]
    let body = original
    if (controls.corrupt?.has(sha)) {
      body = Buffer.from(original)
      body[body.length >> 1] ^= 0xff
    }
    let start = 0
    const range = controls.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (range) {
      start = Number(range[1])
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end()
        return
      }
      res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'accept-ranges': 'bytes' })
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' })
    }
    const cut = controls.cut && controls.cut.sha256 === sha && controls.cut.times > 0 ? controls.cut : undefined
    const end = cut ? Math.max(start, cut.afterBytes) : body.length
    if (cut) cut.times--
    let at = start
    const pump = (): void => {
      if (at >= end) {
        if (cut) res.socket?.destroy()
        else res.end()
        return
      }
      const next = Math.min(end, at + 16 * 1024)
      const ok = res.write(body.subarray(at, next))
      at = next
      const go = () => (controls.chunkDelayMs ? setTimeout(pump, controls.chunkDelayMs) : setImmediate(pump))
      if (ok) go()
      else res.once('drain', go)
    }
    res.on('close', () => (at = end + 1))
    pump()
  })
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve))
  const fileHost = `http://127.0.0.1:${(files.address() as AddressInfo).port}`

  const hub = http.createServer((req, res) => {
    log.push({ host: 'hub', method: req.method ?? '', url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization })
    const url = new URL(req.url ?? '/', 'http://hub')
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    const error = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message }).end(JSON.stringify({ error: message }))
    }
    const api = parts[0] === 'api' && parts[1] === 'models'
    const found = splitRepoPath(api ? parts.slice(2) : parts, repos)
    if (!found) {
      error(404, 'RepoNotFound', 'Repository not found')
      return
    }
    const repo = repos[found.repoId]
    const token = req.headers.authorization?.replace(/^Bearer /, '')
    if ((repo.private || repo.gated) && !token) {
      error(401, 'RepoNotFound', 'Invalid username or password.')
      return
    }
    if ((repo.private || repo.gated) && token !== controls.token) {
      if (repo.gated) error(403, 'GatedRepo', 'Access to this model is restricted: you must accept its conditions')
      else error(401, 'RepoNotFound', 'Invalid credentials in Authorization header')
      return
    }
    const [kind, revision, ...fileParts] = found.rest
    const commit = revision === undefined ? undefined : (repo.revisions[revision] ?? (Object.values(repo.revisions).includes(revision) ? revision : undefined))
    if (api && kind === 'revision') {
      if (!commit) return error(404, 'RevisionNotFound', `Invalid rev id: ${revision}`)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: found.repoId, sha: commit, siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })) }))
      return
    }
    if (api || kind !== 'resolve') return error(404, 'EntryNotFound', 'not a route of this fake hub')
    if (!commit) return error(404, 'RevisionNotFound', `Invalid rev id: ${revision}`)
    const name = fileParts.join('/')
    const file = repo.files[name]
    if (!file) return error(404, 'EntryNotFound', `${name} does not exist on "${revision}"`)
    if (file.lfs) {
      const sha = sha256(file.bytes)
      res.writeHead(302, {
        location: `${fileHost}/blobs/${sha}?X-Amz-Signature=fake`,
        'x-repo-commit': commit,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(file.bytes.length),
        etag: `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${file.bytes.length}\n`))}"`,
        'content-length': '0',
      })
      res.end()
      return
    }
    res.writeHead(200, { 'content-length': file.bytes.length, etag: `"${gitBlobSha1(file.bytes)}"`, 'x-repo-commit': commit, 'content-type': 'text/plain' })
    res.end(req.method === 'HEAD' ? undefined : file.bytes)
  })
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve))
  const endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`
  return {
    endpoint,
    fileHost,
    log,
    controls,
    repos,
    async close() {
      hub.closeAllConnections()
      files.closeAllConnections()
      await Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => files.close(r))])
    },
  }
}
