// Browser mode: serves the built renderer and the LabApi over HTTP on 127.0.0.1 only.
//
// Security model (the page is as powerful as the desktop app, so the server must not be reachable by
// other sites or users):
// - bound to 127.0.0.1; a random 32-byte token per start, printed once in the URL;
// - every request must come with Host 127.0.0.1:PORT or localhost:PORT (DNS rebinding) and, when the
//   browser sends one, the server's own Origin — otherwise 403 before anything else happens;
// - every API call needs the token (header x-deberta-lab-token, or the HttpOnly SameSite=Strict cookie
//   set when the page is opened with ?token=) — otherwise 401; static assets need the cookie;
// - bodies are size-limited and every payload is validated (src/lab/validation.ts).
// Requests are JSON; an answer holding float32 matrices is sent in the binary result form
// (application/vnd.deberta-lab.result, src/common/result-codec.ts) when the request's Accept names it, else
// as JSON with the matrices as lists of numbers.
// Every request that fails is one line in the lab's log (src/lab/logger.ts); failures inside a lab method are
// logged by the lab itself.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { LabApi, LabEvent } from '../../common/api'
import { LabError, toErrorData, type Result } from '../../common/errors'
import { BINARY_RESULT_MIME, encodeResult, hasFloat32Arrays, typedArraysAsLists } from '../../common/result-codec'
import { NULL_LOGGER, type Logger } from '../../lab/logger'
import { callLab } from '../../lab/validation'

export const TOKEN_HEADER = 'x-deberta-lab-token'
/**
 * The page's cookie carries the port in its name: browsers scope cookies to the host, not the port, so a plain name
 * would reach any other server on 127.0.0.1 and a second `serve` would overwrite the first one's token.
 */
export const cookieName = (port: number): string => `deberta_lab_token_${port}`
const MAX_BODY_BYTES = 300 * 1024 * 1024

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
}

export interface LabServerOptions {
  lab: LabApi
  /** Folder with the built renderer (index.html + assets) */
  rendererDir: string
  port?: number
  /** Fixed token (tests); default: 32 random bytes, hex */
  token?: string
  /** one line per failed request; default: none */
  logger?: Logger
}

export interface LabServer {
  url: string
  port: number
  token: string
  server: Server
  close(): Promise<void>
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function cookieToken(request: IncomingMessage, cookie: string): string | undefined {
  const header = request.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === cookie) return rest.join('=')
  }
  return undefined
}

function send(response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  response.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    ...extra,
  })
  response.end(body)
}

function sendJson(response: ServerResponse, status: number, value: Result<unknown>): void {
  // Float32Arrays (result matrices) as lists of numbers, for clients that did not ask for the binary form
  const text = value.ok && hasFloat32Arrays(value.value) ? JSON.stringify(value, typedArraysAsLists) : JSON.stringify(value)
  send(response, status, text, 'application/json; charset=utf-8')
}

/** Whether the request's Accept header names the binary result form (browser mode's client sends it). */
function acceptsBinary(request: IncomingMessage): boolean {
  const accept = request.headers.accept ?? ''
  return accept.split(',').some((part) => part.split(';')[0].trim().toLowerCase() === BINARY_RESULT_MIME)
}

/** A successful answer holding Float32Arrays, in the binary form (result-codec.ts): the numbers are never text. */
function sendBinary(response: ServerResponse, value: Result<unknown>): void {
  const body = encodeResult(value)
  response.writeHead(200, {
    'content-type': BINARY_RESULT_MIME,
    'content-length': body.byteLength,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  })
  response.end(body)
}

async function readBody(request: IncomingMessage): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw new LabError('IMPORT_TOO_LARGE', `request body of ${declared} bytes is over the ${MAX_BODY_BYTES}-byte limit`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new LabError('IMPORT_TOO_LARGE', `request body is over the ${MAX_BODY_BYTES}-byte limit`)
    chunks.push(chunk as Buffer)
  }
  return decodeUtf8(Buffer.concat(chunks))
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The body as text; invalid UTF-8 is refused (decoding it leniently would store U+FFFD in its place). */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw new LabError('BAD_REQUEST', 'the request body is not valid UTF-8')
  }
}

/** A URL path with its %-escapes decoded, or undefined when they are not valid UTF-8 escapes. */
function decodePath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname)
  } catch {
    return undefined
  }
}

const STATUS_BY_CODE: Partial<Record<string, number>> = { BAD_REQUEST: 400, NOT_FOUND: 404, UNAUTHORIZED: 401, FORBIDDEN: 403, IMPORT_TOO_LARGE: 413 }

