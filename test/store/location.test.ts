// Where the store lives: --store > DEBERTA_LAB_STORE > XDG data folder (> platform default).
import { describe, expect, it } from 'vitest'
import { resolveStorePath } from '../../src/store'

const home = '/home/ada'

describe('resolveStorePath', () => {
  it('prefers --store, then DEBERTA_LAB_STORE, then $XDG_DATA_HOME', () => {
    const env = { DEBERTA_LAB_STORE: '/env/lab.sqlite', XDG_DATA_HOME: '/xdg' }
    expect(resolveStorePath({ cliFlag: '/flag/lab.sqlite', env, platform: 'linux', home })).toBe('/flag/lab.sqlite')
    expect(resolveStorePath({ env, platform: 'linux', home })).toBe('/env/lab.sqlite')
    expect(resolveStorePath({ env: { XDG_DATA_HOME: '/xdg' }, platform: 'linux', home })).toBe('/xdg/deberta-lab/lab.sqlite')
    expect(resolveStorePath({ env: { XDG_DATA_HOME: '/xdg' }, xdgDataHome: '/explicit', platform: 'linux', home })).toBe('/explicit/deberta-lab/lab.sqlite')
  })

  it('falls back to ~/.local/share, ignoring a relative XDG_DATA_HOME as the XDG spec says', () => {
    expect(resolveStorePath({ env: {}, platform: 'linux', home })).toBe('/home/ada/.local/share/deberta-lab/lab.sqlite')
    expect(resolveStorePath({ env: { XDG_DATA_HOME: 'relative/dir' }, platform: 'linux', home })).toBe('/home/ada/.local/share/deberta-lab/lab.sqlite')
    expect(resolveStorePath({ env: { XDG_DATA_HOME: '' }, platform: 'freebsd', home })).toBe('/home/ada/.local/share/deberta-lab/lab.sqlite')
  })

  it('uses the platform data folder on macOS and Windows', () => {
    expect(resolveStorePath({ env: {}, platform: 'darwin', home: '/Users/ada' })).toBe('/Users/ada/Library/Application Support/deberta-lab/lab.sqlite')
    expect(resolveStorePath({ env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, platform: 'win32', home: 'C:\\Users\\ada' })).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\deberta-lab\\lab.sqlite',
    )
  })

  it('resolves relative paths against cwd and passes :memory: through', () => {
    expect(resolveStorePath({ cliFlag: 'data/lab.sqlite', env: {}, platform: 'linux', home, cwd: '/work' })).toBe('/work/data/lab.sqlite')
    expect(resolveStorePath({ env: { DEBERTA_LAB_STORE: './x.sqlite' }, platform: 'linux', home, cwd: '/work' })).toBe('/work/x.sqlite')
    expect(resolveStorePath({ cliFlag: ':memory:', env: {}, platform: 'linux', home })).toBe(':memory:')
  })
})
