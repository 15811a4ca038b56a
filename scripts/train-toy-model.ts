// Trains the shipped toy model (resources/toy-deberta) with the recipe of src/core/train/toy.ts: a 2-layer,
// hidden-64 DeBERTa-v3-style model with EMD on the generated language's masked-LM data, seeded, on the wasm
// backend (deterministic for a seed and a backend). Then reloads the written folder the way the app does
// (loadPretrained + loadTokenizer) and measures the position-sensitive probes with the plain head and the EMD.
//
//   npx tsx scripts/train-toy-model.ts                      # writes resources/toy-deberta
//   npx tsx scripts/train-toy-model.ts --out /tmp/toy --steps 50   # a quick try elsewhere
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { initBackend } from '../src/core/backend'
import { writeSafetensors } from '../src/core/checkpoint'
import { loadPretrained } from '../src/core/load'
import { loadTokenizer } from '../src/core/tokenizer'
import { mlmBatch, probeBatch, probeChance, PROBE_SLOTS, Rng } from '../src/core/train/data'
import { TrainableModel } from '../src/core/train/model'
import {
  scoreProbesWithCore,
  toyHfConfig,
  toyObjective,
  TOY_MODEL_CONFIG,
  TOY_MODEL_DIR,
  TOY_TRAINING,
  wordLevelTokenizerConfig,
  wordLevelTokenizerJson,
  type ProbeScores,
} from '../src/core/train/toy'
import { trainedWeightTensors } from '../src/core/train/experiments'
import { train } from '../src/core/train/trainer'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

function slotTable(scores: ProbeScores): string {
  const lines = ['| slot | chance | plain head | EMD |', '|---|---|---|---|']
  for (const slot of PROBE_SLOTS) {
    lines.push(`| ${slot} | ${pct(probeChance(slot))} | ${pct(scores.plain.bySlot?.[slot] ?? 0)} | ${scores.emd ? pct(scores.emd.bySlot?.[slot] ?? 0) : '–'} |`)
  }
  const meanChance = PROBE_SLOTS.reduce((s, slot) => s + probeChance(slot), 0) / PROBE_SLOTS.length
  lines.push(`| **all** | ${pct(meanChance)} | **${pct(scores.plain.accuracy)}** | **${scores.emd ? pct(scores.emd.accuracy) : '–'}** |`)
  return lines.join('\n')
}

