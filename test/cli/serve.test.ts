// `deberta-lab serve` argument and start-up errors: typed, with usage, and nothing left running.
import * as fs from 'node:fs'
import { createServer, type Server } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serveCommand } from '../../src/cli/commands/serve'

const io = { stdout: () => undefined, stderr: () => undefined }

describe('deberta-lab serve', () => {
  let tmp: string
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-serve-'))
  })
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

  it('refuses unknown options, stray arguments and bad ports with BAD_REQUEST/INPUT_INVALID and the usage', async () => {
    await expect(serveCommand.run(['--bogus'], io)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/Usage: deberta-lab serve/) })
    await expect(serveCommand.run(['extra'], io)).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/unexpected argument extra/) })
    await expect(serveCommand.run(['--port'], io)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(serveCommand.run(['--port', '1e3'], io)).rejects.toMatchObject({ code: 'INPUT_INVALID' })
  })

  it('a port already in use is a clear error and the command returns (the lab is closed, nothing keeps running)', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const started = Date.now()
      await expect(serveCommand.run(['--port', String(port), '--store', path.join(tmp, 'lab.sqlite')], io)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringMatching(new RegExp(`port ${port} is already in use`)),
      })
      expect(Date.now() - started).toBeLessThan(30_000)
    } finally {
      blocker.close()
    }
  }, 60_000)
})
