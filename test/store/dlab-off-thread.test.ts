// Importing a .dlab file off the main thread (ExperimentStore.importSessionAsync, used by the lab service):
// the same result and errors as importSession, the calling thread stays responsive while a large file is
// read, and a file that exhausts the reading thread's heap is a typed error, not a dead process.
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { openStore } from '../../src/store'
import { exportSessionFile } from '../../src/store/dlab/export'
import type { PortableSession } from '../../src/store/snapshot'
import { fillSession } from './helpers/session'

const NOW = '2026-01-02T03:04:05.000Z'

function sessionFileWith(result: unknown): { bytes: Uint8Array; sessionId: string; runId: string } {
  const sessionId = randomUUID()
  const runId = randomUUID()
  const portable: PortableSession = {
    session: { id: sessionId, name: 'off thread', notes: '', tags: [], createdAt: NOW, updatedAt: NOW, appVersion: '0.1.0' },
    workspaces: {},
    runs: [{ id: runId, kind: 'workspace', workspace: 'attention', name: 'r', config: {}, seed: null, backend: null, model: null, status: 'done', createdAt: NOW, startedAt: NOW, endedAt: NOW, error: null, result }],
    metrics: [],
    artifacts: [],
  }
  return { bytes: exportSessionFile(portable, new Map(), NOW), sessionId, runId }
}

async function rejection(promise: Promise<unknown>): Promise<LabError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(LabError)
    return error as LabError
  }
  throw new Error('expected a rejection')
}

describe('importSessionAsync', () => {
  it('imports exactly what importSession imports', async () => {
    const source = openStore(':memory:')
    const saved = fillSession(source, 5000)
    const bytes = source.exportSession(saved.sessionId)
    source.close()
    const a = openStore(':memory:')
    const b = openStore(':memory:')
    a.importSession(bytes)
    const outcome = await b.importSessionAsync(bytes)
    expect(outcome.mode).toBe('new')
    expect(b.getSessionSnapshot(saved.sessionId)).toEqual(a.getSessionSnapshot(saved.sessionId))
    for (const artifact of a.listArtifacts(saved.sessionId)) expect(b.getArtifactData(artifact.sha256)).toEqual(a.getArtifactData(artifact.sha256))
    // the conflict check still runs on the calling thread
    expect((await rejection(b.importSessionAsync(bytes))).code).toBe('IMPORT_CONFLICT')
    a.close()
    b.close()
  })

  it('gives the same typed errors (limits, damaged files)', async () => {
    const store = openStore(':memory:')
    const { bytes } = sessionFileWith('x'.repeat(5000))
    expect((await rejection(store.importSessionAsync(bytes, { limits: { maxSessionJsonBytes: 1000 } }))).code).toBe('IMPORT_TOO_LARGE')
    expect((await rejection(store.importSessionAsync(bytes.subarray(0, bytes.length - 30)))).code).toBe('IMPORT_INVALID')
    expect(store.listSessions()).toEqual([])
    store.close()
  })

  it('keeps the calling thread responsive while a large session file is read', async () => {
    // ~3.4 M JSON values: seconds of inflating, scanning, parsing and moving the result out
    const { bytes, runId } = sessionFileWith(Array.from({ length: 1_700_000 }, () => ({})))
    const store = openStore(':memory:')
    let worst = 0
    let last = performance.now()
    const ticker = setInterval(() => {
      const now = performance.now()
      worst = Math.max(worst, now - last)
      last = now
    }, 10)
    const started = performance.now()
    await store.importSessionAsync(bytes)
    const took = performance.now() - started
    // the last stretch counts too (a blocking import would be one gap as long as the import)
    worst = Math.max(worst, performance.now() - last)
    clearInterval(ticker)
    expect(took).toBeGreaterThan(300)
    expect(worst).toBeLessThan(Math.max(250, took / 3))
    expect((store.getRunResult(runId) as unknown[]).length).toBe(1_700_000)
    store.close()
  }, 60_000)

  it('turns an exhausted reading heap into IMPORT_TOO_LARGE and stays usable', async () => {
    const { bytes } = sessionFileWith(Array.from({ length: 1_000_000 }, () => ({ a: [] })))
    const store = openStore(':memory:')
    const error = await rejection(store.importSessionAsync(bytes, { limits: { maxWorkerHeapMb: 16 } }))
    expect(error.code).toBe('IMPORT_TOO_LARGE')
    expect(error.message).toMatch(/needed more than 16 MB of memory/)
    const small = sessionFileWith({ ok: true })
    await store.importSessionAsync(small.bytes)
    expect(store.getRunResult(small.runId)).toEqual({ ok: true })
    store.close()
  }, 60_000)
})
