// The tfjs backends the test run covers, probed once per run by test/global-setup.ts and handed to every test file
// (vitest's provide/inject). tensorflow (tfjs-node) is optional: when its package is absent the run says so loudly
// and goes on; when it is installed but does not load, its tests fail with the reason. wasm and cpu are
// dependencies and must always load. Each backend is probed in a fresh Node process (test/core/probe-backend.ts):
// a crash while loading libtensorflow is then a reported failure of that backend, and vitest's own process never
// loads two module formats of tfjs side by side.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BACKEND_ORDER, initBackend, type BackendName } from '../../src/core/backend'

export interface BackendProbe {
  name: BackendName
  state: 'loaded' | 'not-installed' | 'failed'
  /** why it did not load, or which package is missing */
  detail?: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    backendProbes: BackendProbe[]
  }
}

export const BACKEND_PACKAGES: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
}
const OPTIONAL: ReadonlySet<BackendName> = new Set(['tensorflow'])

const require = createRequire(import.meta.url)

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg)
    return true
  } catch {
    return false
  }
}

/** Loads one backend in this process through src/core/backend.ts (the lab's own path, Node util shim included). */
export async function probeBackendHere(name: BackendName): Promise<BackendProbe> {
  if (OPTIONAL.has(name) && !installed(BACKEND_PACKAGES[name])) {
    return { name, state: 'not-installed', detail: `${BACKEND_PACKAGES[name]} is not in node_modules` }
  }
  try {
    await initBackend(name)
    return { name, state: 'loaded' }
  } catch (error) {
    return { name, state: 'failed', detail: (error as Error).message }
  }
}

const HERE = path.dirname(fileURLToPath(import.meta.url))
const PROBE_SCRIPT = path.join(HERE, 'probe-backend.ts')

/** Probes one backend in a child Node process (tsx runs the TypeScript); its last stdout line is the JSON probe. */
function probeBackendInChild(name: BackendName): Promise<BackendProbe> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROBE_SCRIPT, name], { cwd: path.resolve(HERE, '../..'), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', (error) => resolve({ name, state: 'failed', detail: `probe process did not start: ${error.message}` }))
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').pop() ?? ''
      try {
        const probe = JSON.parse(last) as BackendProbe
        if (probe.name === name) return resolve(probe)
      } catch {
        // fall through: the process died before it could answer
      }
      const tail = stderr.trim().split('\n').slice(-3).join(' | ')
      resolve({ name, state: 'failed', detail: `probe process ended with ${signal ? `signal ${signal}` : `code ${code}`} before answering${tail ? `: ${tail}` : ''}` })
    })
  })
}

/** Every backend of BACKEND_ORDER, each probed in its own fresh process. */
export function probeBackends(): Promise<BackendProbe[]> {
  return Promise.all(BACKEND_ORDER.map(probeBackendInChild))
}

/** The backends the backend-parametrised suites run on: every installed one (a failing one fails its tests). */
export function backendsToTest(probes: BackendProbe[]): BackendName[] {
  return probes.filter((p) => p.state !== 'not-installed').map((p) => p.name)
}

/** The run's report: one "parity backends: …" line, then one line per backend that is missing or broken. */
export function describeProbes(probes: BackendProbe[]): string[] {
  const lines = [`parity backends: ${probes.filter((p) => p.state === 'loaded').map((p) => p.name).join(', ') || 'none'}`]
  for (const p of probes) {
    if (p.state === 'not-installed') lines.push(`${p.name}: not installed — parity NOT checked on it (${p.detail})`)
    if (p.state === 'failed') lines.push(`${p.name}: installed but FAILS to load — its tests fail: ${p.detail}`)
  }
  return lines
}
