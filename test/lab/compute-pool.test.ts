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
})
