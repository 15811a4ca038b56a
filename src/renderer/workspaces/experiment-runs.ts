// The session's finished experiment runs, for the Experiments section's "Shown" list: every result the lab
// recorded (newest first) can be put back on the charts without retraining.
import type { ExperimentResult } from '../../common/api'
import type { RunRecord } from '../../common/sessions'

export interface ExperimentRunEntry {
  id: string
  jobId: string
  label: string
  result: ExperimentResult
}

/** Finished experiment runs whose stored result passes `isResult`, newest first, labelled for a list. */
export function experimentRuns(records: readonly RunRecord[], isResult: (value: unknown) => value is ExperimentResult): ExperimentRunEntry[] {
  return records
    .filter((r) => r.workspace === 'experiments' && r.status === 'done' && isResult(r.result))
    .map((r) => {
      const result = r.result as ExperimentResult
      const when = new Date(r.createdAt)
      const date = Number.isNaN(when.getTime()) ? r.createdAt : when.toLocaleString()
      const jobId = typeof (r.config as { jobId?: unknown } | null)?.jobId === 'string' ? ((r.config as { jobId: string }).jobId) : ''
      const seeds = `${result.seeds.length} seed${result.seeds.length === 1 ? '' : 's'}`
      return { id: r.id, jobId, result, label: `${result.experiment} · ${result.budget} · ${seeds} · ${date}` }
    })
    .reverse()
}
