// Paths the user names on the command line: checked before any work, so a typo costs a clear message and
// not a computation followed by an ENOENT about a hidden temp file.
import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { LabError } from '../common/errors'

/** An output file: its folder must exist, and the path must not be a folder. */
export function checkOutputFile(path: string, what = 'output file'): void {
  const full = resolve(path)
  const stat = statOrNull(full)
  if (stat?.isDirectory()) throw new LabError('BAD_REQUEST', `the ${what} ${path} is a folder: give a file name inside it`)
  const folder = statOrNull(dirname(full))
  if (!folder) throw new LabError('BAD_REQUEST', `the folder of the ${what} ${path} does not exist (${dirname(full)}): create it first`)
  if (!folder.isDirectory()) throw new LabError('BAD_REQUEST', `the ${what} ${path} is inside ${dirname(full)}, which is not a folder`)
}

/** An input file that must exist and be a regular file. */
export function checkInputFile(path: string, what: string, code: 'NOT_FOUND' | 'IMPORT_INVALID' = 'NOT_FOUND'): void {
  const stat = statOrNull(resolve(path))
  if (!stat) throw new LabError('NOT_FOUND', `the ${what} ${path} does not exist`)
  if (!stat.isFile()) throw new LabError(code, `the ${what} ${path} is ${stat.isDirectory() ? 'a folder' : 'not a regular file'}: give a file`)
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path)
  } catch {
    return null
  }
}
