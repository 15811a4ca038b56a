// Writes torch.save-compatible zip archives (STORED entries, 64-byte aligned data, zip64 when needed) and the
// protocol-2 pickle of a state dict, as torch does. Used by tests and scripts to make .bin files without Python;
// `PickleBuilder` also lets tests assemble arbitrary (hostile) pickles opcode by opcode.
import * as zlib from 'node:zlib'
import { LabError } from '../../common/errors'
import { DTYPE_BYTES, shapeNumel } from './dtype'
import { writeAll, writeAtomically } from './safetensors'
import type { StoredDType } from './types'

// ---- pickle ------------------------------------------------------------------------------------------------------

/** Emits pickle opcodes; every method returns `this`. */
export class PickleBuilder {
  private chunks: number[] = []

  op(...bytes: number[]): this {
    this.chunks.push(...bytes)
    return this
  }
  proto(version = 2): this {
    return this.op(0x80, version)
  }
  mark(): this {
    return this.op(0x28)
  }
  stop(): this {
    return this.op(0x2e)
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...ascii(`${module}\n${name}\n`))
  }
  str(text: string): this {
    const bytes = new TextEncoder().encode(text)
    return this.op(0x58, ...u32(bytes.length), ...bytes)
  }
  int(value: number): this {
    if (value >= 0 && value < 256) return this.op(0x4b, value)
    if (value >= 0 && value < 65536) return this.op(0x4d, value & 0xff, value >> 8)
    if (value >= -(2 ** 31) && value < 2 ** 31) return this.op(0x4a, ...u32(value >>> 0))
    // LONG1, 8 bytes two's complement
    const big = BigInt.asUintN(64, BigInt(value))
    const bytes: number[] = []
    for (let i = 0n; i < 8n; i++) bytes.push(Number((big >> (8n * i)) & 0xffn))
    return this.op(0x8a, 8, ...bytes)
  }
  bool(value: boolean): this {
    return this.op(value ? 0x88 : 0x89)
  }
  none(): this {
    return this.op(0x4e)
  }
  tuple(): this {
    return this.op(0x74)
  }
  emptyTuple(): this {
    return this.op(0x29)
  }
  emptyDict(): this {
    return this.op(0x7d)
  }
  emptyList(): this {
    return this.op(0x5d)
  }
  setitems(): this {
    return this.op(0x75)
  }
  reduce(): this {
    return this.op(0x52)
  }
  binpersid(): this {
    return this.op(0x51)
  }
  /** tuple of ints: MARK ints TUPLE */
  ints(values: number[]): this {
    this.mark()
    for (const v of values) this.int(v)
    return this.tuple()
  }
  /** _rebuild_tensor_v2(persistent_load(('storage', torch.<type>, key, 'cpu', numel)), offset, size, stride, False, OrderedDict()) */
  tensor(storageType: string, key: string, storageNumel: number, offset: number, size: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2')
    this.mark()
    this.mark().str('storage').global('torch', storageType).str(key).str('cpu').int(storageNumel).tuple().binpersid()
    this.int(offset).ints(size).ints(stride).bool(false)
    this.global('collections', 'OrderedDict').emptyTuple().reduce()
    return this.tuple().reduce()
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks)
  }
}

function ascii(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0))
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]
}

const STORAGE_TYPE: Record<StoredDType, string> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  F64: 'DoubleStorage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
}

export interface TorchTensorSpec {
  name: string
  dtype: StoredDType
  shape: number[]
  /** Little-endian element data (any typed array whose bytes are the stored elements); produced when written. */
  data: () => ArrayBufferView
}

export interface WritePytorchOptions {
  /** 'dict' as save_pretrained writes it, 'ordered' as torch.save(model.state_dict()) does. Default 'dict'. */
  topLevel?: 'dict' | 'ordered'
  /** Archive folder name inside the zip (torch uses the file's stem). Default 'archive'. */
  archiveName?: string
  /** Force zip64 records even for small files (for tests). */
  zip64?: boolean
}

/** Writes a state dict as a torch.save zip archive, one storage per tensor, atomically. */
export function writePytorchStateDict(path: string, tensors: TorchTensorSpec[], options: WritePytorchOptions = {}): void {
  const archive = options.archiveName ?? 'archive'
  const p = new PickleBuilder().proto(2)
  if (options.topLevel === 'ordered') p.global('collections', 'OrderedDict').emptyTuple().reduce()
  else p.emptyDict()
  p.mark()
  tensors.forEach((t, i) => {
    const numel = shapeNumel(t.shape, t.name)
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1))
    p.str(t.name).tensor(STORAGE_TYPE[t.dtype], String(i), numel, 0, t.shape, stride)
  })
  p.setitems().stop()
  const entries: ZipEntrySpec[] = [
    { name: `${archive}/data.pkl`, data: () => p.bytes() },
    { name: `${archive}/.format_version`, data: () => new TextEncoder().encode('1') },
    { name: `${archive}/.storage_alignment`, data: () => new TextEncoder().encode('64') },
    { name: `${archive}/byteorder`, data: () => new TextEncoder().encode('little') },
    ...tensors.map((t, i) => ({
      name: `${archive}/data/${i}`,
      data: () => {
        const view = t.data()
        const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
        const expected = shapeNumel(t.shape, t.name) * DTYPE_BYTES[t.dtype]
        if (bytes.byteLength !== expected) {
          throw new LabError('INPUT_INVALID', `tensor "${t.name}": ${bytes.byteLength} bytes of data, shape needs ${expected}`)
        }
        return bytes
      },
    })),
    { name: `${archive}/version`, data: () => new TextEncoder().encode('3\n') },
  ]
  writeZip(path, entries, { zip64: options.zip64 })
}

