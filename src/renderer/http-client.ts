// Browser mode (`deberta-lab serve`): the LabApi over HTTP (the page's LabHost is in browser-host.ts). Free of
// DOM types, so Node tests can call a real server with it.
//   call:   POST /api/<method>  body {"args": [...]}  header x-deberta-lab-token: <token>
//   answer: {ok: true, value} | {ok: false, error: {code, message}}  → resolves value | rejects LabError(code)
//           (an answer with float32 matrices comes in the binary result form, asked for with Accept; decoded to
//           Float32Array views of the response's bytes, see common/result-codec.ts)
//   events: EventSource GET /api/events?token=<token>, one LabEvent JSON per message
import { fromRegistry, type LabApi, type LabApiMethod, type LabArgs, type LabEvent, type LabResults } from '../common/api'
import { LabError, isErrorCode, type ErrorData } from '../common/errors'
import { BINARY_RESULT_MIME, decodeResult } from '../common/result-codec'

/** Largest request body sent with fetch keepalive (the browsers' limit is 64 KiB for all in-flight keepalive bodies). */
const KEEPALIVE_MAX_BODY = 60_000

export const TOKEN_HEADER = 'x-deberta-lab-token'

export interface HttpApiOptions {
  /** Origin (and optional path prefix) of the lab server, e.g. http://127.0.0.1:5173 */
  baseUrl: string
  /** The token from ?token= in the page URL; null relies on the HttpOnly cookie the server set */
  token: string | null
  fetch?: typeof fetch
  EventSource?: new (url: string) => EventSourceLike
}

export interface EventSourceLike {
  onmessage: ((message: MessageEvent) => void) | null
  onerror: ((event: Event) => void) | null
  close(): void
}

const STATUS_CODES: Record<number, ErrorData['code']> = { 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 413: 'IMPORT_TOO_LARGE' }

function errorFromEnvelope(error: unknown): LabError {
  const data = error as Partial<ErrorData> | undefined
  const code = isErrorCode(data?.code) ? data.code : 'INTERNAL'
  return new LabError(code, typeof data?.message === 'string' ? data.message : 'the lab answered with an error without a message', data?.details)
}

export function createHttpApi(options: HttpApiOptions): LabApi {
  const base = options.baseUrl.replace(/\/+$/, '')
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init))

  async function call<M extends LabApiMethod>(method: M, args: LabArgs<M>): Promise<LabResults[M]> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: `${BINARY_RESULT_MIME}, application/json` }
    if (options.token) headers[TOKEN_HEADER] = options.token
    let response: Response
    try {
      const body = JSON.stringify({ args })
      // keepalive lets a save sent while the page unloads (reload, tab closed) still reach the lab; browsers
      // allow it for bodies up to 64 KiB, which workspace states are far below
      const keepalive = method === 'saveWorkspaceState' && body.length < KEEPALIVE_MAX_BODY
      response = await doFetch(`${base}/api/${method}`, { method: 'POST', headers, body, credentials: 'same-origin', keepalive })
    } catch (error) {
      throw new LabError('INTERNAL', `the lab server did not answer (${(error as Error).message}); is \`deberta-lab serve\` still running?`)
    }
    let envelope: unknown
    if ((response.headers?.get('content-type') ?? '').split(';')[0].trim() === BINARY_RESULT_MIME) {
      try {
        envelope = decodeResult(new Uint8Array(await response.arrayBuffer()))
      } catch (error) {
        throw new LabError('INTERNAL', `unreadable binary answer from /api/${method} (HTTP ${response.status}): ${(error as Error).message}`)
      }
    }
    const text = envelope === undefined ? await response.text() : ''
    try {
      envelope ??= JSON.parse(text)
    } catch {
      const code = STATUS_CODES[response.status] ?? 'INTERNAL'
      throw new LabError(code, `HTTP ${response.status} from /api/${method}: ${text.slice(0, 300)}`)
    }
    const result = envelope as { ok?: unknown; value?: unknown; error?: unknown }
    // the server answered this method's result (it comes from the same LabApi implementation)
    if (result.ok === true) return result.value as LabResults[M]
    if (result.ok === false) throw errorFromEnvelope(result.error)
    throw new LabError('INTERNAL', `unexpected answer from /api/${method} (HTTP ${response.status})`)
  }

  const listeners = new Set<(event: LabEvent) => void>()
  let source: EventSourceLike | undefined
  function ensureEvents(): void {
    if (source) return
    const Source = options.EventSource ?? (globalThis.EventSource as unknown as NonNullable<HttpApiOptions['EventSource']>)
    const query = options.token ? `?token=${encodeURIComponent(options.token)}` : ''
    source = new Source(`${base}/api/events${query}`)
    source.onmessage = (message: MessageEvent) => {
      let event: LabEvent
      try {
        event = JSON.parse(String(message.data)) as LabEvent
      } catch {
        return
      }
      for (const listener of [...listeners]) listener(event)
    }
    // EventSource reconnects by itself after a network error; nothing to do here.
    source.onerror = () => undefined
  }

  return {
    ...fromRegistry<LabResults>(call),
    onEvent(listener: (event: LabEvent) => void) {
      listeners.add(listener)
      ensureEvents()
      return () => {
        listeners.delete(listener)
      }
    },
  }
}
