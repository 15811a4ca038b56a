// Process environment for the native TensorFlow backend (tfjs-node). No tfjs import here, so the Electron main
// process can call it before it starts the compute worker: libtensorflow reads the process environment, and a
// worker thread's process.env is a private copy that never reaches it.
import { availableParallelism } from 'node:os'

/** True when the user asked for debug output (DEBERTA_LAB_DEBUG set to anything but "" or "0"). */
export function debugOutputRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.DEBERTA_LAB_DEBUG
  return value !== undefined && value !== '' && value !== '0'
}

/**
 * Keeps libtensorflow's start-up INFO and WARNING lines (cpu_feature_guard and the like) off stderr unless debug
 * output is requested; a TF_CPP_MIN_LOG_LEVEL the user set stays as it is. Call before tfjs-node is loaded.
 */
export function quietTensorflowLogs(env: NodeJS.ProcessEnv = process.env): void {
  if (debugOutputRequested(env)) return
  env.TF_CPP_MIN_LOG_LEVEL ??= '2'
}

/**
 * Split forwards (src/core/split.ts): DEBERTA_LAB_SPLIT=0 turns them off, any other value forces them on every
 * batched model, unset (or "") leaves the choice to the lab: on for tensorflow when there are two cores or more.
 */
export type SplitMode = 'off' | 'on' | 'auto'

export function splitMode(env: NodeJS.ProcessEnv = process.env): SplitMode {
  const value = env.DEBERTA_LAB_SPLIT
  if (value === undefined || value === '') return 'auto'
  return value === '0' ? 'off' : 'on'
}

/**
 * With split forwards each of the two threads runs TensorFlow's kernels on one intra-op thread (the split is the
 * parallelism; measured base T = 512: split 1273 ms with one intra-op thread, 1494 with TF's default two).
 * Unless split forwards are off or there is one core; a TF_NUM_INTRAOP_THREADS the user set stays. Call before
 * tfjs-node is loaded.
 */
export function tensorflowThreads(env: NodeJS.ProcessEnv = process.env, cores: number = availableParallelism()): void {
  if (splitMode(env) !== 'off' && cores >= 2) env.TF_NUM_INTRAOP_THREADS ??= '1'
}
