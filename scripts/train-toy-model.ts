// Trains the shipped toy model (resources/toy-deberta) with the recipe of src/core/train/toy.ts: a 2-layer,
// hidden-32 DeBERTa-v3-style model with EMD on the toy language's masked-LM data (src/core/train/toy-language.ts),
// seeded, on the wasm backend (deterministic for a seed and a backend). Then reloads the written folder the way
// the app does (loadPretrained + loadTokenizer) and measures the grammar probes, the KEY probes (absolute
// position only) and the Problem demo's recovery R², with the plain head and the EMD.
//
//   npx tsx scripts/train-toy-model.ts                      # writes resources/toy-deberta
//   npx tsx scripts/train-toy-model.ts --out /tmp/toy --steps 50   # a quick try elsewhere
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { TOY_EMD_PRESET_TEXT, TOY_PROBLEM_TEXT } from '../src/common/toy-texts'
import { initBackend } from '../src/core/backend'
import { writeSafetensors } from '../src/core/checkpoint'
import { loadPretrained } from '../src/core/load'
import { loadTokenizer } from '../src/core/tokenizer'
import { PROBE_SLOTS, Rng } from '../src/core/train/data'
import { LONG_WORDS, SHORT_WORDS, toyGrammarProbes, toyKeyProbes, toyProbeChance, TOY_VOCAB } from '../src/core/train/toy-language'
import { recoveryR2, vocabularySample } from '../src/lab/workspaces/interference'
import { TrainableModel } from '../src/core/train/model'
import {
  MERGED_BUCKET_FROM,
  scoreKeyProbesWithCore,
  scoreProbesWithCore,
  toyHfConfig,
  toyTrainingBatch,
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

/** The Decoding workspace's default preset and another toy sentence. */
const EXAMPLES = [TOY_EMD_PRESET_TEXT, 'the old farmer [MASK] the red ball near the river']
/** The Problem workspace's default sentence. */
const PROBLEM_TEXT = TOY_PROBLEM_TEXT

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

function slotTable(scores: ProbeScores): string {
  const lines = ['| slot | chance | plain head | EMD |', '|---|---|---|---|']
  for (const slot of PROBE_SLOTS) {
    lines.push(`| ${slot} | ${pct(toyProbeChance(slot))} | ${pct(scores.plain.bySlot?.[slot] ?? 0)} | ${scores.emd ? pct(scores.emd.bySlot?.[slot] ?? 0) : '–'} |`)
  }
  const meanChance = PROBE_SLOTS.reduce((s, slot) => s + toyProbeChance(slot), 0) / PROBE_SLOTS.length
  lines.push(`| **all** | ${pct(meanChance)} | **${pct(scores.plain.accuracy)}** | **${scores.emd ? pct(scores.emd.accuracy) : '–'}** |`)
  return lines.join('\n')
}

async function main(): Promise<void> {
  const outDir = path.resolve(argValue('--out') ?? path.join(ROOT, 'resources', TOY_MODEL_DIR))
  const steps = Number(argValue('--steps') ?? TOY_TRAINING.steps)
  const backend = await initBackend('wasm')
  const t = TOY_TRAINING
  console.log(`backend ${backend.name}; training ${steps} steps (seed ${t.seed}) → ${outDir}`)

  const model = new TrainableModel(TOY_MODEL_CONFIG, t.seed)
  const rng = new Rng(t.seed)
  const result = train(model, {
    learningRate: t.learningRate,
    warmupSteps: t.warmupSteps,
    totalSteps: steps,
    clipNorm: t.clipNorm,
    optimizer: { weightDecay: t.weightDecay },
    makeBatch: (step) => toyTrainingBatch(rng, step),
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
  const scores = scoreProbesWithCore(loaded, toyGrammarProbes(new Rng(t.probeSeed), t.probeSize), { emd: true })
  const keys = scoreKeyProbesWithCore(loaded, toyKeyProbes(new Rng(t.probeSeed), t.keyProbeSize))
  const V = loaded.config.vocabSize
  const decode = (text: string): string => {
    const out = loaded.forward({ inputIds: [tokenizer.encode(text).inputIds] }, { mlm: { emd: true } })
    const top = (logits: ArrayLike<number>, k: number): string => {
      const row = Array.from({ length: V }, (_, v) => logits[k * V + v])
      const max = Math.max(...row)
      const z = row.reduce((sum, x) => sum + Math.exp(x - max), 0)
      const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => row[b] - row[a])
      return order
        .slice(0, 3)
        .map((v) => `${tokenizer.idToToken(v)} ${pct(Math.exp(row[v] - max) / z)}`)
        .join(', ')
    }
    return out.mlm!.positions.map(([, pos], k) => `  - [MASK] at token ${pos}: plain ${top(out.mlm!.plainLogits!.data, k)}; EMD ${top(out.mlm!.emdLogits!.data, k)}`).join('\n')
  }
  const r2Of = (text: string): { content: number; position: number; tokens: number } => {
    const ids = tokenizer.encode(text).inputIds
    const rows = loaded.embeddingRows(ids)
    const width = rows.content.shape[1]
    const sample = vocabularySample(V, Math.min(4096, Math.max(1024, 2 * width)))
    const r2 = recoveryR2(loaded.wordEmbeddingRows(sample).data, sample.length, rows.position!.data, ids.length, width)
    return { ...r2, tokens: ids.length }
  }
  const examples = EXAMPLES.map((text) => `- "${text}"\n${decode(text)}`).join('\n')
  const r2 = r2Of(PROBLEM_TEXT)
  const r2Long = r2Of(EXAMPLES[0])
  loaded.dispose()
  console.log(slotTable(scores))
  console.log(keys)
  console.log(examples)
  console.log(r2, r2Long)

  const sizes = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'].map(
    (f) => `${f} ${(fs.statSync(path.join(outDir, f)).size / 1024).toFixed(1)} KiB`,
  )
  const c = TOY_MODEL_CONFIG
  const words = TOY_VOCAB.words.length
  const readme = `# Trained toy DeBERTa (shipped with the lab)

A small DeBERTa-v3-style masked language model trained by the project's own script on the **toy language** of
\`src/core/train/toy-language.ts\` (${words} words + 5 special tokens). It exists so that the workspaces show real
predictions and attention patterns on first launch, without downloading anything, and so that the teaching
demos show their point with their defaults. It knows only that language: other words become \`[UNK]\`.

The language:

- short sentences (${SHORT_WORDS.minWords}–${SHORT_WORDS.maxWords} words), the grammar of \`src/core/train/data.ts\` over a larger vocabulary:
  \`Det Adj* AnimateNoun Verb Det Adj* Thing Prep Det Adj* Thing [Adv]\`; every verb licenses one preposition;
- long sentences (up to ${LONG_WORDS.maxWords} words): such clauses joined by "and"; at most two clauses end in a
  companion phrase \`with Det Adj* KEY\`, and the KEY noun's class is fixed by its **absolute position** alone: on an
  even token an animate noun, on an odd token a thing. Keys stand 11+ tokens from \`[CLS]\` and from each other,
  where the ${c.positionBuckets} log buckets are coarse (exact within ±${c.positionBuckets / 2}, then 5–10, 11–25, ${MERGED_BUCKET_FROM}+), and sentence lengths have either
  parity, so no relative position tells a key's parity: two companion phrases with the same words within ±4 tokens look the same to the plain head
  (relative positions only) and differ for the Enhanced Mask Decoder, which adds the absolute positions. An
  artificial rule, chosen so that the EMD's contribution shows in one sentence; a rule like "early → animate,
  late → thing" is learned by the relative model too (it counts tokens back to \`[CLS]\` through attention).

Why these sizes: ${words} words and ${c.maxPositions} positions do not fit the ${c.hiddenSize} dimensions of the embedding (as in every
real model), so BERT's sum word + position mixes the two — the Problem demo's default sentence measures it.

- Architecture: deberta-v2 (v3 style): ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads, FFN ${c.intermediateSize}, relative
  attention c2c + ${c.terms.join(' + ')} with shared keys, ${c.positionBuckets} log buckets (max ${c.maxRelativePositions}: exact within ±${c.positionBuckets / 2}, one bucket for ${MERGED_BUCKET_FROM}+ tokens),
  no absolute positions at the input, Enhanced Mask Decoder (absolute position rows, ${c.maxPositions} positions). ${parameterCount.toLocaleString('en-US')} parameters.
- Training: ${steps} AdamW steps alternating ${t.shortBatchSize} short sentences (T = ${SHORT_WORDS.maxWords + 2}) and ${t.longBatchSize} long ones (T = ${LONG_WORDS.maxWords + 2}), BERT masking
  15% / 80-10-10, peak lr ${t.learningRate}, ${t.warmupSteps} warm-up steps then linear decay, clip ${t.clipNorm}, weight decay ${t.weightDecay}, seed ${t.seed},
  tfjs wasm backend, ${seconds.toFixed(0)} s. Loss = EMD cross-entropy + plain-head cross-entropy (official pre-training trains only
  the EMD output; training both makes the plain and EMD columns of the Decoding workspace both meaningful).
- Files: ${sizes.join(', ')}. \`model.safetensors\` uses the official
  \`DebertaV2ForMaskedLM\` key names; \`tokenizer.json\` is a Hugging Face \`tokenizers\` WordLevel tokenizer
  (Lowercase, Whitespace, \`[CLS] $A [SEP]\`).

## Measured (on the written files, through \`loadPretrained\` + \`DebertaModel.forward\`, the app's inference path)

Grammar probes: ${t.probeSize} short sentences (seed ${t.probeSeed}), one masked slot each; a prediction is right when it lies in
the slot's answer set (subject → an animate noun, object → a thing, verb → a verb licensing the sentence's
preposition, preposition → the verb's preposition):

${slotTable(scores)}

KEY probes: ${t.keyProbeSize} long sentences with two companion phrases (seed ${t.probeSeed}), both KEY nouns masked; right = the class
the KEY's absolute position decides (even token → animate noun, odd → thing; chance 50 % between the classes):

| KEY slots | plain head (relative positions only) | EMD (adds absolute positions) |
|---|---|---|
| top-1 in the right class (${keys.keyCount} keys) | ${pct(keys.plain)} | ${pct(keys.emd)} |
| mean probability on the right class | ${pct(keys.plainMass)} | ${pct(keys.emdMass)} |
| both keys right, in sentences whose keys differ in class (${keys.pairCount}) | ${pct(keys.plainPairs)} | ${pct(keys.emdPairs)} |

Examples (top 3 with probabilities):

${examples}

Problem demo (recovery R² of BERT's sum word + position over all ${V} vocabulary rows × the sentence's positions):
"${PROBLEM_TEXT}" (${r2.tokens} tokens): content ${r2.content.toFixed(4)}, position ${r2.position.toFixed(4)}; the long sentence above
(${r2Long.tokens} tokens): content ${r2Long.content.toFixed(4)}, position ${r2Long.position.toFixed(4)}.

\`test/core/toy-model.test.ts\` checks these effects with the lab's defaults (Problem and Decoding presets).

## Reproduce

\`\`\`
npx tsx scripts/train-toy-model.ts
\`\`\`

Deterministic for the seed on the wasm backend (same ops in the same order): retraining writes the same
\`model.safetensors\` byte for byte. Another backend gives slightly different weights.
`
  fs.writeFileSync(path.join(outDir, 'README.md'), readme)
  console.log(sizes.join('\n'))
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
