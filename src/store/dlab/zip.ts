// A small, strict ZIP reader for .dlab files. It trusts nothing in the archive: the central directory is
// bounds-checked, sizes are read (and limited by the caller) before anything is inflated, and inflation is
// streamed with a hard cap at the declared size, so a zip bomb that lies about its size stops there.
import { crc32 } from 'node:zlib'
import { Inflate } from 'fflate'
import { LabError } from '../../common/errors'

export interface ZipEntry {
  name: string
  /** 0 stored, 8 deflate */
  method: 0 | 8
  compressedSize: number
  /** declared uncompressed size (central directory) */
  size: number
  crc32: number
  /** where the entry's compressed bytes start */
  dataOffset: number
}

const EOCD_SIGNATURE = 0x06054b50
const CENTRAL_SIGNATURE = 0x02014b50
const LOCAL_SIGNATURE = 0x04034b50
const EOCD_SIZE = 22
const CENTRAL_SIZE = 46
const LOCAL_SIZE = 30
/** Inflate input chunk: bounds how far past the cap one push can go (≤ ~1032× this). */
const INFLATE_CHUNK = 16 * 1024

const invalid = (message: string): LabError => new LabError('IMPORT_INVALID', `not a valid session file: ${message}`)

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Reads the central directory. maxEntries is checked before the entries are walked. */
export function readZipDirectory(bytes: Uint8Array, maxEntries: number): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const u16 = (at: number): number => view.getUint16(at, true)
  const u32 = (at: number): number => view.getUint32(at, true)

  let eocd = -1
  for (let at = bytes.length - EOCD_SIZE; at >= Math.max(0, bytes.length - EOCD_SIZE - 0xffff); at--) {
    if (u32(at) === EOCD_SIGNATURE && at + EOCD_SIZE + u16(at + 20) === bytes.length) {
      eocd = at
      break
    }
  }
  if (eocd < 0) throw invalid('no ZIP end record (truncated or not a ZIP file)')
  const count = u16(eocd + 10)
  const centralSize = u32(eocd + 12)
  const centralOffset = u32(eocd + 16)
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0 || u16(eocd + 8) !== count) throw invalid('multi-part archives are not supported')
  if (count === 0xffff || centralOffset === 0xffffffff || centralSize === 0xffffffff) throw invalid('ZIP64 archives are not supported')
  if (count > maxEntries) throw new LabError('IMPORT_TOO_LARGE', `the session file has ${count} entries (limit ${maxEntries})`, { entries: count, limit: maxEntries })
  if (centralOffset + centralSize > eocd) throw invalid('the central directory lies outside the file')

  const entries: ZipEntry[] = []
  let at = centralOffset
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > centralOffset + centralSize || u32(at) !== CENTRAL_SIGNATURE) throw invalid(`central directory entry ${i} is damaged`)
    const flags = u16(at + 8)
    const method = u16(at + 10)
    const entryCrc = u32(at + 16)
    const compressedSize = u32(at + 20)
    const size = u32(at + 24)
    const nameLength = u16(at + 28)
    const extraLength = u16(at + 30)
    const commentLength = u16(at + 32)
    const localOffset = u32(at + 42)
    const nameEnd = at + CENTRAL_SIZE + nameLength
    if (nameEnd > centralOffset + centralSize) throw invalid(`central directory entry ${i} is damaged`)
    const nameBytes = bytes.subarray(at + CENTRAL_SIZE, nameEnd)
    let name: string
    try {
      name = utf8.decode(nameBytes)
    } catch {
      throw invalid(`entry ${i} has a name that is not UTF-8`)
    }
    if (flags & 0x1) throw invalid(`entry "${name}" is encrypted`)
    if (method !== 0 && method !== 8) throw invalid(`entry "${name}" uses compression method ${method}`)
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) throw invalid('ZIP64 archives are not supported')
    if (method === 0 && compressedSize !== size) throw invalid(`stored entry "${name}" has mismatched sizes`)

    if (localOffset + LOCAL_SIZE > centralOffset || u32(localOffset) !== LOCAL_SIGNATURE) throw invalid(`entry "${name}" has no local header`)
    const localNameLength = u16(localOffset + 26)
    const localExtraLength = u16(localOffset + 28)
    const dataOffset = localOffset + LOCAL_SIZE + localNameLength + localExtraLength
    const localName = bytes.subarray(localOffset + LOCAL_SIZE, localOffset + LOCAL_SIZE + localNameLength)
    if (localNameLength !== nameLength || !localName.every((b, k) => b === nameBytes[k])) throw invalid(`entry "${name}": local and central names differ`)
    if (dataOffset + compressedSize > centralOffset) throw invalid(`entry "${name}" runs past the end of the data (truncated file?)`)

    entries.push({ name, method: method as 0 | 8, compressedSize, size, crc32: entryCrc, dataOffset })
    at = nameEnd + extraLength + commentLength
  }

  // Overlapping entries (one compressed stream claimed by many names) are a zip-bomb trick.
  const sorted = [...entries].sort((a, b) => a.dataOffset - b.dataOffset)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].dataOffset < sorted[i - 1].dataOffset + sorted[i - 1].compressedSize) throw invalid(`entries "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`)
  }
  const names = new Set<string>()
  for (const entry of entries) {
    if (names.has(entry.name)) throw invalid(`entry "${entry.name}" appears twice`)
    names.add(entry.name)
  }
  return entries
}

