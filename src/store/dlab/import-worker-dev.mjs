// Development entry for the .dlab import worker when running from TypeScript sources (tests, tsx): registers
// tsx's loader in this thread, then loads the real worker. Built apps use out/main/import-worker.js.
import { register } from 'tsx/esm/api'

register()
await import('./import-worker.ts')
