// The lab's log: levels from DEBERTA_LAB_LOG_LEVEL, a file beside the store, rotation by size, stack traces for
// INTERNAL errors only, nothing on stdout; the service logs its failures and the HTTP server one line per failed
// request.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LabError } from '../../src/common/errors'
import { startLabServer, TOKEN_HEADER } from '../../src/cli/server/http-server'
import { main } from '../../src/cli/index'
import { createFileLogger, logFileForStore, logLevelFromEnv, type Logger } from '../../src/lab/logger'
import { createLabService } from '../../src/lab/service'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-log-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const fixedNow = () => new Date('2026-01-02T03:04:05.678Z')

describe('lab logger', () => {
  it('writes the levels up to its own, one line each, with fields; INTERNAL failures keep their stack', () => {
    const file = join(dir, 'logs', 'lab.log')
    const log = createFileLogger({ file, level: 'info', now: fixedNow })
    log.debug('not written')
    log.info('started', { host: 'cli', store: '/a b/lab.sqlite' })
    log.warn('line\nbreak \u001b[31m')
    log.failure('tokenize', new LabError('TOKENIZER_NOT_FOUND', 'no tokenizer in /x'))
    log.failure('job', new LabError('CANCELLED', 'cancelled'))
    log.failure('openSession', new TypeError('cannot read properties of undefined'))
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines[0]).toBe('2026-01-02T03:04:05.678Z INFO  started host=cli store="/a b/lab.sqlite"')
    expect(lines[1]).toBe('2026-01-02T03:04:05.678Z WARN  line\\nbreak \\u001b[31m')
    expect(lines[2]).toBe('2026-01-02T03:04:05.678Z INFO  tokenize: no tokenizer in /x code=TOKENIZER_NOT_FOUND')
    expect(lines[3]).toBe('2026-01-02T03:04:05.678Z ERROR openSession: cannot read properties of undefined code=INTERNAL')
    expect(lines[4]).toMatch(/^ {4}at .*logger\.test\.ts/)
    expect(lines.filter((l) => l.includes('cancelled'))).toEqual([])
  })

  it('rotates past its size: lab.log → lab.log.1 → …, keeping a fixed number of files', () => {
    const file = join(dir, 'lab.log')
    const log = createFileLogger({ file, level: 'info', maxBytes: 200, filesKept: 2 })
    for (let k = 0; k < 40; k++) log.info(`event ${k} ${'x'.repeat(40)}`)
    expect(readdirSync(dir).sort()).toEqual(['lab.log', 'lab.log.1', 'lab.log.2'])
    for (const name of readdirSync(dir)) expect(readFileSync(join(dir, name)).length).toBeLessThanOrEqual(200)
    expect(readFileSync(file, 'utf8')).toContain('event 39 ')
  })

  it('takes its level from DEBERTA_LAB_LOG_LEVEL (default warn) and lives beside the store; never throws', () => {
    expect(logLevelFromEnv({ DEBERTA_LAB_LOG_LEVEL: 'DEBUG' })).toBe('debug')
    expect(logLevelFromEnv({ DEBERTA_LAB_LOG_LEVEL: 'loud' })).toBe('warn')
    expect(logLevelFromEnv({})).toBe('warn')
    expect(logFileForStore('/data/deberta-lab/lab.sqlite')).toBe('/data/deberta-lab/logs/lab.log')
    expect(logFileForStore(':memory:')).toBeNull()
    writeFileSync(join(dir, 'not-a-folder'), '')
    const broken = createFileLogger({ file: join(dir, 'not-a-folder', 'lab.log'), level: 'debug' })
    expect(() => broken.error('cannot be written')).not.toThrow()
  })
})

describe('logging in the lab and the HTTP server', () => {
  it('the CLI writes nothing of the log to stdout or stderr; the lab logs a failed call with its code in <store>/logs/lab.log', async () => {
    const storePath = join(dir, 'lab.sqlite')
    vi.stubEnv('DEBERTA_LAB_LOG_LEVEL', 'info')
    try {
      let stdout = ''
      let stderr = ''
      const code = await main(['sessions', 'show', 'no-such-session', '--store', storePath], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) })
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toBe('error [SESSION_NOT_FOUND]: no session no-such-session\n')
    } finally {
      vi.unstubAllEnvs()
    }
    const log = readFileSync(join(dir, 'logs', 'lab.log'), 'utf8')
    expect(log).toMatch(/INFO {2}lab started host=cli/)
    expect(log).toMatch(/INFO {2}findSessionId: no session no-such-session code=SESSION_NOT_FOUND/)
  })

  it('one line per failed HTTP request (never the token); the lab\'s own failures once', async () => {
    const lines: string[] = []
    const record = (level: string) => (message: string) => void lines.push(`${level} ${message}`)
    const logger: Logger = {
      level: 'debug',
      file: null,
      error: record('error'),
      warn: record('warn'),
      info: record('info'),
      debug: record('debug'),
      failure: (context, error) => void lines.push(`failure ${context}: ${(error as Error).message}`),
    }
    const rendererDir = join(dir, 'renderer')
    mkdirSync(rendererDir)
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html>')
    const lab = await createLabService({ storePath: join(dir, 'lab.sqlite'), resourcesDir: join(process.cwd(), 'resources'), host: 'browser', onFirstUse: true, logger })
    const server = await startLabServer({ lab, rendererDir, logger })
    try {
      const base = `http://127.0.0.1:${server.port}`
      const post = (method: string, body: string, headers: Record<string, string> = { [TOKEN_HEADER]: server.token }) =>
        fetch(`${base}/api/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
      expect((await post('listSessions', '{"args":[]}', {})).status).toBe(401)
      expect((await post('createSession', '{not json')).status).toBe(400)
      expect(await (await post('openSession', '{"args":["nope"]}')).json()).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } })
      const page = await fetch(`${base}/?token=${server.token}`)
      const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0]
      const malformed = await fetch(`${base}/%E0%A4%A`, { headers: { cookie } })
      expect(malformed.status).toBe(400)
      expect(lines).toEqual([
        'info lab started',
        'warn http 401 POST /api/listSessions: missing or wrong token',
        'failure http 400 POST /api/createSession: the body is not valid JSON',
        'failure openSession: no session nope',
        'info http 400 GET /%E0%A4%A: malformed percent-encoding',
      ])
      expect(lines.join('\n')).not.toContain(server.token)
    } finally {
      await server.close()
      await lab.close()
    }
    expect(existsSync(join(dir, 'logs'))).toBe(false)
  })

  it('an unexpected error in the compute worker is logged with the worker-side stack trace', async () => {
    const storePath = join(dir, 'lab.sqlite')
    const lab = await createLabService({ storePath, resourcesDir: join(process.cwd(), 'resources'), host: 'cli', onFirstUse: true, logger: createFileLogger({ file: join(dir, 'logs', 'lab.log'), level: 'warn' }) })
    try {
      await expect(lab.spin({ ms: 1, trap: true })).rejects.toMatchObject({ code: 'INTERNAL' })
    } finally {
      await lab.close()
    }
    const log = readFileSync(join(dir, 'logs', 'lab.log'), 'utf8')
    expect(log).toMatch(/ERROR job spin failed: RuntimeError: memory access out of bounds .* code=INTERNAL/)
    expect(log).toMatch(/\n {4}at .*spin\.ts/)
  })
})
