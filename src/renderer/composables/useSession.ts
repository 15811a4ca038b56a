// The current session: list, open, create, rename, duplicate, delete (with undo), export, import, and the
// debounced saving of every workspace's state. Workspaces bind themselves with useWorkspacePersistence.
import { computed, reactive, shallowRef } from 'vue'
import type { ModelRef, StoreSaveStatus } from '../../common/api'
import type { ImportMode, RunRecord, SessionSnapshot, SessionSummary, WorkspaceId, WorkspaceState } from '../../common/sessions'
import { LabError, toErrorData, type ErrorData } from '../../common/errors'
import { perLab, useLab, type Lab } from '../lab-context'
import { useLabEvents } from './useLabEvents'
import { useModel } from './useModel'
import { useToasts } from './useToasts'
import { contentSessionName, isAutomaticName, newSessionName } from '../session-names'

export const SAVE_DEBOUNCE_MS = 600
const LAST_SESSION_KEY = 'deberta-lab.lastSession'
/** The model the user last chose in a session (per session id), restored when the session is opened. */
const MODEL_KEY_PREFIX = 'deberta-lab.model.'

function rememberedModel(sessionId: string): ModelRef | null {
  try {
    const text = localStorage.getItem(MODEL_KEY_PREFIX + sessionId)
    const value: unknown = text ? JSON.parse(text) : null
    // the lab validates it when describing it; here only its shape is checked
    return value && typeof value === 'object' && typeof (value as { kind?: unknown }).kind === 'string' ? (value as ModelRef) : null
  } catch {
    return null
  }
}

/** How a workspace hands its state to the session and takes it back. */
export interface WorkspaceBinding {
  /** Everything to save: {version: 1, inputs, model, selections, view, lastResult: {runId} | null} */
  collect(): WorkspaceState
  /** Restores a saved state (with the session's runs, which hold the results), or the defaults when undefined. */
  apply(state: WorkspaceState | undefined, runs: RunRecord[]): void
  /** Changes when anything collect() returns changes (cheap: the state holds no result data). */
  fingerprint(): string
}

interface Saver {
  binding: WorkspaceBinding
  baseline: string
  timer?: ReturnType<typeof setTimeout>
  saving?: Promise<void>
}

