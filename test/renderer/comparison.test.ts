// useComparison under Node with the in-memory lab: B runs beside each new result of A (once), its run id and
// the A run it belongs to are kept in the view, a reopened view brings B's stored result back without running
// B again (also when reopening replaces view.compare by the saved object), and Remove returns to one model.
import { describe, expect, it } from 'vitest'
import { createApp, effectScope, reactive, shallowRef } from 'vue'
import type { ModelRef } from '../../src/common/api'
import { compareViewDefaults, isModelRef, useComparison } from '../../src/renderer/composables/useComparison'
import { LAB_KEY } from '../../src/renderer/lab-context'
import type { LastRun } from '../../src/renderer/workspace-state'
import { createMemoryLab, type MemoryLab } from './memory-lab'

interface Result {
  runId?: string
  model: { label: string }
  value: number
}
const B: ModelRef = { kind: 'checkpoint', path: '/models/bert' }
const isResult = (value: unknown): value is Result => typeof (value as Result | null)?.value === 'number'
const settle = async (): Promise<void> => {
  for (let k = 0; k < 10; k++) await new Promise((resolve) => setTimeout(resolve, 0))
}

function setup(lab: MemoryLab) {
  const view = reactive({ ...compareViewDefaults() })
  const a = { lastResult: shallowRef<Result | null>(null), lastRun: shallowRef<LastRun | null>(null), lastRequest: shallowRef<Record<string, unknown> | null>(null) }
  const requests: Array<Record<string, unknown>> = []
  let next = 0
  const app = createApp({})
  app.provide(LAB_KEY, lab)
  const comparison = app.runWithContext(() =>
    effectScope().run(() =>
      useComparison<Result>({
        view,
        a,
        isResult,
        requestFor: (request, info) => ({
          request: { ...request },
          notes: [`B is ${info.label}`],
          start: async (common) => {
            requests.push({ ...request, model: common.model })
            return { runId: `run-b-${++next}`, model: { label: info.label }, value: 10 * next }
          },
        }),
      }),
    ),
  )!
  /** A shows a new result of its own run */
  const showA = (jobId: string, text: string): void => {
    a.lastRequest.value = { text }
    a.lastResult.value = { model: { label: 'A' }, value: 1 }
    a.lastRun.value = { jobId, runId: `run-${jobId}` }
  }
  return { view, a, requests, comparison, showA }
}

describe('useComparison', () => {
  it('runs B once beside each new result of A, with A’s inputs, and keeps the pairing in the view', async () => {
    const lab = createMemoryLab()
    const { view, requests, comparison, showA } = setup(lab)
    showA('job-1', 'the dog')
    expect(await comparison.choose(B)).toBe(true)
    await settle()
    expect(requests).toEqual([{ text: 'the dog', model: B }])
    expect(view.compare).toMatchObject({ model: B, runId: 'run-b-1', pairedJobId: 'job-1' })
    expect(comparison.paired.value).toBe(true)
    expect(comparison.notes.value).toEqual(['B is /models/bert'])
    showA('job-2', 'the cat')
    await settle()
    expect(requests.map((r) => r.text)).toEqual(['the dog', 'the cat'])
    expect(view.compare).toMatchObject({ runId: 'run-b-2', pairedJobId: 'job-2' })
    expect(comparison.run.lastResult.value?.value).toBe(20)
  })

  it('a reopened view fetches B’s stored run and runs nothing, also when the saved object replaces view.compare', async () => {
    const lab = createMemoryLab()
    const { id: sessionId } = await lab.api.createSession({ name: 's' })
    const stored = lab.addRun(sessionId, { workspace: 'attention' }, { result: { model: { label: 'bert' }, value: 42 }, stored: true })
    const { view, a, requests, comparison } = setup(lab)
    // what reopening a session does: the saved view is assigned (a new compare object), then A's run
    Object.assign(view, { compare: { model: B, runId: stored.id, jobId: 'job-b', pairedJobId: 'job-a' } })
    a.lastRequest.value = { text: 'the dog' }
    a.lastRun.value = { jobId: 'job-a', runId: 'run-a' }
    a.lastResult.value = { model: { label: 'A' }, value: 1 }
    await settle()
    expect(requests).toEqual([])
    expect(comparison.run.lastResult.value).toEqual({ model: { label: 'bert' }, value: 42 })
    expect(comparison.run.lastRun.value).toEqual({ jobId: 'job-b', runId: stored.id })
    expect(comparison.paired.value).toBe(true)
    expect(lab.calls.filter((c) => c.method === 'getRunResult').map((c) => c.args[0])).toEqual([stored.id])
  })

  it('Remove returns to one model; an unusable saved model is no model', async () => {
    const lab = createMemoryLab()
    const { view, comparison, showA, requests } = setup(lab)
    showA('job-1', 'the dog')
    await comparison.choose(B)
    await settle()
    comparison.clear()
    expect(view.compare).toEqual(compareViewDefaults().compare)
    expect(comparison.model.value).toBeNull()
    expect(comparison.run.lastResult.value).toBeNull()
    showA('job-2', 'the cat')
    await settle()
    expect(requests).toHaveLength(1)
    expect(isModelRef({ kind: 'synthetic', arch: 'bert', layers: 2, heads: 4 })).toBe(true)
    expect(isModelRef({ kind: 'checkpoint' })).toBe(false)
    expect(isModelRef('bert')).toBe(false)
  })
})
