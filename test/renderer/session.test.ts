// The session logic of the renderer (useSession, useWorkspacePersistence) under Node: Vue's reactivity without a
// DOM, the lab provided under LAB_KEY as the app provides it (an in-memory lab), a workspace stood in for by an
// effect scope that binds reactive inputs the way a workspace component does. Debounced saving, flush, switching
// sessions, restoring states and results, delete with undo, failing saves and unmounting.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, effectScope, nextTick, reactive, shallowRef, type EffectScope } from 'vue'
import { LabError } from '../../src/common/errors'
import type { WorkspaceId, WorkspaceState } from '../../src/common/sessions'
import { SAVE_DEBOUNCE_MS, useSession, type SessionStore } from '../../src/renderer/composables/useSession'
import { useModel } from '../../src/renderer/composables/useModel'
import { useToasts } from '../../src/renderer/composables/useToasts'
import { useWorkspacePersistence } from '../../src/renderer/composables/useWorkspacePersistence'
import { LAB_KEY } from '../../src/renderer/lab-context'
import type { LastRun } from '../../src/renderer/workspace-state'
import { createMemoryLab, type MemoryLab } from './memory-lab'

interface Result {
  value: number
}

/** Runs `setup` as a component's setup would run: with the lab injectable, inside a scope stopped on "unmount". */
function mount<T>(lab: MemoryLab, setup: () => T): { value: T; scope: EffectScope } {
  const app = createApp({})
  app.provide(LAB_KEY, lab)
  const scope = effectScope()
  const value = app.runWithContext(() => scope.run(setup)) as T
  return { value, scope }
}

/** A workspace: inputs, selections and view bound to the session, with a result that can be restored. */
function workspace(lab: MemoryLab, id: WorkspaceId = 'attention') {
  const parts = {
    inputs: reactive({ text: 'the dog' }),
    selections: reactive({ layer: 0 }),
    view: reactive({ scale: 'row' }),
    lastResult: shallowRef<Result | null>(null),
    lastModel: shallowRef(null),
    lastRun: shallowRef<LastRun | null>(null),
    recomputed: 0,
  }
  const mounted = mount(lab, () =>
    useWorkspacePersistence(id, {
      ...parts,
      defaults: () => ({ inputs: { text: 'the dog' }, selections: { layer: 0 }, view: { scale: 'row' } }),
      isResult: (value: unknown): value is Result => typeof value === 'object' && value !== null && typeof (value as Result).value === 'number',
      recompute: () => {
        parts.recomputed++
      },
    }),
  )
  return Object.assign(parts, { unmount: () => mounted.scope.stop() })
}

const saves = (lab: MemoryLab) => lab.calls.filter((call) => call.method === 'saveWorkspaceState')
const savedText = (lab: MemoryLab, sessionId: string, id: WorkspaceId = 'attention') => lab.sessions.get(sessionId)?.workspaces[id]?.inputs.text

function stateWith(text: string, lastResult: WorkspaceState['lastResult'] = null): WorkspaceState {
  return { version: 1, inputs: { text }, model: null, selections: { layer: 1 }, view: { scale: 'row', resultJobId: null }, lastResult }
}

let lab: MemoryLab
let session: SessionStore

beforeEach(() => {
  vi.useFakeTimers()
  lab = createMemoryLab()
  session = mount(lab, () => useSession()).value
})

afterEach(() => {
  const { toasts, dismiss } = useToasts()
  for (const toast of [...toasts]) dismiss(toast.id)
  vi.useRealTimers()
})