/**
 * The entry's bytes, at most `maxBytes` (default: the declared size). Inflation is streamed into a buffer that
 * grows with what actually comes out (a forged declared size allocates nothing) and stops as soon as the output
 * passes the declared size (IMPORT_CHECKSUM: damaged or forged) or maxBytes (IMPORT_TOO_LARGE); a short or
 * broken stream is IMPORT_INVALID; a CRC mismatch is IMPORT_CHECKSUM.
 */
export function extractEntry(bytes: Uint8Array, entry: ZipEntry, maxBytes: number = entry.size): Uint8Array {
  if (entry.size > maxBytes) {
    throw new LabError('IMPORT_TOO_LARGE', `entry "${entry.name}" declares ${entry.size} bytes (limit ${maxBytes})`, { entry: entry.name, limit: maxBytes })
  }
  const compressed = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize)
  let data: Uint8Array
  if (entry.method === 0) {
    data = compressed
  } else {
    // Start from what the compressed size could honestly give for small entries and grow geometrically.
    let buffer = new Uint8Array(Math.min(entry.size, Math.max(64 * 1024, compressed.length * 4)))
    let filled = 0
    const inflater = new Inflate((chunk) => {
      if (filled + chunk.length > entry.size) {
        // Either a damaged stream or a forged header (a zip bomb): the bytes do not match what the file declares.
        throw new LabError('IMPORT_CHECKSUM', `entry "${entry.name}" inflates past its declared ${entry.size} bytes: the file is damaged or forged`, { entry: entry.name })
      }
      if (filled + chunk.length > buffer.length) {
        const grown = new Uint8Array(Math.min(entry.size, Math.max(filled + chunk.length, buffer.length * 2)))
        grown.set(buffer.subarray(0, filled))
        buffer = grown
      }
      buffer.set(chunk, filled)
      filled += chunk.length
    })
    try {
      if (compressed.length === 0) inflater.push(compressed, true)
      for (let at = 0; at < compressed.length; at += INFLATE_CHUNK) {
        inflater.push(compressed.subarray(at, at + INFLATE_CHUNK), at + INFLATE_CHUNK >= compressed.length)
      }
    } catch (error) {
      if (error instanceof LabError) throw error
      throw invalid(`entry "${entry.name}" does not inflate (${(error as Error).message})`)
    }
    if (filled !== entry.size) throw invalid(`entry "${entry.name}" is ${filled} bytes, ${entry.size} declared (truncated?)`)
    data = buffer.length === filled ? buffer : buffer.subarray(0, filled)
  }
  if ((crc32(data) >>> 0) !== entry.crc32) throw new LabError('IMPORT_CHECKSUM', `entry "${entry.name}" fails its CRC-32 check (damaged file)`, { entry: entry.name })
  return data
}
