// The Hugging Face cache layout, as huggingface_hub (Python) and @huggingface/hub write it, so both share files:
//   <cache>/models--<org>--<name>/blobs/<etag>                 file contents, named by the Hub's ETag
//   <cache>/models--<org>--<name>/snapshots/<commit>/<file>    relative symlink → ../../blobs/<etag>
//   <cache>/models--<org>--<name>/refs/<revision>              the commit a branch or tag pointed at
// (huggingface_hub file_download.py: repo_folder_name, _create_symlink; constants.py: HF_HUB_CACHE.)
import { homedir } from 'node:os'
import { join } from 'node:path'

/** HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE (legacy), else HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE
  if (env.HF_HOME) return join(env.HF_HOME, 'hub')
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub')
}

/** HF_ENDPOINT without a trailing slash, default https://huggingface.co. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '')
}

/** HF_HUB_OFFLINE=1/true/yes/on (huggingface_hub's _is_true). */
export function hubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase())
}

export function hubToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.HF_TOKEN?.trim() || undefined
}

/** "microsoft/deberta-v3-base" → "models--microsoft--deberta-v3-base". */
export function repoFolderName(repoId: string): string {
  return ['models', ...repoId.split('/')].join('--')
}

/** "models--microsoft--deberta-v3-base" → "microsoft/deberta-v3-base"; undefined for other repo types. */
export function repoIdFromFolder(folder: string): string | undefined {
  const parts = folder.split('--')
  if (parts.length < 2 || parts[0] !== 'models' || parts.slice(1).some((p) => p === '')) return undefined
  return parts.slice(1).join('/')
}

/** org/name or name: letters, digits, '-', '_', '.'; no '..', no leading or trailing '-'/'.' (the Hub's rules). */
export const REPO_ID_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?\/)?[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/

export function isValidRepoId(repoId: string): boolean {
  return REPO_ID_PATTERN.test(repoId) && !repoId.includes('..') && !repoId.includes('--')
}

/** A revision as it may appear in a URL and as a refs/ file name: no '..', no backslash, no leading '/'. */
export function isValidRevision(revision: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(revision) && !revision.includes('..') && !revision.endsWith('/')
}

export const COMMIT_PATTERN = /^[0-9a-f]{40}$/

/** "org/name @ 0123456789" for a snapshot folder of the cache (…/models--org--name/snapshots/<commit>), else undefined. */
export function snapshotLabel(folder: string): string | undefined {
  const match = /(?:^|[\\/])models--([^\\/]+)[\\/]snapshots[\\/]([0-9a-f]{40})[\\/]?$/.exec(folder)
  const repoId = match ? repoIdFromFolder(`models--${match[1]}`) : undefined
  return repoId ? `${repoId} @ ${match![2].slice(0, 10)}` : undefined
}
