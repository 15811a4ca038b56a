// Browser mode sends results with float32 matrices in the binary result form to clients that ask for it
// (Accept), and as JSON lists to those that do not; the token rules are the same for both. A result stored by an
// older version (number[] matrices in result.json) comes back with Float32Array matrices all the same.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttentionResult, BundledModelRef } from '../../src/common/api'
import { BINARY_RESULT_MIME, decodeResult } from '../../src/common/result-codec'
import { STORED_RESULT_ARTIFACT } from '../../src/common/sessions'
import { startLabServer, TOKEN_HEADER, type LabServer } from '../../src/cli/server/http-server'
import { createLabService, type LabService } from '../../src/lab/service'
import { createHttpApi } from '../../src/renderer/http-client'
import { openStore } from '../../src/store'

const TOY: BundledModelRef = { kind: 'bundled', name: 'toy-deberta' }

let dir: string
let lab: LabService
let server: LabServer
let result: AttentionResult
let legacyRunId: string
const legacy = { probabilities: { rows: 2, cols: 2, data: [0.25, 0.75, 0.5, 0.5] }, tokens: { tokens: ['a', 'b'] } }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-http-binary-'))
  const rendererDir = join(dir, 'renderer')
  mkdirSync(rendererDir, { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>lab</title>')
  const storePath = join(dir, 'lab.sqlite')
  // a run recorded the way the previous version did: number[] matrices in the run's result.json
  const old = openStore(storePath)
  try {
    const session = old.createSession({ name: 'old' })
    legacyRunId = old.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} }).id
    const text = new TextEncoder().encode(JSON.stringify(legacy))
    const artifact = old.putArtifact({ sessionId: session.id, runId: legacyRunId, name: STORED_RESULT_ARTIFACT, kind: 'json', data: text })
    old.finishRun(legacyRunId, { status: 'done', result: { $storedResult: artifact.sha256, bytes: text.byteLength } })
  } finally {
    old.close()
  }
  lab = await createLabService({ storePath, resourcesDir: join(process.cwd(), 'resources'), host: 'browser' })
  server = await startLabServer({ lab, rendererDir })
  const session = await lab.createSession({ name: 'binary' })
  result = await lab.runAttention({ model: TOY, text: 'the dog sees the ball', layer: 1, head: 0, sessionId: session.id })
}, 60_000)

afterAll(async () => {
  await server.close()
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
})

const post = (method: string, args: unknown[], headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${server.port}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ args }) })

describe('results over HTTP', () => {
  it('the lab computes and returns Float32Array matrices', () => {
    expect(result.probabilities.data).toBeInstanceOf(Float32Array)
    expect(result.probabilities.data).toHaveLength(result.probabilities.rows * result.probabilities.cols)
  })

  it('answers a client that accepts the binary form in it, exactly', async () => {
    const response = await post('getRunResult', [result.runId], { [TOKEN_HEADER]: server.token, accept: `${BINARY_RESULT_MIME}, application/json` })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(BINARY_RESULT_MIME)
    const envelope = decodeResult(new Uint8Array(await response.arrayBuffer())) as { ok: boolean; value: AttentionResult }
    expect(envelope.ok).toBe(true)
    expect(envelope.value).toEqual(result)
    expect(envelope.value.terms.c2p!.data).toBeInstanceOf(Float32Array)
  })

  it('answers a client without the binary form in JSON with the matrices as lists of numbers', async () => {
    const response = await post('getRunResult', [result.runId], { [TOKEN_HEADER]: server.token })
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await response.json()) as { ok: boolean; value: { probabilities: { data: number[] } } }
    expect(Array.isArray(body.value.probabilities.data)).toBe(true)
    expect(body.value.probabilities.data).toEqual(Array.from(result.probabilities.data))
  })

  it('keeps JSON for answers without matrices and for errors, whatever the client accepts', async () => {
    const accept = { [TOKEN_HEADER]: server.token, accept: BINARY_RESULT_MIME }
    const sessions = await post('listSessions', [], accept)
    expect(sessions.headers.get('content-type')).toMatch(/^application\/json/)
    const missing = await post('getRunResult', ['no-such-run'], accept)
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND')
  })

  it('refuses a binary request without the token (401) or from a foreign origin (403), before any work', async () => {
    const noToken = await post('getRunResult', [result.runId], { accept: BINARY_RESULT_MIME })
    expect(noToken.status).toBe(401)
    expect(noToken.headers.get('content-type')).not.toBe(BINARY_RESULT_MIME)
    const foreign = await post('getRunResult', [result.runId], { [TOKEN_HEADER]: server.token, accept: BINARY_RESULT_MIME, origin: 'http://evil.example' })
    expect(foreign.status).toBe(403)
  })

  it("the page's HTTP client asks for the binary form and gets Float32Array views, equal to the lab's result", async () => {
    const api = createHttpApi({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token })
    const back = (await api.getRunResult(result.runId!)) as AttentionResult
    expect(back).toEqual(result)
    expect(back.probabilities.data).toBeInstanceOf(Float32Array)
    expect(back.scores.data.buffer).toBe(back.probabilities.data.buffer) // views of the one response body
  })

  it('a result stored by an older version (number[] in result.json) comes back with Float32Array matrices', async () => {
    const direct = (await lab.getRunResult(legacyRunId)) as typeof legacy & { probabilities: { data: Float32Array } }
    expect(direct.probabilities.data).toEqual(new Float32Array([0.25, 0.75, 0.5, 0.5]))
    const api = createHttpApi({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token })
    const back = (await api.getRunResult(legacyRunId)) as { probabilities: { data: Float32Array }; tokens: unknown }
    expect(back.probabilities.data).toEqual(new Float32Array([0.25, 0.75, 0.5, 0.5]))
    expect(back.tokens).toEqual(legacy.tokens)
  })
})
