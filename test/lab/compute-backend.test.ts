// The lab's compute worker (a worker thread, src/lab/worker.ts via src/lab/compute-pool.ts) runs on the first
// backend that loads — tensorflow when tfjs-node is installed — and loads it in its own thread, not in the one
// that serves windows and HTTP.
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLabService, type LabService } from '../../src/lab/service'
import { BACKEND_PROBES } from '../core/helpers'

let dir: string
let lab: LabService

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-backend-'))
  lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'browser' })
})

afterAll(async () => {
  await lab?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('the compute worker\'s backend', () => {
  it('is the first backend that loads (tensorflow when tfjs-node is installed), and the status says so', async () => {
    const tensorflow = BACKEND_PROBES.find((p) => p.name === 'tensorflow')!
    const expected = BACKEND_PROBES.find((p) => p.state === 'loaded')!.name
    const status = await lab.getStatus()
    expect(status.backend).toBe(expected)
    // what the status bar shows: the backend, and for wasm its build and threads
    expect(status.backendDetail.startsWith(expected)).toBe(true)
    if (expected === 'wasm') expect(status.backendDetail).toMatch(/\d+ threads?/)
    else expect(status.backendDetail).toBe(expected)
    if (tensorflow.state === 'loaded') expect(status.backendNotes).toEqual([])
    else expect(status.backendNotes[0]).toMatch(/^tensorflow: /)
    console.log(`compute worker backend: ${status.backend}${status.backendNotes.length ? ` (${status.backendNotes.join('; ')})` : ''}`)
  })

  it('is loaded in the worker thread, not in the thread that serves requests', async () => {
    const status = await lab.getStatus()
    // each thread has its own CommonJS module cache: tfjs-node (and its native binding) must not be in this one
    const loadedHere = Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes('tfjs-node') || file.includes('tfjs-backend-wasm'))
    expect(status.backend).not.toBe('')
    expect(loadedHere).toEqual([])
  })
})
