// Experiments: one of the paper's ablations trained small in the lab (tiny models, generated data) with several
// seeds — a live loss curve from the job's progress events, then each variant's metric mean ± std beside the
// paper's Table 4 number where a variant corresponds to one of its rows. Runs are recorded in the session; the
// section's inputs, chosen metric and the run behind the result on screen are saved in the session's
// 'experiments' workspace state, so reopening the session shows the last result again (never retrained).
// An experiment of this session that the lab is running (started before a reload, or in another window) is
// followed again: its curves so far, live progress, Pause and Cancel, Run disabled, and its result when it ends.
import { computed, onBeforeUnmount, reactive, ref, shallowRef, watch } from 'vue'
import {
  EXPERIMENT_BUDGETS,
  EXPERIMENT_IDS,
  MAX_EXPERIMENT_SEEDS,
  type ExperimentBudget,
  type ExperimentId,
  type ExperimentResult,
  type JobInfo,
  type ModelRef,
} from '../../common/api'
import { useLab } from '../lab-context'
import {
  appendTrainingPoints,
  buildExperimentSummaryOption,
  buildLossOption,
  curvesFromResult,
  defaultMetric,
  metricKeys,
  paperValues,
  type CurveMeasure,
  type LossCurve,
} from '../charts/experiments'
import { findTable, parsePublished, type PublishedTable } from '../charts/published'
import { isActive, useJob } from '../composables/useJob'
import { useLabEvents } from '../composables/useLabEvents'
import { useSession } from '../composables/useSession'
import { useWorkspacePersistence } from '../composables/useWorkspacePersistence'
import { workspaceState, type LastRun } from '../workspace-state'
import type { RunRecord } from '../../common/sessions'
import { experimentRuns } from './experiment-runs'

export { EXPERIMENT_BUDGETS, EXPERIMENT_IDS, MAX_EXPERIMENT_SEEDS }

export const EXPERIMENT_LABELS: Record<ExperimentId, string> = {
  attention: 'attention: disentangled (DeBERTa) vs absolute positions (BERT)',
  terms: 'terms: c2c only, +c2p, +p2c, all',
  emd: 'emd: with vs without the Enhanced Mask Decoder',
  length: 'length: relative vs absolute positions, tested on longer sequences',
  clipping: 'clipping: relative distance clipped at k = 2, 5, 6, 16 and log buckets',
}

const defaults = () => ({
  inputs: { experiment: 'terms' as ExperimentId, budget: 'smoke' as ExperimentBudget, seeds: 3 },
  selections: { metric: '', curve: 'loss' as CurveMeasure },
  view: {},
})

/** A stored run result this version can draw. */
export function isExperimentResult(value: unknown): value is ExperimentResult {
  const r = value as ExperimentResult | null
  return (
    !!r &&
    typeof r === 'object' &&
    (EXPERIMENT_IDS as readonly string[]).includes(r.experiment) &&
    Array.isArray(r.variantOrder) &&
    Array.isArray(r.curves) &&
    Array.isArray(r.seeds) &&
    typeof r.variants === 'object' &&
    r.variantOrder.every((v) => typeof v === 'string' && !!r.variants[v])
  )
}

