// Run-your-own speed benchmark: disentangled vs standard attention timed on this machine, stored as runs
// in the session, compared across runs, and set beside the FLOP model's prediction.
import { computed, reactive, ref, shallowRef, watch } from 'vue'
import type { BackendId, BenchmarkPart, BenchmarkResult, ModelRef } from '../../common/api'
import type { RunRecord } from '../../common/sessions'
import { toErrorData, type ErrorData } from '../../common/errors'
import { useLab } from '../lab-context'
import { appProvenance } from '../provenance'
import { buildBenchmarkOption, buildRunComparisonOption, type RunCurve } from '../charts/benchmark'
import { parseReferenceTimings, referencePointsFor } from '../../common/reference-timings'
import { useJob } from '../composables/useJob'
import { useSession } from '../composables/useSession'
import { useWorkspacePersistence } from '../composables/useWorkspacePersistence'
import type { LastRun } from '../workspace-state'

export const BENCH_PRESETS = ['tiny', 'xsmall', 'small', 'base', 'large'] as const
export const BENCH_SEQS = [32, 64, 128, 256, 512, 1024] as const
export const BENCH_PARTS: readonly BenchmarkPart[] = ['matmul', 'attention', 'layer', 'model']
type Preset = (typeof BENCH_PRESETS)[number]
type Variant = 'disentangled' | 'standard'

const defaults = () => ({
  inputs: {
    preset: 'xsmall' as Preset,
    seqs: [64, 128, 256, 512],
    parts: ['attention', 'layer'] as BenchmarkPart[],
    variants: ['disentangled', 'standard'] as Variant[],
    repeats: 3,
    /** backends to time, one run each (empty: the lab's own) */
    backends: [] as BackendId[],
  },
  selections: {
    part: 'attention' as BenchmarkPart,
    compareVariant: 'disentangled' as Variant,
    compareRunIds: [] as string[],
    /** reference timings the user typed or pasted (T:ms pairs or pytorch-reference.sh JSON lines) */
    referenceText: '',
    referenceName: 'HF PyTorch (same machine)',
  },
  view: {},
})

export function isBenchmarkResult(value: unknown): value is BenchmarkResult {
  const r = value as BenchmarkResult | null
  return !!r && Array.isArray(r.cases) && typeof r.backend === 'string'
}

/** The session's finished benchmark runs, newest first, as labelled curves. */
export function benchmarkRuns(records: RunRecord[]): Array<RunCurve & { id: string; createdAt: string }> {
  return records
    .filter((r) => r.workspace === 'benchmarks' && r.status === 'done' && isBenchmarkResult(r.result))
    .map((r) => {
      const result = r.result as BenchmarkResult
      const when = new Date(r.createdAt)
      return { id: r.id, createdAt: r.createdAt, cases: result.cases, label: `${result.backend} · ${result.preset} · ${Number.isNaN(when.getTime()) ? r.createdAt : when.toLocaleString()}` }
    })
    .reverse()
}

