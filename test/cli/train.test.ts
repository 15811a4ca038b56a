// `deberta-lab train` end to end on the smoke budget: valid one-line JSON on stdout, progress on stderr, and the
// experiment recorded in a temporary store exactly as the app records it (one run: curves, metrics, weights), so
// the app's Experiments section shows it.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { trainCommand } from '../../src/cli/commands/train'
import type { CliIo } from '../../src/cli/types'
import { openSafetensors } from '../../src/core/checkpoint'
import { createLabService } from '../../src/lab/service'
import { experimentRuns } from '../../src/renderer/workspaces/experiment-runs'
import { openStore } from '../../src/store'
import type { ExperimentResult } from '../../src/common/api'

// The renderer's own predicate for a drawable experiment result, loaded at run time: it lives beside Vue code that
// the Node type check (tsconfig.node.json) does not cover.
const RENDERER_EXPERIMENTS = '../../src/renderer/workspaces/useBenchmarksExperiments'
const { isExperimentResult } = (await import(/* @vite-ignore */ RENDERER_EXPERIMENTS)) as { isExperimentResult: (value: unknown) => value is ExperimentResult }

interface Captured {
  io: CliIo
  stdout: () => string
  stderr: () => string
}

function capture(): Captured {
  let out = ''
  let err = ''
  return { io: { stdout: (t) => (out += t), stderr: (t) => (err += t) }, stdout: () => out, stderr: () => err }
}

