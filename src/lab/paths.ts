// Where things are when running under plain Node (CLI, browser mode, tests): the resources folder,
// the built renderer and the experiment store.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resolveStorePath } from '../store'

/** The project root: two levels above this module, from src/lab/ and from out/main/ (or out/main/chunks/). */
export function findAppRoot(): string {
  const env = process.env.DEBERTA_LAB_ROOT
  if (env) return resolve(env)
  for (const up of ['../..', '../../..']) {
    const candidate = fileURLToPath(new URL(`${up}/`, import.meta.url))
    if (existsSync(join(candidate, 'package.json')) && existsSync(join(candidate, 'resources'))) return resolve(candidate)
  }
  return process.cwd()
}

export interface AppPaths {
  root: string
  resourcesDir: string
  rendererDir: string
  storePath: string
}

/** --store PATH > DEBERTA_LAB_STORE > the platform's data folder (XDG on Linux); see src/store/location.ts. */
export function resolveAppPaths(options: { storeFlag?: string; env?: NodeJS.ProcessEnv } = {}): AppPaths {
  const env = options.env ?? process.env
  const root = findAppRoot()
  const storePath = resolveStorePath({ cliFlag: options.storeFlag, env, platform: process.platform, home: homedir() })
  return { root, resourcesDir: join(root, 'resources'), rendererDir: join(root, 'out', 'renderer'), storePath }
}
