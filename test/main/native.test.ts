import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { electronNativeBinding, electronNativeBindingPath } from '../../src/main/native'

describe('Electron-ABI better-sqlite3 binding', () => {
  it('is used when the postinstall build exists for this Electron version, else better-sqlite3 loads its own', () => {
    const app = mkdtempSync(join(tmpdir(), 'deberta-lab-native-'))
    expect(electronNativeBinding(app, '45.5.0')).toBeUndefined()
    expect(electronNativeBinding(app, undefined)).toBeUndefined()
    const path = electronNativeBindingPath(app, '45.5.0')
    expect(path).toBe(join(app, 'native', 'electron-45.5.0', 'better_sqlite3.node'))
    mkdirSync(join(app, 'native', 'electron-45.5.0'), { recursive: true })
    writeFileSync(path, 'binary')
    expect(electronNativeBinding(app, '45.5.0')).toBe(path)
    expect(electronNativeBinding(app, '46.0.0')).toBeUndefined()
    rmSync(app, { recursive: true, force: true })
  })
})
