// Metrics: (run, key, step) → value. NaN is stored as NULL (SQLite has no NaN); ±Infinity as REAL.
import { LabError } from '../../common/errors'
import type { LatestMetric, MetricPoint } from '../../common/sessions'
import type { StoreContext } from '../context'
import { LIMITS } from '../schemas'

interface MetricRow {
  run_id: string
  key: string
  step: number
  value: number | null
}

function toMetricPoint(row: MetricRow): MetricPoint {
  return { runId: row.run_id, key: row.key, step: row.step, value: row.value === null ? Number.NaN : row.value }
}

/** One value to log; step defaults to 0. */
export interface MetricInput {
  key: string
  step?: number
  value: number
}

export function validMetrics(points: readonly MetricInput[]): Array<Required<MetricInput>> {
  if (!Array.isArray(points)) throw new LabError('INPUT_INVALID', 'metrics must be an array')
  return points.map((p, i) => {
    const key = p?.key
    const step = p?.step ?? 0
    if (typeof key !== 'string' || key.length === 0 || key.length > LIMITS.metricKeyLength) {
      throw new LabError('INPUT_INVALID', `metric ${i}: key must be 1–${LIMITS.metricKeyLength} characters`)
    }
    if (!Number.isSafeInteger(step)) throw new LabError('INPUT_INVALID', `metric ${i} (${key}): step ${String(step)} is not an integer`)
    if (typeof p.value !== 'number') throw new LabError('INPUT_INVALID', `metric ${i} (${key}): value is not a number`)
    return { key, step, value: p.value }
  })
}

/** Upserts: logging the same (run, key, step) again replaces the value. */
export function writeMetrics(ctx: StoreContext, runId: string, points: ReadonlyArray<Required<MetricInput>>): void {
  const upsert = ctx.db.prepare(
    `INSERT INTO metrics (run_id, key, step, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value`,
  )
  for (const p of points) upsert.run(runId, p.key, p.step, Number.isNaN(p.value) ? null : p.value)
}

export function readMetrics(ctx: StoreContext, runId: string): MetricPoint[] {
  const rows = ctx.db.prepare('SELECT run_id, key, step, value FROM metrics WHERE run_id = ? ORDER BY key, step').all(runId) as MetricRow[]
  return rows.map(toMetricPoint)
}

export function readSessionMetrics(ctx: StoreContext, sessionId: string): MetricPoint[] {
  const rows = ctx.db
    .prepare(
      `SELECT m.run_id, m.key, m.step, m.value FROM metrics AS m JOIN runs AS r ON r.id = m.run_id
       WHERE r.session_id = ? ORDER BY r.created_at, r.rowid, m.key, m.step`,
    )
    .all(sessionId) as MetricRow[]
  return rows.map(toMetricPoint)
}

/** Latest (highest-step) value per key for each run, from the run_metrics_latest view. */
export function readLatestMetrics(ctx: StoreContext, runIds: readonly string[]): LatestMetric[] {
  if (runIds.length === 0) return []
  const stmt = ctx.db.prepare('SELECT run_id, key, step, value FROM run_metrics_latest WHERE run_id = ? ORDER BY key')
  return runIds.flatMap((id) => (stmt.all(id) as MetricRow[]).map(toMetricPoint))
}
