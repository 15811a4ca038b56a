// The lab service runs the paper's ablations in its worker, streams the training loss, records the run of
// kind 'experiment' with its metrics in the session, and stops a cancelled experiment.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LabEvent, TrainingProgress } from '../../src/common/api'
import { openStore } from '../../src/store'
import { createLabService, type LabService } from '../../src/lab/service'
import { parseArgs } from '../../src/lab/validation'

let dir: string
let storePath: string
let lab: LabService

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-experiments-'))
  storePath = join(dir, 'lab.sqlite')
  lab = await createLabService({ storePath, resourcesDir: join(process.cwd(), 'resources'), host: 'browser', cancelGraceMs: 2000 })
  await lab.getStatus()
}, 30_000)

afterAll(async () => {
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('runExperiment in the lab service', () => {
  it('trains both length variants, streams step losses and records an experiment run with metrics', async () => {
    const session = await lab.createSession({ name: 'experiments' })
    const training: TrainingProgress[] = []
    const off = lab.onEvent((event: LabEvent) => {
      if (event.type === 'progress' && event.jobId === 'exp-length' && event.training) training.push(event.training)
    })
    const result = await lab.runExperiment({ jobId: 'exp-length', sessionId: session.id, experiment: 'length', budget: 'smoke', seeds: 1 })
    off()

    expect(result.variantOrder).toEqual(['relative', 'absolute'])
    expect(Object.keys(result.variants).sort()).toEqual(['absolute', 'relative'])
    for (const name of result.variantOrder) {
      const test = result.variants[name].metrics.test_accuracy
      expect(test.mean).toBeGreaterThanOrEqual(0)
      expect(test.mean).toBeLessThanOrEqual(1)
      expect(test.std).toBe(0) // one seed
    }
    expect(result.task).toBe('offset')
    expect(result.seeds).toEqual([1])
    expect(result.curves.map((c) => [c.variant, c.seed, c.losses.length])).toEqual([
      ['relative', 1, result.steps],
      ['absolute', 1, result.steps],
    ])
    expect(result.curves.every((c) => c.losses.every((l) => Number.isFinite(l) && l > 0))).toBe(true)
    // every step's loss arrives in a progress event (none dropped by the throttle), equal to the final curve
    const streamed = training.flatMap((t) => t.points)
    expect(streamed.length).toBe(2 * result.steps)
    for (const curve of result.curves) {
      expect(streamed.filter((p) => p.variant === curve.variant).map((p) => p.loss)).toEqual(curve.losses)
      expect(streamed.filter((p) => p.variant === curve.variant).map((p) => p.accuracy)).toEqual(curve.accuracies)
      expect(curve.accuracies!.every((a) => a >= 0 && a <= 1)).toBe(true)
    }

    const runs = await lab.listRuns(session.id)
    const run = runs.find((r) => r.id === result.runId)
    expect(run).toMatchObject({ kind: 'experiment', workspace: 'experiments', status: 'done', name: 'runExperiment' })
    const store = openStore(storePath)
    try {
      const metrics = store.getMetrics(result.runId!)
      const loss = metrics.filter((m) => m.key === 'relative/seed1/train/loss')
      expect(loss.map((m) => m.step)).toEqual(Array.from({ length: result.steps }, (_, k) => k + 1))
      expect(loss.map((m) => m.value)).toEqual(result.curves[0].losses)
      expect(metrics.filter((m) => m.key === 'relative/seed1/train/accuracy').map((m) => m.value)).toEqual(result.curves[0].accuracies)
      expect(metrics.find((m) => m.key === 'absolute/seed1/eval/test_accuracy')?.value).toBe(result.curves[1].metrics.test_accuracy)
      expect(metrics.find((m) => m.key === 'relative/test_accuracy/mean')?.value).toBe(result.variants.relative.metrics.test_accuracy.mean)
      // the final weights of every variant × seed are stored with the run (safetensors), not sent to the renderer
      const weights = store.listArtifacts(session.id).filter((a) => a.kind === 'weights')
      expect(weights.map((a) => [a.name, a.runId])).toEqual(
        expect.arrayContaining([
          ['relative/seed1.safetensors', result.runId],
          ['absolute/seed1.safetensors', result.runId],
        ]),
      )
      expect(weights).toHaveLength(2)
      const bytes = store.getArtifactData(weights[0].sha256)
      const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>
      expect(header.__metadata__).toMatchObject({ experiment: 'length', seed: '1' })
      expect(Object.keys(header).some((k) => k.endsWith('attention.self.query_proj.weight') || k.endsWith('attention.self.query.weight'))).toBe(true)
      expect(result).not.toHaveProperty('weights')
    } finally {
      store.close()
    }
  }, 20_000)

  it('cancels a running experiment and records the run as cancelled', async () => {
    const session = await lab.createSession({ name: 'cancel experiment' })
    let firstLoss: () => void = () => undefined
    const trained = new Promise<void>((resolve) => (firstLoss = resolve))
    const off = lab.onEvent((event) => {
      if (event.type === 'progress' && event.jobId === 'exp-cancel' && event.training) firstLoss()
    })
    const running = lab.runExperiment({ jobId: 'exp-cancel', sessionId: session.id, experiment: 'length', budget: 'default', seeds: 5 })
    await trained
    expect(await lab.cancelJob('exp-cancel')).toBe(true)
    await expect(running).rejects.toMatchObject({ code: 'CANCELLED' })
    off()
    const runs = await lab.listRuns(session.id)
    expect(runs.map((r) => [r.kind, r.status])).toEqual([['experiment', 'cancelled']])
  }, 20_000)

  it('validates the request: seeds 1–5, known experiments and budgets only', () => {
    expect(() => parseArgs('runExperiment', [{ experiment: 'length', budget: 'smoke', seeds: 6 }])).toThrow(/seeds/)
    expect(() => parseArgs('runExperiment', [{ experiment: 'nope', budget: 'smoke', seeds: 1 }])).toThrow(/experiment/)
    expect(() => parseArgs('runExperiment', [{ experiment: 'length', budget: 'full', seeds: 1 }])).toThrow(/budget/)
    expect(parseArgs('runExperiment', [{ experiment: 'terms', budget: 'default', seeds: 3, jobId: 'j' }])).toHaveLength(1)
  })
})
