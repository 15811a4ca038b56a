// better-sqlite3 inside Electron needs a build for Electron's ABI. `npm install` (postinstall:
// scripts/electron-native.mjs) puts one in native/electron-<version>/ without touching the Node build in
// node_modules that tests, the CLI and browser mode use. Packaged apps are rebuilt by electron-builder,
// so no separate binding is needed there.
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export function electronNativeBindingPath(appPath: string, electronVersion: string): string {
  return join(appPath, 'native', `electron-${electronVersion}`, 'better_sqlite3.node')
}

/** Path of the Electron-ABI build when it exists, else undefined (better-sqlite3's own build is used). */
export function electronNativeBinding(appPath: string, electronVersion: string | undefined): string | undefined {
  if (!electronVersion) return undefined
  const path = electronNativeBindingPath(appPath, electronVersion)
  return existsSync(path) ? path : undefined
}
