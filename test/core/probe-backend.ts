// Child process of test/core/backends.ts: loads the backend named in argv[2] and prints the probe as JSON.
// usage: node --import tsx test/core/probe-backend.ts tensorflow|wasm|cpu
import { BACKEND_ORDER, type BackendName } from '../../src/core/backend'
import { probeBackendHere } from './backends'

const name = process.argv[2] as BackendName
if (!BACKEND_ORDER.includes(name)) {
  console.error(`usage: probe-backend.ts ${BACKEND_ORDER.join('|')}`)
  process.exit(2)
}
process.stdout.write(`${JSON.stringify(await probeBackendHere(name))}\n`)
