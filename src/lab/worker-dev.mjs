// Development entry for the compute worker when running from TypeScript sources (tests, tsx):
// registers tsx's loader in this thread, then loads the real worker. Built apps use out/main/worker.js.
import { register } from 'tsx/esm/api'

register()
await import('./worker.ts')
