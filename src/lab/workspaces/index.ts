// Every job the worker can run, by method name.
import type { JobHandler } from '../jobs'
import type { WorkerMethod } from '../protocol'
import { describeModel, tokenize } from './model'
import { spin } from './spin'

export const JOB_HANDLERS: Partial<Record<WorkerMethod, JobHandler<never, unknown>>> = {
  describeModel,
  tokenize,
  spin,
}
