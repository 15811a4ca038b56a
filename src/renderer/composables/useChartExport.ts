// Chart export: PNG at 2× pixel ratio, SVG from an offscreen SVG-renderer instance, the chart's data as
// CSV and JSON with their provenance (app version, model, inputs) — saved through the host (dialog or
// download). PNG and SVG are also kept in the current session as chart snapshots (content-addressed by the
// lab, so exporting twice stores one copy).
import { ref, type ShallowRef } from 'vue'
import type { WorkspaceId } from '../../common/sessions'
import { toErrorData } from '../../common/errors'
import { echarts, type EChartsType } from '../charts/echarts'
import { chartDataToCsv, extractChartData, staticOption, stretchSvgImages } from '../charts/data'
import type { ChartOption } from '../charts/types'
import { useLab } from '../lab-context'
import { dataUrlToBase64, textToBase64 } from '../base64'
import { useSession } from './useSession'
import { appProvenance, csvWithProvenance, exportJson, type ChartProvenance } from '../provenance'
import { buildPythonScript, pythonNeedsWeights, type PythonExport } from '../reproduce/python-script'

export type ExportFormat = 'png' | 'svg' | 'csv' | 'json' | 'py'

/** A file name from the chart id: letters, digits, dashes. */
export function exportFileName(chartId: string, format: ExportFormat, date = new Date()): string {
  const stamp = date.toISOString().slice(0, 19).replace(/[:T]/g, '-')
  return `${chartId.replace(/[^A-Za-z0-9-]+/g, '-')}-${stamp}.${format}`
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback
}

export function useChartExport(props: { chartId: string; workspace: WorkspaceId; provenance?: ChartProvenance | null; python?: PythonExport | null }, chart: ShallowRef<EChartsType | null>, option: () => ChartOption | null, theme: () => string) {
  const lab = useLab()
  const session = useSession(lab)
  const status = ref('')
  const busy = ref(false)

  /** The script, or for a synthetic model a zip of the script and the model's weights as a folder (made by the lab). */
  async function python(): Promise<{ base64: string; mime: string; suggestedName?: string }> {
    if (!props.python) throw new Error('this chart has no Python reproduction')
    const script = buildPythonScript(props.python)
    if (!pythonNeedsWeights(props.python.model.ref)) return { base64: textToBase64(script), mime: 'text/x-python' }
    const name = exportFileName(props.chartId, 'py').replace(/\.py$/, '')
    const bundle = await lab.api.exportPythonBundle({ model: props.python.model.ref, script, name })
    return { base64: bundle.base64, mime: 'application/zip', suggestedName: bundle.fileName }
  }

  function render(format: ExportFormat): { base64: string; mime: string } {
    const current = option()
    if (!current) throw new Error('nothing to export yet')
    if (format === 'png') {
      if (!chart.value) throw new Error('the chart is not on screen')
      const url = chart.value.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: cssVar('--chart-bg', '#ffffff') })
      return { base64: dataUrlToBase64(url), mime: 'image/png' }
    }
    if (format === 'svg') {
      const width = chart.value?.getWidth() || 800
      const height = chart.value?.getHeight() || 500
      const offscreen = echarts.init(null, theme(), { renderer: 'svg', ssr: true, width, height })
      try {
        offscreen.setOption({ ...staticOption(current), backgroundColor: cssVar('--chart-bg', '#ffffff') })
        return { base64: textToBase64(stretchSvgImages(offscreen.renderToSVGString())), mime: 'image/svg+xml' }
      } finally {
        offscreen.dispose()
      }
    }
    const data = extractChartData(current)
    const provenance = props.provenance ?? appProvenance()
    if (format === 'csv') return { base64: textToBase64(csvWithProvenance(chartDataToCsv(data), provenance)), mime: 'text/csv' }
    const json = exportJson({ chartId: props.chartId, workspace: props.workspace, exportedAt: new Date().toISOString(), provenance, data })
    return { base64: textToBase64(json), mime: 'application/json' }
  }

  async function exportAs(format: ExportFormat): Promise<void> {
    busy.value = true
    status.value = ''
    try {
      const { base64, mime, suggestedName } = format === 'py' ? await python() : { ...render(format), suggestedName: undefined }
      const saved = await lab.host.saveFile({ suggestedName: suggestedName ?? exportFileName(props.chartId, format), mime, base64 })
      const parts = [saved.saved ? (saved.path ? `saved to ${saved.path}` : `${format === 'py' ? 'Python script' : format.toUpperCase()} saved`) : 'not saved']
      const current = session.state.current
      if ((format === 'png' || format === 'svg') && current) {
        const { sha256 } = await lab.api.saveChartSnapshot({ sessionId: current.id, workspace: props.workspace, chartId: props.chartId, format, base64 })
        parts.push(`kept in session (${sha256.slice(0, 8)})`)
      }
      status.value = parts.join(' · ')
    } catch (error) {
      status.value = `export failed: ${toErrorData(error).message}`
    } finally {
      busy.value = false
    }
  }

  return { exportAs, status, busy }
}
