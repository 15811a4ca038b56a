// Every LabApi method, called for real over both transports against one real lab service (temp store, the
// bundled toy model): browser mode (the renderer's HTTP client → the real HTTP server) and Electron (the real
// preload bridge on a fake ipcRenderer → the real IPC binding on a fake ipcMain, events through a fake
// webContents, values structured-cloned as Electron does → the renderer's bridge adapter). Each call's answer is
// checked against what the call must return, so a method that is not bound, is bound to the wrong handler, loses
// its arguments or its result, or drops its error code on one transport fails here.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { IPC_EVENT_CHANNEL, LAB_API_METHODS, type BundledModelRef, type LabApi, type LabApiMethod, type LabEvent, type LabBridge } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import type { SessionSummary, WorkspaceState } from '../../src/common/sessions'
import { APP_VERSION } from '../../src/common/version'
import { startLabServer, type LabServer } from '../../src/cli/server/http-server'
import { createLabService, type LabService } from '../../src/lab/service'
import { loadTokenizer } from '../../src/core/tokenizer'
import { bindLabApi, type IpcMainLike } from '../../src/main/ipc'
import { isTrustedUrl, rendererFileUrl } from '../../src/main/security'
import { labFromBridge } from '../../src/renderer/bridge-client'
import { createHttpApi, type EventSourceLike } from '../../src/renderer/http-client'

// ---------------------------------------------------------------------------------------------
// Fake Electron: ipcMain (handlers), the renderer's ipcRenderer (invoke, on), webContents.send, contextBridge.

