// What the second compute worker costs and what it buys (README, "Compute off the event loop").
//   npx tsx scripts/measure-job-lanes.ts
// 1. Memory: RSS of this process (worker threads included) after a lab loaded the toy model in its interactive
//    worker, then after a second worker loaded the toy model too (a second ComputePool doing the same).
// 2. Latency: an attention run on the toy model while the lab is idle, and while an experiment trains on the
//    long worker; with one worker it would wait for the experiment's remaining time (forever if paused).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_MODEL, type AttentionRequest } from '../src/common/api'
import { ComputePool } from '../src/lab/compute-pool'
import { createLabService } from '../src/lab/service'

const MB = 1024 * 1024
const resourcesDir = join(process.cwd(), 'resources')
const rss = (): number => process.memoryUsage().rss / MB
const settle = async (): Promise<void> => {
  global.gc?.()
  await new Promise((resolve) => setTimeout(resolve, 500))
}
const attention: AttentionRequest = { model: DEFAULT_MODEL, text: 'the old farmer watches the red ball near the river', layer: 0, head: 0 }

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const t0 = performance.now()
  await work()
  return performance.now() - t0
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deberta-lab-lanes-'))
  const lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir, host: 'browser' })
  const { backend } = await lab.getStatus()
  await lab.runAttention({ ...attention })
  await settle()
  const oneWorker = rss()

  const second = new ComputePool({ resourcesDir })
  await second.start()
  await second.run('runAttention', attention, 'second-worker')
  await settle()
  const twoWorkers = rss()
  await second.close()

  const idle: number[] = []
  for (let k = 0; k < 5; k++) idle.push(await timed(() => lab.runAttention({ ...attention })))

  const experimentStart = performance.now()
  const experiment = lab.runExperiment({ jobId: 'measure', experiment: 'length', budget: 'default', seeds: 1 })
  for (;;) {
    const job = (await lab.listJobs()).find((j) => j.jobId === 'measure')
    if (job?.training) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const askedAt = performance.now()
  const duringTraining: number[] = []
  for (let k = 0; k < 5; k++) duringTraining.push(await timed(() => lab.runAttention({ ...attention })))
  await settle()
  const whileTraining = rss()
  await experiment
  const experimentEnd = performance.now()

  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  console.log(`backend ${backend}`)
  console.log(`RSS, one worker with the toy model loaded: ${oneWorker.toFixed(0)} MB`)
  console.log(`RSS, a second worker with the toy model loaded: ${twoWorkers.toFixed(0)} MB (+${(twoWorkers - oneWorker).toFixed(0)} MB)`)
  console.log(`RSS while the long worker trains (length, default budget): ${whileTraining.toFixed(0)} MB`)
  console.log(`attention (toy model), idle: median ${median(idle).toFixed(0)} ms of ${idle.map((v) => v.toFixed(0)).join(', ')}`)
  console.log(`attention while the experiment trains: median ${median(duringTraining).toFixed(0)} ms of ${duringTraining.map((v) => v.toFixed(0)).join(', ')}`)
  console.log(`one worker: the first of them would have waited ${((experimentEnd - askedAt) / 1000).toFixed(1)} s (the rest of the experiment, ${((experimentEnd - experimentStart) / 1000).toFixed(1)} s in all)`)
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
}

void main()
