import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { openTensorFile, openPytorch, detectTensorFileFormat } from '../../src/core/checkpoint'
import { PickleBuilder, writePytorchStateDict, writeZip, type ZipEntrySpec } from '../../src/core/checkpoint/pytorch-writer'

const FIXTURES = path.resolve(__dirname, '../fixtures')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dl-pt-'))
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
  expect(error.code, error.message).toBe(code)
  if (text) expect(error.message).toMatch(text)
  return error
}

let counter = 0
/** A torch-style zip with the given pickle and storages (key → bytes). */
function archive(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, extra: ZipEntrySpec[] = []): string {
  const file = path.join(tmp, `a${counter++}.bin`)
  writeZip(file, [
    { name: 'archive/data.pkl', data: () => pickle },
    { name: 'archive/byteorder', data: () => new TextEncoder().encode('little') },
    ...Object.entries(storages).map(([key, bytes]) => ({ name: `archive/data/${key}`, data: () => bytes })),
    ...extra,
  ])
  return file
}

const f32bytes = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer)

/** {name: tensor} state dict pickle with one FloatStorage per tensor (or custom views). */
function stateDict(tensors: Array<[string, (p: PickleBuilder) => void]>): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().mark()
  for (const [name, build] of tensors) {
    p.str(name)
    build(p)
  }
  return p.setitems().stop().bytes()
}

