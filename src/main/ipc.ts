// Binds the transport-agnostic lab service to Electron IPC: one `lab:<method>` channel per registry method
// (LAB_METHODS in src/common/api.ts).
// Every call is checked twice before it reaches the lab: the sender frame must be the app's own page,
// and the payload must parse (src/lab/validation.ts). Errors return as data, { ok: false, error }.
import { LAB_API_METHODS, ipcChannel, type LabApi } from '../common/api'
import { LabError, toErrorData, type Result } from '../common/errors'
import { callLab } from '../lab/validation'

/** The part of Electron's ipcMain we use (a fake in tests). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => Promise<unknown>): void
  removeHandler(channel: string): void
}
export interface IpcEventLike {
  senderFrame?: { url: string } | null
}

export type SenderCheck = (url: string) => boolean

/** Wraps a handler: sender check, then the call, with every failure turned into error data. */
export function guarded(isTrusted: SenderCheck, run: (args: unknown[]) => Promise<unknown>) {
  return async (event: IpcEventLike, ...args: unknown[]): Promise<Result<unknown>> => {
    try {
      const url = event.senderFrame?.url
      if (!url || !isTrusted(url)) throw new LabError('FORBIDDEN', `IPC call from an untrusted frame (${url ?? 'unknown'})`)
      const value = await run(args)
      return { ok: true, value: value ?? null }
    } catch (error) {
      return { ok: false, error: toErrorData(error) }
    }
  }
}

export function bindLabApi(ipcMain: IpcMainLike, lab: LabApi, isTrusted: SenderCheck): () => void {
  for (const method of LAB_API_METHODS) {
    ipcMain.handle(
      ipcChannel(method),
      guarded(isTrusted, (args) => callLab(lab, method, args)),
    )
  }
  return () => {
    for (const method of LAB_API_METHODS) ipcMain.removeHandler(ipcChannel(method))
  }
}