export async function startLabServer(options: LabServerOptions): Promise<LabServer> {
  const token = options.token ?? randomBytes(32).toString('hex')
  const logger = options.logger ?? NULL_LOGGER
  /** The request line as logged: method and path, never the query (it may carry the token). */
  const described = (request: IncomingMessage): string => `${request.method ?? '?'} ${(request.url ?? '/').split('?')[0].slice(0, 200)}`
  const rendererDir = resolve(options.rendererDir)
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new LabError('NOT_FOUND', `the renderer is not built (${join(rendererDir, 'index.html')} is missing): run npm run build`)
  }
  let port = 0
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`]
  const allowedOrigins = (): string[] => allowedHosts().map((host) => `http://${host}`)
  const eventClients = new Set<ServerResponse>()
  const unsubscribe = options.lab.onEvent((event: LabEvent) => {
    const data = `data: ${JSON.stringify(event)}\n\n`
    for (const client of eventClients) client.write(data)
  })

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.failure(`http 500 ${described(request)}`, error)
      if (!response.headersSent) sendJson(response, 500, { ok: false, error: toErrorData(error) })
      else response.destroy()
    })
  })

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // 1. Only our own host and origin (403 before anything else).
    const host = request.headers.host ?? ''
    const origin = request.headers.origin
    if (!allowedHosts().includes(host) || (origin !== undefined && !allowedOrigins().includes(origin))) {
      logger.warn(`http 403 ${described(request)}: foreign host or origin`, { host, origin })
      send(response, 403, 'forbidden: this server only answers its own page on 127.0.0.1')
      return
    }
    const url = new URL(request.url ?? '/', `http://${host}`)
    const queryToken = url.searchParams.get('token') ?? undefined
    const headerToken = request.headers[TOKEN_HEADER]
    const given = typeof headerToken === 'string' ? headerToken : undefined

    // 2. The API: token in the header (or the page's cookie; EventSource may use ?token=).
    if (url.pathname.startsWith('/api/')) {
      const authorised =
        sameToken(given, token) || sameToken(cookieToken(request, cookieName(port)), token) || (url.pathname === '/api/events' && sameToken(queryToken, token))
      if (!authorised) {
        logger.warn(`http 401 ${described(request)}: missing or wrong token`)
        sendJson(response, 401, { ok: false, error: { code: 'UNAUTHORIZED', message: 'missing or wrong token: open the URL printed by deberta-lab serve' } })
        return
      }
      if (url.pathname === '/api/events' && request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' })
        response.write(': connected\n\n')
        eventClients.add(response)
        request.on('close', () => eventClients.delete(response))
        return
      }
      if (request.method !== 'POST') {
        logger.info(`http 405 ${described(request)}`)
        sendJson(response, 405, { ok: false, error: { code: 'BAD_REQUEST', message: 'use POST for API calls' } })
        return
      }
      const type = request.headers['content-type'] ?? ''
      if (!type.startsWith('application/json')) {
        logger.info(`http 415 ${described(request)}`, { contentType: type })
        sendJson(response, 415, { ok: false, error: { code: 'BAD_REQUEST', message: 'content-type must be application/json' } })
        return
      }
      const method = url.pathname.slice('/api/'.length)
      let called = false
      try {
        const body = await readBody(request)
        let parsed: unknown
        try {
          parsed = JSON.parse(body || '{}')
        } catch {
          throw new LabError('BAD_REQUEST', 'the body is not valid JSON')
        }
        // callLab throws at once for an unknown method or bad arguments (a request error, logged here); what the
        // method itself throws is logged by the lab
        const pending = callLab(options.lab, method, (parsed as { args?: unknown })?.args ?? [])
        called = true
        const value = await pending
        if (acceptsBinary(request) && hasFloat32Arrays(value)) sendBinary(response, { ok: true, value })
        else sendJson(response, 200, { ok: true, value: value ?? null })
      } catch (error) {
        const data = toErrorData(error)
        // Expected failures (a bad checkpoint, a cancelled job) are answers, not HTTP errors.
        const status = STATUS_BY_CODE[data.code] ?? 200
        // the lab logs its own methods' failures; the call's own problems (body, JSON, arguments) are logged here
        if (!called) logger.failure(`http ${status} ${described(request)}`, error)
        sendJson(response, status, { ok: false, error: data })
      }
      return
    }

    // 3. The page: /?token=… sets the cookie; assets need the cookie.
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'method not allowed')
      return
    }
    const isPage = url.pathname === '/' || url.pathname === '/index.html'
    const extra: Record<string, string> = {}
    if (isPage && sameToken(queryToken, token)) {
      extra['set-cookie'] = `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`
    } else if (!sameToken(cookieToken(request, cookieName(port)), token)) {
      logger.warn(`http 401 ${described(request)}: no token cookie`)
      send(response, 401, 'unauthorised: open the URL printed by `deberta-lab serve` (it carries the token)')
      return
    }
    const decoded = isPage ? 'index.html' : decodePath(url.pathname)
    if (decoded === undefined) {
      logger.info(`http 400 ${described(request)}: malformed percent-encoding`)
      sendJson(response, 400, { ok: false, error: { code: 'BAD_REQUEST', message: 'the path holds a malformed %-escape' } })
      return
    }
    const relative = decoded.replace(/^\/+/, '')
    const file = normalize(join(rendererDir, relative))
    if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      send(response, 404, 'not found')
      return
    }
    response.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      ...extra,
    })
    if (request.method === 'HEAD') response.end()
    else createReadStream(file).pipe(response)
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen())
  })
  port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}/?token=${token}`
  return {
    url,
    port,
    token,
    server,
    async close() {
      unsubscribe()
      for (const client of eventClients) client.end()
      eventClients.clear()
      const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()))
      server.closeAllConnections()
      await closed
    },
  }
}
