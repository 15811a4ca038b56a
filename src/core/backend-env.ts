// Process environment for the native TensorFlow backend (tfjs-node). No tfjs import here, so the Electron main
// process can call it before it starts the compute worker: libtensorflow reads the process environment, and a
// worker thread's process.env is a private copy that never reaches it.
import { availableParallelism } from 'node:os'
import { setFlagsFromString } from 'node:v8'

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

/**
 * Makes ArrayBuffer.prototype.transfer (ES2024) available to the worker threads started after this call, on a Node
 * whose V8 ships it behind a flag (Node 20: `--harmony-rab-gsab-transfer`; Node 22+, as in Electron, has it
 * anyway). The split forward (src/core/split.ts) frees each exchanged partial's buffer with it at once: tfjs-node
 * reads a tensor into a new ArrayBuffer (base, T = 512: 24 of 1.5 MB per forward on each thread), and left to the
 * GC that external memory triggered ~3 full collections per forward, each stalling both threads. Measured (CLI
 * bench, base, T = 512, split, two rounds): 701 / 731 → 669 / 672 ms; the compute thread's mark-compacts 49–51 →
 * 32–33 over the same runs. The calling thread keeps its own realm as it was (a realm reads the flag when created).
 */
export function enableArrayBufferTransfer(): void {
  if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function') return
  setFlagsFromString('--harmony-rab-gsab-transfer')
}

/** Frees an ArrayBuffer's memory now (detaching it) where ArrayBuffer.prototype.transfer exists; else leaves it to the GC. */
export function releaseBuffer(buffer: ArrayBufferLike): boolean {
  const transfer = (buffer as { transfer?: (length: number) => ArrayBuffer }).transfer
  if (typeof transfer !== 'function' || buffer instanceof SharedArrayBuffer) return false
  transfer.call(buffer, 0)
  return true
}