describe('pytorch_model.bin reader', () => {
  for (const model of ['deberta-v3-tiny', 'deberta-v1-tiny']) {
    it(`reads ${model}/pytorch_model.bin equal to model.safetensors, tensor for tensor`, () => {
      const bin = openTensorFile(path.join(FIXTURES, model, 'pytorch_model.bin'))
      const st = openTensorFile(path.join(FIXTURES, model, 'model.safetensors'))
      expect(bin.format).toBe('pytorch')
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name)
      expect([...bin.entries()].sort(byName)).toEqual([...st.entries()].sort(byName))
      for (const { name } of st.entries()) {
        const a = bin.readFloat32(name)
        const b = st.readFloat32(name)
        expect(a.length).toBe(b.length)
        expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), name).toBe(true)
      }
      bin.close()
      st.close()
    })
  }

  it('round-trips its own writer: OrderedDict top, F16/BF16/I64 storages, zip64 records', () => {
    const file = path.join(tmp, 'own.bin')
    writePytorchStateDict(
      file,
      [
        { name: 'w', dtype: 'F32', shape: [2, 2], data: () => new Float32Array([1, -2, 3.5, 4]) },
        { name: 'h', dtype: 'F16', shape: [5], data: () => new Uint16Array([0x3c00, 0x0001, 0x7c00, 0xfe00, 0x8000]) },
        { name: 'b', dtype: 'BF16', shape: [2], data: () => new Uint16Array([0x4049, 0x0001]) },
        { name: 'ids', dtype: 'I64', shape: [3], data: () => new BigInt64Array([0n, -1n, 511n]) },
      ],
      { topLevel: 'ordered', zip64: true, archiveName: 'own' },
    )
    const src = openTensorFile(file)
    expect(src.entries().map((e) => `${e.name}:${e.dtype}:${e.shape}`)).toEqual(['w:F32:2,2', 'h:F16:5', 'b:BF16:2', 'ids:I64:3'])
    expect(Array.from(src.readFloat32('w'))).toEqual([1, -2, 3.5, 4])
    const h = src.readFloat32('h')
    expect([h[0], h[1], h[2]]).toEqual([1, 2 ** -24, Infinity])
    expect(Number.isNaN(h[3])).toBe(true)
    expect(Object.is(h[4], -0)).toBe(true)
    expect(Array.from(src.readFloat32('b'))).toEqual([3.140625, 2 ** -133])
    expect(Array.from(src.readInt32('ids'))).toEqual([0, -1, 511])
    expectLabError(() => src.readInt32('w'), 'CHECKPOINT_DTYPE', /"w"/)
    expectLabError(() => src.readFloat32('ids'), 'CHECKPOINT_DTYPE', /"ids"/)
    expectLabError(() => src.readFloat32('missing'), 'CHECKPOINT_MISSING_KEY', /missing/)
    src.close()
  })

  it('aligns storage data to 64 bytes like torch', () => {
    const file = path.join(tmp, 'align.bin')
    writePytorchStateDict(file, [{ name: 'x', dtype: 'F32', shape: [3], data: () => new Float32Array([7, 8, 9]) }])
    const bytes = fs.readFileSync(file)
    const at = bytes.indexOf(Buffer.from(new Float32Array([7, 8, 9]).buffer))
    expect(at % 64).toBe(0)
  })

  it('reads views into a shared storage with offsets, and non-contiguous (transposed) views', () => {
    // storage "0": 0..11; a = storage[2:6] as [2,2]; t = storage[0:6].view(2,3).T (size [3,2], stride [1,3])
    const pickle = stateDict([
      ['a', (p) => p.tensor('FloatStorage', '0', 12, 2, [2, 2], [2, 1])],
      ['t', (p) => p.tensor('FloatStorage', '0', 12, 0, [3, 2], [1, 3])],
      ['s', (p) => p.tensor('FloatStorage', '0', 12, 11, [], [])],
      ['e', (p) => p.tensor('FloatStorage', '0', 12, 0, [0, 4], [4, 1])],
      ['gaps', (p) => p.tensor('FloatStorage', '0', 12, 1, [2, 3], [6, 2])],
    ])
    const file = archive(pickle, { '0': f32bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) })
    const src = openPytorch(file)
    expect(Array.from(src.readFloat32('a'))).toEqual([2, 3, 4, 5])
    expect(Array.from(src.readFloat32('t'))).toEqual([0, 3, 1, 4, 2, 5])
    expect(Array.from(src.readFloat32('s'))).toEqual([11])
    expect(src.readFloat32('e').length).toBe(0)
    expect(Array.from(src.readFloat32('gaps'))).toEqual([1, 3, 5, 7, 9, 11])
    src.close()
  })

  it('reads DEFLATE-compressed storages', () => {
    const pickle = stateDict([['x', (p) => p.tensor('FloatStorage', '0', 4, 0, [4], [1])]])
    const file = path.join(tmp, 'deflate.bin')
    writeZip(file, [
      { name: 'archive/data.pkl', data: () => pickle, method: 8 },
      { name: 'archive/data/0', data: () => f32bytes([1, 2, 3, 4]), method: 8 },
    ])
    const src = openPytorch(file)
    expect(Array.from(src.readFloat32('x'))).toEqual([1, 2, 3, 4])
    src.close()
  })

  it('accepts parameters (_rebuild_parameter) and OrderedDict state with _metadata (BUILD)', () => {
    const p = new PickleBuilder().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark()
    p.str('w').global('torch._utils', '_rebuild_parameter').mark()
    p.tensor('FloatStorage', '0', 2, 0, [2], [1]).bool(true).global('collections', 'OrderedDict').emptyTuple().reduce()
    p.tuple().reduce().setitems()
    // state: {'_metadata': OrderedDict({'': {'version': 1}})}
    p.emptyDict().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce()
    p.str('').emptyDict().str('version').int(1).op(0x73).op(0x73).op(0x73).op(0x62).stop()
    const src = openPytorch(archive(p.bytes(), { '0': f32bytes([5, 6]) }))
    expect(Array.from(src.readFloat32('w'))).toEqual([5, 6])
    src.close()
  })

  describe('hostile and broken files give typed errors', () => {
    const evil = (module: string, name: string) =>
      new PickleBuilder().proto(2).global(module, name).mark().str('echo pwned').tuple().reduce().stop().bytes()

    it('refuses disallowed globals, naming them', () => {
      for (const [m, n] of [
        ['os', 'system'],
        ['posix', 'system'],
        ['builtins', 'eval'],
        ['__builtin__', 'exec'],
        ['torch.storage', '_load_from_bytes'],
        ['subprocess', 'Popen'],
      ]) {
        expectLabError(() => openPytorch(archive(evil(m, n))), 'CHECKPOINT_UNSAFE', new RegExp(`${m}\\.${n}`))
      }
    })

    it('refuses disallowed globals via STACK_GLOBAL (protocol 4) and INST', () => {
      const stackGlobal = new PickleBuilder().proto(4).str('builtins').str('exec').op(0x93).stop().bytes()
      expectLabError(() => openPytorch(archive(stackGlobal)), 'CHECKPOINT_UNSAFE', /builtins\.exec/)
      const inst = new PickleBuilder().proto(2).mark().str('id').op(0x69, ...Buffer.from('os\nsystem\n')).stop().bytes()
      expectLabError(() => openPytorch(archive(inst)), 'CHECKPOINT_UNSAFE', /os\.system/)
    })

    it('never calls allowlisted non-callables (a storage class via REDUCE)', () => {
      const p = new PickleBuilder().proto(2).global('torch', 'FloatStorage').mark().int(10).tuple().reduce().stop().bytes()
      expectLabError(() => openPytorch(archive(p)), 'CHECKPOINT_UNSAFE', /torch\.FloatStorage/)
    })

    it('rejects unknown opcodes, missing STOP, stack underflow and bad memo references', () => {
      expectLabError(() => openPytorch(archive(new PickleBuilder().proto(2).op(0xff).bytes())), 'CHECKPOINT_FORMAT', /opcode 0xff/)
      expectLabError(() => openPytorch(archive(new PickleBuilder().proto(2).op(0x82, 1).bytes())), 'CHECKPOINT_FORMAT', /opcode/)
      expectLabError(() => openPytorch(archive(new PickleBuilder().proto(2).emptyDict().bytes())), 'CHECKPOINT_FORMAT', /STOP/)
      expectLabError(() => openPytorch(archive(new PickleBuilder().proto(2).reduce().bytes())), 'CHECKPOINT_FORMAT', /underflow/)
      expectLabError(() => openPytorch(archive(new PickleBuilder().proto(2).op(0x68, 9).stop().bytes())), 'CHECKPOINT_FORMAT', /memo/)
    })

    it('rejects a top level that is not a dict, and non-tensor values', () => {
      const list = new PickleBuilder().proto(2).emptyList().stop().bytes()
      expectLabError(() => openPytorch(archive(list)), 'CHECKPOINT_FORMAT', /a list, not a state dict/)
      const nested = new PickleBuilder().proto(2).emptyDict().str('model').emptyDict().op(0x73).stop().bytes()
      expectLabError(() => openPytorch(archive(nested)), 'CHECKPOINT_FORMAT', /"model".*nested/)
    })

    it('rejects a storage that points to a missing entry, naming the tensor', () => {
      const pickle = stateDict([['enc.w', (p) => p.tensor('FloatStorage', '7', 4, 0, [4], [1])]])
      expectLabError(() => openPytorch(archive(pickle, {})), 'CHECKPOINT_FORMAT', /"enc\.w".*"7"/)
    })

    it('rejects truncated storages and views past the storage end', () => {
      const pickle = stateDict([['enc.w', (p) => p.tensor('FloatStorage', '0', 4, 0, [4], [1])]])
      expectLabError(() => openPytorch(archive(pickle, { '0': f32bytes([1, 2]) })), 'CHECKPOINT_TRUNCATED', /"enc\.w"/)
      const past = stateDict([['v', (p) => p.tensor('FloatStorage', '0', 4, 2, [4], [1])]])
      expectLabError(() => openPytorch(archive(past, { '0': f32bytes([1, 2, 3, 4]) })), 'CHECKPOINT_FORMAT', /"v".*reaches element 5/)
    })

    it('rejects huge claimed sizes without allocating them', () => {
      const hugeStorage = stateDict([['x', (p) => p.tensor('FloatStorage', '0', 2 ** 50, 0, [4], [1])]])
      expectLabError(() => openPytorch(archive(hugeStorage, { '0': f32bytes([1, 2, 3, 4]) })), 'CHECKPOINT_TRUNCATED', /"x"/)
      const hugeShape = stateDict([['x', (p) => p.tensor('FloatStorage', '0', 4, 0, [2 ** 30, 2 ** 30], [2 ** 30, 1])]])
      expectLabError(() => openPytorch(archive(hugeShape, { '0': f32bytes([1, 2, 3, 4]) })), 'CHECKPOINT_FORMAT', /"x"/)
      const hugeString = new PickleBuilder().proto(2).op(0x58, 0xff, 0xff, 0xff, 0xff, 0x41).stop().bytes()
      expectLabError(() => openPytorch(archive(hugeString)), 'CHECKPOINT_FORMAT', /ends unexpectedly/)
      const hugeFrame = new PickleBuilder().proto(4).op(0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f).stop().bytes()
      expectLabError(() => openPytorch(archive(hugeFrame)), 'CHECKPOINT_FORMAT', /length/)
      const hugeLong = new PickleBuilder().proto(2).op(0x8b, 0xff, 0xff, 0xff, 0x7f).stop().bytes()
      expectLabError(() => openPytorch(archive(hugeLong)), 'CHECKPOINT_FORMAT')
      // central directory claiming 2^32 entries
      const good = archive(stateDict([]))
      const bytes = fs.readFileSync(good)
      const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
      bytes.writeUInt32LE(0xfffffff0, eocd + 12) // central directory size
      const bad = path.join(tmp, 'hugecd.bin')
      fs.writeFileSync(bad, bytes)
      expectLabError(() => openPytorch(bad), 'CHECKPOINT_TRUNCATED', /central directory/)
    })

    it('rejects truncated zips, bad magic, legacy torch files and unsafe entry names', () => {
      const full = fs.readFileSync(path.join(FIXTURES, 'deberta-v3-tiny/pytorch_model.bin'))
      const cut = path.join(tmp, 'cut.bin')
      fs.writeFileSync(cut, full.subarray(0, 100_000))
      expectLabError(() => openTensorFile(cut), 'CHECKPOINT_TRUNCATED')
      const garbage = path.join(tmp, 'garbage.bin')
      fs.writeFileSync(garbage, Buffer.from('this is not a checkpoint at all'))
      expectLabError(() => openTensorFile(garbage), 'CHECKPOINT_FORMAT', /neither/)
      const legacy = path.join(tmp, 'legacy.bin')
      fs.writeFileSync(legacy, Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]))
      expectLabError(() => detectTensorFileFormat(legacy), 'CHECKPOINT_FORMAT', /legacy.*torch>=1\.6.*safetensors/)
      const traversal = archive(stateDict([]), {}, [{ name: 'archive/../../etc/passwd', data: () => new Uint8Array(1) }])
      expectLabError(() => openPytorch(traversal), 'CHECKPOINT_FORMAT', /unsafe/)
      const noPickle = path.join(tmp, 'nopkl.bin')
      writeZip(noPickle, [{ name: 'x/y', data: () => new Uint8Array(3) }])
      expectLabError(() => openPytorch(noPickle), 'CHECKPOINT_FORMAT', /data\.pkl/)
    })

    it('rejects big-endian archives', () => {
      const file = path.join(tmp, 'be.bin')
      writeZip(file, [
        { name: 'archive/data.pkl', data: () => stateDict([]) },
        { name: 'archive/byteorder', data: () => new TextEncoder().encode('big') },
      ])
      expectLabError(() => openPytorch(file), 'CHECKPOINT_FORMAT', /big/)
    })
  })

  describe('views must cover distinct storage elements, and one load has a size cap', () => {
    it('refuses zero-stride (broadcast) views of a tiny storage, naming the key', () => {
      // the attack: every weight a [1000, 1000] view with stride [0, 0] of one 4-byte storage
      const pickle = stateDict([['deberta.embeddings.word_embeddings.weight', (p) => p.tensor('FloatStorage', '0', 1, 0, [1000, 1000], [0, 0])]])
      const error = expectLabError(() => openPytorch(archive(pickle, { '0': f32bytes([1]) })), 'CHECKPOINT_FORMAT', /"deberta\.embeddings\.word_embeddings\.weight": view \(size \[1000,1000\], stride \[0,0\]\) reuses storage elements/)
      expect(error.details).toMatchObject({ tensor: 'deberta.embeddings.word_embeddings.weight' })
    })

    it('refuses overlapping strides and broadcasting one axis', () => {
      for (const [shape, stride] of [
        [[3, 3], [1, 1]],
        [[2, 3], [0, 1]],
        [[2, 2, 2], [2, 1, 1]],
        [[4, 2], [1, 3]],
      ] as Array<[number[], number[]]>) {
        const pickle = stateDict([['w', (p) => p.tensor('FloatStorage', '0', 12, 0, shape, stride)]])
        expectLabError(() => openPytorch(archive(pickle, { '0': f32bytes(Array.from({ length: 12 }, (_, i) => i)) })), 'CHECKPOINT_FORMAT', /"w": view .* reuses storage elements/)
      }
    })

    it('caps what one load may allocate, counting every view of a shared storage, before reading', () => {
      // 50 keys viewing the same 12-element storage: 600 values to allocate from 48 bytes of data
      const tied = stateDict(Array.from({ length: 50 }, (_, i) => [`w${i}`, (p: PickleBuilder) => p.tensor('FloatStorage', '0', 12, 0, [12], [1])]))
      const file = archive(tied, { '0': f32bytes(Array.from({ length: 12 }, (_, i) => i)) })
      const error = expectLabError(() => openPytorch(file, { maxLoadBytes: 2000 }), 'CHECKPOINT_TOO_LARGE', /600 values \(2400 bytes as float32\), over the 2000-byte limit/)
      expect(error.details).toMatchObject({ bytes: 2400, maxLoadBytes: 2000 })
      const src = openTensorFile(file, { maxLoadBytes: 2400 })
      expect(Array.from(src.readFloat32('w49'))).toEqual(Array.from({ length: 12 }, (_, i) => i))
      src.close()
    })

    it('counts a DEFLATE storage, inflated whole on every read, against the cap', () => {
      const pickle = stateDict([['one', (p) => p.tensor('FloatStorage', '0', 1000, 0, [1], [1])]])
      const file = path.join(tmp, 'deflate-cap.bin')
      writeZip(file, [
        { name: 'archive/data.pkl', data: () => pickle },
        { name: 'archive/data/0', data: () => new Uint8Array(4000), method: 8 },
      ])
      expectLabError(() => openPytorch(file, { maxLoadBytes: 3000 }), 'CHECKPOINT_TOO_LARGE', /over the 3000-byte limit/)
      const src = openPytorch(file, { maxLoadBytes: 4004 })
      expect(Array.from(src.readFloat32('one'))).toEqual([0])
      src.close()
    })

    it('counts NaN/Inf values while reading, for F32, F16, BF16 and strided views', () => {
      const f16 = new Uint8Array(new Uint16Array([0x3c00, 0x7c00, 0xfe00, 0x0000]).buffer) // 1, +Inf, NaN, 0
      const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0x7fc0, 0xff80]).buffer) // 1, NaN, -Inf
      const pickle = stateDict([
        ['f32', (p) => p.tensor('FloatStorage', '0', 4, 0, [4], [1])],
        ['half', (p) => p.tensor('HalfStorage', '1', 4, 0, [4], [1])],
        ['bf', (p) => p.tensor('BFloat16Storage', '2', 3, 0, [3], [1])],
        ['every-other', (p) => p.tensor('FloatStorage', '0', 4, 0, [2], [2])],
      ])
      const src = openPytorch(archive(pickle, { '0': f32bytes([NaN, 1, Infinity, 2]), '1': f16, '2': bf16 }))
      const count = (name: string): number => {
        const stats = { nonFinite: 0 }
        src.readFloat32(name, stats)
        return stats.nonFinite
      }
      expect([count('f32'), count('half'), count('bf'), count('every-other')]).toEqual([2, 2, 2, 2])
      src.close()
    })
  })
})
