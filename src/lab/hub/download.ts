// Downloads the files the lab needs from the Hugging Face Hub into the standard cache layout (cache-layout.ts),
// the way huggingface_hub's hf_hub_download does, so Python tools find them:
//   1. GET  {endpoint}/api/models/{repo}/revision/{revision}      → the commit (sha) and the file list (siblings)
//   2. HEAD {endpoint}/{repo}/resolve/{commit}/{file}, redirects not followed: X-Repo-Commit, the ETag
//      (X-Linked-Etag for LFS files = their sha256; ETag = the git blob sha1 otherwise), the size (X-Linked-Size
//      or Content-Length) and, for LFS files, the file host in Location (a 302)
//   3. free space (statfs) checked against everything still to fetch, before any byte is written
//   4. GET each file into blobs/<etag>.incomplete, resumed with Range after a cut connection or a previous run;
//      its sha256 (LFS) or git blob sha1 (non-LFS) must equal the ETag; then renamed to blobs/<etag> and linked
//      from snapshots/<commit>/<file>; refs/<revision> records the commit.
// The Authorization header (HF_TOKEN) goes only to the endpoint itself, never to the file host it redirects to.
//
// @huggingface/hub 2.17.5 (read, not used) cannot do what this needs: downloadFileToCacheDir restarts a partial
// file from zero (no Range resume), verifies no checksum, reports no progress and takes no AbortSignal; called with
// a branch it files each file under the commit that last changed that file (pathsInfo lastCommit), not the
// revision's commit, and writes no refs/<revision>; snapshotDownload fixes the commit and refs but fetches every
// file of the repo (tf_model.h5, rust_model.ot, … — several times the size) with no way to choose files; Xet-stored
// files are named by their Xet hash instead of the sha256 ETag huggingface_hub names blobs by.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { DownloadModelResult, DownloadProgress, DownloadedFile } from '../../common/api'
import { LabError } from '../../common/errors'
import { COMMIT_PATTERN, hubCacheDir, hubEndpoint, hubOffline, hubToken, isValidRepoId, isValidRevision, repoFolderName } from './cache-layout'

export interface DownloadOptions {
  repoId: string
  revision?: string
  /** defaults from the environment: HF_HUB_CACHE…, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE */
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
  onProgress?: (progress: DownloadProgress) => void
  /** attempts per file after a cut connection (each resumes with Range); default 3 */
  retries?: number
  /** free bytes where the cache is (tests); default statfs */
  freeBytes?: (dir: string) => number
}

