// Ablate and measure, in the Decoding workspace (where the masked-LM predictions are): remove a term or a whole
// head and compare each [MASK]'s predictions and the hidden states (runAblation), or remove every head in turn
// (runHeadImportance, a job with progress and cancel). Both run on the workspace's text, record their runs in the
// session (workspace "decoding") and keep the run ids in the workspace's saved view (`view.ablate`,
// `view.importance`), so opening a session brings them back without recomputing.
import { computed, watch } from 'vue'
import type { Ablation, AblationResult, AttentionTerm, HeadImportanceResult, MlmDecoder, ModelInfo } from '../../common/api'
import { useLab } from '../lab-context'
import { ablationLabel, buildAblationSlotsOption, buildImportanceOption, buildLayerChangeOption, importanceTable, type ImportanceSortKey } from '../charts/ablation'
import { useWorkspaceRun } from '../composables/useWorkspaceRun'
import { instrumentProvenance, restoreFromRunId } from './useAttentionInstruments'

export type AblationWhere = 'all' | 'layer' | 'head'

/** The instruments' part of the Decoding workspace's saved view. */
export const ablationViewDefaults = () => ({
  /** what the next ablation removes */
  ablation: { kind: 'head' as 'head' | 'term', term: 'c2p' as AttentionTerm, where: 'all' as AblationWhere, layer: 0, head: 0 },
  /** the ablation run on screen and the text it was computed with */
  ablate: { runId: '', jobId: '', text: '' },
  importance: { runId: '', jobId: '', text: '', decoder: 'plain' as MlmDecoder, sort: 'importance' as ImportanceSortKey },
})
export type AblationView = ReturnType<typeof ablationViewDefaults>

export interface DecodingWorkspaceParts {
  inputs: { text: string; topK: number }
  view: AblationView
  /** the current model (null before it is described) */
  info: () => ModelInfo | null
}

/** The ablation the controls describe (layer and head clamped to the model). */
export function ablationFromControls(c: AblationView['ablation'], shape: { layers: number; heads: number } | null): Ablation {
  const clamp = (v: number, n: number | undefined) => Math.max(0, Math.min((n ?? 1) - 1, Math.round(Number(v)) || 0))
  const layer = clamp(c.layer, shape?.layers)
  const head = clamp(c.head, shape?.heads)
  if (c.kind === 'head') return { kind: 'head', layer, head }
  if (c.where === 'all') return { kind: 'term', term: c.term }
  if (c.where === 'layer') return { kind: 'term', term: c.term, layer }
  return { kind: 'term', term: c.term, layer, head }
}

export function isAblationResult(value: unknown): value is AblationResult {
  const r = value as AblationResult | null
  return !!r && Array.isArray(r.slots) && Array.isArray(r.layerChange) && !!r.ablation && Array.isArray(r.tokens?.tokens)
}

export function isHeadImportanceResult(value: unknown): value is HeadImportanceResult {
  const r = value as HeadImportanceResult | null
  return !!r && Array.isArray(r.importance) && Array.isArray(r.deltas) && Array.isArray(r.references) && Array.isArray(r.tokens?.tokens)
}

export function useDecodingAblation(ws: DecodingWorkspaceParts) {
  const lab = useLab()
  const ablateRun = useWorkspaceRun<AblationResult>()
  const importanceRun = useWorkspaceRun<HeadImportanceResult>()
  restoreFromRunId(lab, () => ws.view.ablate, ablateRun, isAblationResult)
  restoreFromRunId(lab, () => ws.view.importance, importanceRun, isHeadImportanceResult)

  const shape = (): { layers: number; heads: number } | null => {
    const info = ws.info()
    return info ? { layers: info.layers, heads: info.heads } : null
  }
  const ablation = computed(() => ablationFromControls(ws.view.ablation, shape()))
  // keep the controls inside the model's range when the model changes
  watch(shape, (shape) => {
    if (!shape) return
    const a = ablation.value
    if (a.layer !== undefined) ws.view.ablation.layer = a.layer
    if (a.head !== undefined) ws.view.ablation.head = a.head
  })

  async function runAblation(): Promise<void> {
    const text = ws.inputs.text
    const request = { text, ablation: ablation.value, topK: Math.min(100, Math.max(1, Math.round(ws.inputs.topK) || 10)) }
    const result = await ablateRun.compute((common) => lab.api.runAblation({ ...common, ...request }))
    if (result) Object.assign(ws.view.ablate, { runId: result.runId ?? '', jobId: ablateRun.lastRun.value?.jobId ?? '', text })
  }

  async function runImportance(): Promise<void> {
    const text = ws.inputs.text
    const decoder = ws.view.importance.decoder
    const result = await importanceRun.compute((common) => lab.api.runHeadImportance({ ...common, text, decoder }))
    if (result) Object.assign(ws.view.importance, { runId: result.runId ?? '', jobId: importanceRun.lastRun.value?.jobId ?? '', text })
  }

  const ablateProvenance = computed(() => {
    const r = ablateRun.lastResult.value
    return r ? instrumentProvenance(r, ws.view.ablate.text, { ablation: ablationLabel(r.ablation), slots: r.maskPositions.join(' ') }, ablateRun.lastRun.value) : undefined
  })
  const slotsOption = computed(() => (ablateRun.lastResult.value ? buildAblationSlotsOption(ablateRun.lastResult.value, { provenance: ablateProvenance.value }) : null))
  const layerOption = computed(() => (ablateRun.lastResult.value ? buildLayerChangeOption(ablateRun.lastResult.value, { provenance: ablateProvenance.value }) : null))
  const importanceProvenance = computed(() => {
    const r = importanceRun.lastResult.value
    return r ? instrumentProvenance(r, ws.view.importance.text, { decoder: r.decoder, slots: r.maskPositions.join(' '), measured: r.references.map((x) => x.token).join(' ') }, importanceRun.lastRun.value) : undefined
  })
  const importanceOption = computed(() => (importanceRun.lastResult.value ? buildImportanceOption(importanceRun.lastResult.value, { provenance: importanceProvenance.value }) : null))
  const importanceRows = computed(() => (importanceRun.lastResult.value ? importanceTable(importanceRun.lastResult.value, ws.view.importance.sort).rows : []))

  /** the model a shown result was computed with, when it is not the current one (results restored from a session included) */
  const otherModel = (result: { model: ModelInfo } | null): string | null => {
    const info = ws.info()
    return result && info && result.model.key !== info.key ? result.model.label : null
  }
  const ablateStale = computed(() => otherModel(ablateRun.lastResult.value))
  const importanceStale = computed(() => otherModel(importanceRun.lastResult.value))

  return { ablateStale, importanceStale, ablateRun, importanceRun, ablation, runAblation, runImportance, ablateProvenance, importanceProvenance, slotsOption, layerOption, importanceOption, importanceRows }
}
