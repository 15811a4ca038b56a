// Development entry of the split forward's peer thread when running from TypeScript sources (tests, tsx):
// registers tsx's loader in this thread, then loads the real entry. Built apps use out/main/split-peer.js.
import { register } from 'tsx/esm/api'

register()
await import('./split-peer.ts')