/** Config, weights (safetensors preferred, else the .bin) and tokenizer files: all the lab reads. */
export function selectFiles(names: string[]): string[] {
  const has = new Set(names)
  if (!has.has('config.json')) throw new LabError('HUB_NOT_FOUND', 'the repository has no config.json: it is not a transformers model')
  const weights = ['model.safetensors', 'pytorch_model.bin'].find((f) => has.has(f))
  if (!weights) {
    const sharded = ['model.safetensors.index.json', 'pytorch_model.bin.index.json'].filter((f) => has.has(f))
    throw new LabError(
      'HUB_NOT_FOUND',
      sharded.length > 0
        ? `the weights are sharded (${sharded.join(', ')}): the lab reads single-file checkpoints only`
        : 'the repository has neither model.safetensors nor pytorch_model.bin',
    )
  }
  const tokenizer = ['tokenizer.json', 'spm.model', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json']
  if (!has.has('tokenizer.json') && !has.has('spm.model') && !has.has('vocab.json')) tokenizer.push('vocab.txt')
  return ['config.json', weights, ...tokenizer.filter((f) => has.has(f))]
}

function describeHttpError(status: number, headers: Headers, what: string, options: { repoId: string; endpoint: string; token?: string }): LabError {
  const code = headers.get('x-error-code') ?? ''
  const serverMessage = headers.get('x-error-message')
  const said = serverMessage ? ` (the Hub said: ${serverMessage})` : ''
  if (status === 401) {
    return new LabError(
      'HUB_UNAUTHORIZED',
      `${what}: 401 — ${options.repoId} does not exist or is private${said}; ` +
        (options.token ? 'the HF_TOKEN sent was refused or has no access to it' : 'for a private repository set HF_TOKEN'),
      { status, errorCode: code },
    )
  }
  if (status === 403) {
    return new LabError(
      'HUB_GATED',
      `${what}: 403 — ${options.repoId} is gated${said}: accept its conditions at ${options.endpoint}/${options.repoId} ` +
        (options.token ? 'with the account of HF_TOKEN' : 'and set HF_TOKEN to a token of that account'),
      { status, errorCode: code },
    )
  }
  if (status === 404) {
    const which = code === 'RevisionNotFound' ? 'no such revision' : code === 'EntryNotFound' ? 'no such file' : 'no such repository or revision'
    return new LabError('HUB_NOT_FOUND', `${what}: 404 — ${which}${said}`, { status, errorCode: code })
  }
  return new LabError('HUB_ERROR', `${what}: the Hub answered HTTP ${status}${said}`, { status, errorCode: code })
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted || (error as Error)?.name === 'AbortError'
}

const cancelled = () => new LabError('CANCELLED', 'download cancelled; the partial file is kept and the next download resumes it')

function offlineError(endpoint: string, error: unknown): LabError {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause
  const why = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error)
  return new LabError('HUB_OFFLINE', `cannot reach ${endpoint} (${why}); set HF_ENDPOINT for a mirror, or use HF_HUB_OFFLINE=1 with models already in the cache`)
}

/** The nearest existing ancestor of `dir` (statfs needs an existing path). */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir)
  while (!fs.existsSync(current)) {
    const parent = path.dirname(current)
    if (parent === current) break
    current = parent
  }
  return current
}

