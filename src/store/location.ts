// Where the store file lives when nobody says (CLI and browser mode; the desktop app passes its userData path).
import { posix, win32 } from 'node:path'

export interface StoreLocationInput {
  /** `--store PATH` */
  cliFlag?: string
  /** process.env (DEBERTA_LAB_STORE, XDG_DATA_HOME, APPDATA) */
  env: Record<string, string | undefined>
  /** process.platform */
  platform: string
  /** overrides env.XDG_DATA_HOME */
  xdgDataHome?: string
  /** the user's home folder (os.homedir()) */
  home: string
  /** base for relative paths (default process.cwd()) */
  cwd?: string
}

export const STORE_FILE_NAME = 'lab.sqlite'
export const STORE_FOLDER_NAME = 'deberta-lab'

/**
 * `--store PATH` > DEBERTA_LAB_STORE > $XDG_DATA_HOME/deberta-lab/lab.sqlite (when XDG_DATA_HOME is an
 * absolute path, as the XDG spec requires) > the platform's data folder: ~/.local/share on Linux and other
 * Unixes, ~/Library/Application Support on macOS, %APPDATA% on Windows. ':memory:' passes through.
 */
export function resolveStorePath(input: StoreLocationInput): string {
  const path = input.platform === 'win32' ? win32 : posix
  const cwd = input.cwd ?? process.cwd()
  const explicit = input.cliFlag || input.env.DEBERTA_LAB_STORE
  if (explicit) return explicit === ':memory:' ? explicit : path.resolve(cwd, explicit)
  const xdg = input.xdgDataHome ?? input.env.XDG_DATA_HOME
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, STORE_FOLDER_NAME, STORE_FILE_NAME)
  let base: string
  if (input.platform === 'darwin') base = path.join(input.home, 'Library', 'Application Support')
  else if (input.platform === 'win32') base = input.env.APPDATA && path.isAbsolute(input.env.APPDATA) ? input.env.APPDATA : path.join(input.home, 'AppData', 'Roaming')
  else base = path.join(input.home, '.local', 'share')
  return path.join(base, STORE_FOLDER_NAME, STORE_FILE_NAME)
}