const electron = vi.hoisted(() => {
  type Handler = (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<unknown>
  type Listener = (event: unknown, payload: unknown) => void
  const handlers = new Map<string, Handler>()
  const listeners = new Map<string, Set<Listener>>()
  const exposed: Record<string, unknown> = {}
  const invoked = new Set<string>()
  const state = { senderUrl: '' }
  return {
    handlers,
    exposed,
    invoked,
    state,
    ipcMain: {
      handle(channel: string, handler: Handler) {
        if (handlers.has(channel)) throw new Error(`second handler for ${channel}`)
        handlers.set(channel, handler)
      },
      removeHandler(channel: string) {
        handlers.delete(channel)
      },
    },
    /** webContents.send: what main's `lab.onEvent` forwards to the window */
    send(channel: string, payload: unknown) {
      for (const listener of listeners.get(channel) ?? []) listener({}, structuredClone(payload))
    },
    module: {
      contextBridge: {
        exposeInMainWorld(key: string, api: unknown) {
          exposed[key] = api
        },
      },
      ipcRenderer: {
        // Electron clones the arguments and the answer (structured clone) and calls main's handler with the
        // sending frame; a handler missing for the channel rejects the invoke.
        async invoke(channel: string, ...args: unknown[]) {
          invoked.add(channel)
          const handler = handlers.get(channel)
          if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`)
          return structuredClone(await handler({ senderFrame: { url: state.senderUrl } }, ...structuredClone(args)))
        },
        on(channel: string, listener: Listener) {
          if (!listeners.has(channel)) listeners.set(channel, new Set())
          listeners.get(channel)!.add(listener)
        },
        removeListener(channel: string, listener: Listener) {
          listeners.get(channel)?.delete(listener)
        },
      },
    },
  }
})
vi.mock('electron', () => electron.module)

const ownPage = rendererFileUrl('/opt/deberta-lab/resources/app/out/renderer/index.html')
electron.state.senderUrl = ownPage

/** EventSource for Node 20 (which has none): reads the server-sent events of /api/events with fetch. */
class FetchEventSource implements EventSourceLike {
  static opened: FetchEventSource[] = []
  onmessage: ((message: MessageEvent) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  private readonly controller = new AbortController()

  constructor(url: string) {
    FetchEventSource.opened.push(this)
    this.read(url).catch(() => undefined)
  }

  close(): void {
    this.controller.abort()
  }

  private async read(url: string): Promise<void> {
    const response = await fetch(url, { signal: this.controller.signal })
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice('data: '.length))
          .join('\n')
        buffer = buffer.slice(end + 2)
        if (data) this.onmessage?.({ data } as MessageEvent)
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

const TOY: BundledModelRef = { kind: 'bundled', name: 'toy-deberta' }
const SENTENCE = 'the dog [MASK] the ball near the house'
const SENTENCE_TOKENS = ['[CLS]', 'the', 'dog', '[MASK]', 'the', 'ball', 'near', 'the', 'house', '[SEP]']
const RESOURCES = join(process.cwd(), 'resources')

let dir: string
let lab: LabService
let server: LabServer
let httpLab: LabApi
let ipcLab: LabApi

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-transports-'))
  const rendererDir = join(dir, 'renderer')
  mkdirSync(rendererDir)
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>lab</title>')
  mkdirSync(join(dir, 'models', 'my-model'), { recursive: true })
  writeFileSync(join(dir, 'models', 'my-model', 'config.json'), '{}')
  lab = await createLabService({
    storePath: join(dir, 'lab.sqlite'),
    resourcesDir: RESOURCES,
    host: 'browser',
    homeDir: dir,
    env: { HF_HUB_CACHE: join(dir, 'hf-cache'), HF_HUB_OFFLINE: '1' },
  })

  server = await startLabServer({ lab, rendererDir })
  httpLab = createHttpApi({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token, fetch: (input, init) => fetch(input, init), EventSource: FetchEventSource })

  const ipcMain: IpcMainLike = electron.ipcMain
  bindLabApi(ipcMain, lab, (url) => isTrustedUrl(url, { rendererFileUrl: ownPage }))
  lab.onEvent((event) => electron.send(IPC_EVENT_CHANNEL, event))
  await import('../../src/preload/index')
  ipcLab = labFromBridge(electron.exposed.deberta as LabBridge).api
})

afterAll(async () => {
  for (const source of FetchEventSource.opened) source.close()
  await server.close()
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
})

/** What one transport's run of the cases keeps for later cases. */
interface Context {
  transport: string
  session: SessionSummary
  copy: SessionSummary
  attention: Awaited<ReturnType<LabApi['runAttention']>>
  exported: { fileName: string; base64: string }
  events: LabEvent[]
}

const attentionState: WorkspaceState = {
  version: 1,
  inputs: { text: SENTENCE },
  model: TOY,
  selections: { layer: 0, head: 0 },
  view: { scale: 'row' },
  lastResult: null,
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error('resolved'),
    (caught: unknown) => caught,
  )
  return error instanceof LabError ? error.code : `not a LabError: ${String(error)}`
}

/** One case per registry method, in an order where later cases use what earlier ones made. */
const CASES: Partial<Record<LabApiMethod, (api: LabApi, ctx: Context) => Promise<void>>> = {
  async getStatus(api) {
    const status = await api.getStatus()
    expect(status).toMatchObject({ appVersion: APP_VERSION, host: 'browser', storePath: join(dir, 'lab.sqlite') })
    expect(['tensorflow', 'wasm', 'cpu']).toContain(status.backend)
  },
  async createSession(api, ctx) {
    ctx.session = await api.createSession({ name: `${ctx.transport} session` })
    expect(ctx.session.name).toBe(`${ctx.transport} session`)
    expect(ctx.session.id).toMatch(/^[0-9a-f-]{36}$/)
  },
  async listSessions(api, ctx) {
    const sessions = await api.listSessions()
    expect(sessions.find((s) => s.id === ctx.session.id)?.name).toBe(`${ctx.transport} session`)
  },
  async renameSession(api, ctx) {
    const renamed = await api.renameSession({ sessionId: ctx.session.id, name: `${ctx.transport} renamed` })
    expect(renamed).toMatchObject({ id: ctx.session.id, name: `${ctx.transport} renamed` })
  },
  async saveWorkspaceState(api, ctx) {
    await expect(api.saveWorkspaceState({ sessionId: ctx.session.id, workspace: 'attention', state: attentionState })).resolves.toBeNull()
  },
  async openSession(api, ctx) {
    const snapshot = await api.openSession(ctx.session.id)
    expect(snapshot.session).toMatchObject({ id: ctx.session.id, name: `${ctx.transport} renamed` })
    expect(snapshot.workspaces.attention).toEqual(attentionState)
  },
  async describeModel(api) {
    const info = await api.describeModel(TOY)
    expect(info).toMatchObject({ ref: TOY, layers: 2, hidden: 32, heads: 4, modelType: 'deberta-v2', hasMlmHead: true, maskToken: '[MASK]' })
    expect(info.weightsSha256).toBe(createHash('sha256').update(readFileSync(join(RESOURCES, 'toy-deberta/model.safetensors'))).digest('hex'))
  },
  async tokenize(api) {
    const tokens = await api.tokenize({ model: TOY, text: SENTENCE })
    expect(tokens.tokens).toEqual(SENTENCE_TOKENS)
    const direct = (await loadTokenizer(join(RESOURCES, 'toy-deberta'))).encode(SENTENCE)
    expect(tokens.inputIds).toEqual(direct.inputIds)
    expect(tokens.offsets[2]).toEqual([4, 7]) // "dog"
  },
  async runProblemDemo(api, ctx) {
    const result = await api.runProblemDemo({ model: TOY, text: SENTENCE, sessionId: ctx.session.id })
    expect(result.tokens.tokens).toEqual(SENTENCE_TOKENS)
    expect(result.content).toMatchObject({ rows: SENTENCE_TOKENS.length, cols: 32 })
    expect(result.sum.data[0]).toBeCloseTo(result.content.data[0] + result.position.data[0], 5)
    expect(result.runId).toMatch(/^[0-9a-f-]{36}$/)
  },
  async runAttention(api, ctx) {
    ctx.attention = await api.runAttention({ model: TOY, text: SENTENCE, layer: 1, head: 2, sessionId: ctx.session.id })
    const T = SENTENCE_TOKENS.length
    expect(ctx.attention).toMatchObject({ layer: 1, head: 2, probabilities: { rows: T, cols: T }, shares: { layers: 2, heads: 4 } })
    const firstRow = ctx.attention.probabilities.data.slice(0, T).reduce((a, b) => a + b, 0)
    expect(firstRow).toBeCloseTo(1, 5)
  },
  async runRelativePositions(api) {
    const result = await api.runRelativePositions({ model: TOY, text: SENTENCE })
    const T = SENTENCE_TOKENS.length
    expect(result.delta).toMatchObject({ rows: T, cols: T })
    expect(result.delta.data[0 * T + 3]).toBe(-3) // δ(0, 3) = 0 − 3
    expect(result.delta.data[5 * T + 1]).toBe(4)
    expect(result.runId).toBeUndefined() // no session named: not recorded
  },
  async runModelView(api) {
    const result = await api.runModelView({ model: TOY, text: SENTENCE })
    const T = SENTENCE_TOKENS.length
    expect([result.layers, result.heads, result.entropy.length, result.thumbnails.size]).toEqual([2, 4, 8, T])
    expect(result.entropy.every((h) => h >= 0 && h <= Math.log(T) + 1e-9)).toBe(true)
  },
  async runDistanceProfile(api) {
    const result = await api.runDistanceProfile({ model: TOY, text: SENTENCE, layer: 1 })
    const T = SENTENCE_TOKENS.length
    expect(result.distances).toHaveLength(2 * T - 1)
    expect(result.probability).toHaveLength(5) // 4 heads and their mean
    expect(result.pairs[T - 1]).toBe(T)
  },
  async runCorpus(api) {
    const text = `${SENTENCE}\n\nthe girl hides the box\n`
    const result = await api.runCorpus({ model: TOY, corpus: { name: 'two.txt', text } })
    expect(result.corpus).toMatchObject({ name: 'two.txt', sentences: 2, blankLines: 1, sha256: createHash('sha256').update(text).digest('hex') })
    expect(result.sentences.entropy).toMatchObject({ rows: 2, cols: 8 })
    expect(result.sentences.entropy.data).toBeInstanceOf(Float32Array)
    expect(result.topPairs).toHaveLength(8)
    // resuming needs the session of the run; a binary file is refused, typed
    expect(await codeOf(api.runCorpus({ model: TOY, corpus: { name: 'two.txt', text }, resumeFrom: 'some-run' }))).toBe('INPUT_INVALID')
    expect(await codeOf(api.runCorpus({ model: TOY, corpus: { name: 'x.bin', text: '\u0000' } }))).toBe('INPUT_INVALID')
  },
  async runCorpusPairs(api) {
    const sentences = [{ index: 4, text: SENTENCE }]
    const result = await api.runCorpusPairs({ model: TOY, corpus: { name: 'two.txt', sha256: 'a'.repeat(64) }, sentences, layer: 1, head: 2, from: 'ball', to: 'dog' })
    expect(result).toMatchObject({ layer: 1, head: 2, scored: 1, hits: [{ index: 4, text: SENTENCE, queries: 1, best: { query: 'ball', key: 'dog' } }] })
    expect(result.hits[0].score).toBeGreaterThan(0)
    expect(await codeOf(api.runCorpusPairs({ model: TOY, corpus: { name: 'two.txt', sha256: 'a'.repeat(64) }, sentences, layer: 1, head: 2, from: '(', to: 'dog' }))).toBe('INPUT_INVALID')
  },
  async runDecoding(api) {
    const result = await api.runDecoding({ model: TOY, text: SENTENCE, topK: 3 })
    expect(result.maskPositions).toEqual([3])
    expect(result.predictions).toHaveLength(1)
    expect(result.predictions[0].plain).toHaveLength(3)
    expect(result.predictions[0].plain[0].probability).toBeGreaterThanOrEqual(result.predictions[0].plain[1].probability)
  },
  async runAblation(api) {
    const result = await api.runAblation({ model: TOY, text: SENTENCE, ablation: { kind: 'head', layer: 1, head: 2 }, topK: 3 })
    expect(result.maskPositions).toEqual([3])
    expect(result.slots[0].plain.before).toHaveLength(3)
    expect(result.layerChange).toHaveLength(3)
    expect(result.layerChange.slice(0, 2)).toEqual([0, 0])
    expect(result.layerChange[2]).toBeGreaterThan(0)
  },
  async runHeadImportance(api) {
    const result = await api.runHeadImportance({ model: TOY, text: SENTENCE, decoder: 'plain' })
    expect([result.layers, result.heads, result.forwards]).toEqual([2, 4, 9])
    expect(result.importance).toHaveLength(8)
  },
  async runBenchmark(api) {
    const result = await api.runBenchmark({ preset: 'tiny', seqs: [8], parts: ['attention'], variants: ['disentangled'], repeats: 1 })
    expect(result.preset).toBe('tiny')
    expect(result.cases).toHaveLength(1)
    expect(result.cases[0]).toMatchObject({ part: 'attention', variant: 'disentangled', seq: 8 })
    expect(result.cases[0].medianMs).toBeGreaterThan(0)
  },
  async runExperiment(api, ctx) {
    const jobId = `${ctx.transport}-experiment`
    const stop = api.onEvent((event) => {
      if ('jobId' in event && event.jobId === jobId) ctx.events.push(event)
    })
    const result = await api.runExperiment({ jobId, experiment: 'length', budget: 'smoke', seeds: 1 })
    expect(result).toMatchObject({ experiment: 'length', budget: 'smoke', seeds: [1], variantOrder: ['relative', 'absolute'] })
    expect(result.curves).toHaveLength(2)
    expect('weights' in result).toBe(false)
    // the job's progress and end arrive as events over the same transport
    await vi.waitFor(() => expect(ctx.events.some((e) => e.type === 'job-end')).toBe(true), { timeout: 5000 })
    stop()
    expect(ctx.events.some((e) => e.type === 'progress' && e.training !== undefined)).toBe(true)
    expect(ctx.events.find((e) => e.type === 'job-end')).toMatchObject({ status: 'done' })
  },
  async getPublishedResults(api) {
    expect(await api.getPublishedResults()).toEqual(JSON.parse(readFileSync(join(RESOURCES, 'published-results.json'), 'utf8')))
  },
  async cancelJob(api) {
    expect(await api.cancelJob('no-such-job')).toBe(false)
  },
  async pauseJob(api) {
    expect(await api.pauseJob({ jobId: 'no-such-job', paused: true })).toBe(false)
  },
  async listRuns(api, ctx) {
    const runs = await api.listRuns(ctx.session.id)
    expect(runs.map((r) => r.workspace)).toEqual(['problem', 'attention'])
    expect(runs[1]).toMatchObject({ id: ctx.attention.runId, status: 'done', name: 'runAttention' })
  },
  async getRunResult(api, ctx) {
    expect(await api.getRunResult(ctx.attention.runId!)).toEqual(ctx.attention)
  },
  async saveChartSnapshot(api, ctx) {
    const bytes = Buffer.from(`${ctx.transport} chart`)
    const saved = await api.saveChartSnapshot({ sessionId: ctx.session.id, workspace: 'attention', chartId: 'scores', format: 'png', base64: bytes.toString('base64') })
    expect(saved.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
  },
  async duplicateSession(api, ctx) {
    ctx.copy = await api.duplicateSession(ctx.session.id)
    expect(ctx.copy.id).not.toBe(ctx.session.id)
    expect(ctx.copy.name).toContain(`${ctx.transport} renamed`)
    expect((await api.openSession(ctx.copy.id)).workspaces.attention).toEqual(attentionState)
  },
  async deleteSession(api, ctx) {
    await expect(api.deleteSession(ctx.copy.id)).resolves.toBeNull()
    expect((await api.listSessions()).map((s) => s.id)).not.toContain(ctx.copy.id)
    expect(await codeOf(api.openSession(ctx.copy.id))).toBe('SESSION_NOT_FOUND')
  },
  async restoreSession(api, ctx) {
    const restored = await api.restoreSession(ctx.copy.id)
    expect(restored.id).toBe(ctx.copy.id)
    expect(restored.deletedAt ?? null).toBeNull()
    expect((await api.listSessions()).map((s) => s.id)).toContain(ctx.copy.id)
  },
  async exportSession(api, ctx) {
    ctx.exported = await api.exportSession(ctx.session.id)
    expect(ctx.exported.fileName).toMatch(/\.dlab$/)
    expect(Buffer.from(ctx.exported.base64, 'base64').length).toBeGreaterThan(100)
  },
  async importSession(api, ctx) {
    // the same session is in the store: a conflict, with its code carried over the transport
    expect(await codeOf(api.importSession({ base64: ctx.exported.base64 }))).toBe('IMPORT_CONFLICT')
    const imported = await api.importSession({ base64: ctx.exported.base64, mode: 'keep-both' })
    expect(imported.id).not.toBe(ctx.session.id)
    expect((await api.openSession(imported.id)).workspaces.attention).toEqual(attentionState)
  },
  async listJobs(api) {
    const jobs = await api.listJobs()
    const tokenize = jobs.find((job) => job.method === 'tokenize')
    expect(tokenize).toMatchObject({ kind: 'interactive', state: 'done' })
    expect(jobs.find((job) => job.method === 'runAttention')?.state).toBe('done')
  },
  async listModels(api) {
    const listing = await api.listModels()
    expect(listing.cacheDir).toBe(join(dir, 'hf-cache'))
    expect(listing.models.find((m) => m.source === 'bundled')).toMatchObject({ name: 'toy-deberta', ref: TOY })
  },
  async downloadModel(api) {
    // offline (HF_HUB_OFFLINE) with nothing cached: the Hub's typed error crosses the transport
    expect(await codeOf(api.downloadModel({ repoId: 'microsoft/deberta-v3-xsmall' }))).toBe('HUB_OFFLINE')
  },
  async listDirectory(api) {
    const listing = await api.listDirectory({ path: join(dir, 'models') })
    expect(listing.entries).toContainEqual(expect.objectContaining({ name: 'my-model', kind: 'directory', model: true }))
    expect(await codeOf(api.listDirectory({ path: '/etc' }))).not.toBe('OK')
  },
  async exportPythonBundle(api) {
    const model = { kind: 'synthetic', arch: 'deberta-v3', layers: 1, hidden: 16, heads: 2, intermediate: 32, positionBuckets: 8, maxRelativePositions: 32, maxPositions: 64, seed: 5 } as const
    const bundle = await api.exportPythonBundle({ model, script: 'print(1)\n', name: 'attention-main' })
    expect(bundle.fileName).toBe('attention-main.zip')
    const names = Object.keys(unzipSync(Buffer.from(bundle.base64, 'base64'))).sort()
    expect(names).toEqual(['attention-main/model/added_tokens.json', 'attention-main/model/config.json', 'attention-main/model/model.safetensors', 'attention-main/model/special_tokens_map.json', 'attention-main/model/spm.model', 'attention-main/model/tokenizer_config.json', 'attention-main/reproduce.py'])
    expect(await codeOf(api.exportPythonBundle({ model: TOY, script: '', name: 'x' }))).toBe('INPUT_INVALID')
  },
}

describe('the registry', () => {
  it('has a transport case for every LabApi method (add one here with a new method)', () => {
    expect(LAB_API_METHODS.filter((method) => !CASES[method])).toEqual([])
  })
})

for (const transport of ['HTTP', 'IPC'] as const) {
  describe(`every LabApi method over ${transport}`, () => {
    // filled in by the cases, in order
    const ctx = { transport, events: [] } as Partial<Context> as Context
    const api = (): LabApi => (transport === 'HTTP' ? httpLab : ipcLab)

    for (const [method, run] of Object.entries(CASES)) {
      it(method, () => run(api(), ctx))
    }

    it('rejects bad payloads with BAD_REQUEST before they reach the lab', async () => {
      const before = (await lab.listSessions()).length
      expect(await codeOf(api().createSession({ name: '' }))).toBe('BAD_REQUEST')
      expect(await codeOf(Reflect.apply(api().tokenize, api(), [{ model: TOY, text: 42 }]))).toBe('BAD_REQUEST')
      expect(await codeOf(Reflect.apply(api().createSession, api(), [{ name: 'x', injected: true }]))).toBe('BAD_REQUEST')
      expect(await codeOf(Reflect.apply(api().openSession, api(), []))).toBe('BAD_REQUEST')
      expect((await lab.listSessions()).length).toBe(before)
    })

    it('carries the lab’s own error codes', async () => {
      expect(await codeOf(api().openSession('no-such-session'))).toBe('SESSION_NOT_FOUND')
      expect(await codeOf(api().getRunResult('no-such-run'))).toBe('RUN_NOT_FOUND')
    })
  })
}

describe('the IPC channels', () => {
  it('bind exactly the channels the preload bridge invokes', () => {
    // every case above went through the bridge: the channels it used are the ones main bound, no more, no less
    expect([...electron.invoked].sort()).toEqual([...electron.handlers.keys()].sort())
    expect(electron.invoked.size).toBe(Object.keys(CASES).length)
  })
})