function createSessionStore(lab: Lab) {
  const { api, host } = lab
  const state = reactive({
    sessions: [] as SessionSummary[],
    current: null as SessionSummary | null,
    opening: false,
    /** workspaces with changes not yet stored */
    dirty: [] as WorkspaceId[],
    savesInFlight: 0,
    saveError: null as ErrorData | null,
    /** the lab's word on whether changes reach the store ('save-status' events); null until the first event */
    storeSave: null as StoreSaveStatus | null,
    error: null as ErrorData | null,
    /** asked when an import collides with an existing session */
    conflict: null as null | { fileName: string; resolve: (mode: ImportMode | null) => void },
  })
  const snapshot = shallowRef<SessionSnapshot | null>(null)
  const savers = new Map<WorkspaceId, Saver>()
  /** The active tab's workspace, to restore the model it last ran with. */
  let activeWorkspace: WorkspaceId = 'problem'

  function setDirty(workspace: WorkspaceId, dirty: boolean): void {
    const index = state.dirty.indexOf(workspace)
    if (dirty && index < 0) state.dirty.push(workspace)
    if (!dirty && index >= 0) state.dirty.splice(index, 1)
  }

  function savedState(workspace: WorkspaceId): WorkspaceState | undefined {
    return snapshot.value?.workspaces?.[workspace] ?? undefined
  }

  async function save(workspace: WorkspaceId, saver: Saver): Promise<void> {
    const session = state.current
    if (!session) return
    const full = saver.binding.collect()
    const fingerprint = saver.binding.fingerprint()
    state.savesInFlight++
    try {
      await api.saveWorkspaceState({ sessionId: session.id, workspace, state: full })
      if (state.current?.id === session.id) {
        saver.baseline = fingerprint
        state.saveError = null
        setDirty(workspace, saver.binding.fingerprint() !== fingerprint)
      }
    } catch (error) {
      state.saveError = toErrorData(error)
    } finally {
      state.savesInFlight--
    }
  }

  function check(workspace: WorkspaceId): void {
    const saver = savers.get(workspace)
    if (!saver || !state.current) return
    const changed = saver.binding.fingerprint() !== saver.baseline
    setDirty(workspace, changed)
    if (saver.timer) clearTimeout(saver.timer)
    saver.timer = undefined
    if (!changed) return
    saver.timer = setTimeout(() => {
      saver.timer = undefined
      saver.saving = save(workspace, saver)
    }, SAVE_DEBOUNCE_MS)
  }

  /** Saves every pending change now (before switching sessions). */
  async function flush(): Promise<void> {
    const pending: Array<Promise<void>> = []
    for (const [workspace, saver] of savers) {
      if (saver.timer) {
        clearTimeout(saver.timer)
        saver.timer = undefined
        pending.push(save(workspace, saver))
      } else if (saver.saving) pending.push(saver.saving)
    }
    await Promise.all(pending)
  }

  function applyTo(workspace: WorkspaceId, saver: Saver): void {
    if (saver.timer) clearTimeout(saver.timer)
    saver.timer = undefined
    saver.binding.apply(savedState(workspace), snapshot.value?.runs ?? [])
    saver.baseline = saver.binding.fingerprint()
    setDirty(workspace, false)
  }

  async function refreshList(): Promise<void> {
    try {
      // Soft-deleted sessions stay restorable through the undo toast but leave the list.
      state.sessions = (await api.listSessions()).filter((s) => !s.deletedAt)
      const current = state.current && state.sessions.find((s) => s.id === state.current?.id)
      if (current) state.current = current
    } catch (error) {
      state.error = toErrorData(error)
    }
  }

  async function openSession(sessionId: string): Promise<void> {
    await flush()
    state.opening = true
    state.error = null
    try {
      const opened = await api.openSession(sessionId)
      snapshot.value = opened
      state.current = opened.session
      try {
        localStorage.setItem(LAST_SESSION_KEY, sessionId)
      } catch {
        // not remembered across restarts
      }
      for (const [workspace, saver] of savers) applyTo(workspace, saver)
      const model = rememberedModel(sessionId) ?? modelToRestore()
      if (model) void useModel(lab).setModel(model, { immediate: true })
    } catch (error) {
      state.error = toErrorData(error)
      throw error
    } finally {
      state.opening = false
    }
  }

  function modelToRestore(): ModelRef | null {
    const order: WorkspaceId[] = [activeWorkspace, 'problem', 'attention', 'relative', 'decoding']
    for (const workspace of order) {
      const model = savedState(workspace)?.model as ModelRef | null | undefined
      if (model && typeof model === 'object' && 'kind' in model) return model
    }
    return null
  }

  async function createSession(name = newSessionName(new Date(), state.sessions.map((s) => s.name))): Promise<SessionSummary> {
    const created = await api.createSession({ name })
    await refreshList()
    await openSession(created.id)
    return created
  }

  let listTimer: ReturnType<typeof setTimeout> | undefined

  /** Opens the last session of this window (or the most recent, or a new one). */
  async function start(): Promise<void> {
    useLabEvents(lab).onLabEvent((event) => {
      if (event.type === 'save-status') state.storeSave = event.status
      if (event.type !== 'session-changed') return
      clearTimeout(listTimer)
      listTimer = setTimeout(() => void refreshList(), 300)
    })
    await refreshList()
    let last: string | null = null
    try {
      last = localStorage.getItem(LAST_SESSION_KEY)
    } catch {
      last = null
    }
    const target = state.sessions.find((s) => s.id === last) ?? state.sessions[0]
    if (target) {
      try {
        await openSession(target.id)
        return
      } catch {
        // fall through to a fresh session
      }
    }
    await createSession()
  }

  let naming = false

  /**
   * Names the current session after the text of a run made in it ("Attention: the small dog…"), unless the user
   * named it: only the lab's own names (the date, or "Untitled session" from earlier versions) are replaced.
   */
  async function nameFromContent(workspaceLabel: string, text: string): Promise<void> {
    const current = state.current
    if (naming || !current || !isAutomaticName(current.name) || !text.trim()) return
    naming = true
    try {
      await renameSession(current.id, contentSessionName(workspaceLabel, text))
    } catch {
      // the name stays; the user can rename the session
    } finally {
      naming = false
    }
  }

  async function renameSession(sessionId: string, name: string): Promise<void> {
    await api.renameSession({ sessionId, name })
    await refreshList()
  }

  async function duplicateSession(sessionId: string): Promise<void> {
    const copy = await api.duplicateSession(sessionId)
    await refreshList()
    await openSession(copy.id)
  }

  async function deleteSession(sessionId: string): Promise<void> {
    const { show } = useToasts()
    const name = state.sessions.find((s) => s.id === sessionId)?.name ?? 'session'
    const wasCurrent = state.current?.id === sessionId
    if (wasCurrent) await flush()
    await api.deleteSession(sessionId)
    await refreshList()
    if (wasCurrent) {
      const next = state.sessions.find((s) => s.id !== sessionId)
      if (next) await openSession(next.id)
      else await createSession()
    }
    show(`Deleted “${name}”.`, {
      action: {
        label: 'Undo',
        run: async () => {
          await api.restoreSession(sessionId)
          await refreshList()
          if (wasCurrent) await openSession(sessionId)
        },
      },
    })
  }

  async function exportSession(sessionId: string): Promise<void> {
    const { fileName, base64 } = await api.exportSession(sessionId)
    const saved = await host.saveFile({ suggestedName: fileName, mime: 'application/octet-stream', base64 })
    if (saved.saved) useToasts().show(saved.path ? `Exported to ${saved.path}` : `Exported ${fileName}`)
  }

  function askConflict(fileName: string): Promise<ImportMode | null> {
    return new Promise((resolve) => {
      state.conflict = {
        fileName,
        resolve: (mode) => {
          state.conflict = null
          resolve(mode)
        },
      }
    })
  }

  /** importSession answers a SessionSummary (api.ts) or an ImportOutcome {session, mode} (sessions.ts). */
  function importedSummary(answer: unknown): SessionSummary {
    const value = answer as SessionSummary | { session: SessionSummary }
    return 'session' in value && value.session ? value.session : (value as SessionSummary)
  }

  async function importSession(): Promise<void> {
    const file = await host.openFile({ accept: ['.dlab'] })
    if (!file) return
    let imported: SessionSummary
    try {
      imported = importedSummary(await api.importSession({ base64: file.base64 }))
    } catch (error) {
      if (!(error instanceof LabError) || error.code !== 'IMPORT_CONFLICT') throw error
      const mode = await askConflict(file.name)
      if (!mode) return
      imported = importedSummary(await api.importSession({ base64: file.base64, mode }))
    }
    await refreshList()
    await openSession(imported.id)
    useToasts().show(`Imported “${imported.name}”.`)
  }

  /** Binds a workspace's state to the current session; call once from the workspace component's setup. */
  function bindWorkspace(workspace: WorkspaceId, binding: WorkspaceBinding): { check: () => void; unbind: () => void } {
    const saver: Saver = { binding, baseline: '' }
    savers.set(workspace, saver)
    // A session may already be open: restore its state for this workspace right away.
    if (snapshot.value) applyTo(workspace, saver)
    else saver.baseline = binding.fingerprint()
    return {
      check: () => check(workspace),
      unbind: () => {
        if (saver.timer) {
          clearTimeout(saver.timer)
          void save(workspace, saver)
        }
        if (savers.get(workspace) === saver) savers.delete(workspace)
      },
    }
  }

  const saveStatus = computed<'saved' | 'pending' | 'saving' | 'error' | 'none'>(() => {
    if (!state.current) return 'none'
    if (state.saveError) return 'error'
    if (state.savesInFlight > 0) return 'saving'
    if (state.dirty.length > 0) return 'pending'
    return 'saved'
  })

  return {
    state,
    snapshot,
    saveStatus,
    hasUnsavedChanges: computed(() => state.dirty.length > 0 || state.savesInFlight > 0),
    start,
    refreshList,
    openSession,
    createSession,
    renameSession,
    duplicateSession,
    deleteSession,
    nameFromContent,
    exportSession,
    importSession,
    flush,
    bindWorkspace,
    setActiveWorkspace(workspace: WorkspaceId) {
      activeWorkspace = workspace
    },
    /** Remembers the model the user chose for the current session (restored when it is reopened). */
    rememberModel(model: ModelRef) {
      const sessionId = state.current?.id
      if (!sessionId) return
      try {
        localStorage.setItem(MODEL_KEY_PREFIX + sessionId, JSON.stringify(model))
      } catch {
        // not remembered
      }
    },
  }
}

export type SessionStore = ReturnType<typeof createSessionStore>
const sessionOf = perLab(createSessionStore)

/** The window's sessions (one store per lab: the injected lab, or `lab`). */
export function useSession(lab: Lab = useLab()): SessionStore {
  return sessionOf(lab)
}
