// Sentences per second of the corpus statistics job (README, "Corpus statistics"): N sentences of the toy
// language (8–21 words) through the shipped toy model and the picker's default synthetic model (4 layers × 4
// heads, spm tokenizer). Runs the job handler in this process with a minimal job context.
//   npx tsx scripts/measure-corpus.ts [tensorflow|wasm|cpu] [sentences]
import { join } from 'node:path'
import { DEFAULT_SYNTHETIC_MODEL, type ModelRef } from '../src/common/api'
import { initBackend, type BackendName } from '../src/core/backend'
import { Rng } from '../src/core/train/data'
import { TOY_VOCAB, shortSentence } from '../src/core/train/toy-language'
import type { JobContext } from '../src/lab/jobs'
import { ModelCache } from '../src/lab/models'
import { corpus } from '../src/lab/workspaces/corpus'

/** n sentences of the toy language, one per line. */
export function toyCorpusText(n: number, seed = 7): string {
  const rng = new Rng(seed)
  return Array.from({ length: n }, () => shortSentence(rng, 8 + rng.int(14)).ids.map((id) => TOY_VOCAB.tokens[id]).join(' ')).join('\n') + '\n'
}

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as BackendName
  const n = Number(process.argv[3] ?? 2000)
  await initBackend(backend)
  const cache = new ModelCache(join(process.cwd(), 'resources'))
  const context: JobContext = {
    jobId: 'measure',
    backend,
    getModel: (ref) => cache.get(ref),
    progress: () => undefined,
    checkCancelled: () => undefined,
    yieldToEvents: () => new Promise((resolve) => setImmediate(resolve)),
    checkpoint: () => undefined,
  }
  const text = toyCorpusText(n)
  const models: Array<[string, ModelRef]> = [
    ['toy-deberta (2 × 4 heads)', { kind: 'bundled', name: 'toy-deberta' }],
    ['synthetic v3 4 × 4 heads, hidden 128', DEFAULT_SYNTHETIC_MODEL],
  ]
  for (const [name, model] of models) {
    await corpus(context, { model, corpus: { name: 'warm-up', text: toyCorpusText(20, 1) } })
    const result = await corpus(context, { model, corpus: { name: 'toy.txt', text } })
    console.log(`${backend}\t${name}\t${n} sentences, ${result.corpus.tokens} tokens\t${(result.milliseconds / 1000).toFixed(1)} s\t${result.sentencesPerSecond.toFixed(0)} sentences/s`)
  }
}

void main()
