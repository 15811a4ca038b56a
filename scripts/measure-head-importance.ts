// Time of the head-importance job (1 + L·NH forwards) on the bundled toy model and on a base-size synthetic
// DeBERTa-v3 (12 × 12 heads) at a short text (README, "Ablate and measure"). Runs the job handler in this process
// with a minimal job context.
//   npx tsx scripts/measure-head-importance.ts [tensorflow|wasm|cpu]
import { join } from 'node:path'
import type { ModelRef, SyntheticModelRef } from '../src/common/api'
import { initBackend, type BackendName } from '../src/core/backend'
import type { JobContext } from '../src/lab/jobs'
import { ModelCache } from '../src/lab/models'
import { headImportance } from '../src/lab/workspaces/ablation'

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

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'tensorflow') as BackendName
  await initBackend(backend)
  const cache = new ModelCache(join(process.cwd(), 'resources'))
  const context: JobContext = {
    jobId: 'measure',
    backend,
    getModel: (ref) => cache.get(ref),
    progress: () => undefined,
    checkCancelled: () => undefined,
    yieldToEvents: () => new Promise((resolve) => setImmediate(resolve)),
  }
  const cases: Array<{ name: string; model: ModelRef; text: string }> = [
    { name: 'toy (2 × 4 heads)', model: { kind: 'bundled', name: 'toy-deberta' }, text: 'the small [MASK] sees the small ball near the house' },
    { name: 'base-size synthetic v3 (12 × 12 heads)', model: BASE, text: 'a new [MASK] opened beside the new mall' },
  ]
  for (const c of cases) {
    const loaded = await cache.get(c.model)
    const ids = loaded.tokenizer.encode(c.text).inputIds
    const L = loaded.model.config.numHiddenLayers
    const NH = loaded.model.config.numAttentionHeads
    // twice, alternating, so that a busy machine affects both ways alike
    for (let round = 0; round < 2; round++) {
      for (const decoder of ['plain', 'emd'] as const) {
        const result = await headImportance(context, { model: c.model, text: c.text, decoder })
        console.log(`${backend} · ${c.name} · ${decoder} · T = ${result.tokens.tokens.length}: ${result.forwards} forwards in ${result.milliseconds} ms (${(result.milliseconds / result.forwards).toFixed(1)} ms each)`)
        // the same forwards, each from the embeddings (what the job does without resumeFrom)
        const started = Date.now()
        const mlm = { plain: decoder === 'plain', emd: decoder === 'emd' }
        loaded.model.forward({ inputIds: [ids] }, { mlm, hiddenStates: true })
        for (let layer = 0; layer < L; layer++) for (let head = 0; head < NH; head++) loaded.model.forward({ inputIds: [ids] }, { mlm, removedHeads: [{ layer, head }] })
        console.log(`${backend} · ${c.name} · ${decoder} · whole forwards from the embeddings: ${Date.now() - started} ms`)
      }
    }
  }
}

void main()
