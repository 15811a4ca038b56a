// Every job the worker can run, by method name.
import type { JobHandler } from '../jobs'
import type { WorkerMethod } from '../protocol'
import { attention } from './attention'
import { benchmark } from './benchmark'
import { decoding } from './decoding'
import { experiment } from './experiment'
import { describeModel, tokenize } from './model'
import { distanceProfile } from './distance-profile'
import { modelView } from './model-view'
import { problemDemo } from './problem-demo'
import { relativePositions } from './relative-positions'
import { spin } from './spin'

export const JOB_HANDLERS: Partial<Record<WorkerMethod, JobHandler<never, unknown>>> = {
  describeModel,
  tokenize,
  runProblemDemo: problemDemo,
  runAttention: attention,
  runRelativePositions: relativePositions,
  runModelView: modelView,
  runDistanceProfile: distanceProfile,
  runDecoding: decoding,
  runBenchmark: benchmark,
  runExperiment: experiment,
  spin,
}
