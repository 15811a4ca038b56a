import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { openSafetensors, openTensorFile, writeSafetensors } from '../../src/core/checkpoint'

const FIXTURES = path.resolve(__dirname, '../fixtures')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-st-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function expectLabError(fn: () => unknown, code: string, text?: string | RegExp): LabError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(caught, 'expected a LabError').toBeInstanceOf(LabError)
  const error = caught as LabError
  expect(error.code).toBe(code)
  if (text) expect(error.message).toMatch(text)
  return error
}

/** Builds a safetensors file from a raw header object and data bytes. */
function rawSafetensors(name: string, header: unknown, data: Uint8Array, headerText?: string): string {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8')
  const prefix = Buffer.alloc(8)
  prefix.writeBigUInt64LE(BigInt(json.length))
  const file = path.join(tmp, name)
  fs.writeFileSync(file, Buffer.concat([prefix, json, data]))
  return file
}

describe('safetensors reader', () => {
  it('indexes model.safetensors in file order and reads F32 tensors with the right values', () => {
    const src = openTensorFile(path.join(FIXTURES, 'deberta-v3-tiny/model.safetensors'))
    expect(src.format).toBe('safetensors')
    const entries = src.entries()
    expect(entries.length).toBeGreaterThan(10)
    const ln = entries.find((e) => e.name === 'deberta.embeddings.LayerNorm.bias')!
    expect(ln).toEqual({ name: 'deberta.embeddings.LayerNorm.bias', dtype: 'F32', shape: [32] })
    const pos = src.readFloat32('deberta.embeddings.position_embeddings.weight')
    expect(pos.length).toBe(128 * 32)
    // compare against bytes taken straight from the file
    const bytes = fs.readFileSync(path.join(FIXTURES, 'deberta-v3-tiny/model.safetensors'))
    const n = Number(bytes.readBigUInt64LE(0))
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))
    const [b, e] = header['deberta.embeddings.position_embeddings.weight'].data_offsets
    const expected = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n + b, bytes.byteOffset + 8 + n + e))
    expect(Array.from(pos)).toEqual(Array.from(expected))
    expect((src as ReturnType<typeof openSafetensors>).metadata).toEqual({ format: 'pt' })
    src.close()
    src.close()
  })

  it('reads the I64 golden tensors as int32 and refuses float reads of them', () => {
    const src = openTensorFile(path.join(FIXTURES, 'deberta-v3-tiny/golden.safetensors'))
    const dist = src.readInt32('log_bucket.relative_distance')
    expect(dist.length).toBe(601)
    expect(dist[0]).toBe(-300)
    expect(dist[600]).toBe(300)
    expectLabError(() => src.readFloat32('log_bucket.relative_distance'), 'CHECKPOINT_DTYPE', /log_bucket.relative_distance/)
    expectLabError(() => src.readInt32('hidden_states.0'), 'CHECKPOINT_DTYPE', /hidden_states.0/)
    expectLabError(() => src.readFloat32('nope'), 'CHECKPOINT_MISSING_KEY', /nope/)
    src.close()
  })

  it('round-trips through writeSafetensors with 8-byte padded header and aligned data', () => {
    const file = path.join(tmp, 'rt.safetensors')
    const w = new Float32Array([1.5, -2, 3.25, Number.NaN, Infinity, -0])
    writeSafetensors(
      file,
      {
        'a.weight': { dtype: 'F32', shape: [2, 3], data: w },
        ids: { dtype: 'I64', shape: [3], data: new BigInt64Array([-5n, 0n, 2147483647n]) },
        small: { dtype: 'I32', shape: [1], data: new Int32Array([7]) },
        empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      },
      { format: 'pt' },
    )
    const bytes = fs.readFileSync(file)
    const n = Number(bytes.readBigUInt64LE(0))
    expect(n % 8).toBe(0)
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))
    expect(header.__metadata__).toEqual({ format: 'pt' })
    expect(header.ids.data_offsets).toEqual([0, 24]) // I64 first
    const src = openSafetensors(file)
    expect(src.entries().map((e) => e.name)).toEqual(['ids', 'a.weight', 'small', 'empty'])
    expect(Array.from(src.readFloat32('a.weight'))).toEqual(Array.from(w))
    expect(Array.from(src.readInt32('ids'))).toEqual([-5, 0, 2147483647])
    expect(Array.from(src.readInt32('small'))).toEqual([7])
    expect(src.readFloat32('empty').length).toBe(0)
    src.close()
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('rejects int64 values outside int32', () => {
    const file = path.join(tmp, 'big.safetensors')
    writeSafetensors(file, { big: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 1n << 40n]) } })
    const src = openSafetensors(file)
    expectLabError(() => src.readInt32('big'), 'CHECKPOINT_DTYPE', /big.*1099511627776/)
    src.close()
  })

  it('converts F16, BF16 and F64 tensors to float32 exactly', () => {
    // f16: 1, -2, 65504 (max), 2^-24 (min subnormal), 2^-14 (min normal), inf, -inf, NaN, -0
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x03ff])
    const bf16 = new Uint16Array([0x3f80, 0xc000, 0x7f80, 0xff80, 0x7fc0, 0x0001, 0x3e80])
    const f64 = new Float64Array([0.1, 1e300, -1e-300, 3])
    const data = Buffer.concat([Buffer.from(f64.buffer), Buffer.from(f16.buffer), Buffer.from(bf16.buffer)])
    const file = rawSafetensors(
      'half.safetensors',
      {
        d: { dtype: 'F64', shape: [4], data_offsets: [0, 32] },
        h: { dtype: 'F16', shape: [10], data_offsets: [32, 52] },
        b: { dtype: 'BF16', shape: [7], data_offsets: [52, 66] },
      },
      data,
    )
    const src = openTensorFile(file)
    const h = Array.from(src.readFloat32('h'))
    expect(h.slice(0, 7)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity])
    expect(Number.isNaN(h[7])).toBe(true)
    expect(Object.is(h[8], -0)).toBe(true)
    expect(h[9]).toBe(1023 * 2 ** -24) // largest subnormal
    const b = Array.from(src.readFloat32('b'))
    expect(b.slice(0, 4)).toEqual([1, -2, Infinity, -Infinity])
    expect(Number.isNaN(b[4])).toBe(true)
    expect(b[5]).toBe(2 ** -133) // smallest bf16 subnormal
    expect(b[6]).toBe(0.25)
    expect(Array.from(src.readFloat32('d'))).toEqual([Math.fround(0.1), Infinity, -0, 3])
    src.close()
  })

  it('gives typed errors naming the tensor for corrupt headers', () => {
    const f32 = new Uint8Array(16)
    expectLabError(
      () => openSafetensors(rawSafetensors('short.safetensors', { x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32.subarray(0, 8))),
      'CHECKPOINT_TRUNCATED',
      /"x"/,
    )
    expectLabError(
      () => openSafetensors(rawSafetensors('size.safetensors', { x: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, f32)),
      'CHECKPOINT_FORMAT',
      /"x".*needs 12/,
    )
    expectLabError(
      () =>
        openSafetensors(
          rawSafetensors(
            'overlap.safetensors',
            { x: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, y: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } },
            f32,
          ),
        ),
      'CHECKPOINT_FORMAT',
      /overlap/,
    )
    expectLabError(
      () => openSafetensors(rawSafetensors('dtype.safetensors', { x: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, f32)),
      'CHECKPOINT_FORMAT',
      /"x".*Q4/,
    )
    expectLabError(
      () => openSafetensors(rawSafetensors('shape.safetensors', { x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32)),
      'CHECKPOINT_FORMAT',
      /"x"/,
    )
    expectLabError(
      () => openSafetensors(rawSafetensors('offsets.safetensors', { x: { dtype: 'F32', shape: [1], data_offsets: [4] } }, f32)),
      'CHECKPOINT_FORMAT',
      /"x".*data_offsets/,
    )
    expectLabError(() => openSafetensors(rawSafetensors('json.safetensors', null, f32, '{"x": [')), 'CHECKPOINT_FORMAT', /JSON/)
    expectLabError(() => openSafetensors(rawSafetensors('arr.safetensors', [1, 2], f32)), 'CHECKPOINT_FORMAT', /object/)
    expectLabError(
      () => openSafetensors(rawSafetensors('meta.safetensors', { __metadata__: { a: 1 } }, f32)),
      'CHECKPOINT_FORMAT',
      /__metadata__/,
    )
  })

  it('rejects absurd header lengths without allocating and short files as truncated', () => {
    const huge = path.join(tmp, 'huge.safetensors')
    const buf = Buffer.alloc(16)
    buf.writeBigUInt64LE(1n << 60n)
    buf.write('{}', 8)
    fs.writeFileSync(huge, buf)
    expectLabError(() => openSafetensors(huge), 'CHECKPOINT_FORMAT', /header length/)
    const past = path.join(tmp, 'past.safetensors')
    buf.writeBigUInt64LE(1000n)
    fs.writeFileSync(past, buf)
    expectLabError(() => openSafetensors(past), 'CHECKPOINT_TRUNCATED', /header/)
    const tiny = path.join(tmp, 'tiny.safetensors')
    fs.writeFileSync(tiny, Buffer.from([1, 2, 3]))
    expectLabError(() => openTensorFile(tiny), 'CHECKPOINT_TRUNCATED')
    expectLabError(() => openTensorFile(path.join(tmp, 'missing.safetensors')), 'CHECKPOINT_NOT_FOUND', /missing/)
  })

  it('caps what one load may allocate (CHECKPOINT_TOO_LARGE before reading), f16 counted as float32', () => {
    const f16 = new Uint8Array(200)
    const file = rawSafetensors('cap.safetensors', { h: { dtype: 'F16', shape: [100], data_offsets: [0, 200] } }, f16)
    const error = expectLabError(() => openSafetensors(file, { maxLoadBytes: 399 }), 'CHECKPOINT_TOO_LARGE', /100 values \(400 bytes as float32\), over the 399-byte limit/)
    expect(error.details).toMatchObject({ bytes: 400, maxLoadBytes: 399 })
    const src = openSafetensors(file, { maxLoadBytes: 400 })
    expect(src.readFloat32('h').length).toBe(100)
    src.close()
  })

  it('finds a tensor overlapping a longer one several entries back, past a zero-length tensor', () => {
    const f32 = new Uint8Array(64)
    expectLabError(
      () =>
        openSafetensors(
          rawSafetensors(
            'overlap-far.safetensors',
            {
              big: { dtype: 'F32', shape: [10], data_offsets: [0, 40] },
              empty: { dtype: 'F32', shape: [0], data_offsets: [8, 8] },
              inside: { dtype: 'F32', shape: [2], data_offsets: [16, 24] },
            },
            f32,
          ),
        ),
      'CHECKPOINT_FORMAT',
      /"big" and "inside" overlap/,
    )
  })
})
