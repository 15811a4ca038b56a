// Corpus runs through the real lab service (worker thread, store on disk): progress, pause and resume, cancel
// with the checkpoint stored on the run, resume from it with the numbers of an uninterrupted run, and resume
// after the lab was closed in the middle of a run (an app restart) from its last periodic checkpoint.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { BundledModelRef, JobInfo } from '../../src/common/api'
import type { CorpusResult } from '../../src/common/corpus'
import { Rng } from '../../src/core/train/data'
import { TOY_VOCAB, shortSentence } from '../../src/core/train/toy-language'
import { createLabService, type LabService } from '../../src/lab/service'
import { CHECKPOINT_ARTIFACT } from '../../src/lab/sessions'

const TOY: BundledModelRef = { kind: 'bundled', name: 'toy-deberta' }
const RESOURCES = join(process.cwd(), 'resources')

function toyCorpus(n: number, seed = 7): string {
  const rng = new Rng(seed)
  return Array.from({ length: n }, () => shortSentence(rng, 8 + rng.int(14)).ids.map((id) => TOY_VOCAB.tokens[id]).join(' ')).join('\n')
}

const numbers = (r: CorpusResult) => {
  const { milliseconds: _m, sentencesPerSecond: _s, resumedFrom: _r, runId: _id, ...rest } = r
  return { ...rest, sentences: { ...rest.sentences, entropy: Array.from(rest.sentences.entropy.data), distance: Array.from(rest.sentences.distance.data), shares: Array.from(rest.sentences.shares.data) } }
}

let dir: string
const open = (): Promise<LabService> => createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: RESOURCES, host: 'browser', cancelGraceMs: 5000 })
const job = async (lab: LabService, jobId: string): Promise<JobInfo | undefined> => (await lab.listJobs()).find((j) => j.jobId === jobId)
const checkpointOf = async (lab: LabService, sessionId: string, runId: string) => (await lab.openSession(sessionId)).artifacts.find((a) => a.runId === runId && a.name === CHECKPOINT_ARTIFACT)

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-corpus-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('corpus runs in the lab service', () => {
  const text = toyCorpus(900)
  let uninterrupted: CorpusResult

  it('pauses, resumes, cancels with a stored checkpoint, and resumes from it with the uninterrupted numbers', async () => {
    const lab = await open()
    try {
      uninterrupted = await lab.runCorpus({ model: TOY, corpus: { name: 'toy.txt', text } })
      expect(uninterrupted.corpus.sentences).toBe(900)
      const session = await lab.createSession({ name: 'corpus' })
      const running = lab.runCorpus({ jobId: 'c1', sessionId: session.id, model: TOY, corpus: { name: 'toy.txt', text } })
      running.catch(() => undefined)
      await vi.waitFor(async () => expect((await job(lab, 'c1'))?.fraction ?? 0).toBeGreaterThan(0.1), { timeout: 30_000, interval: 50 })
      expect((await job(lab, 'c1'))).toMatchObject({ kind: 'long', pausable: true, label: expect.stringContaining('corpus statistics, toy.txt') })
      expect((await job(lab, 'c1'))?.message).toMatch(/^\d+ \/ 900 sentences · [\d.]+ sentences\/s$/)
      expect(await lab.pauseJob({ jobId: 'c1', paused: true })).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const paused = await job(lab, 'c1')
      await new Promise((resolve) => setTimeout(resolve, 600))
      expect(await job(lab, 'c1')).toMatchObject({ state: 'paused', fraction: paused!.fraction })
      expect(await lab.pauseJob({ jobId: 'c1', paused: false })).toBe(true)
      await vi.waitFor(async () => expect((await job(lab, 'c1'))?.fraction ?? 0).toBeGreaterThan(paused!.fraction), { timeout: 10_000, interval: 50 })
      expect(await lab.cancelJob('c1')).toBe(true)
      await expect(running).rejects.toMatchObject({ code: 'CANCELLED' })
      const [run] = await lab.listRuns(session.id)
      expect(run).toMatchObject({ name: 'runCorpus', status: 'cancelled', error: expect.stringMatching(/^cancelled after \d+ of 900 sentences/) })
      const done = Number(/after (\d+) of/.exec(run.error!)![1])
      expect(done).toBeGreaterThan(100)
      expect(await checkpointOf(lab, session.id, run.id)).toBeDefined()

      const resumed = await lab.runCorpus({ sessionId: session.id, model: TOY, corpus: { name: 'toy.txt', text }, resumeFrom: run.id })
      expect(resumed.resumedFrom).toEqual({ runId: run.id, sentences: done })
      expect(numbers(resumed)).toEqual(numbers(uninterrupted))
      // the recorded result is the same, and a finished run is not resumed
      expect(numbers((await lab.getRunResult(resumed.runId!)) as CorpusResult)).toEqual(numbers(uninterrupted))
      await expect(lab.runCorpus({ sessionId: session.id, model: TOY, corpus: { name: 'toy.txt', text }, resumeFrom: resumed.runId })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
      // another session's run is not found
      const other = await lab.createSession({ name: 'other' })
      await expect(lab.runCorpus({ sessionId: other.id, model: TOY, corpus: { name: 'toy.txt', text }, resumeFrom: run.id })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' })
    } finally {
      await lab.close()
    }
  }, 180_000)

  it('resumes after the lab was closed in the middle of a run, from its last periodic checkpoint', async () => {
    let lab = await open()
    const session = await lab.createSession({ name: 'restart' })
    const running = lab.runCorpus({ jobId: 'c2', sessionId: session.id, model: TOY, corpus: { name: 'toy.txt', text } })
    running.catch(() => undefined)
    const [run] = await vi.waitFor(async () => {
      const runs = await lab.listRuns(session.id)
      expect(runs).toHaveLength(1)
      return runs
    }, { timeout: 30_000, interval: 50 })
    await vi.waitFor(async () => expect(await checkpointOf(lab, session.id, run.id)).toBeDefined(), { timeout: 60_000, interval: 100 })
    await lab.close()
    lab = await open()
    try {
      const [stopped] = await lab.listRuns(session.id)
      expect(['cancelled', 'interrupted']).toContain(stopped.status)
      const resumed = await lab.runCorpus({ sessionId: session.id, model: TOY, corpus: { name: 'toy.txt', text }, resumeFrom: run.id })
      expect(resumed.resumedFrom!.sentences).toBeGreaterThan(0)
      expect(resumed.resumedFrom!.sentences).toBeLessThan(900)
      expect(numbers(resumed)).toEqual(numbers(uninterrupted))
    } finally {
      await lab.close()
    }
  }, 180_000)
})
