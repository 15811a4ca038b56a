// Runs made with a session record the model they used; a model read from files also records the SHA-256 of
// its weights file (issue "store": model reference with the SHA-256 of the weights), so a reopened result can
// be checked against the folder as it is now.
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL, type SyntheticModelRef } from '../../src/common/api'
import { createLabService, type LabService } from '../../src/lab/service'

let dir: string
let lab: LabService

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-runs-'))
  lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'browser', cancelGraceMs: 2000 })
  await lab.getStatus()
}, 30_000)

afterAll(async () => {
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
})

const TINY: SyntheticModelRef = { kind: 'synthetic', arch: 'deberta-v3', layers: 1, hidden: 16, heads: 2, intermediate: 32, positionBuckets: 8, maxRelativePositions: 16, maxPositions: 32, seed: 3 }

describe('run records', () => {
  it('record the bundled model with the SHA-256 of its weights file, a synthetic one without', async () => {
    const session = await lab.createSession({ name: 'runs' })
    const decoded = await lab.runDecoding({ sessionId: session.id, model: DEFAULT_MODEL, text: 'the small [MASK] sees the small ball near the house', topK: 3 })
    const relative = await lab.runRelativePositions({ sessionId: session.id, model: TINY, text: 'a b c' })
    const runs = await lab.listRuns(session.id)
    const expected = createHash('sha256').update(readFileSync(join(process.cwd(), 'resources/toy-deberta/model.safetensors'))).digest('hex')
    expect(runs.find((r) => r.id === decoded.runId)?.model).toEqual({ ...DEFAULT_MODEL, weightsSha256: expected })
    expect(runs.find((r) => r.id === relative.runId)?.model).toEqual(TINY)
    // describeModel reports the same hash
    expect((await lab.describeModel(DEFAULT_MODEL)).weightsSha256).toBe(expected)
  }, 30_000)

  it('a folder that cannot be loaded is recorded as a failed run with the reason (no hash)', async () => {
    const session = await lab.createSession({ name: 'bad folder' })
    const missing = join(dir, 'no-such-model')
    await expect(lab.runAttention({ sessionId: session.id, model: { kind: 'checkpoint', path: missing }, text: 'a b', layer: 0, head: 0, disabledTerms: [], p2p: false })).rejects.toMatchObject({
      code: expect.stringMatching(/NOT_FOUND|CHECKPOINT/),
    })
    const [run] = await lab.listRuns(session.id)
    expect(run).toMatchObject({ status: 'failed', model: { kind: 'checkpoint', path: missing } })
    expect(run.model).not.toHaveProperty('weightsSha256')
    expect(run.error).toContain('no-such-model')
  }, 30_000)
})

describe('housekeeping at start', () => {
  it('purges sessions deleted more than 30 days ago, keeps newer deletions restorable', async () => {
    const storePath = join(dir, 'housekeeping.sqlite')
    const { openStore } = await import('../../src/store')
    const longAgo = openStore(storePath, { now: () => new Date(Date.now() - 40 * 86_400_000) })
    const old = longAgo.createSession({ name: 'deleted long ago' })
    longAgo.deleteSession(old.id)
    longAgo.close()
    const recentStore = openStore(storePath, { now: () => new Date(Date.now() - 2 * 86_400_000) })
    const recent = recentStore.createSession({ name: 'deleted recently' })
    recentStore.deleteSession(recent.id)
    recentStore.close()

    const other = await createLabService({ storePath, resourcesDir: join(process.cwd(), 'resources'), host: 'browser' })
    await other.close()
    const check = openStore(storePath)
    try {
      expect(check.listSessions({ includeDeleted: true }).map((s) => s.id)).toEqual([recent.id])
    } finally {
      check.close()
    }
  }, 30_000)
})
