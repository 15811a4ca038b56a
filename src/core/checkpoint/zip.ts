// A small read-only zip reader for torch.save archives: central directory (zip64 where needed), STORED entries
// located for positioned reads, DEFLATE entries (rare in checkpoints) inflated with node:zlib on demand.
import * as zlib from 'node:zlib'
import { LabError } from '../../common/errors'
import type { PositionedFile } from './positioned-file'

export interface ZipEntry {
  name: string
  /** 0 = STORED, 8 = DEFLATE */
  method: number
  compressedSize: number
  uncompressedSize: number
  localHeaderOffset: number
}

const SIG_EOCD = 0x06054b50
const SIG_ZIP64_LOCATOR = 0x07064b50
const SIG_ZIP64_EOCD = 0x06064b50
const SIG_CENTRAL = 0x02014b50
const SIG_LOCAL = 0x04034b50
const MAX_COMMENT = 0xffff
/** Inflated entries are held in memory; refuse absurd claims rather than allocating them. */
const MAX_INFLATED = 2 ** 31 - 1

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>()
  private readonly dataOffsets = new Map<string, number>()

  constructor(private readonly file: PositionedFile) {
    this.readCentralDirectory()
  }

  get path(): string {
    return this.file.path
  }

  /** Absolute file position of a STORED entry's first data byte (validated to lie inside the file). */
  dataOffset(entry: ZipEntry): number {
    const cached = this.dataOffsets.get(entry.name)
    if (cached !== undefined) return cached
    const local = this.file.read(entry.localHeaderOffset, 30, `zip local header of "${entry.name}"`)
    const view = new DataView(local.buffer)
    if (view.getUint32(0, true) !== SIG_LOCAL) {
      throw this.error('CHECKPOINT_FORMAT', `bad local header signature for entry "${entry.name}"`)
    }
    const start = entry.localHeaderOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true)
    if (start + entry.compressedSize > this.file.size) {
      throw this.error(
        'CHECKPOINT_TRUNCATED',
        `entry "${entry.name}" (${entry.compressedSize} bytes at ${start}) runs past the end of the file (${this.file.size} bytes)`,
      )
    }
    this.dataOffsets.set(entry.name, start)
    return start
  }

  /** The whole (decompressed) content of an entry; for small entries (data.pkl, byteorder) and DEFLATE storages. */
  readEntry(entry: ZipEntry, maxBytes = MAX_INFLATED): Uint8Array {
    if (entry.uncompressedSize > maxBytes) {
      throw this.error('CHECKPOINT_FORMAT', `entry "${entry.name}" claims ${entry.uncompressedSize} bytes (limit ${maxBytes})`)
    }
    const start = this.dataOffset(entry)
    const raw = this.file.read(start, entry.compressedSize, `zip entry "${entry.name}"`)
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        throw this.error('CHECKPOINT_FORMAT', `STORED entry "${entry.name}" has different compressed and uncompressed sizes`)
      }
      return raw
    }
    let out: Buffer
    try {
      out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) })
    } catch (error) {
      throw this.error('CHECKPOINT_FORMAT', `entry "${entry.name}" does not inflate: ${(error as Error).message}`)
    }
    if (out.length !== entry.uncompressedSize) {
      throw this.error(
        'CHECKPOINT_TRUNCATED',
        `entry "${entry.name}" inflates to ${out.length} bytes, the directory says ${entry.uncompressedSize}`,
      )
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length)
  }

  private error(code: 'CHECKPOINT_FORMAT' | 'CHECKPOINT_TRUNCATED', message: string): LabError {
    return new LabError(code, `${this.file.path}: ${message}`, { path: this.file.path })
  }

  private readCentralDirectory(): void {
    const size = this.file.size
    if (size < 22) throw this.error('CHECKPOINT_TRUNCATED', `${size} bytes is too short for a zip archive`)
    const tailLength = Math.min(size, 22 + MAX_COMMENT)
    const tailStart = size - tailLength
    const tail = this.file.read(tailStart, tailLength, 'zip end record')
    const tv = new DataView(tail.buffer)
    let eocd = -1
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) <= tailLength) {
        eocd = i
        break
      }
    }
    if (eocd < 0) {
      throw this.error('CHECKPOINT_TRUNCATED', 'no zip end-of-central-directory record (the file is truncated or not a zip archive)')
    }
    let count = tv.getUint16(eocd + 10, true)
    let cdSize = tv.getUint32(eocd + 12, true)
    let cdOffset = tv.getUint32(eocd + 16, true)
    if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) {
      throw this.error('CHECKPOINT_FORMAT', 'multi-disk zip archives are not supported')
    }
    const eocdPos = tailStart + eocd
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      if (eocdPos < 20) throw this.error('CHECKPOINT_FORMAT', 'zip64 end record locator missing')
      const loc = new DataView(this.file.read(eocdPos - 20, 20, 'zip64 locator').buffer)
      if (loc.getUint32(0, true) !== SIG_ZIP64_LOCATOR) throw this.error('CHECKPOINT_FORMAT', 'zip64 end record locator missing')
      const z64Pos = safeNumber(loc.getBigUint64(8, true))
      if (z64Pos + 56 > eocdPos) throw this.error('CHECKPOINT_FORMAT', 'zip64 end record offset is out of range')
      const z = new DataView(this.file.read(z64Pos, 56, 'zip64 end record').buffer)
      if (z.getUint32(0, true) !== SIG_ZIP64_EOCD) throw this.error('CHECKPOINT_FORMAT', 'bad zip64 end record signature')
      count = safeNumber(z.getBigUint64(32, true))
      cdSize = safeNumber(z.getBigUint64(40, true))
      cdOffset = safeNumber(z.getBigUint64(48, true))
    }
    if (cdOffset + cdSize > eocdPos) {
      throw this.error('CHECKPOINT_TRUNCATED', `central directory (${cdSize} bytes at ${cdOffset}) lies outside the file`)
    }
    if (count * 46 > cdSize) throw this.error('CHECKPOINT_FORMAT', `central directory too small for ${count} entries`)
    const cd = this.file.read(cdOffset, cdSize, 'zip central directory')
    const v = new DataView(cd.buffer)
    const decoder = new TextDecoder('utf-8', { fatal: true })
    let p = 0
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || v.getUint32(p, true) !== SIG_CENTRAL) {
        throw this.error('CHECKPOINT_FORMAT', `corrupt central directory at entry ${i}`)
      }
      const flags = v.getUint16(p + 8, true)
      const method = v.getUint16(p + 10, true)
      let compressedSize = v.getUint32(p + 20, true)
      let uncompressedSize = v.getUint32(p + 24, true)
      const nameLength = v.getUint16(p + 28, true)
      const extraLength = v.getUint16(p + 30, true)
      const commentLength = v.getUint16(p + 32, true)
      let localHeaderOffset = v.getUint32(p + 42, true)
      const end = p + 46 + nameLength + extraLength + commentLength
      if (end > cdSize) throw this.error('CHECKPOINT_FORMAT', `corrupt central directory at entry ${i}`)
      let name: string
      try {
        name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLength))
      } catch {
        throw this.error('CHECKPOINT_FORMAT', `entry ${i} has a name that is not UTF-8`)
      }
      // zip64 extended information: the 8-byte values present are those whose 32-bit field is saturated
      let e = p + 46 + nameLength
      const extraEnd = e + extraLength
      while (e + 4 <= extraEnd) {
        const id = v.getUint16(e, true)
        const len = v.getUint16(e + 2, true)
        if (e + 4 + len > extraEnd) throw this.error('CHECKPOINT_FORMAT', `entry "${name}" has a corrupt extra field`)
        if (id === 0x0001) {
          let q = e + 4
          const next = (): number => {
            if (q + 8 > e + 4 + len) throw this.error('CHECKPOINT_FORMAT', `entry "${name}" has a short zip64 extra field`)
            const value = safeNumber(v.getBigUint64(q, true))
            q += 8
            return value
          }
          if (uncompressedSize === 0xffffffff) uncompressedSize = next()
          if (compressedSize === 0xffffffff) compressedSize = next()
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = next()
        }
        e += 4 + len
      }
      validateEntryName(name, (m) => this.error('CHECKPOINT_FORMAT', m))
      if (flags & 1) throw this.error('CHECKPOINT_FORMAT', `entry "${name}" is encrypted`)
      if (method !== 0 && method !== 8) {
        throw this.error('CHECKPOINT_FORMAT', `entry "${name}" uses unsupported compression method ${method}`)
      }
      if (localHeaderOffset + 30 + compressedSize > cdOffset) {
        throw this.error('CHECKPOINT_TRUNCATED', `entry "${name}" (${compressedSize} bytes at ${localHeaderOffset}) overruns the central directory`)
      }
      if (this.entries.has(name)) throw this.error('CHECKPOINT_FORMAT', `duplicate zip entry "${name}"`)
      this.entries.set(name, { name, method, compressedSize, uncompressedSize, localHeaderOffset })
      p = end
    }
  }
}

function validateEntryName(name: string, fail: (message: string) => LabError): void {
  if (
    name.length === 0 ||
    name.includes('\0') ||
    name.includes('\\') ||
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').some((part) => part === '..')
  ) {
    throw fail(`unsafe or invalid zip entry name ${JSON.stringify(name)}`)
  }
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LabError('CHECKPOINT_FORMAT', `zip field value ${value} is out of range`)
  }
  return Number(value)
}