describe('useSession with an injected lab', () => {
  it('start() creates and opens a first session when the lab has none', async () => {
    await session.start()
    expect(session.state.current?.name).toMatch(/^Session \d{4}-\d\d-\d\d \d\d:\d\d/) // named by date until its first run names it
    expect(session.state.sessions.map((s) => s.id)).toEqual([session.state.current!.id])
    expect(lab.calls.map((c) => c.method)).toEqual(['listSessions', 'createSession', 'listSessions', 'openSession'])
    expect(session.saveStatus.value).toBe('saved')
  })

  it('start() opens the most recent existing session instead of creating one', async () => {
    const first = await lab.api.createSession({ name: 'kept' })
    lab.calls.length = 0
    await session.start()
    expect(session.state.current?.id).toBe(first.id)
    expect(lab.calls.some((c) => c.method === 'createSession')).toBe(false)
  })

  it('debounces saving: edits within the delay make one save, with the last state', async () => {
    await session.start()
    const ws = workspace(lab)
    ws.inputs.text = 'the cat'
    await nextTick()
    expect(session.saveStatus.value).toBe('pending')
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS - 100)
    ws.inputs.text = 'the cat sleeps'
    await nextTick()
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS - 100)
    expect(saves(lab)).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(100)
    expect(saves(lab)).toHaveLength(1)
    expect(saves(lab)[0].args[0]).toMatchObject({ sessionId: session.state.current!.id, workspace: 'attention', state: { version: 1, inputs: { text: 'the cat sleeps' } } })
    expect(session.saveStatus.value).toBe('saved')
    expect(session.hasUnsavedChanges.value).toBe(false)
  })

  it('an edit undone before the delay is not saved', async () => {
    await session.start()
    const ws = workspace(lab)
    ws.inputs.text = 'the cat'
    await nextTick()
    ws.inputs.text = 'the dog'
    await nextTick()
    expect(session.saveStatus.value).toBe('saved')
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS * 2)
    expect(saves(lab)).toHaveLength(0)
  })

  it('shows "saving" while a save is in flight, and flush() waits for it', async () => {
    await session.start()
    const ws = workspace(lab)
    const release = lab.holdSaves()
    ws.inputs.text = 'the bird'
    await nextTick()
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS)
    expect(session.saveStatus.value).toBe('saving')
    let flushed = false
    const flushing = session.flush().then(() => (flushed = true))
    await vi.advanceTimersByTimeAsync(0)
    expect(flushed).toBe(false)
    release()
    await flushing
    expect(session.saveStatus.value).toBe('saved')
    expect(savedText(lab, session.state.current!.id)).toBe('the bird')
  })

  it('flush() saves a pending change at once, without waiting for the delay', async () => {
    await session.start()
    const ws = workspace(lab)
    ws.inputs.text = 'the fox'
    await nextTick()
    await session.flush()
    expect(saves(lab)).toHaveLength(1)
    expect(savedText(lab, session.state.current!.id)).toBe('the fox')
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS * 2)
    expect(saves(lab)).toHaveLength(1) // the timer was cleared
  })

  it('switching sessions stores the pending edit in the session it belongs to, then restores the other one', async () => {
    const other = await lab.api.createSession({ name: 'other' })
    await lab.api.saveWorkspaceState({ sessionId: other.id, workspace: 'attention', state: stateWith('a saved sentence') })
    const first = await session.createSession('first')
    const ws = workspace(lab)
    ws.inputs.text = 'typed in first'
    await nextTick()
    await session.openSession(other.id)
    expect(savedText(lab, first.id)).toBe('typed in first')
    expect(ws.inputs.text).toBe('a saved sentence')
    expect(ws.selections.layer).toBe(1)
    expect(session.saveStatus.value).toBe('saved')
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS * 2)
    expect(savedText(lab, other.id)).toBe('a saved sentence') // restoring is not an edit
    await session.openSession(first.id)
    expect(ws.inputs.text).toBe('typed in first')
  })

  it('restores the result on screen from its run, fetches a stored large result, and recomputes when the run is gone', async () => {
    const s = await lab.api.createSession({ name: 'results' })
    const small = lab.addRun(s.id, { workspace: 'attention' }, { result: { value: 7 } })
    await lab.api.saveWorkspaceState({ sessionId: s.id, workspace: 'attention', state: stateWith('x', { runId: small.id }) })
    const ws = workspace(lab)
    await session.openSession(s.id)
    expect(ws.lastResult.value).toEqual({ value: 7 })
    expect(ws.lastRun.value).toEqual({ jobId: small.id, runId: small.id })

    const large = lab.addRun(s.id, { workspace: 'attention' }, { result: { value: 42 }, stored: true })
    await lab.api.saveWorkspaceState({ sessionId: s.id, workspace: 'attention', state: stateWith('x', { runId: large.id }) })
    await session.openSession(s.id)
    await vi.waitFor(() => expect(ws.lastResult.value).toEqual({ value: 42 }))
    expect(lab.calls.filter((c) => c.method === 'getRunResult').map((c) => c.args[0])).toEqual([large.id])

    await lab.api.saveWorkspaceState({ sessionId: s.id, workspace: 'attention', state: { ...stateWith('x'), view: { resultJobId: 'job-of-a-lost-run' } } })
    await session.openSession(s.id)
    await vi.advanceTimersByTimeAsync(0)
    expect(ws.lastResult.value).toBeNull()
    expect(ws.recomputed).toBe(1)
  })

  it('deletes a session with an Undo toast that restores and reopens it', async () => {
    const kept = await session.createSession('kept')
    const doomed = await session.createSession('doomed')
    await session.deleteSession(doomed.id)
    expect(session.state.current?.id).toBe(kept.id)
    expect(session.state.sessions.map((s) => s.name)).toEqual(['kept'])
    const { toasts, runAction } = useToasts()
    const toast = toasts.find((t) => t.message === 'Deleted “doomed”.')
    expect(toast?.action?.label).toBe('Undo')
    await runAction(toast!)
    expect(lab.calls.filter((c) => c.method === 'restoreSession').map((c) => c.args[0])).toEqual([doomed.id])
    expect(session.state.current?.id).toBe(doomed.id)
    expect(session.state.sessions.map((s) => s.name).sort()).toEqual(['doomed', 'kept'])
  })

  it('a failed save shows the error and keeps the change; the next edit saves again', async () => {
    await session.start()
    const ws = workspace(lab)
    lab.failSaves = new LabError('STORE_BUSY', 'the store is busy')
    ws.inputs.text = 'will fail'
    await nextTick()
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS)
    expect(session.saveStatus.value).toBe('error')
    expect(session.state.saveError).toMatchObject({ code: 'STORE_BUSY' })
    expect(session.hasUnsavedChanges.value).toBe(true)
    lab.failSaves = null
    ws.inputs.text = 'will work'
    await nextTick()
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS)
    expect(session.saveStatus.value).toBe('saved')
    expect(savedText(lab, session.state.current!.id)).toBe('will work')
  })

  it('unmounting a workspace saves its pending change at once', async () => {
    await session.start()
    const ws = workspace(lab)
    ws.inputs.text = 'before closing'
    await nextTick()
    ws.unmount()
    await vi.advanceTimersByTimeAsync(0)
    expect(saves(lab)).toHaveLength(1)
    expect(savedText(lab, session.state.current!.id)).toBe('before closing')
    ws.inputs.text = 'after closing'
    await nextTick()
    await vi.advanceTimersByTimeAsync(SAVE_DEBOUNCE_MS * 2)
    expect(saves(lab)).toHaveLength(1) // unbound: no longer saved
  })

  it('refreshes the session list when the lab announces a change', async () => {
    await session.start()
    const created = await lab.api.createSession({ name: 'from elsewhere' }) // emits session-changed
    expect(session.state.sessions.map((s) => s.id)).not.toContain(created.id)
    await vi.advanceTimersByTimeAsync(300)
    expect(session.state.sessions.map((s) => s.id)).toContain(created.id)
  })

  it('start() reopens the last session of this window with the model chosen in it', async () => {
    const storage = new Map<string, string>()
    vi.stubGlobal('localStorage', { getItem: (key: string) => storage.get(key) ?? null, setItem: (key: string, value: string) => storage.set(key, value) })
    try {
      const older = await lab.api.createSession({ name: 'older' })
      await lab.api.createSession({ name: 'newer' })
      await session.openSession(older.id)
      const chosen = { kind: 'checkpoint' as const, path: '/models/tiny' }
      session.rememberModel(chosen)
      expect(storage.get('deberta-lab.lastSession')).toBe(older.id)

      // a new window (another store on the same lab data) starts where this one was left
      const again = createMemoryLab()
      for (const [id, stored] of lab.sessions) again.sessions.set(id, stored)
      const restarted = mount(again, () => useSession()).value
      await restarted.start()
      expect(restarted.state.current?.id).toBe(older.id)
      await vi.waitFor(() => expect(useModel(again).info.value?.ref).toEqual(chosen))
      expect(useModel(again).model.value).toEqual(chosen)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('needs a provided lab: without one, taking it fails with a message saying so', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      expect(() => effectScope().run(() => useSession())).toThrow(/no lab provided/)
    } finally {
      warn.mockRestore()
    }
  })

  it('keeps one session store per lab', () => {
    expect(mount(lab, () => useSession()).value).toBe(session)
    expect(mount(createMemoryLab(), () => useSession()).value).not.toBe(session)
  })
})
