// Corpus runs through the real lab service (worker thread, store on disk): progress, pause and resume, cancel
// with the checkpoint stored on the run, resume from it with the numbers of an uninterrupted run, and resume
// after the lab was closed in the middle of a run (an app restart) from its last periodic checkpoint. The run's
// text is its corpus.txt artifact, not in its config: resume reads it there (or, for a run recorded before, from
// the config), and it travels with an exported session.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { BundledModelRef, JobInfo } from '../../src/common/api'
import { CORPUS_TEXT_ARTIFACT, type CorpusResult, type RecordedCorpusRequest } from '../../src/common/corpus'
import type { ArtifactDescriptor, RunRecord } from '../../src/common/sessions'
import { parseArgs } from '../../src/lab/validation'
import { Rng } from '../../src/core/train/data'
import { TOY_VOCAB, shortSentence } from '../../src/core/train/toy-language'
import { createLabService, type LabService } from '../../src/lab/service'
import { CHECKPOINT_ARTIFACT } from '../../src/lab/sessions'
import { CHECKPOINT_MS } from '../../src/lab/workspaces/corpus'

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
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')
const corpusRunOf = async (lab: LabService, sessionId: string): Promise<RunRecord> => (await lab.listRuns(sessionId)).find((r) => r.name === 'runCorpus')!

