// An in-memory lab for Node tests of the renderer's composables: sessions, workspace states, runs and events
// kept in maps, answering like the lab service (copies in and out, SESSION_NOT_FOUND, soft delete). Methods it
// does not model reject with INTERNAL, so a test that reaches one by mistake says so. It is handed to the
// composables exactly as the app hands the real one: provided under LAB_KEY (or passed directly).
import { fromRegistry, type LabApi, type LabApiMethod, type LabEvent, type LabHost, type LabResults, type ModelInfo, type ModelRef } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import type { RunRecord, SessionSnapshot, SessionSummary, WorkspaceId, WorkspaceState } from '../../src/common/sessions'
import type { Lab } from '../../src/renderer/lab-context'

interface StoredSession {
  summary: SessionSummary
  workspaces: Partial<Record<WorkspaceId, WorkspaceState>>
  runs: RunRecord[]
  results: Map<string, unknown>
}

export interface MemoryLab extends Lab {
  /** every LabApi call, in order: method name and (copied) arguments */
  calls: Array<{ method: LabApiMethod; args: unknown[] }>
  sessions: Map<string, StoredSession>
  /** sends a lab event to the subscribers (as the service does for progress and session changes) */
  emit(event: LabEvent): void
  /** makes the next saveWorkspaceState calls wait until the returned function is called */
  holdSaves(): () => void
  /** makes saveWorkspaceState fail with this error until set back to null */
  failSaves: LabError | null
  /** adds a finished run to a session; `stored` keeps its result apart (fetched with getRunResult) */
  addRun(sessionId: string, run: Partial<RunRecord> & { workspace: WorkspaceId }, options?: { result?: unknown; stored?: boolean }): RunRecord
  /** what the host was asked to save */
  savedFiles: Array<{ suggestedName: string; base64: string }>
}

const copy = <T>(value: T): T => (value === undefined ? value : structuredClone(value))

export function createMemoryLab(): MemoryLab {
  const sessions = new Map<string, StoredSession>()
  const listeners = new Set<(event: LabEvent) => void>()
  const calls: MemoryLab['calls'] = []
  let ids = 0
  let clock = 0
  let held: Promise<void> | null = null
  const nextId = (): string => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`
  const now = (): string => new Date(Date.UTC(2026, 0, 1) + ++clock * 1000).toISOString()

  function stored(sessionId: string, allowDeleted = false): StoredSession {
    const session = sessions.get(sessionId)
    if (!session || (session.summary.deletedAt && !allowDeleted)) throw new LabError('SESSION_NOT_FOUND', `no session ${sessionId}`)
    return session
  }
  function create(name: string, from?: StoredSession): SessionSummary {
    const time = now()
    const summary: SessionSummary = { id: nextId(), name, notes: '', tags: [], createdAt: time, updatedAt: time, appVersion: 'test', deletedAt: null, runCount: 0 }
    sessions.set(summary.id, { summary, workspaces: copy(from?.workspaces ?? {}), runs: [], results: new Map() })
    return copy(summary)
  }
  const changed = (sessionId: string): void => lab.emit({ type: 'session-changed', sessionId })

  const notModelled = fromRegistry<LabResults>(async (method) => {
    throw new LabError('INTERNAL', `${method} is not part of the in-memory lab`)
  })

  const api: LabApi = {
    ...notModelled,
    async describeModel(model: ModelRef): Promise<ModelInfo> {
      const label = model.kind === 'bundled' ? model.name : model.kind === 'checkpoint' ? model.path : `synthetic seed ${model.seed}`
      return { key: JSON.stringify(model), label, ref: model, modelType: 'deberta-v2', layers: 2, hidden: 64, heads: 4, headDim: 16, intermediate: 128, vocabSize: 52, maxPositions: 512, positionBuckets: 0, maxRelativePositions: -1, posAttType: ['c2c', 'c2p', 'p2c'], shareAttKey: true, positionBiasedInput: false, parameterCount: 1, hasMlmHead: true, tokenizerKind: 'wordlevel' }
    },
    async listSessions() {
      return [...sessions.values()].filter((s) => !s.summary.deletedAt).map((s) => copy(s.summary))
    },
    async createSession({ name }) {
      const summary = create(name)
      changed(summary.id)
      return summary
    },
    async openSession(sessionId): Promise<SessionSnapshot> {
      const session = stored(sessionId)
      return copy({ session: session.summary, workspaces: session.workspaces, runs: session.runs, metrics: [], artifacts: [] })
    },
    async renameSession({ sessionId, name }) {
      const session = stored(sessionId)
      session.summary = { ...session.summary, name, updatedAt: now() }
      return copy(session.summary)
    },
    async duplicateSession(sessionId) {
      const source = stored(sessionId)
      return create(`${source.summary.name} (copy)`, source)
    },
    async deleteSession(sessionId) {
      const session = stored(sessionId)
      session.summary = { ...session.summary, deletedAt: now() }
    },
    async restoreSession(sessionId) {
      const session = stored(sessionId, true)
      session.summary = { ...session.summary, deletedAt: null }
      return copy(session.summary)
    },
    async saveWorkspaceState({ sessionId, workspace, state }) {
      const wait = held
      if (wait) await wait
      if (lab.failSaves) throw lab.failSaves
      stored(sessionId).workspaces[workspace] = copy(state)
    },
    async listRuns(sessionId) {
      return copy(stored(sessionId).runs)
    },
    async getRunResult(runId) {
      for (const session of sessions.values()) {
        const run = session.runs.find((r) => r.id === runId)
        if (run) return copy(session.results.has(runId) ? session.results.get(runId) : run.result)
      }
      throw new LabError('RUN_NOT_FOUND', `no run ${runId}`)
    },
    onEvent(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }

  // Record every call (arguments copied, as a transport would).
  const recorded = fromRegistry<LabResults>((method, args) => {
    calls.push({ method, args: copy(args) })
    return Reflect.apply(api[method], api, copy(args))
  })

  const savedFiles: MemoryLab['savedFiles'] = []
  const host: LabHost = {
    kind: 'browser',
    async saveFile({ suggestedName, base64 }) {
      savedFiles.push({ suggestedName, base64 })
      return { saved: true }
    },
    async openFile() {
      return null
    },
    async pickModelFolder() {
      return null
    },
    async setTitle() {},
  }

  const lab: MemoryLab = {
    api: { ...recorded, onEvent: api.onEvent },
    host,
    calls,
    sessions,
    savedFiles,
    failSaves: null,
    emit(event) {
      for (const listener of [...listeners]) listener(event)
    },
    holdSaves() {
      let release = (): void => undefined
      held = new Promise<void>((resolve) => (release = resolve))
      return () => {
        held = null
        release()
      }
    },
    addRun(sessionId, run, options = {}) {
      const session = stored(sessionId)
      const time = now()
      const record: RunRecord = {
        id: nextId(),
        sessionId,
        kind: 'workspace',
        name: `run-${run.workspace}`,
        config: {},
        seed: null,
        backend: 'cpu',
        model: null,
        status: 'done',
        createdAt: time,
        startedAt: time,
        endedAt: time,
        error: null,
        result: null,
        ...run,
      }
      if (options.stored) {
        record.result = { $storedResult: 'a'.repeat(64), bytes: JSON.stringify(options.result).length }
        session.results.set(record.id, copy(options.result))
      } else record.result = copy(options.result ?? null)
      session.runs.push(record)
      session.summary = { ...session.summary, runCount: session.runs.length }
      return copy(record)
    },
  }
  return lab
}
