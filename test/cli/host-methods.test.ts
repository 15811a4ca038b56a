// The lab's host methods as the CLI uses them: the name lists the CLI shows equal the core's, the store opens and
// the worker starts only when a command needs them, and a job can be cancelled from the host.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/index'
import { startLabServer, TOKEN_HEADER } from '../../src/cli/server/http-server'
import { PRESETS } from '../../src/core/config'
import { BUDGETS, DEFAULT_SEEDS, EXPERIMENT_NAMES, MAX_CONFIG_SEEDS } from '../../src/core/train/experiments'
import { BENCH_PRESETS, TRAIN_BUDGETS, TRAIN_DEFAULT_SEEDS, TRAIN_EXPERIMENTS, TRAIN_MAX_SEEDS } from '../../src/lab/host-methods'
import { createLabService } from '../../src/lab/service'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deberta-host-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('lab host methods', () => {
  it('name the core\'s presets, experiments and budgets (the CLI shows them without importing core)', () => {
    expect([...BENCH_PRESETS].sort()).toEqual(Object.keys(PRESETS).sort())
    expect([...TRAIN_EXPERIMENTS]).toEqual([...EXPERIMENT_NAMES])
    expect([...TRAIN_BUDGETS]).toEqual([...BUDGETS])
    expect(TRAIN_DEFAULT_SEEDS).toBe(DEFAULT_SEEDS)
    expect(TRAIN_MAX_SEEDS).toBeLessThanOrEqual(MAX_CONFIG_SEEDS)
  })

  it('tokenize never opens the store; sessions never starts the worker', async () => {
    const storePath = join(dir, 'lab.sqlite')
    vi.stubEnv('DEBERTA_LAB_STORE', storePath)
    try {
      let stdout = ''
      const io = { stdout: (t: string) => void (stdout += t), stderr: () => undefined }
      expect(await main(['tokenize', resolve(__dirname, '../../resources/toy-deberta'), '--text', 'the old farmer', '--compact'], io)).toBe(0)
      expect(JSON.parse(stdout).tokens).toEqual(['[CLS]', 'the', 'old', 'farmer', '[SEP]'])
      expect(existsSync(storePath)).toBe(false)
    } finally {
      vi.unstubAllEnvs()
    }
    const lab = await createLabService({ storePath, resourcesDir: resolve(__dirname, '../../resources'), host: 'cli', onFirstUse: true, workerPath: join(dir, 'no-such-worker.js') })
    try {
      // a worker that cannot start is never noticed by session calls
      const session = await lab.createSession({ name: 'no worker needed' })
      expect((await lab.listAllSessions({ includeDeleted: false })).map((s) => s.id)).toEqual([session.id])
      expect(await lab.findSessionId(session.id.slice(0, 6))).toBe(session.id)
      await expect(lab.backendInfo()).rejects.toThrow()
    } finally {
      await lab.close()
    }
  })

  it('a host job is cancelled by its id: the bench stops at its next case with CANCELLED', async () => {
    const lab = await createLabService({ storePath: ':memory:', resourcesDir: resolve(__dirname, '../../resources'), host: 'cli', onFirstUse: true })
    try {
      const messages: string[] = []
      const running = lab.benchmarkCases(
        { preset: 'tiny', seqs: [8, 16, 32, 64, 128, 256], parts: ['attention', 'layer', 'model'], variants: ['disentangled', 'standard'], repeats: 50 },
        {
          jobId: 'bench-1',
          onProgress: (p) => {
            messages.push(p.message)
            if (messages.length === 2) void lab.cancelJob('bench-1')
          },
        },
      )
      await expect(running).rejects.toMatchObject({ code: 'CANCELLED' })
      expect(messages[0]).toMatch(/^tiny: /)
    } finally {
      await lab.close()
    }
  })

  it('are not reachable over HTTP (browser mode serves LabApi methods only): NOT_FOUND, nothing written', async () => {
    const rendererDir = join(dir, 'renderer')
    mkdirSync(rendererDir)
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html>')
    const storePath = join(dir, 'lab.sqlite')
    const lab = await createLabService({ storePath, resourcesDir: resolve(__dirname, '../../resources'), host: 'browser', onFirstUse: true })
    const server = await startLabServer({ lab, rendererDir })
    try {
      const session = await lab.createSession({ name: 'secret' })
      const target = join(dir, 'stolen.dlab')
      writeFileSync(target, 'mine')
      for (const [method, args] of [
        ['exportSessionToFile', [session.id, target]],
        ['purgeSession', [session.id]],
        ['forwardToFile', [{ dir: 'x', inputsFile: 'y', out: target }, { jobId: 'j' }]],
        ['logger', []],
      ] as const) {
        const response = await fetch(`http://127.0.0.1:${server.port}/api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TOKEN_HEADER]: server.token },
          body: JSON.stringify({ args }),
        })
        expect(response.status, method).toBe(404)
        expect(await response.json()).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
      }
      expect(readFileSync(target, 'utf8')).toBe('mine')
      expect((await lab.listSessions()).map((s) => s.id)).toEqual([session.id])
    } finally {
      await server.close()
      await lab.close()
    }
  })
})
