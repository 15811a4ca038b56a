// A session holding every kind of record, for round-trip tests.
import { DEFAULT_SYNTHETIC_MODEL } from '../../../src/common/api'
import type { SessionSnapshot, WorkspaceId, WorkspaceState } from '../../../src/common/sessions'
import { WORKSPACE_IDS } from '../../../src/common/sessions'
import type { ExperimentStore } from '../../../src/store'
import { richState } from './fixtures'

export interface Saved {
  sessionId: string
  states: Partial<Record<WorkspaceId, WorkspaceState>>
  snapshot: SessionSnapshot
  blobs: Map<string, Uint8Array>
}

/** Fills a session with every kind of record; returns what was saved. */
export function fillSession(store: ExperimentStore, big = 100_000): Saved {
  const session = store.createSession({ name: 'Round trip ✓ 𝔡𝔢𝔟𝔢𝔯𝔱𝔞', notes: 'multi\nline “notes” 🧠', tags: ['golden', 'ünïcode'] })
  const states: Partial<Record<WorkspaceId, WorkspaceState>> = {}
  WORKSPACE_IDS.forEach((id, i) => {
    states[id] = richState({ version: i + 1, view: { index: i, ratio: i / 7 } }, id === 'attention' ? big : 0)
    store.saveWorkspaceState(session.id, id, states[id]!)
  })
  const result = {
    scores: { rows: 64, cols: 64, data: Array.from({ length: 4096 }, (_, i) => Math.cos(i) / 3) },
    tokens: ['[CLS]', '▁café', '▁🤖', '[SEP]'],
    nonFinite: [NaN, -Infinity, Infinity],
  }
  const runs = [
    store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: { text: 'héllo', layer: 3 }, seed: 42, backend: 'wasm', model: { ...DEFAULT_SYNTHETIC_MODEL, weightsSha256: 'c'.repeat(64) } }),
    store.startRun({ sessionId: session.id, kind: 'benchmark', workspace: 'benchmarks', name: 'runBenchmark', config: { seqs: [128, 256] }, backend: 'cpu' }),
    store.startRun({ sessionId: session.id, kind: 'experiment', name: 'sweep', config: { lr: [1e-5, 3e-5] }, status: 'queued' }),
  ]
  store.finishRun(runs[0].id, { status: 'done', result })
  store.finishRun(runs[1].id, { status: 'failed', error: 'SEQUENCE_TOO_LONG: 4096 > 512' })
  store.logMetrics(runs[0].id, Array.from({ length: 500 }, (_, step) => ({ key: step % 2 ? 'loss' : 'acc', step, value: 1 / (step + 1) })))
  store.logMetrics(runs[1].id, [{ key: 'ms', value: NaN }, { key: 'gflops', value: Infinity }])
  const blobs = new Map<string, Uint8Array>()
  const put = (data: Uint8Array, input: Omit<Parameters<ExperimentStore['putArtifact']>[0], 'data'>): void => {
    const a = store.putArtifact({ ...input, data })
    blobs.set(a.sha256, data)
  }
  put(new Uint8Array(new Float32Array(result.scores.data).buffer), { sessionId: session.id, runId: runs[0].id, name: 'scores', kind: 'tensor', dtype: 'float32', shape: [64, 64] })
  put(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]), { sessionId: session.id, name: 'attention/heatmap.png', kind: 'chart-png' })
  put(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'), { sessionId: session.id, name: 'attention/heatmap.svg', kind: 'chart-svg' })
  states.attention = { ...states.attention!, lastResult: { runId: runs[0].id, artifactSha256: [...blobs.keys()][0] } }
  store.saveWorkspaceState(session.id, 'attention', states.attention)
  return { sessionId: session.id, states, snapshot: store.getSessionSnapshot(session.id), blobs }
}