export function useBenchmarksExperiments() {
  const lab = useLab()
  const session = useSession(lab)
  const job = useJob(lab)
  const { inputs, selections, view } = ((d) => ({ inputs: reactive(d.inputs), selections: reactive(d.selections), view: reactive(d.view) }))(defaults())
  const live = shallowRef<LossCurve[]>([])
  const liveSteps = ref<number | undefined>(undefined)
  const result = shallowRef<ExperimentResult | null>(null)
  const lastModel = shallowRef<ModelRef | null>(null) // experiments train their own models
  const lastRun = shallowRef<LastRun | null>(null)
  /** the session the running experiment records into */
  const runSessionId = ref<string | null>(null)
  const metric = computed({ get: () => selections.metric, set: (value: string) => (selections.metric = value) })
  const ablationTable = shallowRef<PublishedTable | null>(null)
  // The stored result is shown as it was; an experiment is never retrained on its own when it is missing.
  useWorkspacePersistence('experiments', { inputs, selections, view, lastResult: result, lastModel, lastRun, defaults, isResult: isExperimentResult, recompute: () => undefined })
  // immediate: a result restored while the section is being set up must get the paper's table too
  watch(
    result,
    (value) => {
      if (value) void loadAblationTable()
    },
    { immediate: true },
  )

  // Earlier experiment results of this session (newest first); any can be shown again.
  const records = shallowRef<RunRecord[]>([])
  async function refreshRuns(): Promise<void> {
    const sessionId = session.state.current?.id
    if (!sessionId) return
    try {
      const runs = await lab.api.listRuns(sessionId)
      if (session.state.current?.id === sessionId) records.value = runs
    } catch {
      // the list is a convenience: the current result stays on screen
    }
  }
  watch(() => session.state.current?.id, () => void refreshRuns(), { immediate: true })
  const history = computed(() => experimentRuns(records.value, isExperimentResult))
  const shownRunId = computed(() => lastRun.value?.runId ?? '')
  function show(runId: string): void {
    const entry = history.value.find((h) => h.id === runId)
    if (!entry || job.state.running) return
    lastRun.value = { jobId: entry.jobId, runId: entry.id }
    result.value = entry.result
    Object.assign(inputs, { experiment: entry.result.experiment, budget: entry.result.budget, seeds: entry.result.seeds.length })
    if (!metricKeys(entry.result).includes(metric.value)) metric.value = defaultMetric(entry.result)
  }

  // useJob owns the job's own event route; the loss points come through the general subscription. An experiment
  // of this session started elsewhere (another window) is followed as soon as the lab announces it.
  const stop = useLabEvents(lab).onLabEvent((event) => {
    if (event.type === 'job') {
      if (event.job.method === 'runExperiment' && isActive(event.job) && !job.state.running && event.job.sessionId === session.state.current?.id) void reattach()
      return
    }
    if (event.type !== 'progress' || !event.training || event.jobId !== job.state.jobId || !job.state.running) return
    live.value = appendTrainingPoints(live.value, event.training.points)
    liveSteps.value = event.training.totalSteps
  })
  onBeforeUnmount(stop)

  /** Follows this session's running experiment, if the lab has one and this section is not running one. */
  let reattaching = false
  async function reattach(): Promise<void> {
    const sessionId = session.state.current?.id
    if (!sessionId || job.state.running || reattaching) return
    reattaching = true
    let found: JobInfo | undefined
    try {
      found = (await lab.api.listJobs()).find((j) => j.method === 'runExperiment' && j.sessionId === sessionId && isActive(j))
    } catch {
      // nothing to follow
    } finally {
      reattaching = false
    }
    if (!found || job.state.running || session.state.current?.id !== sessionId) return
    const params = found.params as Partial<typeof inputs> | undefined
    if (params?.experiment) Object.assign(inputs, { experiment: params.experiment, budget: params.budget ?? inputs.budget, seeds: params.seeds ?? inputs.seeds })
    live.value = (found.training?.curves ?? []).map((c) => ({
      variant: c.variant,
      seed: c.seed,
      points: c.losses.flatMap((loss, k): Array<[number, number]> => (typeof loss === 'number' ? [[k + 1, loss]] : [])),
      accuracy: c.accuracies.flatMap((acc, k): Array<[number, number]> => (typeof acc === 'number' ? [[k + 1, acc]] : [])),
    }))
    liveSteps.value = found.training?.totalSteps
    runSessionId.value = sessionId
    const ended = await job.attach(found)
    if (ended?.state !== 'done' || !ended.runId) return
    let value: unknown
    try {
      value = await lab.api.getRunResult(ended.runId)
    } catch {
      return // the run is in the "Shown" list
    }
    if (!isExperimentResult(value) || session.state.current?.id !== sessionId) return
    lastRun.value = { jobId: ended.jobId, runId: ended.runId }
    result.value = { ...value, runId: ended.runId }
    void refreshRuns()
    if (!metricKeys(value).includes(metric.value)) metric.value = defaultMetric(value)
    await loadAblationTable()
  }
  watch(() => session.state.current?.id, () => void reattach(), { immediate: true })

  const problem = computed(() =>
    Number.isInteger(inputs.seeds) && inputs.seeds >= 1 && inputs.seeds <= MAX_EXPERIMENT_SEEDS ? '' : `Seeds must be 1–${MAX_EXPERIMENT_SEEDS}.`,
  )

  async function loadAblationTable(): Promise<void> {
    if (ablationTable.value) return
    try {
      ablationTable.value = findTable(parsePublished(await lab.api.getPublishedResults()), 'deberta_base_ablation')
    } catch {
      // the comparison is optional: the lab's own numbers are shown without it
    }
  }

  async function run(): Promise<void> {
    if (problem.value) return
    const sessionId = session.state.current?.id
    const request = { experiment: inputs.experiment, budget: inputs.budget, seeds: inputs.seeds }
    live.value = []
    liveSteps.value = undefined
    let started = ''
    runSessionId.value = sessionId ?? null
    const value = await job.run((jobId) => {
      started = jobId
      return lab.api.runExperiment({ ...request, jobId, sessionId })
    })
    if (!value) return
    if (session.state.current?.id !== sessionId) {
      // The user opened another session meanwhile: the run is recorded in its own session; make it the result
      // that session's Experiments section shows when it is opened again.
      if (sessionId && value.runId) void saveForOtherSession(sessionId, request, { jobId: started, runId: value.runId }, defaultMetric(value))
      return
    }
    lastRun.value = { jobId: started, runId: value.runId }
    result.value = value
    void refreshRuns()
    if (!metricKeys(value).includes(metric.value)) metric.value = defaultMetric(value)
    await loadAblationTable()
  }

  /** The experiments state of another session, pointing at a run that finished while that session was closed. */
  async function saveForOtherSession(sessionId: string, request: typeof inputs, run: { jobId: string; runId: string }, metricKey: string): Promise<void> {
    try {
      await lab.api.saveWorkspaceState({
        sessionId,
        workspace: 'experiments',
        state: workspaceState({ inputs: request, selections: { metric: metricKey, curve: 'loss' }, view: {}, model: null, lastRun: run }),
      })
    } catch {
      // the run itself is recorded; only the pointer to it is missing (it is in the "Shown" list)
    }
  }

  /** The running experiment belongs to another session than the one open now. */
  const foreignRun = computed(() => job.state.running && runSessionId.value !== (session.state.current?.id ?? null))

  const lossOption = computed(() => {
    const measure = selections.curve
    if (job.state.running && !foreignRun.value) return live.value.length ? buildLossOption(live.value, { totalSteps: liveSteps.value, measure }) : null
    return result.value ? buildLossOption(curvesFromResult(result.value), { totalSteps: result.value.steps, measure }) : null
  })
  const metrics = computed(() => (result.value ? metricKeys(result.value) : []))
  const paper = computed(() => (result.value ? paperValues(result.value.experiment, result.value.variantOrder, ablationTable.value) : null))
  const summaryOption = computed(() => (result.value && metric.value ? buildExperimentSummaryOption(result.value, metric.value, paper.value) : null))
  const caption = computed(() => {
    const r = result.value
    if (!r) return ''
    const seeds = `${r.seeds.length} seed${r.seeds.length === 1 ? '' : 's'}`
    const spread = r.seeds.length === 1 ? 'one seed, so no spread is shown' : 'bars are means, whiskers ± one sample std'
    const base = `A tiny model (budget ${r.budget}, ${r.steps} steps) trained on generated data in this lab — ${seeds}, ${spread}; ${r.backend}, ${(r.milliseconds / 1000).toFixed(1)} s.`
    const paperNote = metric.value.endsWith('accuracy') && paper.value?.some((p) => p.value !== null)
      ? ' Orange bars: the paper\'s DeBERTa base ablation (Table 4, MNLI-m dev accuracy, 1M pre-training steps on Wikipedia + BookCorpus) for the corresponding rows — compare directions, not magnitudes.'
      : ''
    return base + paperNote
  })

  return { job, inputs, selections, problem, run, result, metric, metrics, lossOption, summaryOption, caption, history, shownRunId, show, foreignRun }
}
