// Process environment for the native TensorFlow backend (tfjs-node). No tfjs import here, so the Electron main
// process can call it before it starts the compute worker: libtensorflow reads the process environment, and a
// worker thread's process.env is a private copy that never reaches it.

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
