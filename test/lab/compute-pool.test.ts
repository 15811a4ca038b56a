// The compute worker keeps the service responsive and stops cancelled jobs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLabService, type LabService } from '../../src/lab/service'

let dir: string
let lab: LabService

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-pool-'))
  lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'browser', cancelGraceMs: 1000 })
  await lab.getStatus()
})

afterAll(async () => {
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('compute off the event loop', () => {
  it('answers other requests while a 10-second computation runs', async () => {
    const started = Date.now()
    const long = lab.spin({ ms: 10_000, jobId: 'long-job' })
    // Meanwhile, the service (store, status) answers at once.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const t0 = Date.now()
    const session = await lab.createSession({ name: 'while computing' })
    const sessions = await lab.listSessions()
    const status = await lab.getStatus()
    const answeredIn = Date.now() - t0
    expect(sessions.map((s) => s.id)).toContain(session.id)
    expect(status.backend).toMatch(/^(tensorflow|wasm|cpu)$/)
    expect(answeredIn).toBeLessThan(1000)
    const result = await long
    expect(result.spunMs).toBeGreaterThanOrEqual(10_000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000)
  }, 30_000)

  it('reports progress and cancels a running job', async () => {
    const progress: number[] = []
    const ends: string[] = []
    const off = lab.onEvent((event) => {
      if (event.type === 'progress' && event.jobId === 'cancel-me') progress.push(event.fraction)
      if (event.type === 'job-end' && event.jobId === 'cancel-me') ends.push(event.status)
    })
    const running = lab.spin({ ms: 20_000, jobId: 'cancel-me' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await lab.cancelJob('cancel-me')).toBe(true)
    const t0 = Date.now()
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(progress.length).toBeGreaterThan(0)
    expect(await lab.cancelJob('cancel-me')).toBe(false)
    // the worker is still usable afterwards
    expect((await lab.spin({ ms: 50 })).spunMs).toBeGreaterThanOrEqual(50)
    off()
  }, 30_000)

  it('pauses a pausable job between steps, resumes it, and cancels it while paused', async () => {
    const progress: number[] = []
    const paused: boolean[] = []
    const off = lab.onEvent((event) => {
      if (event.type === 'progress' && event.jobId === 'pause-me') progress.push(Date.now())
      if (event.type === 'job-paused' && event.jobId === 'pause-me') paused.push(event.paused)
    })
    const running = lab.spin({ ms: 60_000, jobId: 'pause-me' })
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(progress.length).toBeGreaterThan(0)
    expect(await lab.pauseJob({ jobId: 'pause-me', paused: true })).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 300)) // the pause takes effect at the next step (≤ 5 ms)
    const countWhilePaused = progress.length
    const t0 = Date.now()
    // paused: no step runs (no progress), and the service still answers
    await new Promise((resolve) => setTimeout(resolve, 800))
    expect(progress.length).toBe(countWhilePaused)
    expect((await lab.getStatus()).backend).toBeTruthy()
    expect(Date.now() - t0).toBeLessThan(1500)
    expect(await lab.pauseJob({ jobId: 'pause-me', paused: false })).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(progress.length).toBeGreaterThan(countWhilePaused)
    // pause again, then cancel while paused: it stops at once (no grace-period termination needed)
    expect(await lab.pauseJob({ jobId: 'pause-me', paused: true })).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const t1 = Date.now()
    expect(await lab.cancelJob('pause-me')).toBe(true)
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED', message: 'cancelled' })
    expect(Date.now() - t1).toBeLessThan(500)
    expect(paused).toEqual([true, false, true])
    // unknown or finished jobs cannot be paused
    expect(await lab.pauseJob({ jobId: 'pause-me', paused: true })).toBe(false)
    expect(await lab.pauseJob({ jobId: 'nope', paused: false })).toBe(false)
    expect((await lab.spin({ ms: 50 })).spunMs).toBeGreaterThanOrEqual(50)
    off()
  }, 30_000)

  it('does not pause jobs whose timing a pause would distort (benchmarks) or workspace computations', async () => {
    const session = await lab.createSession({ name: 'bench' })
    const running = lab.runBenchmark({ jobId: 'bench-no-pause', sessionId: session.id, preset: 'tiny', seqs: [32], repeats: 1, parts: ['attention'], variants: ['disentangled'] })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await lab.pauseJob({ jobId: 'bench-no-pause', paused: true })).toBe(false)
    await running
  }, 30_000)

  it('replaces a worker whose backend trapped (wasm out of memory): the next job runs on a fresh thread', async () => {
    const before = await lab.spin({ ms: 10 })
    await expect(lab.spin({ ms: 10, trap: true })).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/memory access out of bounds/) })
    const after = await lab.spin({ ms: 10 })
    expect(after.threadId).not.toBe(before.threadId)
    expect((await lab.spin({ ms: 10 })).threadId).toBe(after.threadId) // and stays on it
  }, 30_000)

  it('keeps the worker after ordinary job errors', async () => {
    const before = await lab.spin({ ms: 10 })
    await expect(lab.runAttention({ model: { kind: 'checkpoint', path: '/no/such/folder' }, text: 'a', layer: 0, head: 0, disabledTerms: [], p2p: false })).rejects.toMatchObject({ code: expect.any(String) })
    expect((await lab.spin({ ms: 10 })).threadId).toBe(before.threadId)
  }, 30_000)
})