export function useBenchmarksRun() {
  const lab = useLab()
  /** the backends that load here (AppStatus.backends): a run times each chosen one in turn */
  const backends = ref<BackendId[]>([])
  lab.api.getStatus().then(
    (status) => (backends.value = status.backends ?? []),
    () => undefined,
  )
  const session = useSession(lab)
  const job = useJob(lab)
  const d = defaults()
  const inputs = reactive(d.inputs)
  const selections = reactive(d.selections)
  const view = reactive(d.view)
  const lastResult = shallowRef<BenchmarkResult | null>(null)
  const lastRun = shallowRef<LastRun | null>(null)
  const lastModel = shallowRef<ModelRef | null>(null)
  const records = shallowRef<RunRecord[]>([])
  const runsError = ref<ErrorData | null>(null)

  async function refreshRuns(): Promise<void> {
    const sessionId = session.state.current?.id
    if (!sessionId) return
    try {
      records.value = await lab.api.listRuns(sessionId)
      runsError.value = null
    } catch (error) {
      runsError.value = toErrorData(error)
    }
  }

  const problem = computed(() => {
    if (inputs.seqs.length === 0) return 'Choose at least one sequence length.'
    if (inputs.parts.length === 0) return 'Choose at least one part.'
    if (inputs.variants.length === 0) return 'Choose at least one attention variant.'
    if (!Number.isInteger(inputs.repeats) || inputs.repeats < 1 || inputs.repeats > 100) return 'Repeats must be 1–100.'
    return ''
  })

  /** The chosen backends that load here, in the lab's order (none chosen: the lab's own). */
  const chosenBackends = computed(() => backends.value.filter((b) => inputs.backends.includes(b)))

  /** Times each chosen backend in turn (one run each); the runs of one click are put side by side below. */
  async function run(): Promise<void> {
    if (problem.value) return
    const sessionId = session.state.current?.id
    const request = { preset: inputs.preset, seqs: [...inputs.seqs].sort((a, b) => a - b), parts: [...inputs.parts], variants: [...inputs.variants], repeats: inputs.repeats }
    const targets: Array<BackendId | undefined> = chosenBackends.value.length ? chosenBackends.value : [undefined]
    const runIds: string[] = []
    for (const backend of targets) {
      let started = ''
      const result = await job.run((jobId) => {
        started = jobId
        return lab.api.runBenchmark({ ...request, ...(backend ? { backend } : {}), jobId, sessionId })
      })
      if (!result || session.state.current?.id !== sessionId) return
      lastResult.value = result
      lastRun.value = { jobId: started, runId: result.runId }
      if (result.runId) runIds.push(result.runId)
      if (!result.cases.some((c) => c.part === selections.part)) selections.part = result.cases[0]?.part ?? selections.part
    }
    if (runIds.length > 1) selections.compareRunIds = runIds
    await refreshRuns()
  }

  useWorkspacePersistence('benchmarks', { inputs, selections, view, lastResult, lastModel, lastRun, defaults, isResult: isBenchmarkResult, recompute: () => undefined })
  watch(() => session.state.current?.id, () => void refreshRuns(), { immediate: true })

  const runs = computed(() => benchmarkRuns(records.value))
  const resultParts = computed(() => BENCH_PARTS.filter((p) => lastResult.value?.cases.some((c) => c.part === p)))
  const speedOption = computed(() => (lastResult.value ? buildBenchmarkOption(lastResult.value.cases, selections.part) : null))
  const reference = computed(() => parseReferenceTimings(selections.referenceText))
  const comparisonOption = computed(() => {
    const chosen = runs.value.filter((r) => selections.compareRunIds.includes(r.id))
    // a line timed for another part (pytorch-reference.sh --part attention) is not drawn against this one
    const points = referencePointsFor(reference.value.points, selections.part)
    const line = points.length ? { name: selections.referenceName.trim() || 'reference', points } : null
    return chosen.length ? buildRunComparisonOption(chosen, selections.part, selections.compareVariant, { reference: line }) : null
  })

  /** The speed chart's exports name the run: backend, preset, lengths, parts, variants, repeats. */
  const provenance = computed(() => {
    const r = lastResult.value
    if (!r) return null
    const parts = [...new Set(r.cases.map((c) => c.part))]
    const seqs = [...new Set(r.cases.map((c) => c.seq))].sort((a, b) => a - b)
    return { ...appProvenance({ backend: r.backend, preset: r.preset, seqs, parts, variants: [...new Set(r.cases.map((c) => c.variant))], shown: selections.part }), ...(r.runId ? { runId: r.runId } : {}) }
  })

  return { job, inputs, selections, lastResult, run, problem, runs, runsError, refreshRuns, resultParts, speedOption, comparisonOption, reference, backends, chosenBackends, provenance }
}
