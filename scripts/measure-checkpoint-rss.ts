// Measures peak RSS while loading a ~600 MB checkpoint the way the model builder does: open the file lazily,
// read every tensor once as float32 and keep it (one Float32Array per tensor, like model weights).
// The goal: peak RSS ≈ baseline + the tensors themselves, i.e. never file bytes + tensors (two full copies).
//
//   npx tsx scripts/measure-checkpoint-rss.ts            # generate files in a temp dir, measure, clean up
//   npx tsx scripts/measure-checkpoint-rss.ts --keep     # keep the generated files
//
// Every measurement runs in a fresh child process so maxRSS belongs to that read alone.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { openTensorFile, writeSafetensorsLazy } from '../src/core/checkpoint'
import { writePytorchStateDict, type TorchTensorSpec } from '../src/core/checkpoint/pytorch-writer'

const MB = 1024 * 1024

/** deberta-v3-base-like names and shapes (hidden 768, 12 layers, FFN 3072), vocab trimmed so fp32 ≈ 600 MB. */
function debertaV3BaseLikeShapes(vocab = 88_000, hidden = 768, layers = 12, ffn = 3072): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [
    ['deberta.embeddings.word_embeddings.weight', [vocab, hidden]],
    ['deberta.embeddings.LayerNorm.weight', [hidden]],
    ['deberta.embeddings.LayerNorm.bias', [hidden]],
  ]
  for (let l = 0; l < layers; l++) {
    const p = `deberta.encoder.layer.${l}`
    for (const proj of ['query_proj', 'key_proj', 'value_proj']) {
      out.push([`${p}.attention.self.${proj}.weight`, [hidden, hidden]], [`${p}.attention.self.${proj}.bias`, [hidden]])
    }
    out.push(
      [`${p}.attention.output.dense.weight`, [hidden, hidden]],
      [`${p}.attention.output.dense.bias`, [hidden]],
      [`${p}.attention.output.LayerNorm.weight`, [hidden]],
      [`${p}.attention.output.LayerNorm.bias`, [hidden]],
      [`${p}.intermediate.dense.weight`, [ffn, hidden]],
      [`${p}.intermediate.dense.bias`, [ffn]],
      [`${p}.output.dense.weight`, [hidden, ffn]],
      [`${p}.output.dense.bias`, [hidden]],
      [`${p}.output.LayerNorm.weight`, [hidden]],
      [`${p}.output.LayerNorm.bias`, [hidden]],
    )
  }
  out.push(
    ['deberta.encoder.rel_embeddings.weight', [512, hidden]],
    ['deberta.encoder.LayerNorm.weight', [hidden]],
    ['deberta.encoder.LayerNorm.bias', [hidden]],
    ['lm_predictions.lm_head.dense.weight', [hidden, hidden]],
    ['lm_predictions.lm_head.dense.bias', [hidden]],
    ['lm_predictions.lm_head.LayerNorm.weight', [hidden]],
    ['lm_predictions.lm_head.LayerNorm.bias', [hidden]],
    ['lm_predictions.lm_head.bias', [vocab]],
  )
  return out
}

function numelOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

function fillF32(n: number, seed: number): Float32Array {
  const a = new Float32Array(n)
  for (let i = 0; i < n; i++) a[i] = (((i * 2654435761 + seed) >>> 0) % 2001) / 1000 - 1
  return a
}

function fillF16(n: number, seed: number): Uint16Array {
  const a = new Uint16Array(n)
  for (let i = 0; i < n; i++) a[i] = 0x3000 + (((i * 2654435761 + seed) >>> 0) % 0x0c00) // values in [0.125, 1)
  return a
}

interface Measurement {
  file: string
  fileBytes: number
  tensorBytes: number
  tensors: number
  baselineRss: number
  maxRss: number
  seconds: number
}

/** Child process: read every tensor as float32 and keep them all. */
function measureRead(file: string): Measurement {
  const baselineRss = process.memoryUsage().rss // resident before opening the file
  const start = process.hrtime.bigint()
  const source = openTensorFile(file)
  const kept: Float32Array[] = []
  let tensorBytes = 0
  for (const entry of source.entries()) {
    const data = source.readFloat32(entry.name)
    tensorBytes += data.byteLength
    kept.push(data)
  }
  source.close()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return {
    file,
    fileBytes: fs.statSync(file).size,
    tensorBytes,
    tensors: kept.length,
    baselineRss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    seconds,
  }
}

function runChild(file: string): Measurement {
  const self = fileURLToPath(import.meta.url)
  const child = spawnSync(process.execPath, [...process.execArgv, self, '--read', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  if (child.status !== 0) throw new Error(`measurement of ${file} failed:\n${child.stderr}`)
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Measurement
}

function main(): void {
  const argv = process.argv.slice(2)
  if (argv[0] === '--read') {
    process.stdout.write(JSON.stringify(measureRead(argv[1])) + '\n')
    return
  }
  const keep = argv.includes('--keep')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-lab-rss-'))
  const shapes = debertaV3BaseLikeShapes()
  const params = shapes.reduce((s, [, shape]) => s + numelOf(shape), 0)
  console.log(`${shapes.length} tensors, ${(params / 1e6).toFixed(1)} M parameters (${((params * 4) / MB).toFixed(0)} MiB as float32)`)
  try {
    const stFile = path.join(dir, 'model.safetensors')
    const binFile = path.join(dir, 'pytorch_model.bin')
    const halfFile = path.join(dir, 'pytorch_model.fp16.bin')
    let t = Date.now()
    writeSafetensorsLazy(
      stFile,
      shapes.map(([name, shape], i) => ({ name, dtype: 'F32' as const, shape, data: () => fillF32(numelOf(shape), i) })),
      { format: 'pt' },
    )
    const specs = (dtype: 'F32' | 'F16'): TorchTensorSpec[] =>
      shapes.map(([name, shape], i) => ({
        name,
        dtype,
        shape,
        data: () => (dtype === 'F32' ? fillF32(numelOf(shape), i) : fillF16(numelOf(shape), i)),
      }))
    writePytorchStateDict(binFile, specs('F32'), { archiveName: 'pytorch_model' })
    writePytorchStateDict(halfFile, specs('F16'), { archiveName: 'pytorch_model' })
    console.log(`generated in ${((Date.now() - t) / 1000).toFixed(1)} s in ${dir}`)
    t = Date.now()
    const rows = [stFile, binFile, halfFile].map(runChild)
    console.log('')
    console.log('file                      file MiB  tensors MiB   RSS before  peak RSS  peak−baseline  (peak−baseline)/tensors  read s')
    for (const m of rows) {
      const delta = m.maxRss - m.baselineRss
      console.log(
        [
          path.basename(m.file).padEnd(24),
          (m.fileBytes / MB).toFixed(0).padStart(9),
          (m.tensorBytes / MB).toFixed(0).padStart(12),
          `${(m.baselineRss / MB).toFixed(0)} MiB`.padStart(13),
          `${(m.maxRss / MB).toFixed(0)} MiB`.padStart(9),
          `${(delta / MB).toFixed(0)} MiB`.padStart(14),
          (delta / m.tensorBytes).toFixed(3).padStart(24),
          m.seconds.toFixed(2).padStart(7),
        ].join(' '),
      )
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true })
  }
}

main()