describe('deberta-lab train', () => {
  let tmp: string
  let storePath: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-train-'))
    storePath = path.join(tmp, 'lab.sqlite')
  })
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

  it('--experiment attention --budget smoke: JSON summary with per-variant means and stds; one experiment run with 6 curves and 6 weights', async () => {
    const c = capture()
    const code = await trainCommand.run(['--experiment', 'attention', '--budget', 'smoke', '--seeds', '3', '--store', storePath], c.io)
    expect(code).toBe(0)
    const lines = c.stdout().trim().split('\n')
    expect(lines).toHaveLength(1)
    const summary = JSON.parse(lines[0])
    expect(summary).toMatchObject({ experiment: 'attention', budget: 'smoke', seeds: [1, 2, 3] })
    expect(Object.keys(summary.variants)).toEqual(['deberta', 'bert'])
    for (const variant of ['deberta', 'bert']) {
      const m = summary.variants[variant]
      for (const key of ['final_loss', 'probes_accuracy', 'mlm_accuracy', 'probe_subject_accuracy']) {
        expect(m[key].mean).toEqual(expect.any(Number))
        expect(m[key].std).toBeGreaterThanOrEqual(0)
      }
    }
    expect(c.stderr()).toMatch(/run 1\/6 attention\/deberta\/seed 1/)
    expect(c.stderr()).toMatch(/step 10\/10 loss/)

    const store = openStore(storePath)
    try {
      const runs = store.listRuns(summary.sessionId)
      expect(runs).toHaveLength(1)
      const [run] = runs
      expect(run).toMatchObject({ status: 'done', kind: 'experiment', workspace: 'experiments', name: 'runExperiment' })
      const metrics = store.getMetrics(run.id)
      const loss = metrics.filter((m) => m.key === 'bert/seed2/train/loss')
      expect(loss.map((m) => m.step)).toEqual(Array.from({ length: 10 }, (_, k) => k + 1))
      expect(metrics.some((m) => m.key === 'bert/seed2/eval/probes_accuracy')).toBe(true)
      expect(metrics.find((m) => m.key === 'deberta/probes_accuracy/mean')?.value).toBeCloseTo(summary.variants.deberta.probes_accuracy.mean, 5)
      expect(isExperimentResult(run.result)).toBe(true)
      expect((run.result as { variants: Record<string, unknown> }).variants).toHaveProperty('deberta')

      // every run's final weights are a safetensors artifact with the checkpoint key names
      const weights = store.listArtifacts(summary.sessionId).filter((a) => a.kind === 'weights')
      expect(weights.map((a) => a.name).sort()).toEqual(['bert/seed1', 'bert/seed2', 'bert/seed3', 'deberta/seed1', 'deberta/seed2', 'deberta/seed3'].map((n) => `${n}.safetensors`))
      const bertSeed2 = weights.find((a) => a.name === 'bert/seed2.safetensors')!
      expect(bertSeed2.runId).toBe(run.id)
      const file = path.join(tmp, 'w.safetensors')
      fs.writeFileSync(file, store.getArtifactData(bertSeed2.sha256))
      const source = openSafetensors(file)
      try {
        const names = source.entries().map((e) => e.name)
        expect(names.some((n) => n.endsWith('embeddings.word_embeddings.weight'))).toBe(true)
        expect(names.some((n) => n.endsWith('attention.self.query.weight'))).toBe(true)
        expect(source.entries().every((e) => e.dtype === 'F32' && e.shape.every((d) => d > 0))).toBe(true)
      } finally {
        source.close()
      }
      // different seeds trained different weights
      expect(new Set(weights.map((a) => a.sha256)).size).toBe(6)
    } finally {
      store.close()
    }
  })

  it('a config.json (preset + overrides) runs into an existing --session', async () => {
    const store = openStore(storePath)
    const session = store.createSession({ name: 'ablations' })
    store.close()
    const file = path.join(tmp, 'exp.json')
    fs.writeFileSync(
      file,
      JSON.stringify({
        preset: 'clipping',
        budget: 'smoke',
        variants: [
          { name: 'k=2', model: { positionBuckets: 0, maxRelativePositions: 2 } },
          { name: 'k=8', model: { positionBuckets: 0, maxRelativePositions: 8 } },
        ],
        training: { steps: 4 },
        seeds: 2,
      }),
    )
    const c = capture()
    expect(await trainCommand.run(['--experiment', file, '--session', session.id, '--store', storePath], c.io)).toBe(0)
    const summary = JSON.parse(c.stdout())
    expect(summary.sessionId).toBe(session.id)
    expect(Object.keys(summary.variants)).toEqual(['k=2', 'k=8'])
    expect(summary.seeds).toEqual([1, 2])
    const reopened = openStore(storePath)
    try {
      const runs = reopened.listRuns(session.id)
      expect(runs).toHaveLength(1)
      expect(runs[0].result).toMatchObject({ experiment: 'clipping', seeds: [1, 2], variantOrder: ['k=2', 'k=8'] })
      expect(reopened.getMetrics(runs[0].id).filter((m) => m.key === 'k=8/seed2/train/loss')).toHaveLength(4)
    } finally {
      reopened.close()
    }
  })

  it('Ctrl-C stops at the next step: exit 130, the run recorded as cancelled, nothing on stdout', async () => {
    const c = capture()
    const timer = setInterval(() => {
      // interrupt once the first run is under way
      if (/step \d+\/\d+ loss/.test(c.stderr())) {
        clearInterval(timer)
        process.emit('SIGINT')
      }
    }, 20)
    try {
      const code = await trainCommand.run(['--experiment', 'terms', '--budget', 'default', '--seeds', '3', '--store', storePath], c.io)
      expect(code).toBe(130)
    } finally {
      clearInterval(timer)
    }
    expect(c.stdout()).toBe('')
    expect(c.stderr()).toMatch(/cancelled: terms stopped by Ctrl-C/)
    expect(process.listenerCount('SIGINT')).toBe(0)
    const store = openStore(storePath)
    try {
      const [session] = store.listSessions()
      const runs = store.listRuns(session.id)
      expect(runs.map((r) => [r.name, r.status])).toEqual([['runExperiment', 'cancelled']])
    } finally {
      store.close()
    }
  })

  it('rejects unknown experiments, budgets and invalid configs before training', async () => {
    const c = capture()
    await expect(trainCommand.run(['--experiment', 'nope', '--store', storePath], c.io)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(trainCommand.run(['--experiment', 'terms', '--budget', 'huge', '--store', storePath], c.io)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    const file = path.join(tmp, 'bad.json')
    fs.writeFileSync(file, JSON.stringify({ preset: 'terms', model: { hiddenSize: 512 } }))
    await expect(trainCommand.run(['--experiment', file, '--store', storePath], c.io)).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    expect(c.stdout()).toBe('')
  })

  it('an experiment trained with --session is the app\'s record: read back through the lab service, it passes the renderer\'s predicate', async () => {
    const lab = await createLabService({ storePath, resourcesDir: path.resolve(__dirname, '../../resources'), host: 'browser', onFirstUse: true })
    try {
      const session = await lab.createSession({ name: 'from the command line' })
      const c = capture()
      expect(await trainCommand.run(['--experiment', 'length', '--budget', 'smoke', '--seeds', '1', '--session', session.id, '--store', storePath], c.io)).toBe(0)
      const records = await lab.listRuns(session.id)
      expect(records).toHaveLength(1)
      const shown = experimentRuns(records, isExperimentResult)
      expect(shown.map((e) => e.id)).toEqual([records[0].id])
      const result = await lab.getRunResult(records[0].id)
      expect(isExperimentResult(result)).toBe(true)
      expect(result).toMatchObject({ experiment: 'length', budget: 'smoke', seeds: [1], variantOrder: ['relative', 'absolute'], runId: records[0].id })
      expect(shown[0].jobId).toEqual(expect.any(String))
      expect(shown[0].jobId).not.toBe('')
      const snapshot = await lab.openSession(session.id)
      const weights = snapshot.artifacts.filter((a) => a.kind === 'weights')
      expect(weights.map((a) => [a.name, a.runId]).sort()).toEqual([
        ['absolute/seed1.safetensors', records[0].id],
        ['relative/seed1.safetensors', records[0].id],
      ])
      expect(weights.every((a) => a.size > 1000)).toBe(true)
    } finally {
      await lab.close()
    }
  })
})
