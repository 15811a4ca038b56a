// The Electron side of the renderer's lab. The preload exposes `window.deberta` (contextBridge): one function per
// registry method (LAB_METHODS), `onEvent(listener) → unsubscribe`, and the LabHost functions saveFile, openFile,
// pickModelFolder, setTitle (under `host`, or at the top level). Because a rejection crossing the contextBridge
// keeps only its message, a bridged method may instead resolve with the transport envelope {ok: true, value} |
// {ok: false, error}; both shapes are accepted here, and a rejection whose error carries a `code` keeps that code.
// Free of DOM types, so Node tests can drive it against the real preload and IPC binding.
import {
  fromRegistry,
  type LabApi,
  type LabApiMethod,
  type LabArgs,
  type LabEvent,
  type LabHost,
  type LabHostFunction,
  type LabMethodsOf,
  type LabResults,
} from '../common/api'
import { LabError, isErrorCode, toErrorData, type ErrorData } from '../common/errors'
import type { Lab } from './lab-context'

type BridgeMethods = LabMethodsOf<{ [M in LabApiMethod]: unknown }>
/** A bridged function: the call's own arguments; it resolves with the value or the envelope (see above). */
type BridgeHost = { [F in LabHostFunction]: (...args: Parameters<LabHost[F]>) => Promise<unknown> }
/** What the renderer accepts as `window.deberta`: the preload's LabBridge, or a bridge answering plain values. */
export type DebertaBridge = BridgeMethods & {
  onEvent(listener: (event: LabEvent) => void): () => void
  host?: BridgeHost
} & Partial<BridgeHost>

function isEnvelope(value: unknown): value is { ok: true; value: unknown } | { ok: false; error: ErrorData } {
  if (typeof value !== 'object' || value === null || typeof (value as { ok?: unknown }).ok !== 'boolean') return false
  const envelope = value as { ok: boolean; value?: unknown; error?: unknown }
  return envelope.ok ? 'value' in envelope : typeof envelope.error === 'object' && envelope.error !== null
}

/** Unwraps what a bridged call resolved or rejected with into a value or a LabError. */
async function unwrap<T>(call: () => Promise<unknown>): Promise<T> {
  let result: unknown
  try {
    result = await call()
  } catch (error) {
    const data = toErrorData(error)
    // A code may survive only inside the message ("SESSION_NOT_FOUND: …") after crossing the bridge.
    const match = /^(?:Error invoking remote method '[^']*': )?(?:\w*Error: )?([A-Z_]+): (.*)$/s.exec(data.message)
    if (data.code === 'INTERNAL' && match && isErrorCode(match[1])) throw new LabError(match[1], match[2])
    throw new LabError(data.code, data.message, data.details)
  }
  // what main's handler answered for this method (the lab's own result)
  if (!isEnvelope(result)) return result as T
  if (result.ok) return result.value as T
  const code = isErrorCode(result.error.code) ? result.error.code : 'INTERNAL'
  throw new LabError(code, result.error.message, result.error.details)
}

export function labFromBridge(bridge: DebertaBridge): Lab {
  const methods: BridgeMethods = bridge
  const api: LabApi = {
    ...fromRegistry<LabResults>(<M extends LabApiMethod>(method: M, args: LabArgs<M>) => unwrap<LabResults[M]>(() => methods[method](...args))),
    onEvent: (listener: (event: LabEvent) => void) => bridge.onEvent(listener),
  }
  const hostFunction = <F extends LabHostFunction>(name: F): BridgeHost[F] => {
    const topLevel: Partial<BridgeHost> = bridge
    const fn = bridge.host?.[name] ?? topLevel[name]
    if (!fn) throw new LabError('INTERNAL', `the preload does not provide host.${name}`)
    return fn
  }
  const host: LabHost = {
    kind: 'electron',
    saveFile: (request) => unwrap(() => hostFunction('saveFile')(request)),
    openFile: (request) => unwrap(() => hostFunction('openFile')(request)),
    pickModelFolder: () => unwrap(() => hostFunction('pickModelFolder')()),
    setTitle: (title) => unwrap(() => hostFunction('setTitle')(title)),
  }
  return { api, host }
}

