// Where things are when running under plain Node (CLI, browser mode, tests): the resources folder,
// the built renderer and the experiment store.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

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

/** XDG data folder for the CLI and browser mode (the desktop app uses Electron's userData instead). */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(home, '.local', 'share')
  return join(xdg, 'deberta-lab', 'lab.sqlite')
}

export interface AppPaths {
  root: string
  resourcesDir: string
  rendererDir: string
  storePath: string
}

/** --store PATH > DEBERTA_LAB_STORE > XDG data folder. */
export function resolveAppPaths(options: { storeFlag?: string; env?: NodeJS.ProcessEnv } = {}): AppPaths {
  const env = options.env ?? process.env
  const root = findAppRoot()
  const storePath = options.storeFlag ? resolve(options.storeFlag) : env.DEBERTA_LAB_STORE ? resolve(env.DEBERTA_LAB_STORE) : defaultStorePath(env)
  return { root, resourcesDir: join(root, 'resources'), rendererDir: join(root, 'out', 'renderer'), storePath }
}