async function main(): Promise<void> {
  const outDir = path.resolve(argValue('--out') ?? path.join(ROOT, 'resources', TOY_MODEL_DIR))
  const steps = Number(argValue('--steps') ?? TOY_TRAINING.steps)
  const backend = await initBackend('wasm')
  const t = TOY_TRAINING
  console.log(`backend ${backend.name}; training ${steps} steps of batch ${t.batchSize} (seed ${t.seed}) → ${outDir}`)

  const model = new TrainableModel(TOY_MODEL_CONFIG, t.seed)
  const rng = new Rng(t.seed)
  const result = train(model, {
    learningRate: t.learningRate,
    warmupSteps: t.warmupSteps,
    totalSteps: steps,
    clipNorm: t.clipNorm,
    optimizer: { weightDecay: t.weightDecay },
    makeBatch: () => mlmBatch(rng, t.batchSize, t.words),
    objective: toyObjective,
    onProgress: (p) => {
      if (p.step % 50 === 0 || p.step === p.totalSteps) {
        console.log(`step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(3)}  acc ${pct(p.accuracy)}  lr ${p.learningRate.toExponential(2)}`)
      }
    },
  })
  const seconds = result.milliseconds / 1000
  console.log(`trained in ${seconds.toFixed(1)} s`)

  fs.mkdirSync(outDir, { recursive: true })
  writeSafetensors(path.join(outDir, 'model.safetensors'), trainedWeightTensors(model), { format: 'pt' })
  fs.writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(toyHfConfig(model), null, 2) + '\n')
  fs.writeFileSync(path.join(outDir, 'tokenizer.json'), JSON.stringify(wordLevelTokenizerJson(), null, 2) + '\n')
  fs.writeFileSync(path.join(outDir, 'tokenizer_config.json'), JSON.stringify(wordLevelTokenizerConfig(), null, 2) + '\n')
  const parameterCount = model.parameterCount
  model.dispose()

  // Measure through the app's loading path: the files just written.
  const loaded = await loadPretrained(outDir)
  const tokenizer = await loadTokenizer(outDir)
  const probes = probeBatch(new Rng(t.probeSeed), t.probeSize, t.words)
  const scores = scoreProbesWithCore(loaded, probes, { emd: true })
  const example = tokenizer.encode('The old farmer [MASK] the red ball near the river')
  const exampleOut = loaded.forward({ inputIds: [example.inputIds] }, { mlm: { emd: true } })
  const V = loaded.config.vocabSize
  const top = (logits: ArrayLike<number>): string => {
    const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => logits[b] - logits[a])
    return order.slice(0, 3).map((v) => tokenizer.idToToken(v)).join(', ')
  }
  const exampleLine = `"The old farmer [MASK] the red ball near the river" → plain: ${top(exampleOut.mlm!.plainLogits!.data)}; EMD: ${top(exampleOut.mlm!.emdLogits!.data)}`
  loaded.dispose()
  console.log(slotTable(scores))
  console.log(exampleLine)

  const sizes = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map(
    (f) => `${f} ${(fs.statSync(path.join(outDir, f)).size / 1024).toFixed(1)} KiB`,
  )
  const c = TOY_MODEL_CONFIG
  const readme = `# Trained toy DeBERTa (shipped with the lab)

A small DeBERTa-v3-style masked language model trained by the project's own script on the **generated
language** of \`src/core/train/data.ts\` (a seeded grammar: \`Det Adj* AnimateNoun Verb Det Adj* Thing Prep Det
Adj* Thing [Adv]\`, ${V} tokens). It exists so that the Decoding and Attention workspaces show real predictions
and attention patterns on first launch, without downloading anything. It knows only that language: other words
become \`[UNK]\`.

- Architecture: deberta-v2 (v3 style): ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads, FFN ${c.intermediateSize}, relative
  attention c2c + ${c.terms.join(' + ')} with shared keys, ${c.positionBuckets} log buckets (max ${c.maxRelativePositions}), no absolute positions at the input,
  Enhanced Mask Decoder (absolute position rows, ${c.maxPositions} positions). ${parameterCount.toLocaleString('en-US')} parameters.
- Training: ${steps} AdamW steps of ${t.batchSize} sentences (${t.words.minWords}–${t.words.maxWords} words, BERT masking 15% / 80-10-10),
  peak lr ${t.learningRate}, ${t.warmupSteps} warm-up steps then linear decay, clip 1, weight decay ${t.weightDecay}, seed ${t.seed}, tfjs
  wasm backend, ${seconds.toFixed(0)} s. Loss = EMD cross-entropy + plain-head cross-entropy (official pre-training trains only
  the EMD output; training both makes the plain and EMD columns of the Decoding workspace both meaningful).
- Files: ${sizes.join(', ')}. \`model.safetensors\` uses the official
  \`DebertaV2ForMaskedLM\` key names; \`tokenizer.json\` is a Hugging Face \`tokenizers\` WordLevel tokenizer
  (Lowercase, Whitespace, \`[CLS] $A [SEP]\`).

## Measured probe accuracy

${t.probeSize} probe sentences (seed ${t.probeSeed}), one masked slot each; a prediction is right when it lies in the
slot's answer set (subject → an animate noun, object → a thing, verb → a verb licensing the sentence's
preposition, preposition → the verb's preposition). Measured on the written files through
\`loadPretrained\` + \`DebertaModel.forward\` (the app's inference path):

${slotTable(scores)}

Example: ${exampleLine}

\`test/core/toy-model.test.ts\` checks these numbers stay well above chance.

## Reproduce

\`\`\`
npx tsx scripts/train-toy-model.ts
\`\`\`

Deterministic for the seed on the wasm backend (same ops in the same order); another backend gives slightly
different weights.
`
  fs.writeFileSync(path.join(outDir, 'README.md'), readme)
  console.log(sizes.join('\n'))
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
