// `deberta-lab train` end to end on the smoke budget: valid one-line JSON on stdout, progress on stderr, runs
// with loss / accuracy curves recorded in a temporary store.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { trainCommand } from '../../src/cli/commands/train'
import type { CliIo } from '../../src/cli/types'
import { openSafetensors } from '../../src/core/checkpoint'
import { openStore } from '../../src/store'

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

  it('--experiment attention --budget smoke: JSON summary with per-variant means and stds; 6 runs + summary recorded', async () => {
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
      expect(runs).toHaveLength(7)
      expect(runs.every((r) => r.status === 'done' && r.kind === 'experiment')).toBe(true)
      const run = runs.find((r) => r.name === 'attention/bert/seed 2')!
      expect(run.seed).toBe(2)
      const metrics = store.getMetrics(run.id)
      const loss = metrics.filter((m) => m.key === 'train/loss')
      expect(loss.map((m) => m.step)).toEqual(Array.from({ length: 10 }, (_, k) => k + 1))
      expect(metrics.some((m) => m.key === 'eval/probes_accuracy')).toBe(true)
      const top = runs.find((r) => r.name === 'train attention')!
      expect((top.result as { variants: Record<string, unknown> }).variants).toHaveProperty('deberta')

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
      expect(reopened.listRuns(session.id)).toHaveLength(5)
    } finally {
      reopened.close()
    }
  })

  it('Ctrl-C stops at the next step: exit 130, the open runs recorded as cancelled, nothing on stdout', async () => {
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
      expect(runs.length).toBeGreaterThanOrEqual(2)
      expect(runs.filter((r) => r.status === 'cancelled').map((r) => r.name).sort()).toEqual(['terms/c2c/seed 1', 'train terms'].sort())
      expect(runs.every((r) => r.status === 'cancelled')).toBe(true)
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
})
