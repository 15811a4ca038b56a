// `deberta-lab serve`: browser mode — the same renderer and LabApi over HTTP on 127.0.0.1.
import { parseArgs } from 'node:util'
import { LabError } from '../../common/errors'
import { createLabService } from '../../lab/service'
import { resolveAppPaths } from '../../lab/paths'
import { startLabServer } from '../server/http-server'
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
    const { values } = parseArgs({
      args: argv,
      options: { port: { type: 'string', default: '0' }, store: { type: 'string' } },
      strict: true,
    })
    const port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LabError('INPUT_INVALID', `--port ${values.port} is not a port number`)
    const paths = resolveAppPaths({ storeFlag: values.store })
    const lab = await createLabService({ storePath: paths.storePath, resourcesDir: paths.resourcesDir, host: 'browser' })
    const server = await startLabServer({ lab, rendererDir: paths.rendererDir, port })
    io.stdout(`DeBERTa Lab: ${server.url}\n`)
    const status = await lab.getStatus()
    io.stderr(`backend ${status.backend}; store ${status.storePath}\n`)
    if (status.storeNotice) io.stderr(`note: the store was damaged and moved to ${status.storeNotice.movedTo}; a fresh store was opened\n`)

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
