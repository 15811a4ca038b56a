import { describe, expect, it } from 'vitest'
import { createHttpApi, TOKEN_HEADER, type EventSourceLike } from '../../src/renderer/http-client'
import { labFromBridge, type DebertaBridge } from '../../src/renderer/bridge-client'
import { takeToken } from '../../src/renderer/get-lab'
import { LAB_API_METHODS, type LabEvent } from '../../src/common/api'
import { LabError } from '../../src/common/errors'
import { base64ToBytes, bytesToBase64, dataUrlToBase64, textToBase64 } from '../../src/renderer/base64'

interface Call {
  url: string
  init: RequestInit
}

function fakeFetch(answer: (call: Call) => { status?: number; body: string }): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = []
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const call = { url, init }
    calls.push(call)
    const { status = 200, body } = answer(call)
    return new Response(body, { status })
  }) as unknown as typeof fetch
  return { fetch: fetchImpl, calls }
}

describe('HTTP LabApi client', () => {
  it('POSTs /api/<method> with {"args": [...]} and the token header, and resolves the value', async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: JSON.stringify({ ok: true, value: { sessionId: 's1', name: 'x' } }) }))
    const api = createHttpApi({ baseUrl: 'http://127.0.0.1:4000/', token: 'abc', fetch })
    await expect(api.renameSession({ sessionId: 's1', name: 'x' })).resolves.toEqual({ sessionId: 's1', name: 'x' })
    expect(calls[0].url).toBe('http://127.0.0.1:4000/api/renameSession')
    expect(calls[0].init.method).toBe('POST')
    expect((calls[0].init.headers as Record<string, string>)[TOKEN_HEADER]).toBe('abc')
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ args: [{ sessionId: 's1', name: 'x' }] })
  })

  it('rejects with a LabError carrying the code of {ok: false}', async () => {
    const { fetch } = fakeFetch(() => ({ body: JSON.stringify({ ok: false, error: { code: 'IMPORT_CONFLICT', message: 'exists', details: { sessionId: 's' } } }) }))
    const api = createHttpApi({ baseUrl: 'http://x', token: 't', fetch })
    const error = await api.importSession({ base64: 'AA==' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LabError)
    expect((error as LabError).code).toBe('IMPORT_CONFLICT')
    expect((error as LabError).details).toEqual({ sessionId: 's' })
  })

  it('maps a non-JSON HTTP error to its code', async () => {
    const { fetch } = fakeFetch(() => ({ status: 403, body: 'forbidden: this server only answers its own page' }))
    const error = (await createHttpApi({ baseUrl: 'http://x', token: 't', fetch }).getStatus().catch((e: unknown) => e)) as LabError
    expect(error.code).toBe('FORBIDDEN')
    expect(error.message).toContain('HTTP 403')
  })

  it('delivers events from /api/events?token= to every listener until unsubscribed', () => {
    const sources: Array<EventSourceLike & { url: string }> = []
    class FakeSource implements EventSourceLike {
      onmessage: ((message: MessageEvent) => void) | null = null
      onerror: ((event: Event) => void) | null = null
      constructor(public url: string) {
        sources.push(this)
      }
      close(): void {}
    }
    const api = createHttpApi({ baseUrl: 'http://x', token: 't k', fetch: fakeFetch(() => ({ body: '{}' })).fetch, EventSource: FakeSource })
    const seen: LabEvent[] = []
    const stop = api.onEvent((e) => seen.push(e))
    api.onEvent(() => undefined)
    expect(sources).toHaveLength(1)
    expect(sources[0].url).toBe('http://x/api/events?token=t%20k')
    const event: LabEvent = { type: 'progress', jobId: 'j', fraction: 0.5, message: 'half' }
    sources[0].onmessage?.({ data: JSON.stringify(event) } as MessageEvent)
    stop()
    sources[0].onmessage?.({ data: JSON.stringify(event) } as MessageEvent)
    expect(seen).toEqual([event])
  })
})

describe('Electron bridge adapter', () => {
  const bridge = (impl: (method: string, args: unknown[]) => Promise<unknown>): DebertaBridge => {
    const object: Record<string, unknown> = {}
    for (const method of [...LAB_API_METHODS, 'saveFile', 'openFile', 'pickModelFolder', 'setTitle']) {
      object[method] = (...args: unknown[]) => impl(method, args)
    }
    object.onEvent = () => () => undefined
    return object as unknown as DebertaBridge
  }

  it('accepts plain values and {ok} envelopes', async () => {
    const lab = labFromBridge(bridge(async (method) => (method === 'listSessions' ? { ok: true, value: [] } : { backend: 'cpu' })))
    await expect(lab.api.listSessions()).resolves.toEqual([])
    await expect(lab.api.getStatus()).resolves.toEqual({ backend: 'cpu' })
    expect(lab.host.kind).toBe('electron')
  })

  it('finds the host functions under bridge.host, as the preload exposes them', async () => {
    const titles: string[] = []
    const nested = { ...bridge(async () => null), setTitle: undefined, host: { setTitle: async (t: unknown) => ({ ok: true, value: titles.push(String(t)) && null }) } }
    await labFromBridge(nested as unknown as DebertaBridge).host.setTitle('x — DeBERTa Lab')
    expect(titles).toEqual(['x — DeBERTa Lab'])
  })

  it('turns {ok: false} and "CODE: message" rejections into LabErrors with the code', async () => {
    const lab = labFromBridge(
      bridge(async (method) => {
        if (method === 'openSession') return { ok: false, error: { code: 'SESSION_NOT_FOUND', message: 'gone' } }
        throw new Error("Error invoking remote method 'lab:runDecoding': Error: NO_MLM_HEAD: this checkpoint has no MLM head")
      }),
    )
    await expect(lab.api.openSession('x')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND', message: 'gone' })
    await expect(lab.api.runDecoding({} as never)).rejects.toMatchObject({ code: 'NO_MLM_HEAD', message: 'this checkpoint has no MLM head' })
  })
})

describe('token and base64 helpers', () => {
  it('takes ?token= out of the address bar and remembers it for the tab', () => {
    const store = new Map<string, string>()
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) } as unknown as Storage
    let replaced = ''
    const history = { state: null, replaceState: (_s: unknown, _t: string, url: string) => (replaced = url) } as unknown as History
    const location = { href: 'http://127.0.0.1:9/?token=secret&x=1#a' } as Location
    expect(takeToken(location, history, storage)).toBe('secret')
    expect(replaced).toBe('/?x=1#a')
    expect(takeToken({ href: 'http://127.0.0.1:9/' } as Location, history, storage)).toBe('secret')
  })

  it('round-trips bytes and reads data URLs', () => {
    const bytes = new Uint8Array(70_000).map((_, k) => k % 256)
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes)
    expect(dataUrlToBase64('data:image/png;base64,iVBORw0KGgo=')).toBe('iVBORw0KGgo=')
    expect(dataUrlToBase64('data:image/svg+xml;charset=UTF-8,%3Csvg%3E%C3%A9')).toBe(textToBase64('<svg>é'))
  })
})
