// What storing and reopening a T = 1024 attention result costs, as number[] JSON (the form before float32
// matrices, still what the store does with a result without Float32Arrays) and in the binary result form
// (README, "Results as float32").
//   npx tsx scripts/measure-result-encoding.ts
// 1. A real attention result of the toy model on a text of 1024 tokens (the workspaces' limit).
// 2. Recording it on the calling thread (store.finishRun: validation, encoding, SQLite write), median of 3.
// 3. The stored artifact's size; store.getRunResult; reopening over HTTP from a Node client (server reads the
//    store, encodes, sends; client decodes): JSON for the old form, the binary form for the new one.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_MODEL, type AttentionResult } from '../src/common/api'
import { startLabServer } from '../src/cli/server/http-server'
import { createLabService } from '../src/lab/service'
import { createHttpApi } from '../src/renderer/http-client'
import { openStore } from '../src/store'

const MB = 1024 * 1024
const resourcesDir = join(process.cwd(), 'resources')

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function asNumberLists(result: AttentionResult): unknown {
  return JSON.parse(JSON.stringify(result, (_key, value: unknown) => (value instanceof Float32Array ? Array.from(value) : value)))
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'deberta-lab-encoding-'))
  try {
    const storePath = join(dir, 'lab.sqlite')
    const compute = await createLabService({ storePath: join(dir, 'compute.sqlite'), resourcesDir, host: 'browser' })
    let text = Array.from({ length: 1022 }, (_, k) => ['the', 'dog', 'sees', 'a', 'ball', 'near', 'house'][k % 7]).join(' ')
    let tokens = (await compute.tokenize({ model: DEFAULT_MODEL, text })).tokens.length
    while (tokens > 1024) {
      text = text.slice(0, text.lastIndexOf(' '))
      tokens = (await compute.tokenize({ model: DEFAULT_MODEL, text })).tokens.length
    }
    const result = await compute.runAttention({ model: DEFAULT_MODEL, text, layer: 1, head: 0 })
    await compute.close()
    const T = result.tokens.tokens.length
    const legacy = asNumberLists(result)
    console.log(`attention result: T = ${T}, ${1 + Object.keys(result.terms).length + 1} matrices of ${T} × ${T} float32`)

    const store = openStore(storePath)
    const session = store.createSession({ name: 'encoding' })
    const record = (value: unknown): { ms: number; runId: string } => {
      const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
      const t0 = performance.now()
      store.finishRun(run.id, { status: 'done', result: value })
      return { ms: performance.now() - t0, runId: run.id }
    }
    const oldRuns = [record(legacy), record(legacy), record(legacy)]
    const newRuns = [record(result), record(result), record(result)]
    const sizes = new Map(store.listArtifacts(session.id).map((a) => [a.runId, a.size]))
    const read = (runId: string): number => {
      const t0 = performance.now()
      store.getRunResult(runId)
      return performance.now() - t0
    }
    const oldRead = median(oldRuns.map((r) => read(r.runId)))
    const newRead = median(newRuns.map((r) => read(r.runId)))
    store.close()

    const rendererDir = join(dir, 'renderer')
    mkdirSync(rendererDir, { recursive: true })
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html>')
    const lab = await createLabService({ storePath, resourcesDir, host: 'browser' })
    const server = await startLabServer({ lab, rendererDir })
    const api = createHttpApi({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token })
    const jsonReopen = async (runId: string): Promise<number> => {
      const t0 = performance.now()
      const response = await fetch(`http://127.0.0.1:${server.port}/api/getRunResult`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-deberta-lab-token': server.token },
        body: JSON.stringify({ args: [runId] }),
      })
      JSON.parse(await response.text())
      return performance.now() - t0
    }
    const binaryReopen = async (runId: string): Promise<number> => {
      const t0 = performance.now()
      await api.getRunResult(runId)
      return performance.now() - t0
    }
    const oldHttp: number[] = []
    const newHttp: number[] = []
    for (const run of oldRuns) oldHttp.push(await jsonReopen(run.runId))
    for (const run of newRuns) newHttp.push(await binaryReopen(run.runId))
    await server.close()
    await lab.close()

    const row = (what: string, before: string, after: string): void => console.log(`${what.padEnd(42)} ${before.padStart(12)} ${after.padStart(12)}`)
    row('', 'number[] JSON', 'binary f32')
    row('record (finishRun, calling thread), median', `${median(oldRuns.map((r) => r.ms)).toFixed(0)} ms`, `${median(newRuns.map((r) => r.ms)).toFixed(0)} ms`)
    row('stored artifact', `${(sizes.get(oldRuns[0].runId)! / MB).toFixed(1)} MiB`, `${(sizes.get(newRuns[0].runId)! / MB).toFixed(1)} MiB`)
    row('getRunResult (store), median', `${oldRead.toFixed(0)} ms`, `${newRead.toFixed(0)} ms`)
    row('reopen over HTTP (Node client), median', `${median(oldHttp).toFixed(0)} ms`, `${median(newHttp).toFixed(0)} ms`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

void main()
