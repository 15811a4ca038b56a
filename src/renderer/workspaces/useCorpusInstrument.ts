// Corpus statistics in the Attention workspace: a text file (one sentence per line) read through the host,
// checked here with the lab's own rules (corpusLines) and sent to the lab as a long, pausable job recorded in the
// session; its result (every head over the corpus, every sentence's per-head summaries) is searched here without
// recomputing. The workspace's saved view keeps the run id (`view.corpus`), so opening a session brings the result
// back; a corpus run that was cancelled, failed or interrupted (app closed) can be resumed from its checkpoint
// with the corpus and options it recorded — the file need not be opened again (the lab keeps its text).
import { computed, ref, shallowRef, watch } from 'vue'
import { ATTENTION_TERMS, type AttentionTerm, type JobInfo, type ModelRef } from '../../common/api'
import { corpusLines, pairCandidates, searchCorpus, type CorpusPairResult, type CorpusRequest, type CorpusResult, type CorpusSortKey, type RecordedCorpusRequest } from '../../common/corpus'
import { LabError, toErrorData, type ErrorData } from '../../common/errors'
import type { RunRecord } from '../../common/sessions'
import { APP_VERSION } from '../../common/version'
import { base64ToBytes } from '../base64'
import { buildCorpusHeadsOption, buildCorpusProfileOption, buildCorpusTermProfileOption, type CorpusMetric } from '../charts/corpus'
import type { ProvenanceEntries as Provenance } from '../provenance'
import { isActive } from '../composables/useJob'
import { useSession } from '../composables/useSession'
import { useWorkspaceRun } from '../composables/useWorkspaceRun'
import { useLab } from '../lab-context'

/** The corpus part of the Attention workspace's saved view. */
export const corpusViewDefaults = () => ({
  runId: '',
  jobId: '',
  metric: 'entropy' as CorpusMetric,
  layer: 0,
  head: 0,
  sortBy: 'entropy' as CorpusSortKey,
  descending: true,
  pattern: '',
  limit: 20,
  /** the search by token pair: its patterns and the run on screen */
  from: '',
  to: '',
  pairRunId: '',
  pairJobId: '',
})
export type CorpusView = ReturnType<typeof corpusViewDefaults>

export interface CorpusWorkspaceParts {
  inputs: { text: string; layer: number; head: string; disabledTerms: string[]; p2p: boolean }
  view: { corpus: CorpusView }
  compute(): Promise<unknown>
}

export function isCorpusPairResult(value: unknown): value is CorpusPairResult {
  const r = value as CorpusPairResult | null
  return !!r && Array.isArray(r.hits) && typeof r.from === 'string' && typeof r.to === 'string' && Number.isInteger(r.layer)
}

export function isCorpusResult(value: unknown): value is CorpusResult {
  const r = value as CorpusResult | null
  return !!r && !!r.corpus && Array.isArray(r.entropy) && Array.isArray(r.topPairs) && !!r.sentences?.entropy && Array.isArray(r.sentences.text)
}

/** A file the user opened, checked: its name, text and sentence count. */
export interface CorpusFile {
  name: string
  text: string
  sentences: number
  bytes: number
}

/** Reads a host file's bytes as a corpus (UTF-8; undecodable bytes become U+FFFD, which corpusLines refuses). */
export function readCorpusFile(name: string, bytes: Uint8Array): CorpusFile {
  const text = new TextDecoder('utf-8').decode(bytes)
  const { lines } = corpusLines(text)
  return { name, text, sentences: lines.length, bytes: bytes.length }
}

const RESUMABLE: ReadonlyArray<RunRecord['status']> = ['cancelled', 'failed', 'interrupted']

