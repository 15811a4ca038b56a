// The forward and bench commands, run in-process through main() of src/cli/index.ts.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index'
import { openTensorFile } from '../../src/core/checkpoint'
import { expectClose, expectEqualInts, intRows, openGolden, shapeOf, useBackend, V3_DIR, validPairs, validRows } from './helpers'

function capture(): { io: { stdout: (t: string) => void; stderr: (t: string) => void }; out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }, out, err }
}

let tmp: string

describe('deberta-lab forward', () => {
  beforeAll(async () => {
    await useBackend('wasm')
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deberta-cli-'))
  })
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  it('reproduces the v3 golden tensors (components and EMD included)', async () => {
    const out = path.join(tmp, 'out.safetensors')
    const { io, out: stdout, err } = capture()
    const code = await main(['forward', V3_DIR, '--inputs', path.join(V3_DIR, 'golden.json'), '--out', out, '--components', '--emd'], io)
    expect(code, err.join('')).toBe(0)
    expect(JSON.parse(stdout.join(''))).toMatchObject({ batch: 2, length: 40, maskedPositions: 3 })
    const golden = openGolden(V3_DIR)
    const written = openTensorFile(out)
    try {
      const mask = intRows(golden, 'attention_mask')
      for (const name of ['input_ids', 'attention_mask', 'relative_pos', 'mlm.masked_positions']) {
        expect(shapeOf(written, name)).toEqual(shapeOf(golden, name))
        expectEqualInts(name, written.readInt32(name), golden.readInt32(name))
      }
      for (const name of ['embedding_output', 'hidden_states.0', 'hidden_states.1', 'hidden_states.2', 'emd.query_states.0', 'emd.layer_output.1']) {
        expectClose(name, written.readFloat32(name), golden.readFloat32(name), 1e-4, { shape: shapeOf(golden, name), valid: validRows(mask, 40, 32) })
      }
      for (const name of ['attentions.0', 'attentions.1']) {
        expectClose(name, written.readFloat32(name), golden.readFloat32(name), 1e-5, { shape: shapeOf(golden, name), valid: validPairs(mask, 4, 40) })
      }
      for (const name of ['layer.0.c2c', 'layer.0.c2p', 'layer.0.p2c', 'layer.1.c2c', 'layer.1.c2p', 'layer.1.p2c', 'mlm.plain_logits', 'mlm.emd_logits']) {
        expectClose(name, written.readFloat32(name), golden.readFloat32(name), 1e-4, { shape: shapeOf(golden, name) })
      }
    } finally {
      written.close()
      golden.close()
    }
  })

  it('takes plain inputs.json; no [MASK] → no mlm tensors; bad usage → exit 1 with the error code', async () => {
    const inputs = path.join(tmp, 'inputs.json')
    fs.writeFileSync(inputs, JSON.stringify({ inputIds: [[1, 45, 135, 2]] }))
    const out = path.join(tmp, 'plain.safetensors')
    const ok = capture()
    expect(await main(['forward', V3_DIR, '--inputs', inputs, '--out', out, '--mask-id', '1000'], ok.io)).toBe(0)
    const written = openTensorFile(out)
    expect(written.has('hidden_states.2')).toBe(true)
    expect(written.has('layer.0.c2c')).toBe(false)
    expect(written.has('mlm.plain_logits')).toBe(false)
    written.close()
    const bad = capture()
    expect(await main(['forward', V3_DIR, '--out', out], bad.io)).toBe(1)
    expect(bad.err.join('')).toContain('error [BAD_REQUEST]')
    fs.writeFileSync(inputs, JSON.stringify({ input_ids: [[1, 5000]] }))
    const range = capture()
    expect(await main(['forward', V3_DIR, '--inputs', inputs, '--out', out], range.io)).toBe(1)
    expect(range.err.join('')).toContain('error [TOKEN_OUT_OF_RANGE]')
  })
})

describe('deberta-lab bench', () => {
  it('names the wasm build and its threads on stderr', async () => {
    const saved = process.env.DEBERTA_LAB_BACKEND
    process.env.DEBERTA_LAB_BACKEND = 'wasm'
    try {
      const { io, err } = capture()
      expect(await main(['bench', '--preset', 'tiny', '--seq', '8', '--part', 'attention', '--repeats', '1', '--json'], io)).toBe(0)
      expect(err.join('')).toMatch(/^backend wasm \((threaded SIMD, )?\d+ threads?[^)]*\)\n/m)
    } finally {
      if (saved === undefined) delete process.env.DEBERTA_LAB_BACKEND
      else process.env.DEBERTA_LAB_BACKEND = saved
    }
  })

  it('prints one JSON line per case', async () => {
    const { io, out, err } = capture()
    expect(await main(['bench', '--preset', 'tiny', '--seq', '8', '--part', 'attention,layer', '--variant', 'disentangled,standard', '--repeats', '1', '--json'], io)).toBe(0)
    // the backend as people read it (wasm says its build and threads)
    expect(err.join('')).toMatch(/^backend (tensorflow|cpu|wasm \((threaded SIMD, )?\d+ threads?[^)]*\))\n/m)
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => `${l.part}/${l.variant}`)).toEqual(['matmul/disentangled', 'attention/disentangled', 'attention/standard', 'layer/disentangled', 'layer/standard'])
    for (const l of lines) {
      for (const key of ['backend', 'preset', 'part', 'seq', 'batch', 'repeats', 'medianMs', 'minMs', 'maxMs', 'flops', 'gflops']) expect(l).toHaveProperty(key)
    }
    const bad = capture()
    expect(await main(['bench', '--preset', 'huge'], bad.io)).toBe(1)
  })

  it('warms each case up as --warmup-ms says and reports the first run; the table has a "first ms" column', async () => {
    const json = capture()
    expect(await main(['bench', '--preset', 'tiny', '--seq', '8', '--part', 'model', '--repeats', '1', '--warmup-ms', '0', '--json'], json.io)).toBe(0)
    const lines = json.out.join('').trim().split('\n').map((l) => JSON.parse(l))
    for (const l of lines) expect(l).toMatchObject({ warmups: 2, firstMs: expect.any(Number) })
    const table = capture()
    expect(await main(['bench', '--preset', 'tiny', '--seq', '8', '--part', 'model', '--repeats', '1', '--warmup-ms', '50'], table.io)).toBe(0)
    expect(table.out.join('').split('\n')[0]).toMatch(/predict ms +first ms$/)
    const bad = capture()
    expect(await main(['bench', '--preset', 'tiny', '--warmup-ms', '-1'], bad.io)).toBe(1)
    expect(bad.err.join('')).toMatch(/--warmup-ms/)
  })
})