interface DlabFile {
  files: Record<string, Uint8Array>
  session: { runs: Array<{ id: string; config: unknown }>; artifacts: ArtifactDescriptor[] }
}
const readDlab = (base64: string): DlabFile => {
  const files = unzipSync(new Uint8Array(Buffer.from(base64, 'base64')))
  return { files, session: JSON.parse(strFromU8(files['session.json'])) as DlabFile['session'] }
}
/** The .dlab file again, with session.json replaced (and the manifest's checksum of it) and artifact blobs left out. */
const writeDlab = ({ files, session }: DlabFile, dropBlobs: string[] = []): string => {
  const sessionJson = strToU8(JSON.stringify(session))
  const manifest = JSON.parse(strFromU8(files['manifest.json'])) as { entries: Array<{ path: string; sha256: string; size: number }> }
  manifest.entries = manifest.entries
    .filter((e) => !dropBlobs.includes(e.sha256))
    .map((e) => (e.path === 'session.json' ? { ...e, sha256: createHash('sha256').update(sessionJson).digest('hex'), size: sessionJson.byteLength } : e))
  const kept = Object.fromEntries(Object.entries(files).filter(([path]) => !dropBlobs.some((sha) => path === `artifacts/${sha}`)))
  return Buffer.from(zipSync({ ...kept, 'manifest.json': strToU8(JSON.stringify(manifest)), 'session.json': sessionJson })).toString('base64')
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-corpus-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('corpus runs in the lab service', () => {
  const text = toyCorpus(900)
  let uninterrupted: CorpusResult
  /** the cancelled run of the first test, and its session exported before it was resumed */
  let cancelled: { sessionId: string; runId: string; done: number; dlab: string } | undefined

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
      // some sentences were finished and some were left (how many depends on the machine's speed)
      expect(done).toBeGreaterThan(0)
      expect(done).toBeLessThan(900)
      expect(await checkpointOf(lab, session.id, run.id)).toBeDefined()
      // the config records the corpus without its text; the text is the run's artifact
      expect((run.config as RecordedCorpusRequest).corpus).toEqual({ name: 'toy.txt', sha256: sha256(text), bytes: Buffer.byteLength(text), lines: 900, textArtifact: CORPUS_TEXT_ARTIFACT })
      expect(run.config).toMatchObject({ jobId: 'c1', sessionId: session.id, model: TOY })
      expect(JSON.stringify(await lab.listRuns(session.id)).length).toBeLessThan(2000)
      expect((await lab.openSession(session.id)).artifacts.find((a) => a.runId === run.id && a.name === CORPUS_TEXT_ARTIFACT)).toMatchObject({
        sha256: sha256(text),
        size: Buffer.byteLength(text),
        mime: 'text/plain; charset=utf-8',
      })
      const exported = await lab.exportSession(session.id)
      cancelled = { sessionId: session.id, runId: run.id, done, dlab: exported.base64 }

      // resumed without the text: the lab reads the one the run recorded
      const resumed = await lab.runCorpus({ sessionId: session.id, model: TOY, corpus: { name: 'toy.txt' }, resumeFrom: run.id })
      expect(resumed.resumedFrom).toEqual({ runId: run.id, sentences: done })
      expect(numbers(resumed)).toEqual(numbers(uninterrupted))
      const resumedRun = (await lab.listRuns(session.id)).find((r) => r.id === resumed.runId)!
      expect(resumedRun.config).toMatchObject({ corpus: { name: 'toy.txt', sha256: sha256(text), lines: 900 }, resumeFrom: run.id })
      expect((resumedRun.config as { corpus: object }).corpus).not.toHaveProperty('text')
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

  it('keeps the text in the exported session: an imported run resumes from it, and so does one recorded with the text in its config', async () => {
    expect(cancelled).toBeDefined()
    const { runId, done, dlab } = cancelled!
    const file = readDlab(dlab)
    // the exported file holds the exact text as the run's artifact, and no text in the run's config
    const link = file.session.artifacts.find((a) => a.runId === runId && a.name === CORPUS_TEXT_ARTIFACT)!
    expect(strFromU8(file.files[`artifacts/${link.sha256}`])).toBe(text)
    expect(JSON.stringify(file.session.runs)).not.toContain(text.split('\n')[0])
    // a run recorded before the text went into an artifact: { name, text } in its config, no corpus.txt
    const old = structuredClone(file.session)
    const oldRun = old.runs.find((r) => r.id === runId)!
    oldRun.config = { ...(oldRun.config as object), corpus: { name: 'toy.txt', text } }
    old.artifacts = old.artifacts.filter((a) => a.name !== CORPUS_TEXT_ARTIFACT)
    // and one with neither
    const none = structuredClone(old)
    none.runs.find((r) => r.id === runId)!.config = { ...(oldRun.config as object), corpus: { name: 'toy.txt' } }

    const lab = await open()
    try {
      for (const [what, base64] of [
        ['exported', dlab],
        ['recorded with its text in the config', writeDlab({ files: file.files, session: old }, [link.sha256])],
      ] as const) {
        const imported = await lab.importSession({ base64, mode: 'keep-both' })
        const run = await corpusRunOf(lab, imported.id)
        expect(run.status, what).toBe('cancelled')
        const resumed = await lab.runCorpus({ sessionId: imported.id, model: TOY, corpus: { name: 'toy.txt' }, resumeFrom: run.id })
        expect(resumed.resumedFrom, what).toEqual({ runId: run.id, sentences: done })
        expect(numbers(resumed), what).toEqual(numbers(uninterrupted))
      }
      const withoutText = await lab.importSession({ base64: writeDlab({ files: file.files, session: none }, [link.sha256]), mode: 'keep-both' })
      const run = await corpusRunOf(lab, withoutText.id)
      await expect(lab.runCorpus({ sessionId: withoutText.id, model: TOY, corpus: { name: 'toy.txt' }, resumeFrom: run.id })).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        message: expect.stringContaining('holds no corpus text'),
      })
      // only a resumed run may leave the text out
      await expect(lab.runCorpus({ sessionId: withoutText.id, model: TOY, corpus: { name: 'toy.txt' } })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
      expect(() => parseArgs('runCorpus', [{ model: TOY, corpus: { name: 'toy.txt' } }])).toThrow(/corpus\.text/)
      expect(parseArgs('runCorpus', [{ model: TOY, corpus: { name: 'toy.txt' }, sessionId: 's', resumeFrom: run.id }])[0].corpus).toEqual({ name: 'toy.txt' })
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
    // Stay in the middle of the run however fast the machine (900 toy sentences take ~1 s on wasm): pause early,
    // let a periodic checkpoint fall due (CHECKPOINT_MS), resume so the next sentence stores it, pause again, close.
    await vi.waitFor(async () => expect((await job(lab, 'c2'))?.fraction ?? 0).toBeGreaterThan(0.02), { timeout: 30_000, interval: 20 })
    expect(await lab.pauseJob({ jobId: 'c2', paused: true })).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_MS + 300))
    expect(await lab.pauseJob({ jobId: 'c2', paused: false })).toBe(true)
    await vi.waitFor(async () => expect(await checkpointOf(lab, session.id, run.id)).toBeDefined(), { timeout: 60_000, interval: 20 })
    expect(await lab.pauseJob({ jobId: 'c2', paused: true })).toBe(true)
    await lab.close()
    lab = await open()
    try {
      const [stopped] = await lab.listRuns(session.id)
      expect(['cancelled', 'interrupted']).toContain(stopped.status)
      const resumed = await lab.runCorpus({ sessionId: session.id, model: TOY, corpus: { name: 'toy.txt' }, resumeFrom: run.id })
      expect(resumed.resumedFrom!.sentences).toBeGreaterThan(0)
      expect(resumed.resumedFrom!.sentences).toBeLessThan(900)
      expect(numbers(resumed)).toEqual(numbers(uninterrupted))
    } finally {
      await lab.close()
    }
  }, 180_000)
})