// ---- zip ---------------------------------------------------------------------------------------------------------

export interface ZipEntrySpec {
  name: string
  data: () => Uint8Array
  /** 0 STORED (default) or 8 DEFLATE */
  method?: 0 | 8
}

const ALIGN = 64

/** Writes a zip archive atomically; entry data is produced (and released) one entry at a time. */
export function writeZip(path: string, entries: ZipEntrySpec[], options: { zip64?: boolean } = {}): void {
  writeAtomically(path, (fd) => {
    const central: Buffer[] = []
    let offset = 0
    const put = (bytes: Uint8Array): void => {
      writeAll(fd, bytes)
      offset += bytes.byteLength
    }
    for (const spec of entries) {
      const raw = spec.data()
      const method = spec.method ?? 0
      const stored = method === 8 ? new Uint8Array(zlib.deflateRawSync(raw)) : raw
      const crc = crc32(raw)
      const name = Buffer.from(spec.name, 'utf8')
      const localOffset = offset
      const big = options.zip64 || stored.byteLength >= 0xffffffff || raw.byteLength >= 0xffffffff || localOffset >= 0xffffffff
      const z64Local = big ? zip64Extra([raw.byteLength, stored.byteLength]) : Buffer.alloc(0)
      // pad the local extra field so the data starts on a 64-byte boundary (as torch does)
      const base = localOffset + 30 + name.length + z64Local.length
      let pad = (ALIGN - ((base + 4) % ALIGN)) % ALIGN
      const padField = Buffer.alloc(4 + pad)
      padField.writeUInt16LE(0x4246, 0) // 'FB', torch's padding id
      padField.writeUInt16LE(pad, 2)
      const localExtra = Buffer.concat([z64Local, padField])
      const local = Buffer.alloc(30)
      local.writeUInt32LE(0x04034b50, 0)
      local.writeUInt16LE(big ? 45 : 20, 4)
      local.writeUInt16LE(0x0800, 6) // UTF-8 names
      local.writeUInt16LE(method, 8)
      local.writeUInt32LE(crc, 14)
      local.writeUInt32LE(big ? 0xffffffff : stored.byteLength, 18)
      local.writeUInt32LE(big ? 0xffffffff : raw.byteLength, 22)
      local.writeUInt16LE(name.length, 26)
      local.writeUInt16LE(localExtra.length, 28)
      put(local)
      put(name)
      put(localExtra)
      put(stored)
      pad = 0
      const cdExtra = big ? zip64Extra([raw.byteLength, stored.byteLength, localOffset]) : Buffer.alloc(0)
      const cd = Buffer.alloc(46)
      cd.writeUInt32LE(0x02014b50, 0)
      cd.writeUInt16LE(big ? 45 : 20, 4)
      cd.writeUInt16LE(big ? 45 : 20, 6)
      cd.writeUInt16LE(0x0800, 8)
      cd.writeUInt16LE(method, 10)
      cd.writeUInt32LE(crc, 16)
      cd.writeUInt32LE(big ? 0xffffffff : stored.byteLength, 20)
      cd.writeUInt32LE(big ? 0xffffffff : raw.byteLength, 24)
      cd.writeUInt16LE(name.length, 28)
      cd.writeUInt16LE(cdExtra.length, 30)
      cd.writeUInt32LE(big ? 0xffffffff : localOffset, 42)
      central.push(cd, name, cdExtra)
    }
    const cdOffset = offset
    const cdBytes = Buffer.concat(central)
    put(cdBytes)
    const needZip64 = options.zip64 || entries.length >= 0xffff || cdOffset >= 0xffffffff || cdBytes.length >= 0xffffffff
    if (needZip64) {
      const z64Offset = offset
      const rec = Buffer.alloc(56)
      rec.writeUInt32LE(0x06064b50, 0)
      rec.writeBigUInt64LE(44n, 4)
      rec.writeUInt16LE(45, 12)
      rec.writeUInt16LE(45, 14)
      rec.writeBigUInt64LE(BigInt(entries.length), 24)
      rec.writeBigUInt64LE(BigInt(entries.length), 32)
      rec.writeBigUInt64LE(BigInt(cdBytes.length), 40)
      rec.writeBigUInt64LE(BigInt(cdOffset), 48)
      put(rec)
      const loc = Buffer.alloc(20)
      loc.writeUInt32LE(0x07064b50, 0)
      loc.writeBigUInt64LE(BigInt(z64Offset), 8)
      loc.writeUInt32LE(1, 16)
      put(loc)
    }
    const eocd = Buffer.alloc(22)
    eocd.writeUInt32LE(0x06054b50, 0)
    eocd.writeUInt16LE(needZip64 ? 0xffff : entries.length, 8)
    eocd.writeUInt16LE(needZip64 ? 0xffff : entries.length, 10)
    eocd.writeUInt32LE(needZip64 ? 0xffffffff : cdBytes.length, 12)
    eocd.writeUInt32LE(needZip64 ? 0xffffffff : cdOffset, 16)
    put(eocd)
  })
}

function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length)
  b.writeUInt16LE(0x0001, 0)
  b.writeUInt16LE(8 * values.length, 2)
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i))
  return b
}

let crcTable: Int32Array | undefined

export function crc32(bytes: Uint8Array): number {
  const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32
  if (native) return native(bytes) >>> 0
  if (!crcTable) {
    crcTable = new Int32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      crcTable[n] = c
    }
  }
  let c = -1
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