export function useCorpusInstrument(ws: CorpusWorkspaceParts) {
  const lab = useLab()
  const session = useSession(lab)
  const run = useWorkspaceRun<CorpusResult>('Corpus')
  const file = shallowRef<CorpusFile | null>(null)
  const fileError = ref<ErrorData | null>(null)
  /** the last corpus run of the session when it stopped before the end (resumable from its checkpoint) */
  const stopped = shallowRef<RunRecord | null>(null)
  const saved = (): CorpusView => ws.view.corpus

  const pairRun = useWorkspaceRun<CorpusPairResult>('Corpus')
  const pairError = ref<ErrorData | null>(null)

  /** Keeps a result in step with a run id of the saved view: after a session is opened, its stored result (nothing recomputed). */
  function restore<R>(target: ReturnType<typeof useWorkspaceRun<R>>, ids: () => { runId: string; jobId: string }, isResult: (value: unknown) => value is R): void {
    watch(
      () => ids().runId,
      (runId) => {
        if (runId === (target.lastRun.value?.runId ?? '')) return
        if (!runId) {
          target.lastResult.value = null
          target.lastRun.value = null
          return
        }
        lab.api.getRunResult(runId).then(
          (value) => {
            if (ids().runId !== runId || !isResult(value)) return
            target.lastResult.value = value
            target.lastRun.value = { jobId: ids().jobId, runId }
          },
          () => undefined,
        )
      },
      { immediate: true },
    )
  }
  restore(run, () => saved(), isCorpusResult)
  restore(pairRun, () => ({ runId: saved().pairRunId, jobId: saved().pairJobId }), isCorpusPairResult)

  async function refreshStopped(): Promise<void> {
    const sessionId = session.state.current?.id
    if (!sessionId) {
      stopped.value = null
      return
    }
    try {
      const last = (await lab.api.listRuns(sessionId)).filter((r) => r.name === 'runCorpus').at(-1)
      stopped.value = last && RESUMABLE.includes(last.status) ? last : null
    } catch {
      stopped.value = null
    }
  }
  /**
   * Follows this session's corpus run when the lab is computing one this page did not start (after a reload, or
   * from another window): progress, Pause and Cancel here, and its result shown when it ends.
   */
  async function reattach(): Promise<void> {
    const sessionId = session.state.current?.id
    if (!sessionId || run.job.state.running) return
    let found: JobInfo | undefined
    try {
      found = (await lab.api.listJobs()).find((j) => j.method === 'runCorpus' && j.sessionId === sessionId && isActive(j))
    } catch {
      return
    }
    if (!found || run.job.state.running || session.state.current?.id !== sessionId) return
    const ended = await run.job.attach(found)
    if (ended?.state === 'done' && ended.runId && session.state.current?.id === sessionId) Object.assign(saved(), { runId: ended.runId, jobId: ended.jobId })
    await refreshStopped()
  }
  watch(
    () => session.state.current?.id,
    () => {
      void refreshStopped()
      void reattach()
    },
    { immediate: true },
  )

  async function openFile(): Promise<void> {
    fileError.value = null
    try {
      const opened = await lab.host.openFile({ accept: ['.txt'] })
      if (!opened) return
      file.value = readCorpusFile(opened.name, base64ToBytes(opened.base64))
    } catch (error) {
      file.value = null
      fileError.value = toErrorData(error)
    }
  }

  async function start(request: Omit<CorpusRequest, 'model' | 'jobId' | 'sessionId'>, model?: ModelRef | null): Promise<void> {
    const result = await run.compute((common) => lab.api.runCorpus({ ...common, ...request }), model, { corpus: request.corpus.name })
    if (result) Object.assign(saved(), { runId: result.runId ?? '', jobId: run.lastRun.value?.jobId ?? '' })
    await refreshStopped()
  }

  function runCorpus(): Promise<void> {
    const f = file.value
    if (!f) return Promise.resolve()
    return start({ corpus: { name: f.name, text: f.text }, disabledTerms: [...ws.inputs.disabledTerms] as AttentionTerm[], p2p: ws.inputs.p2p })
  }

  /**
   * Continues the stopped run with the corpus, model and terms it recorded. Only the corpus name is sent: the lab
   * reads the text the run recorded (its config holds no text, RecordedCorpusRequest).
   */
  function resume(): Promise<void> {
    const record = stopped.value
    const config = record?.config as RecordedCorpusRequest | undefined
    if (!record || typeof config?.corpus?.name !== 'string') {
      fileError.value = toErrorData(new LabError('INPUT_INVALID', 'no stopped corpus run to resume'))
      return Promise.resolve()
    }
    return start({ corpus: { name: config.corpus.name }, disabledTerms: config.disabledTerms ?? [], p2p: config.p2p ?? false, resumeFrom: record.id }, config.model)
  }

  const result = computed(() => run.lastResult.value)
  /** the head shown in the distance chart and searched (kept inside the result's range) */
  const head = computed(() => {
    const r = result.value
    const v = saved()
    if (!r) return { layer: 0, head: 0 }
    return { layer: Math.min(Math.max(0, v.layer), r.layers - 1), head: Math.min(Math.max(0, v.head), r.heads - 1) }
  })
  const metrics = computed<CorpusMetric[]>(() => ['entropy', 'distance', ...(result.value?.terms ?? ATTENTION_TERMS.slice(0, 3))])

  const provenance = computed<Provenance | null>(() => {
    const r = result.value
    if (!r) return null
    return {
      model: r.model.label,
      corpus: r.corpus.name,
      sentences: String(r.corpus.sentences),
      tokens: String(r.corpus.tokens),
      corpus_sha256: r.corpus.sha256,
      terms: (r.disabledTerms.length ? `without ${r.disabledTerms.join(', ')}` : 'all terms') + (r.p2p ? ', p2p on' : ''),
      ...(r.resumedFrom ? { resumed_from: `${r.resumedFrom.runId} (${r.resumedFrom.sentences} sentences)` } : {}),
      run: r.runId ?? run.lastRun.value?.runId ?? 'not recorded',
      app: `DeBERTa Lab ${APP_VERSION}`,
    }
  })

  const headsOption = computed(() => {
    const r = result.value
    if (!r) return null
    const metric = r.terms.includes(saved().metric as AttentionTerm) || saved().metric === 'entropy' || saved().metric === 'distance' ? saved().metric : 'entropy'
    return buildCorpusHeadsOption(r, metric, { selected: head.value, provenance: provenance.value ?? undefined })
  })
  const profileOption = computed(() => {
    const r = result.value
    if (!r) return null
    return buildCorpusProfileOption(r, head.value.layer, head.value.head, { provenance: provenance.value ?? undefined })
  })
  /** each term's mean score by δ for the picked head (null for a run recorded without the term profiles) */
  const termProfileOption = computed(() => {
    const r = result.value
    if (!r) return null
    return buildCorpusTermProfileOption(r, head.value.layer, head.value.head, { provenance: provenance.value ?? undefined })
  })
  /** what the shading of the distance charts means for the run's model */
  const bucketNote = computed(() => {
    const b = result.value?.profile.buckets
    if (!b || b.kind === 'none') return ''
    return b.kind === 'log-bucket'
      ? `Exact for |δ| ≤ ${b.exactLimit}; beyond it (shaded) distances share logarithmic buckets — each grey band is one bucket holding several δ.`
      : `Exact for |δ| ≤ ${b.exactLimit}; beyond it (shaded) every δ is clipped to the same relative row (k = ${b.span}).`
  })
  const topPairs = computed(() => {
    const r = result.value
    return r ? r.topPairs[head.value.layer * r.heads + head.value.head] : []
  })

  const search = computed(() => {
    const r = result.value
    if (!r) return { hits: [], matching: 0, error: null as ErrorData | null }
    const v = saved()
    const sortBy = r.terms.includes(v.sortBy as AttentionTerm) || v.sortBy === 'entropy' || v.sortBy === 'distance' ? v.sortBy : 'entropy'
    try {
      return { ...searchCorpus(r, { ...head.value, sortBy, descending: v.descending, pattern: v.pattern, limit: v.limit }), error: null }
    } catch (error) {
      return { hits: [], matching: 0, error: toErrorData(error) }
    }
  })

  function selectHead(layer: number, headIndex: number): void {
    Object.assign(saved(), { layer, head: headIndex })
  }

  /**
   * Ranks the sentences holding both token patterns by how much the picked head attends from the first to the
   * second; the lab recomputes that head with the corpus run's model and terms.
   */
  async function findPairs(): Promise<void> {
    const r = result.value
    pairError.value = null
    if (!r) return
    let sentences: Array<{ index: number; text: string }>
    try {
      sentences = pairCandidates(r, saved().from, saved().to)
    } catch (error) {
      pairError.value = toErrorData(error)
      return
    }
    const request = {
      corpus: { name: r.corpus.name, sha256: r.corpus.sha256, ...(r.runId ? { runId: r.runId } : {}) },
      sentences,
      ...head.value,
      from: saved().from,
      to: saved().to,
      disabledTerms: r.disabledTerms,
      p2p: r.p2p,
    }
    const found = await pairRun.compute((common) => lab.api.runCorpusPairs({ ...common, ...request }), r.model.ref)
    if (found) Object.assign(saved(), { pairRunId: found.runId ?? '', pairJobId: pairRun.lastRun.value?.jobId ?? '' })
  }

  /** Opens a sentence of the corpus in the workspace's charts above, at a head (default: the searched one). */
  async function openSentence(index: number, at = head.value): Promise<void> {
    const r = result.value
    if (!r) return
    ws.inputs.text = r.sentences.text[index]
    ws.inputs.layer = at.layer
    ws.inputs.head = String(at.head)
    await ws.compute()
  }

  /** the saved view's corpus settings (metric, head, search), bound by the components */
  const settings = computed(() => saved())

  const clearErrors = (): void => {
    fileError.value = null
    pairError.value = null
  }

  return { clearErrors, pairRun, pairError, findPairs, settings, run, file, fileError, stopped, openFile, runCorpus, resume, result, head, metrics, provenance, headsOption, profileOption, termProfileOption, bucketNote, topPairs, search, selectHead, openSentence, refreshStopped }
}
