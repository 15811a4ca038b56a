// The built CLI and browser mode keep TensorFlow's and tfjs's start-up banners (libtensorflow's INFO lines, the
// cpu backend's "running TensorFlow.js in Node.js" hint) off their output unless DEBERTA_LAB_DEBUG is set, on
// every backend of the run. Needs the built app (`npm run build`, which `npm test` runs first).
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BackendName } from '../../src/core/backend'
import { BACKEND_PROBES } from '../core/helpers'

const ROOT = path.resolve(__dirname, '../..')
const CLI = path.join(ROOT, 'bin/deberta-lab.js')
const TOY = path.join(ROOT, 'resources/toy-deberta')

/** Lines no start-up may print: libtensorflow's log lines (TF 2.9 and TF 2.16+ formats) and tfjs's Node hint. */
const BANNER = [
  /cpu_feature_guard/,
  /oneDNN/,
  /absl::InitializeLog/,
  /^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\]/,
  /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\]/,
  /TensorFlow\.js in Node\.js/,
  /^={10,}$/,
]

/**
 * The one notice TF_CPP_MIN_LOG_LEVEL cannot silence: the TensorFlow 2.21 library built here by
 * tfjs-node-local.sh logs "oneDNN custom operations are on" through absl while it is being loaded, before
 * TensorFlow applies its log level. Only TF_ENABLE_ONEDNN_OPTS=0 removes it, and that switches oneDNN's kernels
 * off — a speed decision, not a log one. (libtensorflow 2.9.1, which an online install fetches, is not tried here.)
 */
const ONEDNN_NOTICE = [/^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/, /^I\d{4} [\d:.]+\s+\d+ port\.cc:\d+\] oneDNN custom operations are on\. /]

/** The environment of a user who asked for nothing: no log level, no debug, no backend choice. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of ['TF_CPP_MIN_LOG_LEVEL', 'DEBERTA_LAB_DEBUG', 'DEBERTA_LAB_BACKEND']) delete env[name]
  return { ...env, ...extra }
}

/** Banner lines of stderr; the known oneDNN notice is reported (once per test) and left out. */
function bannerLines(stderr: string, where: string): string[] {
  const lines = stderr.split('\n').filter((line) => BANNER.some((pattern) => pattern.test(line)))
  const notice = lines.filter((line) => ONEDNN_NOTICE.some((pattern) => pattern.test(line)))
  if (notice.length > 0) console.log(`${where}: libtensorflow's absl oneDNN notice is still on stderr (${notice.length} lines; only TF_ENABLE_ONEDNN_OPTS=0 removes it)`)
  return lines.filter((line) => !notice.includes(line))
}

const installed = BACKEND_PROBES.filter((p) => p.state !== 'not-installed')
const firstLoaded = BACKEND_PROBES.find((p) => p.state === 'loaded')?.name

describe('start-up output of the built CLI', () => {
  let tmp: string
  let inputs: string

  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'out/main/cli.js'))) throw new Error('the app is not built: run `npm run build` (or `npx electron-vite build`) first')
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-native-logs-'))
    inputs = path.join(tmp, 'inputs.json')
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: [[1, 5, 19, 41, 5, 27, 2]] }))
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  function forward(env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
    const out = path.join(tmp, 'out.safetensors')
    const run = spawnSync(process.execPath, [CLI, 'forward', TOY, '--inputs', inputs, '--out', out], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 })
    return { status: run.status, stdout: run.stdout, stderr: run.stderr }
  }

  for (const probe of BACKEND_PROBES.filter((p) => p.state === 'not-installed')) {
    it(`${probe.name}: not installed — its start-up output is NOT checked`, () => {
      console.log(`${probe.name}: not installed — CLI start-up output NOT checked on it (${probe.detail})`)
      expect(probe.name).toBe('tensorflow')
    })
  }

  for (const { name } of installed) {
    it(`forward on ${name}: stderr holds the CLI's own lines and no TensorFlow or tfjs banner (beyond TF ≥ 2.16's oneDNN notice)`, () => {
      const run = forward(userEnv({ DEBERTA_LAB_BACKEND: name }))
      expect(run.status, run.stderr).toBe(0)
      expect(JSON.parse(run.stdout).backend).toBe(name)
      expect(run.stderr).toContain(`backend: ${name}\n`)
      expect(bannerLines(run.stderr, `forward on ${name}`)).toEqual([])
    })
  }

  it('forward with the default choice uses the first backend that loads, quietly', () => {
    const run = forward(userEnv())
    expect(run.status, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout).backend).toBe(firstLoaded)
    expect(bannerLines(run.stderr, `forward on ${firstLoaded} (default)`)).toEqual([])
  })

  it('DEBERTA_LAB_DEBUG=1 lets the banners through (here: the cpu backend\'s Node hint)', () => {
    const run = forward(userEnv({ DEBERTA_LAB_BACKEND: 'cpu', DEBERTA_LAB_DEBUG: '1' }))
    expect(run.status, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/running TensorFlow\.js in Node\.js/)
  })

  it('browser mode (lab service + compute worker thread) starts quietly on the first backend that loads', async () => {
    const store = path.join(tmp, 'lab.sqlite')
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--store', store], { cwd: ROOT, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    const started = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 60_000)
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
        if (/^backend \S+; store /m.test(stderr)) {
          clearTimeout(timer)
          resolve(true)
        }
      })
      child.on('exit', () => resolve(false))
    })
    const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve())))
    child.kill('SIGTERM')
    await exited
    expect(started, stderr).toBe(true)
    expect(stderr).toMatch(new RegExp(`^backend ${firstLoaded as BackendName}; store `, 'm'))
    expect(bannerLines(stderr, 'serve')).toEqual([])
  })
})
