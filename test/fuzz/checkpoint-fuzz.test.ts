// Property tests of the checkpoint readers: safetensors header mutations, byte flips and truncations;
// pytorch_model.bin pickle byte flips and truncations (and whole-archive ones). Every input either loads
// (and every tensor reads) or throws a LabError CHECKPOINT_*; seeded and bounded in time.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { unzipSync } from 'fflate'
import { afterAll, describe, expect, it } from 'vitest'
import { openPytorch, openSafetensors, openTensorFile, writePytorchStateDict, writeZip, type TensorSource } from '../../src/core/checkpoint'
import { FLOAT_DTYPES } from '../../src/core/checkpoint/dtype'
import { flipBytes, fuzz, int, mutateJson, pick } from './fuzz-helpers'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-fuzz-ckpt-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const CHECKPOINT_CODES = ['CHECKPOINT_FORMAT', 'CHECKPOINT_TRUNCATED', 'CHECKPOINT_UNSAFE', 'CHECKPOINT_DTYPE', 'CHECKPOINT_MISSING_KEY', 'CHECKPOINT_TOO_LARGE', 'CHECKPOINT_NOT_FOUND']
/** Small cap so that a mutated shape cannot make one case allocate gigabytes. */
const LIMITS = { maxLoadBytes: 64 << 20 }
const BUDGET_MS = 2500

function readAll(source: TensorSource): void {
  try {
    for (const e of source.entries()) {
      if (FLOAT_DTYPES.has(e.dtype)) source.readFloat32(e.name, { nonFinite: 0 })
      else source.readInt32(e.name)
    }
  } finally {
    source.close()
  }
}

let counter = 0
const write = (bytes: Uint8Array, ext: string): string => {
  const file = path.join(tmp, `c${counter++ % 50}${ext}`)
  fs.writeFileSync(file, bytes)
  return file
}

// ---- safetensors ---------------------------------------------------------------------------------------------

const SAFETENSORS_HEADER = {
  __metadata__: { format: 'pt' },
  'a.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
  'b.half': { dtype: 'F16', shape: [4], data_offsets: [24, 32] },
  'c.bf': { dtype: 'BF16', shape: [2, 2], data_offsets: [32, 40] },
  'd.ids': { dtype: 'I64', shape: [2], data_offsets: [40, 56] },
  'e.bytes': { dtype: 'U8', shape: [8], data_offsets: [56, 64] },
}

function safetensorsBytes(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8')
  const prefix = Buffer.alloc(8)
  prefix.writeBigUInt64LE(BigInt(json.length))
  return Buffer.concat([prefix, json, data])
}

const DATA = new Uint8Array(64).map((_, i) => (i * 37) & 0xff)
// d.ids: int64 values 1 and 2
DATA.set(new Uint8Array(new BigInt64Array([1n, 2n]).buffer), 40)

describe('safetensors reader under mutation', () => {
  it('reads the unmutated base file', () => {
    readAll(openSafetensors(write(safetensorsBytes(SAFETENSORS_HEADER, DATA), '.safetensors'), LIMITS))
  })

  it('header JSON mutations give a file that reads, or a typed CHECKPOINT_* error', async () => {
    const cases = await fuzz('safetensors header', { seed: 1234, budgetMs: BUDGET_MS, allowed: CHECKPOINT_CODES }, (random) => {
      const header = structuredClone(SAFETENSORS_HEADER) as unknown
      const rounds = 1 + int(random, 3)
      let mutated = header
      for (let i = 0; i < rounds; i++) mutated = mutateJson(random, mutated)
      readAll(openSafetensors(write(safetensorsBytes(mutated, DATA), '.safetensors'), LIMITS))
    })
    expect(cases).toBeGreaterThan(20)
  })

  it('byte flips and truncations anywhere give a typed error or a file that reads', async () => {
    const base = safetensorsBytes(SAFETENSORS_HEADER, DATA)
    await fuzz('safetensors bytes', { seed: 99, budgetMs: BUDGET_MS, allowed: CHECKPOINT_CODES }, (random) => {
      const bytes = random() < 0.5 ? flipBytes(random, base, 0, Math.min(base.length, 8 + int(random, 200))) : base.subarray(0, int(random, base.length))
      readAll(openTensorFile(write(bytes, pick(random, ['.safetensors', '.bin'])), LIMITS))
    })
  })
})

// ---- pytorch_model.bin ----------------------------------------------------------------------------------------

function pytorchBase(): Record<string, Uint8Array> {
  const file = path.join(tmp, 'base.bin')
  writePytorchStateDict(file, [
    { name: 'w', dtype: 'F32', shape: [3, 4], data: () => new Float32Array(12).map((_, i) => i / 3) },
    { name: 'h', dtype: 'F16', shape: [5], data: () => new Uint16Array([0x3c00, 0x4000, 0x7c00, 0, 1]) },
    { name: 'ids', dtype: 'I64', shape: [2, 2], data: () => new BigInt64Array([1n, 2n, 3n, 4n]) },
    { name: 'scalar', dtype: 'F32', shape: [], data: () => new Float32Array([7]) },
  ])
  return unzipSync(new Uint8Array(fs.readFileSync(file)))
}

function rezip(entries: Record<string, Uint8Array>, deflate: boolean): string {
  const file = path.join(tmp, `p${counter++ % 50}.bin`)
  writeZip(
    file,
    Object.entries(entries).map(([name, data]) => ({ name, data: () => data, method: deflate && name.includes('/data/') ? 8 : 0 })),
  )
  return file
}

describe('pytorch_model.bin reader under mutation', () => {
  const base = pytorchBase()
  const pklName = Object.keys(base).find((n) => n.endsWith('/data.pkl')) as string

  it('reads the unmutated base file', () => {
    readAll(openPytorch(rezip(base, false), LIMITS))
  })

  it('pickle byte flips and truncations give a typed error or a state dict that reads', async () => {
    const pkl = base[pklName]
    const cases = await fuzz('pickle', { seed: 4321, budgetMs: BUDGET_MS, allowed: CHECKPOINT_CODES }, (random) => {
      const mutated = random() < 0.7 ? flipBytes(random, pkl) : pkl.subarray(0, int(random, pkl.length))
      readAll(openPytorch(rezip({ ...base, [pklName]: mutated }, random() < 0.3), LIMITS))
    })
    expect(cases).toBeGreaterThan(20)
  })

  it('whole-archive byte flips and truncations give a typed error or a file that reads', async () => {
    const file = rezip(base, false)
    const bytes = new Uint8Array(fs.readFileSync(file))
    await fuzz('pytorch zip', { seed: 777, budgetMs: BUDGET_MS, allowed: CHECKPOINT_CODES }, (random) => {
      const mutated = random() < 0.7 ? flipBytes(random, bytes) : bytes.subarray(0, int(random, bytes.length))
      readAll(openTensorFile(write(mutated, '.bin'), LIMITS))
    })
  })
})
