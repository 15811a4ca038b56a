// The wasm backend's thread pool (src/core/wasm-threads.ts): the thread count and its override, the threaded SIMD
// build in the main thread and in a worker thread (as the lab's compute worker runs it), the fallback to tfjs's
// own build, and that a process using it still ends by itself. Each case runs in a fresh Node process, since a
// backend starts once per thread.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { availableParallelism } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeBackend } from '../../src/core/backend'
import { MAX_WASM_THREADS, unpackedPath, wasmThreadCount } from '../../src/core/wasm-threads'
import { expectLabError } from './helpers'
import type { WasmThreadsProbe } from './wasm-threads-probe'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const PROBE = path.join(HERE, 'wasm-threads-probe.ts')
const CORES = availableParallelism()
const EXPECTED_THREADS = Math.min(CORES, MAX_WASM_THREADS)

/** Runs the probe in a child process; it must print its JSON line and exit with 0 on its own within the time. */
function runProbe(mode: 'main' | 'worker' | 'broken-worker', env: Record<string, string> = {}): Promise<WasmThreadsProbe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', PROBE, mode], {
      cwd: path.resolve(HERE, '../..'),
      env: { ...process.env, DEBERTA_LAB_THREADS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 90_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`probe ${mode} ended with ${signal ? `signal ${signal} (did not exit by itself)` : `code ${code}`}: ${stderr.trim().slice(-500)}`))
      resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as WasmThreadsProbe)
    })
  })
}

describe('wasm thread count', () => {
  it('is os.availableParallelism() capped at the pool size, unless DEBERTA_LAB_THREADS says otherwise', () => {
    expect(wasmThreadCount({}, 2)).toBe(2)
    expect(wasmThreadCount({}, 1)).toBe(1)
    expect(wasmThreadCount({}, 64)).toBe(MAX_WASM_THREADS)
    expect(wasmThreadCount({ DEBERTA_LAB_THREADS: '' }, 4)).toBe(4)
    expect(wasmThreadCount({ DEBERTA_LAB_THREADS: '1' }, 4)).toBe(1)
    expect(wasmThreadCount({ DEBERTA_LAB_THREADS: '3' }, 2)).toBe(3)
    expect(wasmThreadCount({ DEBERTA_LAB_THREADS: '99' }, 2)).toBe(MAX_WASM_THREADS)
  })

  it('rejects a DEBERTA_LAB_THREADS that is not a positive integer, naming it', () => {
    for (const bad of ['0', '-2', '1.5', 'two', ' 2']) {
      const error = expectLabError(() => wasmThreadCount({ DEBERTA_LAB_THREADS: bad }, 2), 'INPUT_INVALID')
      expect(error.message).toContain(`DEBERTA_LAB_THREADS=${bad}`)
    }
  })

  it('is described next to the backend name', () => {
    expect(describeBackend({ name: 'tensorflow', skipped: [] })).toBe('tensorflow')
    expect(describeBackend({ name: 'wasm', skipped: [], wasm: { threads: 2, build: 'threaded-simd', poolPerOp: true } })).toBe('wasm (threaded SIMD, 2 threads)')
    expect(describeBackend({ name: 'wasm', skipped: [], wasm: { threads: 1, build: 'tfjs default' } })).toBe('wasm (1 thread)')
    expect(describeBackend({ name: 'wasm', skipped: [], wasm: { threads: 1, build: 'tfjs default', fallback: 'boom' } })).toBe('wasm (1 thread; threaded build failed: boom)')
    expect(describeBackend({ name: 'wasm', skipped: [], wasm: { threads: 2, build: 'threaded-simd', poolPerOp: true }, wasmKernelsOff: 'no SIMD' })).toBe(
      'wasm (threaded SIMD, 2 threads; lab wasm kernels off: no SIMD)',
    )
  })
})

describe('the build\'s files in a packaged app', () => {
  it('are read from app.asar.unpacked (electron-builder\'s asarUnpack) when the unpacked copy exists', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'wasm-threads-'))
    try {
      const inside = path.join(root, 'app.asar', 'node_modules', 'x', 'build.js')
      const outside = path.join(root, 'app.asar.unpacked', 'node_modules', 'x', 'build.js')
      expect(unpackedPath(inside)).toBe(inside) // no unpacked copy: the path stays
      mkdirSync(path.dirname(outside), { recursive: true })
      writeFileSync(outside, '')
      expect(unpackedPath(inside)).toBe(outside)
      expect(unpackedPath(outside)).toBe(outside)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe('the threaded SIMD wasm build', () => {
  it(`runs with ${EXPECTED_THREADS} thread(s) in the main thread, computes right across a heap growth, and lets the process exit`, async () => {
    const probe = await runProbe('main')
    expect(probe.backend).toBe('wasm')
    expect(probe.wasm).toEqual(EXPECTED_THREADS > 1 ? { threads: EXPECTED_THREADS, build: 'threaded-simd', poolPerOp: true } : { threads: 1, build: 'tfjs default' })
    expect(probe.maxDiff).toBeLessThan(1e-4)
    expect(probe.heapGrewTo).toBeGreaterThan(256 * 1024 * 1024)
    if (EXPECTED_THREADS > 1) {
      expect(probe.listenersAdded).toBe(0)
      // small ops on the calling thread alone, big ones on the pool (src/core/wasm-pool-switch.ts)
      expect(probe.poolAfterSmallOp).toBe(-1)
      expect(probe.poolAfterBigOp).toBe(EXPECTED_THREADS)
    }
  }, 120_000)

  it('runs threaded inside a worker thread too (the compute worker), and that process exits by itself', async () => {
    const probe = await runProbe('worker')
    expect(probe.thread).toBe('worker')
    expect(probe.wasm?.threads).toBe(EXPECTED_THREADS)
    expect(probe.maxDiff).toBeLessThan(1e-4)
  }, 120_000)

  it('DEBERTA_LAB_THREADS=1 keeps tfjs\'s single-threaded build', async () => {
    const probe = await runProbe('main', { DEBERTA_LAB_THREADS: '1' })
    expect(probe.wasm).toEqual({ threads: 1, build: 'tfjs default' })
    expect([probe.poolAfterSmallOp, probe.poolAfterBigOp]).toEqual([1, 1])
    expect(probe.maxDiff).toBeLessThan(1e-4)
  }, 120_000)

  it('falls back to tfjs\'s own build, with the reason, when the pthread workers cannot start', async () => {
    const probe = await runProbe('broken-worker', { DEBERTA_LAB_THREADS: '2' })
    expect(probe.backend).toBe('wasm')
    expect(probe.wasm).toEqual({ threads: 1, build: 'tfjs default', fallback: 'no pthreads here' })
    expect(probe.maxDiff).toBeLessThan(1e-4)
  }, 120_000)
})
