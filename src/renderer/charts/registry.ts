// A window-level registry of the charts on screen, for end-to-end tests and debugging:
//   window.__debertaLabCharts[chartId] → { chartId, workspace, version, rendered, option, data }
// `data` is extractChartData(option): heat maps as {rowLabels, colLabels, values[i][j]}, other charts as
// {series: [{name, type, points: [{x, y}]}]} — the exact numbers the chart draws, to compare with the API.
import type { ChartOption } from './types'
import { extractChartData, type ChartData } from './data'

export interface ChartRegistryEntry {
  chartId: string
  workspace: string
  /** increases on every new option */
  version: number
  /** true once ECharts reported the current option fully drawn (progressive rendering included) */
  rendered: boolean
  readonly option: ChartOption
  readonly data: ChartData
}

declare global {
  interface Window {
    __debertaLabCharts?: Record<string, ChartRegistryEntry>
  }
}

function registry(): Record<string, ChartRegistryEntry> {
  window.__debertaLabCharts ??= {}
  return window.__debertaLabCharts
}

export function publishChart(chartId: string, workspace: string, option: ChartOption, version: number): ChartRegistryEntry {
  let cached: ChartData | undefined
  const entry: ChartRegistryEntry = {
    chartId,
    workspace,
    version,
    rendered: false,
    option,
    get data() {
      cached ??= extractChartData(option)
      return cached
    },
  }
  registry()[chartId] = entry
  return entry
}

export function unpublishChart(chartId: string, entry: ChartRegistryEntry | undefined): void {
  if (entry && registry()[chartId] === entry) delete registry()[chartId]
}
