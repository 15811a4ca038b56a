// Recently used checkpoint folders: a small JSON file beside the experiment store, shared by the app, browser
// mode and the CLI (`deberta-lab models list`). Written when a checkpoint folder is described successfully.
import * as fs from 'node:fs'
import * as path from 'node:path'

export const MAX_RECENT_FOLDERS = 12

/** recent-models.json beside the store file; undefined for an in-memory store. */
export function recentFileFor(storePath: string): string | undefined {
  if (!storePath || storePath === ':memory:') return undefined
  return path.join(path.dirname(path.resolve(storePath)), 'recent-models.json')
}

export function readRecentFolders(file: string): string[] {
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { folders?: unknown }
    return Array.isArray(data.folders) ? data.folders.filter((f): f is string => typeof f === 'string').slice(0, MAX_RECENT_FOLDERS) : []
  } catch {
    return []
  }
}

/** Puts `folder` first (absolute); best effort: a read-only location simply keeps no history. */
export function rememberRecentFolder(file: string, folder: string): void {
  const abs = path.resolve(folder)
  const folders = [abs, ...readRecentFolders(file).filter((f) => f !== abs)].slice(0, MAX_RECENT_FOLDERS)
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, JSON.stringify({ folders }, null, 2))
    fs.renameSync(tmp, file)
  } catch {
    // no history rather than a failed describe
  }
}
