// Worker thread for the concurrent-open test. For each path in turn, it waits for that round's common start
// time, opens the store, writes one session and closes; then posts what happened in every round. Threads of
// one process lock the file as separate processes do (SQLite's unix locks are per connection), start far
// faster, and stay up for all rounds.
import { parentPort, workerData } from 'node:worker_threads'
import { openStore } from '../../../src/store'

const { paths, firstAt, intervalMs } = workerData as { paths: string[]; firstAt: number; intervalMs: number }
const outcomes: Array<{ ok: boolean; code?: unknown; message?: string }> = []
paths.forEach((path, round) => {
  while (Date.now() < firstAt + round * intervalMs) {
    // spin: every opener starts within the same millisecond
  }
  try {
    const store = openStore(path)
    store.createSession({ name: 'opener' })
    store.close()
    outcomes.push({ ok: true })
  } catch (error) {
    outcomes.push({ ok: false, code: (error as { code?: unknown }).code, message: (error as Error).message })
  }
})
parentPort?.postMessage(outcomes)
