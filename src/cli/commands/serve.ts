// `deberta-lab serve`: browser mode — the same renderer and LabApi over HTTP on 127.0.0.1.
import { LabError } from '../../common/errors'
import { createLabService } from '../../lab/service'
import { resolveAppPaths } from '../../lab/paths'
import { integerOption, parseCommandArgs, pathOption } from '../args'
import { startLabServer } from '../server/http-server'
import { safeText } from '../text'
import type { CliCommand } from '../types'

const USAGE = `Usage: deberta-lab serve [--port N] [--store PATH]

Starts browser mode: serves the lab's renderer and API on 127.0.0.1 and prints one line,
  DeBERTa Lab: http://127.0.0.1:PORT/?token=TOKEN
Open that URL (the token is random per start; requests without it are refused). Ctrl+C stops.

Options:
  --port N       port to listen on (default 0: any free port)
  --store PATH   experiment store file (default: DEBERTA_LAB_STORE, else the XDG data folder)`

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'browser mode: serve the lab on 127.0.0.1 for a browser',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { port: { type: 'string', default: '0' }, store: { type: 'string' } }, USAGE)
    if (positionals.length > 0) throw new LabError('BAD_REQUEST', `unexpected argument ${positionals[0]}\n\n${USAGE}`)
    const port = integerOption(values.port, '--port', 0, { min: 0, max: 65535 })
    const paths = resolveAppPaths({ storeFlag: pathOption(values.store, '--store') })
    const lab = await createLabService({ storePath: paths.storePath, resourcesDir: paths.resourcesDir, host: 'browser' })
    let server: Awaited<ReturnType<typeof startLabServer>>
    try {
      server = await startLabServer({ lab, rendererDir: paths.rendererDir, port, logger: lab.logger })
    } catch (error) {
      // e.g. the port is taken: stop the lab (its worker thread would keep the process alive) and say so
      await lab.close()
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE') throw new LabError('BAD_REQUEST', `port ${port} is already in use: choose another with --port, or 0 for any free port`)
      if (code === 'EACCES') throw new LabError('BAD_REQUEST', `port ${port} needs privileges: choose a port above 1023, or 0 for any free port`)
      throw error
    }
    io.stdout(`DeBERTa Lab: ${server.url}\n`)
    const status = await lab.getStatus()
    io.stderr(`backend ${safeText(status.backend)}; store ${safeText(status.storePath)}${lab.logger.file ? `; log ${safeText(lab.logger.file)}` : ''}\n`)
    if (status.storeNotice) io.stderr(`note: the store was damaged and moved to ${safeText(status.storeNotice.movedTo)}; a fresh store was opened\n`)
    if (!status.storeSave.saved) io.stderr(`warning: not saved — ${safeText(status.storeSave.reason ?? 'the store cannot be written')}\n`)

    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolve()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    await server.close()
    await lab.close()
    return 0
  },
}
