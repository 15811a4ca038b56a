// Jobs are the lab's own objects: listed, followed, paused and cancelled from any client, on two workers so a
// long or paused experiment never holds up a workspace computation.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL, type JobInfo, type LabEvent } from '../../src/common/api'
import { JobRegistry, KEEP_FINISHED_JOBS, jobLabel } from '../../src/lab/jobs'
import { createLabService, type LabService } from '../../src/lab/service'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

describe('JobRegistry', () => {
  type Place = { kind: 'interactive' | 'long'; position: number; behind?: string } | undefined
  function registry(place: (jobId: string) => Place = () => undefined) {
    const sent: JobInfo[] = []
    let clock = 1000
    const jobs = new JobRegistry({ emit: (info) => sent.push(info), place, now: () => clock++ })
    return { jobs, sent }
  }

  it('announces every state change with times, and keeps the run id and error', () => {
    const { jobs, sent } = registry()
    jobs.add('e1', 'runExperiment', { experiment: 'terms', budget: 'default', seeds: 3, sessionId: 's1' })
    jobs.started('e1')
    jobs.paused('e1', true)
    jobs.paused('e1', false)
    jobs.finish('e1', 'done', { runId: 'r1' })
    expect(sent.map((j) => j.state)).toEqual(['queued', 'running', 'paused', 'running', 'done'])
    const last = sent[sent.length - 1]
    expect(last).toMatchObject({
      jobId: 'e1',
      method: 'runExperiment',
      kind: 'long',
      sessionId: 's1',
      label: 'experiment terms (default, 3 seeds)',
      pausable: true,
      fraction: 1,
      runId: 'r1',
      queuedAt: 1000,
      startedAt: 1001,
      params: { experiment: 'terms', budget: 'default', seeds: 3 },
    })
    expect(last.finishedAt).toBeGreaterThan(last.startedAt!)
    // a finished job is not revived by late progress or pause calls
    jobs.paused('e1', true)
    jobs.progress('e1', 0.5, 'late')
    expect(jobs.get('e1')).toMatchObject({ state: 'done', fraction: 1 })
    expect(sent).toHaveLength(5)
  })

  it('refuses a second active job with the same id, and allows the id again once the first ended', () => {
    const { jobs } = registry()
    jobs.add('x', 'tokenize', { model: DEFAULT_MODEL, text: 'a' })
    expect(() => jobs.add('x', 'tokenize', { model: DEFAULT_MODEL, text: 'a' })).toThrow(/already running/)
    jobs.finish('x', 'failed', { error: { code: 'INTERNAL', message: 'boom' } })
    expect(jobs.get('x')).toMatchObject({ state: 'failed', error: { code: 'INTERNAL', message: 'boom' } })
    jobs.add('x', 'tokenize', { model: DEFAULT_MODEL, text: 'a' })
    expect(jobs.get('x')?.state).toBe('queued')
  })

  it('collects an experiment’s curves from its progress (listJobs only) and drops them when it ends', () => {
    const { jobs, sent } = registry()
    jobs.add('e', 'runExperiment', { experiment: 'length', budget: 'smoke', seeds: 1 })
    jobs.started('e')
    jobs.progress('e', 0.1, 'step 2', { run: 0, runCount: 2, totalSteps: 5, points: [
      { variant: 'relative', seed: 1, step: 1, loss: 3, accuracy: 0.1 },
      { variant: 'relative', seed: 1, step: 2, loss: 2.5, accuracy: 0.2 },
    ] })
    jobs.progress('e', 0.6, 'step 1', { run: 1, runCount: 2, totalSteps: 5, points: [{ variant: 'absolute', seed: 1, step: 1, loss: 3.1, accuracy: 0.05 }] })
    const listed = jobs.list()[0]
    expect(listed).toMatchObject({ fraction: 0.6, message: 'step 1' })
    expect(listed.training).toEqual({
      totalSteps: 5,
      curves: [
        { variant: 'relative', seed: 1, losses: [3, 2.5], accuracies: [0.1, 0.2] },
        { variant: 'absolute', seed: 1, losses: [3.1], accuracies: [0.05] },
      ],
    })
    expect(sent.every((info) => info.training === undefined)).toBe(true)
    jobs.finish('e', 'cancelled')
    expect(jobs.list()[0].training).toBeUndefined()
  })

  it('says what a queued job waits for and re-announces it only when that changes', () => {
    const places: Record<string, { kind: 'long'; position: number; behind?: string }> = {}
    const { jobs, sent } = registry((jobId) => places[jobId])
    jobs.add('exp', 'runExperiment', { experiment: 'terms', budget: 'default', seeds: 1 })
    jobs.started('exp')
    jobs.paused('exp', true)
    places.bench = { kind: 'long', position: 1, behind: 'exp' }
    jobs.add('bench', 'runBenchmark', { preset: 'tiny', seqs: [32, 64] })
    expect(jobs.get('bench')).toMatchObject({
      state: 'queued',
      queuePosition: 1,
      label: 'benchmark tiny, T = 32, 64',
      waitingFor: { jobId: 'exp', label: 'experiment terms (default, 1 seed)', state: 'paused' },
    })
    const count = sent.length
    jobs.laneChanged('long')
    expect(sent).toHaveLength(count) // nothing changed
    delete places.bench
    jobs.finish('exp', 'cancelled')
    places.bench = { kind: 'long', position: 1 }
    jobs.laneChanged('long')
    expect(sent[sent.length - 1]).toMatchObject({ jobId: 'bench', state: 'queued', queuePosition: 1 })
    expect(sent[sent.length - 1].waitingFor).toBeUndefined()
  })

  it(`lists active jobs first (oldest first), then at most ${KEEP_FINISHED_JOBS} finished ones of each kind, newest first`, () => {
    const { jobs } = registry()
    jobs.add('experiment', 'runExperiment', { experiment: 'terms', budget: 'smoke', seeds: 1 })
    jobs.finish('experiment', 'done', { runId: 'r' })
    jobs.add('active-1', 'spin', { ms: 1 })
    for (let k = 0; k < KEEP_FINISHED_JOBS + 5; k++) {
      jobs.add(`done-${k}`, 'tokenize', {})
      jobs.finish(`done-${k}`, 'done')
    }
    jobs.add('active-2', 'spin', { ms: 1 })
    const ids = jobs.list().map((j) => j.jobId)
    expect(ids.slice(0, 3)).toEqual(['active-1', 'active-2', `done-${KEEP_FINISHED_JOBS + 4}`])
    expect(ids).toHaveLength(2 + KEEP_FINISHED_JOBS + 1)
    // the experiment finished before all the tokenizes, and is still listed
    expect(ids[ids.length - 1]).toBe('experiment')
    expect(ids[ids.length - 2]).toBe('done-5')
  })

  it('labels jobs by what they compute', () => {
    expect(jobLabel('runAttention', { model: DEFAULT_MODEL, layer: 1, head: 'mean' })).toBe('attention, layer 1, head mean (toy-deberta)')
    expect(jobLabel('describeModel', { kind: 'checkpoint', path: '/models/deberta-v3-base/' })).toBe('model description (deberta-v3-base)')
    expect(jobLabel('runExperiment', { experiment: 'emd', budget: 'smoke', seeds: 1 })).toBe('experiment emd (smoke, 1 seed)')
    expect(jobLabel('runAblation', { model: DEFAULT_MODEL, ablation: { kind: 'head', layer: 1, head: 2 } })).toBe('ablate head 1.2 (toy-deberta)')
    expect(jobLabel('runAblation', { model: DEFAULT_MODEL, ablation: { kind: 'term', term: 'c2p', layer: 0, head: 3 } })).toBe('ablate c2p in layer 0 head 3 (toy-deberta)')
    expect(jobLabel('runAblation', { model: DEFAULT_MODEL, ablation: { kind: 'term', term: 'p2c' } })).toBe('ablate p2c (toy-deberta)')
    expect(jobLabel('runHeadImportance', { model: DEFAULT_MODEL })).toBe('head importance, every head removed in turn (toy-deberta)')
  })
})