function defaultFreeBytes(dir: string): number {
  const stat = fs.statfsSync(existingAncestor(dir))
  return Number(stat.bavail) * Number(stat.bsize)
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`
  return `${bytes} B`
}

/** The ETag as the cache names blobs: without W/ and quotes (huggingface_hub _normalize_etag). */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined
}

/** sha256 (64 hex ETags of LFS files) or git blob sha1 ("blob <size>\0" + bytes; 40 hex ETags of other files). */
export async function fileChecksum(file: string, kind: 'sha256' | 'git-sha1'): Promise<string> {
  const hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1')
  if (kind === 'git-sha1') hash.update(`blob ${fs.statSync(file).size}\0`)
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function checksumKind(etag: string): 'sha256' | 'git-sha1' | undefined {
  if (/^[0-9a-f]{64}$/.test(etag)) return 'sha256'
  if (/^[0-9a-f]{40}$/.test(etag)) return 'git-sha1'
  return undefined
}

function linkBlob(blob: string, pointer: string): void {
  fs.mkdirSync(path.dirname(pointer), { recursive: true })
  try {
    fs.rmSync(pointer, { force: true })
  } catch {
    // replaced below
  }
  try {
    fs.symlinkSync(path.relative(path.dirname(pointer), blob), pointer)
  } catch {
    // no symlinks (Windows without developer mode): a copy, as huggingface_hub does then
    fs.copyFileSync(blob, pointer)
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile()
  } catch {
    return false
  }
}

function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return
  const refFile = path.join(repoDir, 'refs', revision)
  fs.mkdirSync(path.dirname(refFile), { recursive: true })
  fs.writeFileSync(refFile, commit)
}

/** The snapshot a revision resolves to in the cache (offline use), or undefined. */
export function cachedSnapshot(cacheDir: string, repoId: string, revision: string): { commit: string; dir: string } | undefined {
  const repoDir = path.join(cacheDir, repoFolderName(repoId))
  let commit = revision
  if (!COMMIT_PATTERN.test(revision)) {
    try {
      commit = fs.readFileSync(path.join(repoDir, 'refs', revision), 'utf8').trim()
    } catch {
      return undefined
    }
  }
  const dir = path.join(repoDir, 'snapshots', commit)
  if (!isFile(path.join(dir, 'config.json'))) return undefined
  if (!['model.safetensors', 'pytorch_model.bin'].some((f) => isFile(path.join(dir, f)))) return undefined
  return { commit, dir }
}

interface PlannedFile {
  name: string
  etag: string
  size: number
  /** the absolute URL to GET: the file host for LFS files, the resolve URL otherwise */
  url: string
  cached: boolean
}

export async function downloadModel(options: DownloadOptions): Promise<DownloadModelResult> {
  const env = options.env ?? process.env
  const began = Date.now()
  const { repoId, signal } = options
  const revision = options.revision ?? 'main'
  if (!isValidRepoId(repoId)) throw new LabError('INPUT_INVALID', `"${repoId}" is not a Hub repository id (org/name)`, { field: 'repoId' })
  if (!isValidRevision(revision)) throw new LabError('INPUT_INVALID', `"${revision}" is not a revision (branch, tag or commit)`, { field: 'revision' })
  const cacheDir = hubCacheDir(env)
  const endpoint = hubEndpoint(env)
  const token = hubToken(env)
  const repoDir = path.join(cacheDir, repoFolderName(repoId))
  const fromCache = (): DownloadModelResult | undefined => {
    const snapshot = cachedSnapshot(cacheDir, repoId, revision)
    if (!snapshot) return undefined
    const files = fs.readdirSync(snapshot.dir).map((name): DownloadedFile => {
      const full = path.join(snapshot.dir, name)
      return { name, size: fs.statSync(full).size, etag: path.basename(fs.realpathSync(full)), cached: true }
    })
    return { repoId, revision, commit: snapshot.commit, path: snapshot.dir, files, bytesDownloaded: 0, milliseconds: Date.now() - began }
  }
  if (hubOffline(env)) {
    const cached = fromCache()
    if (cached) return cached
    throw new LabError('HUB_OFFLINE', `HF_HUB_OFFLINE is set and ${repoId}@${revision} is not in the cache (${cacheDir})`)
  }
  const context = { repoId, endpoint, token }
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const request = async (url: string, init: RequestInit): Promise<Response> => {
    try {
      return await fetch(url, { ...init, signal })
    } catch (error) {
      if (isAbort(error, signal)) throw cancelled()
      throw offlineError(endpoint, error)
    }
  }

  // 1. the revision's commit and files
  const encodedRepo = repoId.split('/').map(encodeURIComponent).join('/')
  let info: { sha?: unknown; siblings?: Array<{ rfilename?: unknown }> }
  let infoResponse: Response
  try {
    infoResponse = await request(`${endpoint}/api/models/${encodedRepo}/revision/${encodeURIComponent(revision)}`, { headers: { ...auth, accept: 'application/json' } })
  } catch (error) {
    // like huggingface_hub: when the Hub cannot be reached, a revision already in the cache is used as it is
    const cached = error instanceof LabError && error.code === 'HUB_OFFLINE' ? fromCache() : undefined
    if (cached) return cached
    throw error
  }
  if (!infoResponse.ok) throw describeHttpError(infoResponse.status, infoResponse.headers, `${repoId}@${revision}`, context)
  try {
    info = (await infoResponse.json()) as typeof info
  } catch (error) {
    if (isAbort(error, signal)) throw cancelled()
    throw new LabError('HUB_ERROR', `${endpoint}/api/models/${repoId}/revision/${revision} did not answer JSON: ${(error as Error).message}`)
  }
  const commit = typeof info.sha === 'string' && COMMIT_PATTERN.test(info.sha) ? info.sha : undefined
  if (!commit) throw new LabError('HUB_ERROR', `the Hub gave no commit for ${repoId}@${revision}`)
  const names = (info.siblings ?? []).map((s) => s.rfilename).filter((n): n is string => typeof n === 'string')
  const wanted = selectFiles(names)

  // 2. metadata of every file (HEAD, redirects not followed)
  const planned: PlannedFile[] = []
  for (const name of wanted) {
    const resolveUrl = `${endpoint}/${encodedRepo}/resolve/${commit}/${name.split('/').map(encodeURIComponent).join('/')}`
    let url = resolveUrl
    let response = await request(url, { method: 'HEAD', redirect: 'manual', headers: { ...auth, 'accept-encoding': 'identity' } })
    // relative redirects stay on the Hub (a renamed repository) and keep the token
    for (let hops = 0; hops < 5 && response.status >= 300 && response.status < 400; hops++) {
      const location = response.headers.get('location')
      if (!location) break
      const next = new URL(location, url)
      if (next.origin !== new URL(endpoint).origin || response.headers.get('x-linked-etag')) break
      url = next.href
      response = await request(url, { method: 'HEAD', redirect: 'manual', headers: { ...auth, 'accept-encoding': 'identity' } })
    }
    const redirected = response.status >= 300 && response.status < 400
    if (!response.ok && !redirected) throw describeHttpError(response.status, response.headers, `${repoId}/${name}`, context)
    const etag = normalizeEtag(response.headers.get('x-linked-etag') ?? response.headers.get('etag'))
    const size = Number(response.headers.get('x-linked-size') ?? response.headers.get('content-length'))
    const headerCommit = response.headers.get('x-repo-commit')
    if (!etag) throw new LabError('HUB_ERROR', `${repoId}/${name}: the Hub sent no ETag, so the file cannot be named or verified`)
    if (!Number.isFinite(size) || size < 0) throw new LabError('HUB_ERROR', `${repoId}/${name}: the Hub sent no size`)
    if (headerCommit && headerCommit !== commit) {
      throw new LabError('HUB_ERROR', `${repoId}/${name}: the Hub served commit ${headerCommit} for ${commit} (the revision moved during the download?)`)
    }
    if (etag.includes('/') || etag.includes('\\') || etag.startsWith('.')) throw new LabError('HUB_ERROR', `${repoId}/${name}: unusable ETag "${etag}"`)
    const location = redirected ? response.headers.get('location') : null
    const fileUrl = location ? new URL(location, url).href : url
    const blob = path.join(repoDir, 'blobs', etag)
    planned.push({ name, etag, size, url: fileUrl, cached: isFile(blob) && fs.statSync(blob).size === size })
  }

  // 3. free space for what is still missing (partial files count as already there)
  const partial = (file: PlannedFile): number => {
    try {
      return Math.min(fs.statSync(path.join(repoDir, 'blobs', `${file.etag}.incomplete`)).size, file.size)
    } catch {
      return 0
    }
  }
  const missing = planned.filter((f) => !f.cached).reduce((sum, f) => sum + f.size - partial(f), 0)
  const free = (options.freeBytes ?? defaultFreeBytes)(cacheDir)
  if (missing > free) {
    throw new LabError('DISK_FULL', `${repoId} needs ${formatBytes(missing)} more in ${cacheDir}, but only ${formatBytes(free)} are free`, { needed: missing, free })
  }

  // 4. the files
  const totalBytes = planned.reduce((sum, f) => sum + f.size, 0)
  let doneBytes = 0
  let fetched = 0
  const window: Array<{ at: number; fetched: number }> = [{ at: Date.now(), fetched: 0 }]
  let lastReport = 0
  const report = (file: PlannedFile, index: number, onDisk: number, force = false): void => {
    const now = Date.now()
    if (!force && now - lastReport < 100) return
    lastReport = now
    window.push({ at: now, fetched })
    while (window.length > 2 && now - window[0].at > 3000) window.shift()
    const span = (now - window[0].at) / 1000
    const bytesPerSecond = span > 0 ? (fetched - window[0].fetched) / span : 0
    options.onProgress?.({ file: file.name, fileIndex: index, fileCount: planned.length, bytes: doneBytes + onDisk, totalBytes, bytesPerSecond })
  }
  fs.mkdirSync(path.join(repoDir, 'blobs'), { recursive: true })
  const results: DownloadedFile[] = []
  for (const [index, file] of planned.entries()) {
    const blob = path.join(repoDir, 'blobs', file.etag)
    const pointer = path.join(repoDir, 'snapshots', commit, file.name)
    if (!file.cached) {
      await fetchBlob(file, blob, (onDisk) => report(file, index, onDisk))
    }
    linkBlob(blob, pointer)
    doneBytes += file.size
    report(file, index, 0, true)
    results.push({ name: file.name, size: file.size, etag: file.etag, cached: file.cached })
  }
  writeRef(repoDir, revision, commit)
  return { repoId, revision, commit, path: path.join(repoDir, 'snapshots', commit), files: results, bytesDownloaded: fetched, milliseconds: Date.now() - began }

  /** Fetches one file into blobs/<etag> (resuming <etag>.incomplete) and verifies it; returns the bytes fetched. */
  async function fetchBlob(file: PlannedFile, blob: string, progress: (onDisk: number) => void): Promise<number> {
    const incomplete = `${blob}.incomplete`
    const sameHost = new URL(file.url).origin === new URL(endpoint).origin
    let got = 0
    let attemptsLeft = options.retries ?? 3
    for (;;) {
      let start = 0
      try {
        start = fs.statSync(incomplete).size
      } catch {
        start = 0
      }
      if (start > file.size) {
        fs.truncateSync(incomplete, 0)
        start = 0
      }
      if (start === file.size) break
      const headers: Record<string, string> = { 'accept-encoding': 'identity', ...(sameHost ? auth : {}) }
      if (start > 0) headers.range = `bytes=${start}-`
      const response = await request(file.url, { headers })
      if (response.status === 416) {
        fs.truncateSync(incomplete, 0)
        continue
      }
      if (!response.ok) throw describeHttpError(response.status, response.headers, `${repoId}/${file.name}`, context)
      // a server that ignores Range sends the whole file: start over
      const append = start > 0 && response.status === 206
      if (start > 0 && !append) start = 0
      const handle = fs.openSync(incomplete, append ? 'a' : 'w')
      let onDisk = start
      try {
        if (!response.body) throw new Error('empty body')
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          fs.writeSync(handle, chunk)
          onDisk += chunk.length
          got += chunk.length
          fetched += chunk.length
          progress(onDisk)
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
          throw new LabError('DISK_FULL', `the disk holding ${path.dirname(blob)} is full (${file.name}); the partial file is kept`)
        }
        if (isAbort(error, signal)) throw cancelled()
        if (attemptsLeft-- <= 0) throw offlineError(endpoint, error)
        continue
      } finally {
        fs.closeSync(handle)
      }
      if (onDisk < file.size) {
        if (attemptsLeft-- <= 0) throw new LabError('HUB_OFFLINE', `${repoId}/${file.name}: the connection ended at ${onDisk} of ${file.size} bytes; download again to resume`)
        continue
      }
      break
    }
    const size = fs.statSync(incomplete).size
    const kind = checksumKind(file.etag)
    const actual = kind ? await fileChecksum(incomplete, kind) : undefined
    if (size !== file.size || (kind && actual !== file.etag)) {
      fs.rmSync(incomplete, { force: true })
      throw new LabError(
        'DOWNLOAD_CHECKSUM',
        size !== file.size
          ? `${repoId}/${file.name}: ${size} bytes received, the Hub announced ${file.size}; the file was deleted`
          : `${repoId}/${file.name}: ${kind} ${actual} does not match the Hub's ${file.etag}; the file was deleted`,
        { file: file.name, expected: file.etag, actual },
      )
    }
    fs.renameSync(incomplete, blob)
    return got
  }
}
