// Decoding: top-k predictions for every [MASK], from the plain MLM head and through the Enhanced Mask Decoder.
import { computed, reactive, watch } from 'vue'
import type { DecodingResult, ModelInfo, ModelRef } from '../../common/api'
import { TOY_EMD_PRESET_TEXT } from '../../common/toy-texts'
import { useLab } from '../lab-context'
import { buildTopKBarOption, sharedProbabilityMax, topKChartHeight } from '../charts/topk'
import { SERIES_COLORS } from '../charts/common'
import { useWorkspacePersistence } from '../composables/useWorkspacePersistence'
import { useWorkspaceRun } from '../composables/useWorkspaceRun'
import { DECODING_INPUT_FIELDS, changedKeys, compareInputs } from '../result-inputs'
import { compareViewDefaults } from '../composables/useComparison'
import { useDecodingComparison } from './useDecodingComparison'
import { ablationViewDefaults, useDecodingAblation } from './useDecodingAblation'

export interface DecodingPreset {
  text: string
  why: string
  /** 'toy': words of the bundled toy model's toy language; 'english': for English checkpoints */
  language: 'toy' | 'english'
}

/**
 * Sentences where the answer depends on where the mask is, not only on its neighbours. The first ones are in the
 * toy language of the bundled toy model (the default model; src/core/train/toy-language.ts); the others need an
 * English checkpoint.
 */
export const DECODING_PRESETS: readonly DecodingPreset[] = [
  {
    text: TOY_EMD_PRESET_TEXT,
    why: 'toy model — two “with the small [MASK]” slots with the same words within ±4 tokens, at tokens 32 and 45; in the toy language only absolute position decides their class (even token: an animal or person, odd token: a thing). The plain head (relative positions only) cannot tell them apart; the EMD adds the absolute positions',
    language: 'toy',
  },
  { text: 'the small [MASK] sees the small ball near the house', why: 'toy model — the paper’s “new store … new mall” example: subject and object share the context “the small”; only position says this slot is the subject (an animate noun)', language: 'toy' },
  { text: 'the small dog sees the small [MASK] near the house', why: 'toy model — the same context, the object slot: a thing, not an animal', language: 'toy' },
  { text: 'the old farmer [MASK] the red ball near the river', why: 'toy model — the verb must license the preposition four words later (“near”: sees or watches)', language: 'toy' },
  { text: 'the girl hides the box [MASK] the table', why: 'toy model — the preposition is fixed by the verb three words back (“hides” → behind)', language: 'toy' },
  { text: 'the small [MASK] sees the small [MASK] near the house', why: 'toy model — two masks with the same left context: each position gets its own predictions (subject, then object)', language: 'toy' },
  { text: 'a new [MASK] opened beside the new mall', why: 'English checkpoint — the paper’s example: “store” is the subject, “mall” the object, with the same local context “new”', language: 'english' },
  { text: 'a new store opened beside the new [MASK]', why: 'English checkpoint — the same sentence, masking the object instead of the subject', language: 'english' },
  { text: '[MASK] is the capital of France.', why: 'sentence-initial mask: only absolute position says there is nothing before it', language: 'english' },
  { text: 'the cat chased the [MASK] and the dog chased the cat.', why: 'two “chased the” contexts: which one is masked depends on its position', language: 'english' },
  { text: 'one, two, three, four, [MASK], six.', why: 'counting: the answer is fixed by the position in the list', language: 'english' },
  { text: 'he bought bread at the [MASK] and then went to the bank.', why: 'the first of two places in a clause', language: 'english' },
  { text: 'the [MASK] of the [MASK] was closed.', why: 'two masks: each position gets its own predictions', language: 'english' },
]

/**
 * The presets for a model: the toy language for the bundled toy model, English for everything else (released
 * checkpoints are English; a synthetic model is untrained, and its tokenizer reads English words).
 */
