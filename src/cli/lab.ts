// The command line as a host of the lab service (as Electron main and browser mode are): every command opens the
// lab, calls it, and closes it. The store opens and the compute worker starts only when a command needs them.
import { randomUUID } from 'node:crypto'
import { LabError } from '../common/errors'
import { resolveAppPaths } from '../lab/paths'
import { createLabService, type LabService } from '../lab/service'
import { safeText } from './text'
import type { CliIo } from './types'

/** The exit code of a command stopped by SIGINT (128 + 2), as shells report it. */
export const EXIT_INTERRUPTED = 130

/** Runs `work` with a lab on the store `--store` names (else DEBERTA_LAB_STORE, else the user data folder). */
export async function withLab<T>(storeFlag: string | undefined, work: (lab: LabService) => Promise<T>): Promise<T> {
  const paths = resolveAppPaths({ storeFlag })
  const lab = await createLabService({ storePath: paths.storePath, resourcesDir: paths.resourcesDir, host: 'cli', onFirstUse: true })
  try {
    return await work(lab)
  } finally {
    await lab.close()
  }
}

/** Says so on stderr when the store was damaged and moved aside as it was opened. */
export async function noteStoreNotice(lab: LabService, io: CliIo): Promise<void> {
  const { path, notice } = await lab.storeInfo()
  if (notice) io.stderr(`note: the store at ${safeText(path)} was damaged (${safeText(notice.reason)}); it was moved to ${safeText(notice.movedTo)} and a fresh store was opened\n`)
}

/**
 * Runs one lab job under Ctrl-C: the first Ctrl-C cancels the job (it stops at its next step; `work` then rejects
 * with CANCELLED), a second one quits at once (Node's default). Resolves `{ interrupted: true }` when cancelled.
 */
export async function runInterruptible<T>(
  lab: LabService,
  io: CliIo,
  work: (jobId: string) => Promise<T>,
): Promise<{ interrupted: false; value: T } | { interrupted: true }> {
  const jobId = randomUUID()
  let done = false
  let interrupted = false
  const onSigint = (): void => {
    interrupted = true
    io.stderr('interrupt: stopping at the next step (Ctrl-C again to quit at once)\n')
    // the job may not have reached the worker yet: ask again until it is cancelled or over
    const cancel = async (): Promise<void> => {
      while (!done && !(await lab.cancelJob(jobId))) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    void cancel()
  }
  process.once('SIGINT', onSigint)
  try {
    const value = await work(jobId)
    return { interrupted: false, value }
  } catch (error) {
    if (interrupted && error instanceof LabError && error.code === 'CANCELLED') return { interrupted: true }
    throw error
  } finally {
    done = true
    process.removeListener('SIGINT', onSigint)
  }
}
