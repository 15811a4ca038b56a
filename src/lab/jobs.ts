// What a compute job sees inside the worker thread. Workspace computations (src/lab/workspaces/*)
// are functions (context, request) → result that run there, off the event loop that serves windows.
import type { ModelInfo, ModelRef, TrainingProgress } from '../common/api'
import type { DebertaModel } from '../core/model'
import type { Tokenizer } from '../core/tokenizer'

/** A model loaded (or synthesised) in the worker, cached by ModelInfo.key. */
export interface LoadedLabModel {
  info: ModelInfo
  model: DebertaModel
  tokenizer: Tokenizer
}

export interface JobContext {
  readonly jobId: string
  /** Loads or returns the cached model for a reference. */
  getModel(ref: ModelRef): Promise<LoadedLabModel>
  /**
   * Reports progress in [0, 1] with a short message (throttled by the worker: calls less than 100 ms after the
   * last one sent are dropped unless fraction is 1). Training jobs attach the losses of the steps since.
   */
  progress(fraction: number, message: string, training?: TrainingProgress): void
  /** Throws LabError('CANCELLED') when the job was cancelled; call between steps. */
  checkCancelled(): void
  /** Yields to the worker's message loop so a cancel message can arrive; call in long loops. */
  yieldToEvents(): Promise<void>
  readonly backend: string
}

export type JobHandler<Req, Res> = (context: JobContext, request: Req) => Promise<Res>
