// Browser-mode transport: the real lab service behind the real HTTP server, called with node's fetch.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLabServer, TOKEN_HEADER, type LabServer } from '../../src/cli/server/http-server'
import { createLabService, type LabService } from '../../src/lab/service'

let dir: string
let lab: LabService
let server: LabServer

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-lab-http-'))
  const rendererDir = join(dir, 'renderer')
  mkdirSync(join(rendererDir, 'assets'), { recursive: true })
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>lab</title>')
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(dir, 'secret.txt'), 'secret')
  lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'browser' })
  server = await startLabServer({ lab, rendererDir })
})

afterAll(async () => {
  await server.close()
  await lab.close()
  rmSync(dir, { recursive: true, force: true })
})

const api = (method: string, args: unknown[], headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${server.port}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ args }),
  })

describe('browser-mode HTTP server', () => {
  it('prints a 127.0.0.1 URL with a 64-hex-digit token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/)
  })

  it('answers API calls that carry the token', async () => {
    const response = await api('createSession', [{ name: 'over http' }], { [TOKEN_HEADER]: server.token })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { ok: boolean; value: { name: string } }
    expect(body.ok).toBe(true)
    expect(body.value.name).toBe('over http')
  })

  it('refuses API calls without the token (401) and does not touch the store', async () => {
    const before = (await lab.listSessions()).length
    const response = await api('createSession', [{ name: 'intruder' }])
    expect(response.status).toBe(401)
    const wrong = await api('createSession', [{ name: 'intruder' }], { [TOKEN_HEADER]: 'f'.repeat(64) })
    expect(wrong.status).toBe(401)
    expect((await lab.listSessions()).length).toBe(before)
  })

  it('refuses foreign origins and hosts (403) even with the token', async () => {
    const before = (await lab.listSessions()).length
    const origin = await api('createSession', [{ name: 'csrf' }], { [TOKEN_HEADER]: server.token, origin: 'http://evil.example' })
    expect(origin.status).toBe(403)
    // fetch() will not forge Host: use a raw request, as a DNS-rebinding page would produce.
    const hostStatus = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ args: [{ name: 'rebind' }] })
      const request = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/api/createSession', method: 'POST', headers: { host: `evil.example:${server.port}`, 'content-type': 'application/json', [TOKEN_HEADER]: server.token, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        },
      )
      request.on('error', reject)
      request.end(body)
    })
    expect(hostStatus).toBe(403)
    expect((await lab.listSessions()).length).toBe(before)
  })

  it('validates payloads and names the problem', async () => {
    const response = await api('renameSession', [{ sessionId: 42 }], { [TOKEN_HEADER]: server.token })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { ok: boolean; error: { code: string; message: string } }
    expect(body.error.code).toBe('BAD_REQUEST')
    expect(body.error.message).toContain('renameSession')
    const unknown = await api('dropDatabase', [], { [TOKEN_HEADER]: server.token })
    expect(unknown.status).toBe(404)
  })

  it('serves the page only with the token, then assets with the cookie it set', async () => {
    const bare = await fetch(`http://127.0.0.1:${server.port}/`)
    expect(bare.status).toBe(401)
    const page = await fetch(server.url)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? ''
    expect(cookie).toMatch(new RegExp(`^deberta_lab_token_${server.port}=`)) // port in the name: browsers scope cookies by host only
    const asset = await fetch(`http://127.0.0.1:${server.port}/assets/app.js`, { headers: { cookie } })
    expect(asset.status).toBe(200)
    expect(await asset.text()).toBe('console.log(1)')
    const noCookie = await fetch(`http://127.0.0.1:${server.port}/assets/app.js`)
    expect(noCookie.status).toBe(401)
  })

  it('never serves files outside the renderer folder', async () => {
    const page = await fetch(server.url)
    const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? ''
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { cookie } })
      expect(response.status).toBe(404)
    }
  })

  it('streams events to authorised clients only', async () => {
    const refused = await fetch(`http://127.0.0.1:${server.port}/api/events`)
    expect(refused.status).toBe(401)
    const controller = new AbortController()
    const events = await fetch(`http://127.0.0.1:${server.port}/api/events?token=${server.token}`, { signal: controller.signal })
    expect(events.status).toBe(200)
    expect(events.headers.get('content-type')).toBe('text/event-stream')
    const reader = events.body!.getReader()
    const received: string[] = []
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        received.push(new TextDecoder().decode(value))
        if (received.join('').includes('session-changed')) break
      }
    })()
    await api('createSession', [{ name: 'evented' }], { [TOKEN_HEADER]: server.token })
    await reading
    controller.abort()
    expect(received.join('')).toContain('"type":"session-changed"')
  })

  it('answers a malformed %-escape in a path with a typed 400, not a 500', async () => {
    const page = await fetch(server.url)
    const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? ''
    for (const path of ['/%E0%A4%A', '/assets/%ZZ.js', '/%C0']) {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { cookie } })
      expect(response.status, path).toBe(400)
      const body = (await response.json()) as { ok: boolean; error: { code: string; message: string } }
      expect(body).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } })
      expect(body.error.message).toMatch(/%-escape/)
    }
  })

  it('refuses a body that is not valid UTF-8 (400) instead of storing U+FFFD', async () => {
    const before = (await lab.listSessions()).map((s) => s.name)
    const prefix = Buffer.from('{"args":[{"name":"bad ')
    const suffix = Buffer.from(' bytes"}]}')
    for (const invalid of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe0, 0x80, 0xaf]]) {
      const response = await fetch(`http://127.0.0.1:${server.port}/api/createSession`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: server.token },
        body: Buffer.concat([prefix, Buffer.from(invalid), suffix]),
      })
      expect(response.status).toBe(400)
      const body = (await response.json()) as { ok: boolean; error: { code: string; message: string } }
      expect(body.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/UTF-8/) })
    }
    const after = (await lab.listSessions()).map((s) => s.name)
    expect(after).toEqual(before)
    expect(after.some((name) => name.includes('\uFFFD'))).toBe(false)
    // Valid UTF-8 beyond ASCII still passes.
    const ok = await api('createSession', [{ name: 'café 𝔡' }], { [TOKEN_HEADER]: server.token })
    expect(((await ok.json()) as { value: { name: string } }).value.name).toBe('café 𝔡')
  })
})