export function presetsFor(model: ModelRef, info: ModelInfo | null): readonly DecodingPreset[] {
  const toy = (info?.ref ?? model).kind === 'bundled'
  return DECODING_PRESETS.filter((p) => p.language === (toy ? 'toy' : 'english'))
}

const defaults = () => ({
  inputs: { text: DECODING_PRESETS[0].text, topK: 10 },
  selections: {},
  view: { ...compareViewDefaults(), ...ablationViewDefaults() },
})

export function isDecodingResult(value: unknown): value is DecodingResult {
  const r = value as DecodingResult | null
  return !!r && Array.isArray(r.tokens?.tokens) && Array.isArray(r.predictions)
}

export function useDecodingWorkspace() {
  const { api } = useLab()
  const run = useWorkspaceRun<DecodingResult>('Decoding')
  const d = defaults()
  const inputs = reactive(d.inputs)
  const selections = reactive(d.selections)
  const view = reactive(d.view)

  const maskToken = computed(() => run.info.value?.maskToken ?? '[MASK]')
  const hasMask = computed(() => inputs.text.includes(maskToken.value))

  const controlsRequest = () => ({ text: inputs.text, topK: Math.min(100, Math.max(1, Math.round(inputs.topK) || 10)) })
  function compute(withModel?: ModelRef | null): Promise<unknown> {
    const request = controlsRequest()
    return run.compute((common) => api.runDecoding({ ...common, ...request }), withModel, request)
  }
  const resultInputs = computed(() => (run.lastResult.value ? compareInputs(DECODING_INPUT_FIELDS, run.lastRequest.value, controlsRequest()) : []))
  const changed = computed(() => changedKeys(resultInputs.value))
  useWorkspacePersistence('decoding', { inputs, selections, view, lastResult: run.lastResult, lastModel: run.lastModel, lastRun: run.lastRun, lastRequest: run.lastRequest, loading: run.loadingStored, defaults, isResult: isDecodingResult, recompute: () => void compute(run.lastModel.value), onRestored: (restored) => void run.checkRestoredWeights(restored) })

  const noMlmHead = computed(() => run.job.state.error?.code === 'NO_MLM_HEAD' || run.job.state.error?.code === 'NO_MASK_TOKEN')
  /** Known before any run: the selected model was described without an MLM head (e.g. microsoft/deberta-v3-*). */
  const modelLacksHead = computed(() => run.info.value?.hasMlmHead === false)
  const presets = computed(() => presetsFor(run.model.value, run.info.value))
  // switching between the toy model and an English one: a preset of the other language is replaced by the first
  // preset of this one (a sentence the user wrote is kept)
  watch(
    presets,
    (now) => {
      if (DECODING_PRESETS.some((p) => p.text === inputs.text) && !now.some((p) => p.text === inputs.text)) inputs.text = now[0]?.text ?? inputs.text
    },
    { immediate: true },
  )
  /** One plain and one EMD chart per masked position, on a shared probability axis. */
  const charts = computed(() =>
    (run.lastResult.value?.predictions ?? []).map((p) => {
      const max = sharedProbabilityMax(p.plain, p.emd)
      const height = topKChartHeight(Math.max(p.plain.length, p.emd.length))
      return {
        position: p.position,
        height,
        plain: buildTopKBarOption(p.plain, { max, height, color: SERIES_COLORS[0] }),
        emd: buildTopKBarOption(p.emd, { max, height, color: SERIES_COLORS[1] }),
        predictions: p,
      }
    }),
  )

  const compare = useDecodingComparison({ view, lastResult: run.lastResult, lastRun: run.lastRun, lastRequest: run.lastRequest, isResult: isDecodingResult })
  const ablation = useDecodingAblation({ inputs, view, info: () => run.info.value })

  return { ...run, inputs, selections, view, compute, resultInputs, changed, maskToken, hasMask, noMlmHead, modelLacksHead, charts, presets, compare, ablation }
}