describe('jobs in the lab service', () => {
  let dir: string
  let lab: LabService
  const events: LabEvent[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deberta-lab-jobs-'))
    lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'browser', cancelGraceMs: 1000 })
    await lab.getStatus()
    lab.onEvent((event) => events.push(event))
  })

  afterAll(async () => {
    await lab.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The states a job went through (a queued job is announced again whenever what it waits for changes). */
  const jobStates = (jobId: string): string[] =>
    events.flatMap((e) => (e.type === 'job' && e.job.jobId === jobId ? [e.job.state] : [])).filter((state, k, all) => k === 0 || state !== all[k - 1])
  const listed = async (jobId: string): Promise<JobInfo | undefined> => (await lab.listJobs()).find((j) => j.jobId === jobId)

  it('a paused experiment does not hold up a tokenize; listJobs shows both; a second client cancels the experiment', async () => {
    const session = await lab.createSession({ name: 'jobs' })
    const experiment = lab.runExperiment({ jobId: 'exp-paused', sessionId: session.id, experiment: 'terms', budget: 'default', seeds: 3 })
    experiment.catch(() => undefined)
    await waitFor('the experiment to train', async () => ((await listed('exp-paused'))?.training ? true : undefined), 60_000)
    expect(await lab.pauseJob({ jobId: 'exp-paused', paused: true })).toBe(true)

    // An interactive computation completes promptly while the experiment sits paused (it would wait forever on one worker).
    await lab.tokenize({ model: DEFAULT_MODEL, text: 'warm the model' })
    const t0 = Date.now()
    const tokens = await lab.tokenize({ model: DEFAULT_MODEL, text: 'the old farmer watches the red ball' })
    const tokenizeMs = Date.now() - t0
    expect(tokens.tokens).toContain('farmer')
    expect(tokenizeMs).toBeLessThan(2000)

    const jobs = await lab.listJobs()
    const exp = jobs.find((j) => j.jobId === 'exp-paused')!
    expect(exp).toMatchObject({ method: 'runExperiment', kind: 'long', state: 'paused', sessionId: session.id, pausable: true, label: 'experiment terms (default, 3 seeds)' })
    expect(exp.fraction).toBeGreaterThan(0)
    expect(exp.fraction).toBeLessThan(1)
    expect(exp.startedAt).toBeGreaterThanOrEqual(exp.queuedAt)
    expect(exp.training!.curves.length).toBeGreaterThan(0)
    expect(exp.training!.curves[0].losses.every((loss) => Number.isFinite(loss))).toBe(true)
    const tok = jobs.filter((j) => j.method === 'tokenize')
    expect(tok.map((j) => j.state)).toEqual(['done', 'done'])
    expect(tok[0].kind).toBe('interactive')
    expect(tok[0].finishedAt).toBeGreaterThanOrEqual(tok[0].startedAt!)
    // active jobs come first
    expect(jobs[0].jobId).toBe('exp-paused')

    // "Second client": a plain service call without the original promise.
    expect(await lab.cancelJob('exp-paused')).toBe(true)
    await expect(experiment).rejects.toMatchObject({ code: 'CANCELLED' })
    const ended = await listed('exp-paused')
    expect(ended).toMatchObject({ state: 'cancelled', error: { code: 'CANCELLED' } })
    expect(ended!.training).toBeUndefined()
    expect(jobStates('exp-paused')).toEqual(['queued', 'running', 'paused', 'cancelled'])
    // the run is recorded as cancelled in its session
    const runs = await lab.listRuns(session.id)
    expect(runs.find((r) => (r.config as { jobId?: string }).jobId === 'exp-paused')?.status).toBe('cancelled')
  }, 120_000)

  it('reports the queue: position and the job each queued job waits for, and updates it as the queue moves', async () => {
    const first = lab.spin({ ms: 60_000, jobId: 'q-first', lane: 'long' })
    first.catch(() => undefined)
    await waitFor('q-first to run', async () => ((await listed('q-first'))?.state === 'running' ? true : undefined))
    expect(await lab.pauseJob({ jobId: 'q-first', paused: true })).toBe(true)
    const second = lab.spin({ ms: 100, jobId: 'q-second', lane: 'long' })
    const third = lab.spin({ ms: 100, jobId: 'q-third', lane: 'long' })
    await sleep(50)
    expect(await listed('q-second')).toMatchObject({ state: 'queued', queuePosition: 1, waitingFor: { jobId: 'q-first', state: 'paused', label: 'spin 60000 ms' } })
    expect(await listed('q-third')).toMatchObject({ state: 'queued', queuePosition: 2, waitingFor: { jobId: 'q-first', state: 'paused' } })
    // cancel a queued job from another client: it never runs, the one behind it moves up
    expect(await lab.cancelJob('q-second')).toBe(true)
    await expect(second).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(await listed('q-second')).toMatchObject({ state: 'cancelled' })
    expect((await listed('q-second'))!.startedAt).toBeUndefined()
    expect(await listed('q-third')).toMatchObject({ state: 'queued', queuePosition: 1 })
    const thirdEvents = events.filter((e) => e.type === 'job' && e.job.jobId === 'q-third').map((e) => (e.type === 'job' ? e.job.queuePosition : null))
    expect(thirdEvents.slice(-2)).toEqual([2, 1])
    expect(await lab.cancelJob('q-first')).toBe(true)
    await expect(first).rejects.toMatchObject({ code: 'CANCELLED' })
    await third
    expect(jobStates('q-third')).toEqual(['queued', 'running', 'done'])
    // while it was queued it always knew what it waited for once it was on a worker's queue
    const queuedEvents = events.flatMap((e) => (e.type === 'job' && e.job.jobId === 'q-third' && e.job.state === 'queued' && e.job.queuePosition ? [e.job] : []))
    expect(queuedEvents.every((job) => job.waitingFor?.jobId === 'q-first')).toBe(true)
  }, 60_000)

  it('runs interactive jobs on their own worker while a long job spins, and queues interactive jobs behind each other', async () => {
    const long = lab.spin({ ms: 3000, jobId: 'lane-long', lane: 'long' })
    await waitFor('lane-long to run', async () => ((await listed('lane-long'))?.state === 'running' ? true : undefined))
    const t0 = Date.now()
    const quick = await lab.spin({ ms: 50, jobId: 'lane-quick', lane: 'interactive' })
    expect(Date.now() - t0).toBeLessThan(1500)
    const slow = lab.spin({ ms: 1500, jobId: 'lane-slow', lane: 'interactive' })
    await waitFor('lane-slow to run', async () => ((await listed('lane-slow'))?.state === 'running' ? true : undefined))
    const tokenize = lab.tokenize({ model: DEFAULT_MODEL, text: 'the red ball' })
    await sleep(50)
    const waiting = (await lab.listJobs()).find((j) => j.method === 'tokenize' && j.state === 'queued')
    expect(waiting).toMatchObject({ kind: 'interactive', queuePosition: 1, waitingFor: { jobId: 'lane-slow', state: 'running' } })
    await tokenize
    const { threadId: longThread } = await long
    expect(quick.threadId).not.toBe(longThread)
    expect((await slow).threadId).toBe(quick.threadId)
  }, 60_000)

  it('cancels a queued workspace run before it starts; it is recorded as cancelled', async () => {
    const session = await lab.createSession({ name: 'early cancel' })
    const blocker = lab.spin({ ms: 2000, jobId: 'early-blocker', lane: 'interactive' })
    const run = lab.runAttention({ jobId: 'early-attn', sessionId: session.id, model: DEFAULT_MODEL, text: 'the red ball', layer: 0, head: 0 })
    run.catch(() => undefined)
    await sleep(50)
    expect(await listed('early-attn')).toMatchObject({ state: 'queued', waitingFor: { jobId: 'early-blocker' } })
    expect(await lab.cancelJob('early-attn')).toBe(true)
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(await listed('early-attn')).toMatchObject({ state: 'cancelled' })
    expect((await lab.listRuns(session.id)).filter((r) => (r.config as { jobId?: string }).jobId === 'early-attn').map((r) => r.status)).not.toContain('done')
    await blocker
    expect(await lab.cancelJob('early-attn')).toBe(false)
  }, 60_000)
})

describe('the long-jobs worker', () => {
  it('starts with the first long job and stops after sitting idle; the next long job gets a fresh one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deberta-lab-idle-'))
    const lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'browser', longWorkerIdleMs: 600 })
    try {
      const interactive = await lab.spin({ ms: 10, lane: 'interactive' })
      const first = await lab.spin({ ms: 10, lane: 'long' })
      expect(first.threadId).not.toBe(interactive.threadId)
      await sleep(200)
      // within the idle time: the same worker
      expect((await lab.spin({ ms: 10, lane: 'long' })).threadId).toBe(first.threadId)
      await sleep(1200)
      const later = await lab.spin({ ms: 10, lane: 'long' })
      expect(later.threadId).not.toBe(first.threadId)
      // the interactive worker is kept
      expect((await lab.spin({ ms: 10, lane: 'interactive' })).threadId).toBe(interactive.threadId)
    } finally {
      await lab.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
