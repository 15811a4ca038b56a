#!/usr/bin/env node
// postinstall: make an Electron-ABI build of better-sqlite3 in native/electron-<version>/, leaving the
// Node build in node_modules (used by tests, the CLI and browser mode) untouched. The desktop app loads
// it through better-sqlite3's `nativeBinding` option (src/main/native.ts).
//
// Tries, in order: a prebuilt binary for Electron (prebuild-install --runtime electron), then a source
// build against Electron's headers (@electron/rebuild). Both need Electron's download servers; where they
// cannot be reached (CI here), it prints what to do and exits 0 so `npm ci` and `npm test` still pass.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
const log = (message) => process.stderr.write(`[electron-native] ${message}\n`)

if (process.env.DEBERTA_LAB_SKIP_ELECTRON_NATIVE === '1') {
  log('skipped (DEBERTA_LAB_SKIP_ELECTRON_NATIVE=1)')
  process.exit(0)
}

let electronVersion
try {
  electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version
} catch {
  log('electron is not installed (production install?): nothing to do')
  process.exit(0)
}

const targetDir = join(root, 'native', `electron-${electronVersion}`)
const target = join(targetDir, 'better_sqlite3.node')
if (existsSync(target)) {
  log(`present: ${target}`)
  process.exit(0)
}

const source = dirname(require.resolve('better-sqlite3/package.json'))
const work = mkdtempSync(join(tmpdir(), 'deberta-lab-native-'))
const copy = join(work, 'better-sqlite3')
cpSync(source, copy, { recursive: true, filter: (path) => !path.includes(`${copy}/build`) && !path.endsWith('/build') })
const built = join(copy, 'build', 'Release', 'better_sqlite3.node')

function attempt(label, command, args) {
  try {
    execFileSync(command, args, { cwd: copy, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 })
    return existsSync(built)
  } catch (error) {
    const detail = String(error.stderr ?? error.message).trim().split('\n').slice(-1)[0]
    log(`${label} failed: ${detail}`)
    return false
  }
}

const arch = process.env.npm_config_arch || process.arch
let ok = false
try {
  const prebuild = require.resolve('prebuild-install/bin.js', { paths: [source] })
  ok = attempt('prebuilt Electron binary', process.execPath, [prebuild, '--runtime', 'electron', '--target', electronVersion, '--arch', arch])
} catch {
  log('prebuild-install not found')
}
if (!ok) {
  const rebuild = join(root, 'node_modules', '@electron', 'rebuild', 'lib', 'cli.js')
  if (existsSync(rebuild)) {
    ok = attempt('source build with @electron/rebuild', process.execPath, [rebuild, '--version', electronVersion, '--arch', arch, '--module-dir', copy, '--force'])
  } else {
    log('@electron/rebuild not found')
  }
}
if (ok) {
  mkdirSync(targetDir, { recursive: true })
  copyFileSync(built, target)
  log(`built ${target}`)
} else {
  log('no Electron-ABI build of better-sqlite3 could be made (Electron\'s download servers unreachable?).')
  log('Browser mode, the CLI and the tests do not need it. For the desktop app, run `npm run native:electron` once online.')
}
rmSync(work, { recursive: true, force: true })
