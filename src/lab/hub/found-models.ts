// Models found on this computer: the bundled ones, every snapshot of a DeBERTa or BERT repo in the Hugging Face
// cache, and the checkpoint folders used recently. Broken entries are listed with the reason.
//
// @huggingface/hub 2.17.5's scanCacheDir (read, not used) does not fit: it rejects a whole repo (as an anonymous
// warning) when one snapshot file is a dangling symlink, when refs/ is missing (a snapshot fetched by commit) or
// when a ref file ends with a newline, and aborts the whole scan on a dangling entry at the top of the cache; the
// picker must show each of those as a named, broken entry instead.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { BUNDLED_MODELS, type FoundModel, type ModelListing } from '../../common/api'
import { hubCacheDir, repoIdFromFolder } from './cache-layout'
import { inspectModelFolder } from './inspect'
import { readRecentFolders } from './recent'

function readRefs(refsDir: string): Map<string, string[]> {
  const byCommit = new Map<string, string[]>()
  const visit = (dir: string, prefix: string): void => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const name = prefix + entry.name
      if (entry.isDirectory()) visit(path.join(dir, entry.name), `${name}/`)
      else {
        try {
          const commit = fs.readFileSync(path.join(dir, entry.name), 'utf8').trim()
          byCommit.set(commit, [...(byCommit.get(commit) ?? []), name])
        } catch {
          // unreadable ref: the snapshot is still listed, without this name
        }
      }
    }
  }
  visit(refsDir, '')
  return byCommit
}

/** Every snapshot of the DeBERTa/BERT repos in the cache (newest first within a repo), and the count of other repos. */
export function scanHubCache(cacheDir: string): { models: FoundModel[]; otherRepos: number } {
  const models: FoundModel[] = []
  let otherRepos = 0
  let folders: string[]
  try {
    folders = fs.readdirSync(cacheDir).sort()
  } catch {
    return { models, otherRepos }
  }
  for (const folder of folders) {
    const repoId = repoIdFromFolder(folder)
    if (!repoId) continue
    const repoDir = path.join(cacheDir, folder)
    const refs = readRefs(path.join(repoDir, 'refs'))
    const base = { source: 'cache' as const, name: repoId, mlmHead: null, emd: false, tokenizer: null, sizeBytes: 0 }
    let snapshots: Array<{ commit: string; dir: string; mtime: number }>
    try {
      snapshots = fs
        .readdirSync(path.join(repoDir, 'snapshots'), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => {
          const dir = path.join(repoDir, 'snapshots', e.name)
          return { commit: e.name, dir, mtime: fs.statSync(dir).mtimeMs }
        })
        .sort((a, b) => b.mtime - a.mtime)
    } catch {
      snapshots = []
    }
    if (snapshots.length === 0) {
      models.push({ ...base, path: repoDir, ref: null, broken: 'no snapshot in the cache (nothing downloaded yet, or the download was interrupted before its first file)' })
      continue
    }
    const listed: FoundModel[] = []
    let other = 0
    for (const snapshot of snapshots) {
      const facts = inspectModelFolder(snapshot.dir)
      if (!facts) {
        other++
        continue
      }
      listed.push({
        ...base,
        ...facts,
        commit: snapshot.commit,
        refs: refs.get(snapshot.commit) ?? [],
        ref: facts.broken ? null : { kind: 'checkpoint', path: snapshot.dir },
      })
      refs.delete(snapshot.commit)
    }
    if (listed.length === 0 && other > 0) {
      otherRepos++
      continue
    }
    for (const [commit, names] of refs) {
      listed.push({ ...base, path: repoDir, ref: null, commit, refs: names, broken: `refs/${names.join(', refs/')} points at commit ${commit}, which is not in snapshots/` })
    }
    models.push(...listed)
  }
  return { models, otherRepos }
}

function folderEntry(source: FoundModel['source'], name: string, dir: string, ref: FoundModel['ref']): FoundModel | null {
  if (!fs.existsSync(dir)) return { source, name, path: dir, ref: null, sizeBytes: 0, mlmHead: null, emd: false, tokenizer: null, broken: 'the folder no longer exists' }
  const facts = inspectModelFolder(dir)
  if (!facts) return null
  return { source, name, ...facts, ref: facts.broken ? null : ref }
}

export interface ListModelsOptions {
  resourcesDir: string
  /** the file holding the recently used folders (see recent.ts); undefined: none */
  recentFile?: string
  env?: NodeJS.ProcessEnv
}

export function listFoundModels(options: ListModelsOptions): ModelListing {
  const cacheDir = hubCacheDir(options.env)
  const models: FoundModel[] = []
  for (const name of BUNDLED_MODELS) {
    const entry = folderEntry('bundled', name, path.join(options.resourcesDir, name), { kind: 'bundled', name })
    if (entry) models.push(entry)
  }
  const cache = scanHubCache(cacheDir)
  models.push(...cache.models)
  const cached = new Set(cache.models.map((m) => path.resolve(m.path)))
  for (const dir of options.recentFile ? readRecentFolders(options.recentFile) : []) {
    if (cached.has(path.resolve(dir))) continue
    const entry = folderEntry('recent', path.basename(dir) || dir, dir, { kind: 'checkpoint', path: dir })
    if (entry) models.push(entry)
  }
  return { cacheDir, models, otherRepos: cache.otherRepos }
}
