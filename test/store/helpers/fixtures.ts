// Shared test data and tools for the store tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import type { WorkspaceState } from '../../../src/common/sessions'
import { DEFAULT_SYNTHETIC_MODEL } from '../../../src/common/api'

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)))

/** A temp folder removed by the returned cleanup. */
export function tempDir(prefix = 'dlab-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A workspace state with nested floats, unicode and (optionally) a large array. */
export function richState(overrides: Partial<WorkspaceState> = {}, big = 0): WorkspaceState {
  return {
    version: 3,
    inputs: {
      text: 'The café’s naïve señor said 你好 — 🧪🔬 (a) [MASK]',
      pair: '\u0000nul and \u2028line separator\t',
      floats: [0.1, 0.2, 0.30000000000000004, 1e-308, 5e-324, 1.7976931348623157e308, -123.456e-7, 2 ** 53 - 1],
      nested: { deep: { deeper: [{ a: [1, [2, [3.5, { b: null }]]] }], empty: {}, list: [] } },
      ...(big ? { big: Array.from({ length: big }, (_, i) => Math.sin(i) * 1e3) } : {}),
    },
    model: { ...DEFAULT_SYNTHETIC_MODEL },
    selections: { layer: 2, head: 'mean', terms: ['c2p', 'p2c'], flag: true },
    view: { zoom: 1.25, palette: 'viridis', 'ключ': 'значение' },
    lastResult: null,
    ...overrides,
  }
}

/** Every row of every table, for "nothing changed" assertions. */
export function dumpDatabase(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true })
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[]
    const out: Record<string, unknown[]> = {}
    for (const t of tables) out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2`).all()
    out.user_version = [db.pragma('user_version', { simple: true })]
    return out
  } finally {
    db.close()
  }
}

/** A fingerprint of dumpDatabase(path): cheap to compare after each of many operations. */
export function dumpHash(path: string): string {
  const text = JSON.stringify(dumpDatabase(path), (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('hex') : value))
  return createHash('sha256').update(text).digest('hex')
}

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Starts `node --import tsx <script> ...args` from the project root. */
export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawnNode(['--import', 'tsx', script, ...args], env)
}

/** Starts `node <args>` from the project root. */
export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
}

/**
 * Node arguments that run a TypeScript helper script. When esbuild (which tsx runs on) can be imported, the
 * script is bundled once to plain JS, which starts in half the time of `--import tsx` — it matters when a
 * test starts fifty processes. Otherwise: `--import tsx <script>`.
 */
export async function nodeArgsFor(script: string): Promise<string[]> {
  try {
    const { buildSync } = await import('esbuild')
    const outfile = join(ROOT, 'node_modules', '.cache', 'store-tests', `${script.replace(/[^\w]+/g, '_')}.mjs`)
    buildSync({ entryPoints: [join(ROOT, script)], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['better-sqlite3'], logLevel: 'error' })
    return [outfile]
  } catch {
    return ['--import', 'tsx', script]
  }
}

/** Collects a child's output until it has exited and its pipes are closed. */
export function finished(child: ChildProcess): Promise<ChildResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }))
  })
}

export function runTs(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  const child = spawnTs(script, args, env)
  child.stdin?.end()
  return finished(child)
}

/**
 * Makes a file or folder really read-only and returns the undo. Root ignores permission bits, so as root the
 * immutable attribute is used (chattr +i, which binds root too); otherwise chmod. Throws when the path can still
 * be written afterwards, so a test can never pass on a store that was writable after all.
 */
export function makeReadOnly(path: string): () => void {
  const isFolder = statSync(path).isDirectory()
  const root = process.getuid?.() === 0
  const mode = statSync(path).mode & 0o777
  if (root) execFileSync('chattr', ['+i', path])
  else chmodSync(path, isFolder ? 0o555 : 0o444)
  const undo = (): void => {
    if (root) execFileSync('chattr', ['-i', path])
    else chmodSync(path, mode)
  }
  let stillWritable = true
  try {
    if (isFolder) {
      writeFileSync(join(path, '.probe'), 'x')
      rmSync(join(path, '.probe'))
    } else closeSync(openSync(path, 'r+'))
  } catch {
    stillWritable = false
  }
  if (stillWritable) {
    undo()
    throw new Error(`${path} is still writable after making it read-only: the test would prove nothing`)
  }
  return undo
}
