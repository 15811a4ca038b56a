// Two instruments of the Attention workspace: the model view (every layer × head summarised, click one to open
// it above) and attention by relative distance (one layer, each head or their mean). They run on the
// workspace's text and ablation, record their runs in the session (workspace "attention") and keep the run ids
// in the workspace's saved view (`view.modelView`, `view.distance`), so opening a session brings them back.
import { computed, watch } from 'vue'
import type { DistanceProfileResult, ModelViewResult } from '../../common/api'
import { APP_VERSION } from '../../common/version'
import { useLab, type Lab } from '../lab-context'
import { buildDistanceProfileOption } from '../charts/distance-profile'
import { buildModelViewOption } from '../charts/model-view'
import type { ProvenanceEntries } from '../provenance'
import { useWorkspaceRun } from '../composables/useWorkspaceRun'
import { useTheme } from '../composables/useTheme'
import type { LastRun } from '../workspace-state'
import { useInstrumentPython } from '../reproduce/useChartPython'

/** The instruments' part of the Attention workspace's saved view (defaults; see useAttentionWorkspace). */
export const instrumentViewDefaults = () => ({
  /** the run on screen, and the text and ablation it was computed with (for the exports' provenance) */
  modelView: { runId: '', jobId: '', text: '', ablation: '' },
  distance: { runId: '', jobId: '', text: '', ablation: '', layer: 0, head: 'mean' },
})

export type InstrumentView = ReturnType<typeof instrumentViewDefaults>

/** What the instruments read from the workspace. */
export interface AttentionWorkspaceParts {
  inputs: { text: string; layer: number; head: string; disabledTerms: string[]; p2p: boolean }
  view: InstrumentView & Record<string, unknown>
  lastResult: { value: unknown }
  compute(): Promise<unknown>
}

export function isModelViewResult(value: unknown): value is ModelViewResult {
  const r = value as ModelViewResult | null
  return !!r && Array.isArray(r.entropy) && Array.isArray(r.distance) && Array.isArray(r.shares) && !!r.thumbnails && Array.isArray(r.tokens?.tokens)
}

export function isDistanceProfileResult(value: unknown): value is DistanceProfileResult {
  const r = value as DistanceProfileResult | null
  return !!r && Array.isArray(r.distances) && Array.isArray(r.probability) && !!r.buckets && Array.isArray(r.tokens?.tokens)
}

/** What a chart's export names as its source: model, text, run, app. */
export function instrumentProvenance(result: { model: { label: string }; tokens: { tokens: string[] }; runId?: string }, text: string, extra: ProvenanceEntries, run: LastRun | null): ProvenanceEntries {
  return {
    model: result.model.label,
    text: text.length > 120 ? `${text.slice(0, 117)}…` : text,
    tokens: String(result.tokens.tokens.length),
    ...extra,
    run: result.runId ?? run?.runId ?? run?.jobId ?? 'not recorded',
    app: `DeBERTa Lab ${APP_VERSION}`,
  }
}

/**
 * Keeps an instrument's result in step with the run id in the saved view: after a session is opened, the run's
 * stored result is fetched (nothing is recomputed); an id the session does not hold leaves the instrument empty.
 */
export function restoreFromRunId<R>(lab: Lab, saved: () => { runId: string; jobId: string }, run: ReturnType<typeof useWorkspaceRun<R>>, isResult: (value: unknown) => value is R): void {
  watch(
    () => saved().runId,
    (runId) => {
      const shown = run.lastRun.value?.runId
      if (runId === (shown ?? '')) return
      if (!runId) {
        run.lastResult.value = null
        run.lastRun.value = null
        return
      }
      lab.api
        .getRunResult(runId)
        .then(
          (value) => {
            if (saved().runId !== runId || !isResult(value)) return
            run.lastResult.value = value
            run.lastRun.value = { jobId: saved().jobId, runId }
          },
          () => undefined,
        )
    },
    { immediate: true },
  )
}

