// Child process for the crash and concurrency tests: writes runs with metrics into a store and reports each
// commit on stdout (synchronously, so a report is out before the next write begins).
//
//   node --import tsx test/store/helpers/writer.ts <store> <mode> [count] [label]
//   mode loop:  write runs until killed          mode count: write <count> runs, close, exit 0
//   mode count-on-go: like count, but waits for a line on stdin first (to start several writers at once), and after
//                     its first run until another session holds a run (so the writers overlap)
//   mode hold:  start one run, report it, wait for stdin to close (or a kill)
// Lines: "opening", "ready <pid>", "session <id>", "start <runId>", "done <runId>", "closed".
import { writeSync } from 'node:fs'
import { openStore } from '../../../src/store'

const [path, mode = 'loop', countText = '1000000', label = 'writer'] = process.argv.slice(2)
const report = (line: string): void => {
  writeSync(1, line + '\n')
}

report('opening')
const store = openStore(path)
report(`ready ${process.pid}`)
const session = store.createSession({ name: `${label} ${process.pid}`, tags: [label] })
report(`session ${session.id}`)

if (mode === 'hold') {
  const run = store.startRun({ sessionId: session.id, kind: 'experiment', name: 'held', config: { hold: true } })
  report(`start ${run.id}`)
  process.stdin.resume()
  process.stdin.on('end', () => {
    store.close()
    report('closed')
  })
} else if (mode === 'count-on-go') {
  process.stdin.once('data', () => {
    writeRuns(Number(countText), true)
    process.exit(0)
  })
} else {
  writeRuns(Number(countText))
}

/**
 * Writes `count` runs. With `overlap`, after its first run it waits (≤ 60 s) until another session holds a run, so
 * two writers started together really write at the same time however the OS schedules them.
 */
function writeRuns(count: number, overlap = false): void {
  const METRICS = 20
  for (let i = 0; i < count; i++) {
    if (overlap && i === 1) waitForAnotherWriter()
    const run = store.startRun({
      sessionId: session.id,
      kind: 'experiment',
      name: `run ${i}`,
      config: { i, lr: 1e-3 * (i + 1), label },
      seed: i,
      backend: 'cpu',
    })
    report(`start ${run.id}`)
    store.logMetrics(
      run.id,
      Array.from({ length: METRICS }, (_, step) => ({ key: step % 2 ? 'loss' : 'accuracy', step, value: Math.exp(-step / 7) + i })),
    )
    if (i % 5 === 0) {
      store.putArtifact({ sessionId: session.id, runId: run.id, name: 'scores', kind: 'tensor', dtype: 'float32', shape: [64], data: new Uint8Array(new Float32Array(64).fill(i).buffer) })
    }
    store.finishRun(run.id, { status: 'done', result: { i, final: Math.exp(-19 / 7) + i } })
    report(`done ${run.id}`)
  }
  store.close()
  report('closed')
}

function waitForAnotherWriter(): void {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  const until = Date.now() + 60_000
  while (!store.listSessions().some((s) => s.id !== session.id && s.runCount > 0)) {
    if (Date.now() > until) throw new Error('the other writer wrote nothing within 60 s')
    Atomics.wait(pause, 0, 0, 5)
  }
}
