// Entry of the peer thread of a split forward (src/core/split.ts): built as out/main/split-peer.js.
import { parentPort } from 'node:worker_threads'
import { initBackend } from './backend'
import { servePeer } from './split'

if (!parentPort) throw new Error('split-peer.ts must run in a worker thread')
servePeer(parentPort, (name) => initBackend(name))
