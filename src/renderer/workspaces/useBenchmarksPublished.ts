// The paper's published tables (GLUE, SuperGLUE with the human baseline, the base-model ablation) with
// their sources and the figures often quoted for them, checked against the sources.
import { computed, shallowRef } from 'vue'
import { toErrorData, type ErrorData } from '../../common/errors'
import { perLab, useLab } from '../lab-context'
import {
  buildPublishedTableOption,
  discrepanciesFor,
  findTable,
  parsePublished,
  sourceCaption,
  type PublishedChartOptions,
  type PublishedData,
  type SeedDiscrepancy,
} from '../charts/published'
import type { ChartOption } from '../charts/types'

export interface PublishedChartSpec {
  chartId: string
  tableId: string
  heading: string
  /** the benchmark label of the quoted figures ("GLUE: …") */
  prefix?: string
  options: PublishedChartOptions
}

export const PUBLISHED_CHARTS: readonly PublishedChartSpec[] = [
  { chartId: 'benchmarks-glue', tableId: 'deberta_glue_dev_large', heading: 'GLUE development set, large models', prefix: 'GLUE', options: {} },
  { chartId: 'benchmarks-superglue', tableId: 'superglue_test', heading: 'SuperGLUE test set, with the human baseline', prefix: 'SuperGLUE', options: { baselineModel: 'Human' } },
  {
    chartId: 'benchmarks-ablation',
    tableId: 'deberta_base_ablation',
    heading: 'Ablation of the base model (−EMD, −C2P, −P2C)',
    options: { models: ['DeBERTa_base', '-EMD', '-C2P', '-P2C', '-(EMD+C2P)', '-(EMD+P2C)'], style: 'dots' },
  },
]

export interface PublishedChart {
  spec: PublishedChartSpec
  option: ChartOption
  caption: { text: string; url?: string }
  notes: string | undefined
  discrepancies: SeedDiscrepancy[]
}

/** The paper's tables, read once per lab (undefined again after a failed read, to retry). */
const cacheOf = perLab(() => ({ published: undefined as Promise<PublishedData> | undefined }))

export function useBenchmarksPublished() {
  const lab = useLab()
  const cache = cacheOf(lab)
  const data = shallowRef<PublishedData | null>(null)
  const error = shallowRef<ErrorData | null>(null)

  async function load(): Promise<void> {
    error.value = null
    cache.published ??= lab.api.getPublishedResults().then(parsePublished)
    try {
      data.value = await cache.published
    } catch (caught) {
      cache.published = undefined
      error.value = toErrorData(caught)
    }
  }

  const charts = computed<PublishedChart[]>(() => {
    const published = data.value
    if (!published) return []
    return PUBLISHED_CHARTS.map((spec) => {
      const table = findTable(published, spec.tableId)
      return {
        spec,
        option: buildPublishedTableOption(table, spec.options),
        caption: sourceCaption(published, table),
        notes: table.metric_notes,
        discrepancies: discrepanciesFor(published, table, spec.prefix),
      }
    })
  })

  /** Quoted figures checked against the sources but not about any chart shown. */
  const otherDiscrepancies = computed(() => {
    const shown = new Set(charts.value.flatMap((c) => c.discrepancies))
    return (data.value?.discrepancies ?? []).filter((d) => !shown.has(d))
  })

  void load()
  return { data, error, load, charts, otherDiscrepancies }
}