export function useAttentionInstruments(ws: AttentionWorkspaceParts) {
  const lab = useLab()
  const { theme } = useTheme()
  const modelRun = useWorkspaceRun<ModelViewResult>()
  const distanceRun = useWorkspaceRun<DistanceProfileResult>()
  restoreFromRunId(lab, () => ws.view.modelView, modelRun, isModelViewResult)
  restoreFromRunId(lab, () => ws.view.distance, distanceRun, isDistanceProfileResult)

  const ablation = (): string => (ws.inputs.disabledTerms.length ? `without ${ws.inputs.disabledTerms.join(', ')}` : 'all terms') + (ws.inputs.p2p ? ', p2p on' : '')
  const request = () => ({ text: ws.inputs.text, disabledTerms: [...ws.inputs.disabledTerms] as never, p2p: ws.inputs.p2p })

  async function runModelView(): Promise<void> {
    const text = ws.inputs.text
    const terms = ablation()
    const result = await modelRun.compute((common) => lab.api.runModelView({ ...common, ...request() }))
    if (result) Object.assign(ws.view.modelView, { runId: result.runId ?? '', jobId: modelRun.lastRun.value?.jobId ?? '', text, ablation: terms })
  }

  async function runDistance(): Promise<void> {
    const text = ws.inputs.text
    const terms = ablation()
    const result = await distanceRun.compute((common) => lab.api.runDistanceProfile({ ...common, ...request(), layer: ws.view.distance.layer }))
    if (result) Object.assign(ws.view.distance, { runId: result.runId ?? '', jobId: distanceRun.lastRun.value?.jobId ?? '', text, ablation: terms })
  }

  /** Opens head (layer, head) in the workspace's main chart, and in the distance profile. */
  async function openHead(layer: number, head: number): Promise<void> {
    ws.inputs.layer = layer
    ws.inputs.head = String(head)
    ws.view.distance.head = String(head)
    if (distanceRun.lastResult.value && ws.view.distance.layer !== layer) {
      ws.view.distance.layer = layer
      void runDistance()
    } else {
      ws.view.distance.layer = layer
    }
    // with a result on screen the workspace re-runs by itself (auto-run); else compute it now
    if (!ws.lastResult.value || !ws.view.autoRun) await ws.compute()
  }

  /** what the charts' subtitles show and their exports write */
  const modelViewProvenance = computed(() => {
    const result = modelRun.lastResult.value
    return result ? instrumentProvenance(result, ws.view.modelView.text, { terms: ws.view.modelView.ablation }, modelRun.lastRun.value) : null
  })
  const modelViewOption = computed(() => {
    const result = modelRun.lastResult.value
    if (!result) return null
    const selected = ws.inputs.head === 'mean' ? null : { layer: ws.inputs.layer, head: Number(ws.inputs.head) }
    return buildModelViewOption(result, { selected, theme: theme.value, provenance: modelViewProvenance.value ?? undefined })
  })

  const distanceHead = computed<number | 'mean'>(() => {
    const head = ws.view.distance.head
    const result = distanceRun.lastResult.value
    if (head === 'mean' || !result) return 'mean'
    const n = Number(head)
    return Number.isInteger(n) && n >= 0 && n < result.heads ? n : 'mean'
  })
  const distanceProvenance = computed(() => {
    const result = distanceRun.lastResult.value
    return result ? instrumentProvenance(result, ws.view.distance.text, { layer: String(result.layer), head: String(distanceHead.value), terms: ws.view.distance.ablation }, distanceRun.lastRun.value) : null
  })
  const distanceOption = computed(() => {
    const result = distanceRun.lastResult.value
    if (!result) return null
    return buildDistanceProfileOption(result, distanceHead.value, { provenance: distanceProvenance.value ?? undefined })
  })

  const python = useInstrumentPython({ result: modelRun.lastResult, saved: () => ws.view.modelView }, { result: distanceRun.lastResult, saved: () => ws.view.distance })

  return { modelRun, distanceRun, runModelView, runDistance, openHead, modelViewOption, modelViewProvenance, distanceOption, distanceProvenance, distanceHead, ablation, python }
}
