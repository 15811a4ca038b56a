// Every job the worker can run, by method name: one handler per registry method of kind compute or job
// (src/common/api.ts LAB_METHODS), typed by that method's request and result; a missing one fails to compile.
import type { JobContext, JobHandler } from '../jobs'
import type { WorkerMethod, WorkerRequests, WorkerValues } from '../protocol'
import { ablation, headImportance } from './ablation'
import { attention } from './attention'
import { benchmark } from './benchmark'
import { decoding } from './decoding'
import { corpus } from './corpus'
import { corpusPairs } from './corpus-pairs'
import { experiment } from './experiment'
import { benchCases, forwardToFile, prepareExperiment, tokenizeFolder } from './host-jobs'
import { describeModel, tokenize } from './model'
import { distanceProfile } from './distance-profile'
import { modelView } from './model-view'
import { problemDemo } from './problem-demo'
import { relativePositions } from './relative-positions'
import { spin } from './spin'
import { pythonBundle } from './python-bundle'

export const JOB_HANDLERS: { [M in WorkerMethod]: JobHandler<WorkerRequests[M], WorkerValues[M]> } = {
  describeModel,
  tokenize,
  runProblemDemo: problemDemo,
  runAttention: attention,
  runRelativePositions: relativePositions,
  runModelView: modelView,
  runDistanceProfile: distanceProfile,
  runCorpus: corpus,
  runCorpusPairs: corpusPairs,
  runDecoding: decoding,
  runAblation: ablation,
  runHeadImportance: headImportance,
  runBenchmark: benchmark,
  runExperiment: experiment,
  spin,
  tokenizeFolder,
  forwardToFile,
  benchCases,
  prepareExperiment,
  exportPythonBundle: pythonBundle,
}

/** Runs the handler of `method` on its request. */
export function runJobHandler<M extends WorkerMethod>(method: M, context: JobContext, request: WorkerRequests[M]): Promise<WorkerValues[M]> {
  const handler: JobHandler<WorkerRequests[M], WorkerValues[M]> = JOB_HANDLERS[method]
  return handler(context, request)
}
