// Time and memory of the model view and the distance profile on a base-size synthetic DeBERTa-v3 at T = 512
// (README, "Model view"). Runs the job handlers in this process with a minimal job context.
//   npx tsx scripts/measure-model-view.ts [tensorflow|wasm|cpu]
// Peak RSS is read from /proc/self/status (VmHWM), reset before each step through /proc/self/clear_refs.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SyntheticModelRef } from '../src/common/api'
import { initBackend, type BackendName } from '../src/core/backend'
import type { DebertaModel } from '../src/core/model'
import type { JobContext } from '../src/lab/jobs'
import { ModelCache } from '../src/lab/models'
import { distanceProfile } from '../src/lab/workspaces/distance-profile'
import { modelView } from '../src/lab/workspaces/model-view'

const MB = 1024 * 1024
const BASE: SyntheticModelRef = {
  kind: 'synthetic',
  arch: 'deberta-v3',
  layers: 12,
  hidden: 768,
  heads: 12,
  intermediate: 3072,
  positionBuckets: 256,
  maxRelativePositions: 512,
  maxPositions: 512,
  seed: 1,
}

function peakRssMb(): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) / 1024
}
function resetPeak(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
  } catch {
    // not permitted: the peak then covers the whole run
  }
}
const rssMb = (): number => process.memoryUsage().rss / MB

async function step<T>(name: string, work: () => Promise<T> | T): Promise<T> {
  global.gc?.()
  resetPeak()
  const before = rssMb()
  const t0 = performance.now()
  const value = await work()
  const ms = performance.now() - t0
  console.log(`${name}: ${ms.toFixed(0)} ms, peak RSS ${peakRssMb().toFixed(0)} MB (before ${before.toFixed(0)} MB)`)
  return value
}

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as BackendName
  await initBackend(backend)
  const cache = new ModelCache(join(process.cwd(), 'resources'))
  const context: JobContext = {
    jobId: 'measure',
    backend,
    getModel: (ref) => cache.get(ref),
    progress: () => undefined,
    checkCancelled: () => undefined,
    yieldToEvents: () => Promise.resolve(),
  }
  const loaded = await step('load base synthetic', () => cache.get(BASE))
  const words = 'the quick brown fox jumps over the lazy dog near the river bank while birds sing'.split(' ')
  let text = ''
  const tokenizer = loaded.tokenizer as { encode(t: string): { inputIds: number[] } }
  for (let k = 0; tokenizer.encode(text + ' ' + words[k % words.length]).inputIds.length <= 512; k++) text += (text ? ' ' : '') + words[k % words.length]
  const T = tokenizer.encode(text).inputIds.length
  console.log(`backend ${backend}, T = ${T}`)
  const model = loaded.model as DebertaModel
  const ids = tokenizer.encode(text).inputIds
  await step('plain forward (no components)', () => model.forward({ inputIds: [ids] }))
  await step('forward recording 2 layers (one pass of the 192 MB chunking)', () => model.forward({ inputIds: [ids] }, { components: [0, 1] }).length)
  const view = await step('model view job (streamed components)', () => modelView(context, { model: BASE, text }))
  console.log(`  model view result: ${(JSON.stringify(view).length / MB).toFixed(2)} MB of JSON`)
  const profile = await step('distance profile job (one layer)', () => distanceProfile(context, { model: BASE, text, layer: 5 }))
  console.log(`  distance profile result: ${(JSON.stringify(profile).length / MB).toFixed(2)} MB of JSON`)
  if (process.argv.includes('--all-layers')) await step('forward recording all 12 layers', () => model.forward({ inputIds: [ids] }, { components: true }).length)
}

void main()
