// The folder listing behind browser mode's folder picker: the user's home folder and below, nothing else.
// Paths are compared after resolving symlinks, so a link inside home that points elsewhere is neither listed
// nor listable.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { DirectoryListing } from '../../common/api'
import { LabError } from '../../common/errors'

/** Most entries returned for one folder (the picker shows folders first). */
export const MAX_DIRECTORY_ENTRIES = 2000

function inside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

export function listDirectory(homeDir: string, request: { path?: string; hidden?: boolean }): DirectoryListing {
  let home: string
  try {
    home = fs.realpathSync(homeDir)
  } catch {
    throw new LabError('NOT_FOUND', `the home folder ${homeDir} does not exist`)
  }
  const asked = request.path ? path.resolve(home, request.path) : home
  let real: string
  try {
    real = fs.realpathSync(asked)
  } catch {
    throw new LabError('NOT_FOUND', `folder not found: ${asked}`)
  }
  if (!inside(home, real)) throw new LabError('FORBIDDEN', `${asked} is outside the home folder ${home}: the folder picker lists only the home folder and below`)
  if (!fs.statSync(real).isDirectory()) throw new LabError('INPUT_INVALID', `${asked} is not a folder`, { field: 'path' })
  let dirents: fs.Dirent[]
  try {
    dirents = fs.readdirSync(real, { withFileTypes: true })
  } catch (error) {
    throw new LabError('FORBIDDEN', `cannot read ${real}: ${(error as Error).message}`)
  }
  const entries: DirectoryListing['entries'] = []
  for (const dirent of dirents) {
    if (!request.hidden && dirent.name.startsWith('.')) continue
    const full = path.join(real, dirent.name)
    let target = full
    if (dirent.isSymbolicLink()) {
      try {
        target = fs.realpathSync(full)
      } catch {
        continue
      }
      if (!inside(home, target)) continue
    }
    let stat: fs.Stats
    try {
      stat = fs.statSync(target)
    } catch {
      continue
    }
    const kind = stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : undefined
    if (!kind) continue
    const entry: DirectoryListing['entries'][number] = { name: dirent.name, path: full, kind }
    if (kind === 'directory' && fs.existsSync(path.join(target, 'config.json'))) entry.model = true
    entries.push(entry)
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1))
  return { path: real, parent: real === home ? null : path.dirname(real), home, entries: entries.slice(0, MAX_DIRECTORY_ENTRIES) }
}
