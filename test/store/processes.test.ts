// Real processes on one store file: a killed run becomes 'interrupted', a live one is left alone, and two
// writers at once neither corrupt the file nor lose a commit.
import { isAbsolute, join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore } from '../../src/store'
import { finished, nodeArgsFor, ROOT, spawnTs, tempDir } from './helpers/fixtures'

const WRITER = 'test/store/helpers/writer.ts'

let dir: string
let cleanup: () => void
let path: string
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
  path = join(dir, 'lab.sqlite')
})
afterEach(() => cleanup())

/** Resolves with the first stdout line matching `pattern`. */
function waitForLine(child: ReturnType<typeof spawnTs>, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    const onData = (data: Buffer): void => {
      buffer += data.toString()
      const match = buffer.match(pattern)
      if (match) {
        child.stdout?.off('data', onData)
        resolve(match)
      }
    }
    child.stdout?.on('data', onData)
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before printing ${pattern}; output: ${buffer}`)))
  })
}

describe('runs across processes', () => {
  it('leaves the running run of a live process alone and marks it interrupted once that process is killed', async () => {
    const child = spawnTs(WRITER, [path, 'hold'])
    const done = finished(child)
    const [, runId] = await waitForLine(child, /start (\S+)/)

    const observer = openStore(path)
    expect(observer.interruptedAtOpen).toEqual([])
    expect(observer.getRun(runId).status).toBe('running')
    expect(observer.markInterruptedRuns()).toEqual([])

    child.kill('SIGKILL')
    const result = await done
    expect(result.signal).toBe('SIGKILL')
    // The store saw the run's owner die: the next check (as at every open) marks it.
    expect(observer.markInterruptedRuns()).toEqual([runId])
    expect(observer.getRun(runId)).toMatchObject({ status: 'interrupted', error: 'the process running it ended before it finished' })
    expect(observer.getRun(runId).endedAt).not.toBeNull()
    observer.close()

    const reopened = openStore(path)
    expect(reopened.interruptedAtOpen).toEqual([])
    expect(reopened.getRun(runId).status).toBe('interrupted')
    reopened.close()
  })

  it('a run whose process closes the store cleanly mid-run is interrupted, not left running', async () => {
    const child = spawnTs(WRITER, [path, 'hold'])
    const done = finished(child)
    const [, runId] = await waitForLine(child, /start (\S+)/)
    child.stdin?.end()
    const result = await done
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('closed')
    const store = openStore(path)
    expect(store.getRun(runId)).toMatchObject({ status: 'interrupted', error: 'the store was closed before it finished' })
    store.close()
  })

  it('two processes writing runs and metrics at once: every commit is there and the file is sound', async () => {
    const RUNS = 150
    const children = ['alpha', 'beta'].map((label) => spawnTs(WRITER, [path, 'count-on-go', String(RUNS), label]))
    const writers = children.map((child) => finished(child))
    // Both open the (fresh) store and create their session, then start writing on the same signal.
    await Promise.all(children.map((child) => waitForLine(child, /session \S+/)))
    for (const child of children) child.stdin?.end('go\n')
    const results = await Promise.all(writers)
    for (const r of results) {
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
    }
    const reported = results.map((r) => r.stdout.split('\n').filter((l) => l.startsWith('done ')).map((l) => l.slice(5)))
    expect(reported.map((ids) => ids.length)).toEqual([RUNS, RUNS])

    const store = openStore(path)
    expect(store.integrityCheck()).toEqual([])
    const sessions = store.listSessions()
    expect(sessions.map((s) => s.tags[0]).sort()).toEqual(['alpha', 'beta'])
    expect(sessions.map((s) => s.runCount)).toEqual([RUNS, RUNS])
    for (const ids of reported) {
      for (const id of ids) expect(store.getRun(id).status).toBe('done')
    }
    // They really overlapped in time: each wrote runs while the other was writing.
    const spans = sessions.map((s) => {
      const times = store.listRuns(s.id).map((r) => Date.parse(r.createdAt))
      return [Math.min(...times), Math.max(...times)]
    })
    expect(spans[0][0] < spans[1][1] && spans[1][0] < spans[0][1]).toBe(true)
    const all = reported.flat()
    expect(new Set(all).size).toBe(2 * RUNS)
    const latest = store.getLatestMetrics(all)
    expect(latest).toHaveLength(2 * RUNS * 2)
    expect(store.getMetrics(all[0])).toHaveLength(20)
    // Identical tensors written by both processes are stored once.
    const artifacts = sessions.flatMap((s) => store.listArtifacts(s.id))
    expect(artifacts).toHaveLength(2 * (RUNS / 5))
    expect(new Set(artifacts.map((a) => a.sha256)).size).toBe(RUNS / 5)
    store.close()
  })
})

describe('opening one fresh store from many connections at once', () => {
  it('every opener succeeds: the schema is created once and nobody mistakes the half-made store for a foreign one', async () => {
    // The race: an opener read user_version 0, another created the schema, and the first then saw tables
    // in a "version 0" file and called it another program's database (STORE_UNUSABLE).
    const args = await nodeArgsFor('test/store/helpers/opener.ts')
    const script = args[args.length - 1]
    const OPENERS = 12
    const ROUNDS = 80
    const paths = Array.from({ length: ROUNDS }, (_, round) => join(dir, `fresh-${round}.sqlite`))
    const firstAt = Date.now() + 2000 // every worker is loaded by then
    const perWorker = await Promise.all(
      Array.from({ length: OPENERS }, () => {
        const worker = new Worker(isAbsolute(script) ? script : join(ROOT, script), { workerData: { paths, firstAt, intervalMs: 100 }, execArgv: args.slice(0, -1) })
        return new Promise<Array<{ ok: boolean; code?: string; message?: string }>>((resolve, reject) => {
          worker.once('message', resolve)
          worker.once('error', reject)
        }).finally(() => worker.terminate())
      }),
    )
    const failures = perWorker.flatMap((outcomes) => outcomes.flatMap((r, round) => (r.ok ? [] : [`round ${round}: ${r.code} ${r.message}`])))
    paths.forEach((path, round) => {
      const store = openStore(path)
      expect(store.listSessions()).toHaveLength(perWorker.filter((outcomes) => outcomes[round].ok).length)
      expect(store.integrityCheck()).toEqual([])
      store.close()
    })
    expect(failures).toEqual([])
  }, 120_000)
})
