// Where an exported chart's numbers come from, written into its CSV and JSON (and, for the charts that draw it,
// into the PNG/SVG subtitle): the app and its version, the model (name, reference and the SHA-256 of its weights
// when the lab hashed them) and the inputs of the run. A chart carries it one way only: BaseChart's `provenance`
// prop, which the exports read; option builders that draw a subtitle are handed the same object.
import type { ModelInfo, ModelRef } from '../common/api'
import { APP_NAME, APP_VERSION } from '../common/version'
import type { ChartData } from './charts/data'

/**
 * Plain "key: value" provenance (the Attention instruments': model, text, tokens, layer, head, terms, run, app):
 * one "# key: value" CSV line and one subtitle item per entry, in order.
 */
export type ProvenanceEntries = Record<string, string>

/** A chart's provenance: a model result's (ExportProvenance) or plain entries. */
export type ChartProvenance = ExportProvenance | ProvenanceEntries

export function isExportProvenance(provenance: ChartProvenance): provenance is ExportProvenance {
  const inputs = (provenance as { inputs?: unknown }).inputs
  return typeof inputs === 'object' && inputs !== null && typeof (provenance as { appVersion?: unknown }).appVersion === 'string'
}

/** Entries as "key: value" lines of at most `width` characters (a chart's subtitle in PNG and SVG). */
export function provenanceLines(provenance: ProvenanceEntries, width = 110): string[] {
  const lines: string[] = []
  for (const [key, value] of Object.entries(provenance)) {
    const item = `${key}: ${value}`
    const last = lines.length - 1
    if (last >= 0 && lines[last].length + 3 + item.length <= width) lines[last] += ` · ${item}`
    else lines.push(item)
  }
  return lines
}

export interface ExportProvenance {
  app: string
  appVersion: string
  model: { name: string; ref: ModelRef; weightsSha256?: string } | null
  /** the request's inputs: text, layer, head, terms, … */
  inputs: Record<string, unknown>
  /** the session run that produced the result, when it was recorded */
  runId?: string
}

/** The provenance of a workspace result computed from `inputs` (null while nothing is on screen). */
export function resultProvenance(result: { model?: ModelInfo; runId?: string } | null, inputs: Record<string, unknown> | null, extra: Record<string, unknown> = {}): ExportProvenance | null {
  if (!result) return null
  const model = result.model
  const out: ExportProvenance = {
    app: APP_NAME,
    appVersion: APP_VERSION,
    model: model ? { name: model.label, ref: model.ref, ...(model.weightsSha256 ? { weightsSha256: model.weightsSha256 } : {}) } : null,
    inputs: { ...(inputs ?? {}), ...extra },
  }
  if (result.runId) out.runId = result.runId
  return out
}

/** One side of a two-model comparison: its result and the run on screen (for the run id when the result lacks one). */
export interface ComparedSide {
  result: { model: Pick<ModelInfo, 'label' | 'weightsSha256'>; runId?: string }
  run: { runId?: string } | null
}

/**
 * The provenance of a chart comparing model A with model B ("Compare with…"): both models (and the start of their
 * weights' SHA-256 when hashed, unless `weights` is false), the text (cut to 80 characters), the workspace's own
 * `entries`, both run ids and the app, in that order.
 */
export function comparisonProvenance(sides: { a: ComparedSide; b: ComparedSide }, text: string, entries: ProvenanceEntries, options: { weights?: boolean } = {}): ProvenanceEntries {
  const { a, b } = sides
  const weights = options.weights ?? true
  const sha = (model: ComparedSide['result']['model']): string | null => (weights && model.weightsSha256 ? `sha256 ${model.weightsSha256.slice(0, 16)}…` : null)
  const weightsA = sha(a.result.model)
  const weightsB = sha(b.result.model)
  return {
    model_a: a.result.model.label,
    ...(weightsA ? { weights_a: weightsA } : {}),
    model_b: b.result.model.label,
    ...(weightsB ? { weights_b: weightsB } : {}),
    text: text.length > 80 ? `${text.slice(0, 77)}…` : text,
    ...entries,
    run_a: a.result.runId ?? a.run?.runId ?? 'not recorded',
    run_b: b.result.runId ?? b.run?.runId ?? 'not recorded',
    app: `${APP_NAME} ${APP_VERSION}`,
  }
}

/** Provenance of a chart that is not a model result (published tables, benchmarks): the app version only. */
export function appProvenance(inputs: Record<string, unknown> = {}): ExportProvenance {
  return { app: APP_NAME, appVersion: APP_VERSION, model: null, inputs }
}

function flat(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.replace(/[\r\n]+/g, ' ')
}

/** "# key: value" lines that open a CSV export (pandas: read_csv(..., comment='#')). */
export function provenanceCsvLines(provenance: ChartProvenance): string[] {
  if (!isExportProvenance(provenance)) return Object.entries(provenance).map(([key, value]) => `# ${key}: ${flat(value)}`)
  const lines = [`# ${provenance.app} ${provenance.appVersion}`]
  if (provenance.model) {
    lines.push(`# model: ${flat(provenance.model.name)}`, `# model_ref: ${flat(provenance.model.ref)}`)
    const sha = provenance.model.weightsSha256 ?? (provenance.model.ref.kind === 'synthetic' ? 'none (synthetic model: its weights come from the seed in model_ref)' : 'unknown')
    lines.push(`# weights_sha256: ${sha}`)
  }
  for (const [key, value] of Object.entries(provenance.inputs)) if (value !== undefined) lines.push(`# ${key}: ${flat(value)}`)
  if (provenance.runId) lines.push(`# run_id: ${provenance.runId}`)
  return lines
}

export function csvWithProvenance(csv: string, provenance: ChartProvenance | null): string {
  return provenance ? `${provenanceCsvLines(provenance).join('\n')}\n${csv}` : csv
}

/** The JSON export: chart, workspace, time, provenance and the drawn data. */
export function exportJson(parts: { chartId: string; workspace: string; exportedAt: string; provenance: ChartProvenance | null; data: ChartData }): string {
  return JSON.stringify({ chartId: parts.chartId, workspace: parts.workspace, exportedAt: parts.exportedAt, provenance: parts.provenance, data: parts.data }, null, 1)
}
