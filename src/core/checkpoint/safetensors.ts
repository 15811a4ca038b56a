// safetensors reader (lazy, positioned reads) and writer (atomic, header padded to 8 bytes).
// Format: u64 LE header length N, N bytes of JSON {"__metadata__"?: {str: str}, name: {dtype, shape,
// data_offsets: [begin, end]}}, then the data; offsets are relative to the end of the header.
import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { LabError } from '../../common/errors'
import { DTYPE_BYTES, checkLoadBytes, isStoredDType, shapeNumel } from './dtype'
import { PositionedFile } from './positioned-file'
import { DEFAULT_CHECKPOINT_LIMITS, type CheckpointLimits, type HostTensor, type ReadStats, type TensorEntry, type TensorSource } from './types'

/** The safetensors library refuses headers above 100 MB; so do we (a corrupt length must not allocate GBs). */
export const MAX_SAFETENSORS_HEADER = 100_000_000

interface SafetensorsIndexEntry extends TensorEntry {
  numel: number
  /** absolute file position of the first byte */
  begin: number
  byteLength: number
}

export interface SafetensorsSource extends TensorSource {
  readonly format: 'safetensors'
  /** The `__metadata__` map (empty when absent). */
  readonly metadata: Record<string, string>
}

export function openSafetensors(path: string, limits: Partial<CheckpointLimits> = {}): SafetensorsSource {
  const file = new PositionedFile(path)
  try {
    return new SafetensorsReader(file, { ...DEFAULT_CHECKPOINT_LIMITS, ...limits })
  } catch (error) {
    file.close()
    throw error
  }
}

class SafetensorsReader implements SafetensorsSource {
  readonly format = 'safetensors' as const
  readonly path: string
  readonly metadata: Record<string, string>
  private readonly file: PositionedFile
  private readonly index: Map<string, SafetensorsIndexEntry>
  private readonly ordered: SafetensorsIndexEntry[]

  constructor(file: PositionedFile, limits: CheckpointLimits) {
    this.file = file
    this.path = file.path
    const parsed = parseSafetensorsHeader(file)
    checkLoadBytes(file.path, parsed.entries.reduce((sum, e) => sum + e.numel, 0), limits)
    this.metadata = parsed.metadata
    this.ordered = parsed.entries
    this.index = new Map(parsed.entries.map((e) => [e.name, e]))
  }

  entries(): TensorEntry[] {
    return this.ordered.map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] }))
  }

  has(name: string): boolean {
    return this.index.has(name)
  }

  readFloat32(name: string, stats?: ReadStats): Float32Array {
    const e = this.entry(name)
    return this.file.readFloat32(e.begin, e.numel, e.dtype, name, stats)
  }

  readInt32(name: string): Int32Array {
    const e = this.entry(name)
    return this.file.readInt32(e.begin, e.numel, e.dtype, name)
  }

  close(): void {
    this.file.close()
  }

  private entry(name: string): SafetensorsIndexEntry {
    const e = this.index.get(name)
    if (!e) {
      throw new LabError('CHECKPOINT_MISSING_KEY', `tensor "${name}" is not in ${this.path}`, { tensor: name, path: this.path })
    }
    return e
  }
}

function parseSafetensorsHeader(file: PositionedFile): { metadata: Record<string, string>; entries: SafetensorsIndexEntry[] } {
  const where = file.path
  if (file.size < 8) {
    throw new LabError('CHECKPOINT_TRUNCATED', `${where}: ${file.size} bytes is too short for a safetensors file`, { path: where })
  }
  const lengthBytes = file.read(0, 8, 'safetensors header length')
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true)
  if (headerLength < 2n || headerLength > BigInt(MAX_SAFETENSORS_HEADER)) {
    throw new LabError('CHECKPOINT_FORMAT', `${where}: implausible safetensors header length ${headerLength}`, { path: where })
  }
  const n = Number(headerLength)
  if (8 + n > file.size) {
    throw new LabError(
      'CHECKPOINT_TRUNCATED',
      `${where}: safetensors header claims ${n} bytes but the file has only ${file.size - 8} after the length`,
      { path: where },
    )
  }
  const headerBytes = file.read(8, n, 'safetensors header')
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes))
  } catch (error) {
    throw new LabError('CHECKPOINT_FORMAT', `${where}: safetensors header is not valid UTF-8 JSON (${(error as Error).message})`, {
      path: where,
    })
  }
  if (!isPlainObject(header)) {
    throw new LabError('CHECKPOINT_FORMAT', `${where}: safetensors header is not a JSON object`, { path: where })
  }
  const dataStart = 8 + n
  const dataLength = file.size - dataStart
  const metadata: Record<string, string> = {}
  const entries: SafetensorsIndexEntry[] = []
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(value)) {
        throw new LabError('CHECKPOINT_FORMAT', `${where}: __metadata__ is not an object`, { path: where })
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') {
          throw new LabError('CHECKPOINT_FORMAT', `${where}: __metadata__["${k}"] is not a string`, { path: where })
        }
        metadata[k] = v
      }
      continue
    }
    const bad = (why: string): LabError =>
      new LabError('CHECKPOINT_FORMAT', `${where}: tensor "${name}": ${why}`, { path: where, tensor: name })
    if (!isPlainObject(value)) throw bad('header entry is not an object')
    const { dtype, shape, data_offsets: offsets } = value
    if (!isStoredDType(dtype)) throw bad(`unsupported dtype ${JSON.stringify(dtype)}`)
    const numel = shapeNumel(shape, name)
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw bad(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`)
    }
    const [begin, end] = offsets as [number, number]
    if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before begin`)
    const expected = numel * DTYPE_BYTES[dtype]
    if (end - begin !== expected) {
      throw bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype}[${(shape as number[]).join(', ')}] needs ${expected}`)
    }
    if (end > dataLength) {
      throw new LabError(
        'CHECKPOINT_TRUNCATED',
        `${where}: tensor "${name}" ends at data byte ${end} but the file holds only ${dataLength} data bytes`,
        { path: where, tensor: name },
      )
    }
    entries.push({ name, dtype, shape: [...(shape as number[])], numel, begin: dataStart + begin, byteLength: expected })
  }
  // Sorted by start, every tensor must begin at or after the furthest end so far (not just the previous one's:
  // a long tensor can cover several short ones).
  entries.sort((a, b) => a.begin - b.begin || a.byteLength - b.byteLength)
  let furthest: SafetensorsIndexEntry | undefined
  for (const cur of entries) {
    if (furthest && cur.byteLength > 0 && cur.begin < furthest.begin + furthest.byteLength) {
      throw new LabError('CHECKPOINT_FORMAT', `${where}: tensors "${furthest.name}" and "${cur.name}" overlap`, {
        path: where,
        tensor: cur.name,
      })
    }
    if (!furthest || cur.begin + cur.byteLength > furthest.begin + furthest.byteLength) furthest = cur
  }
  return { metadata, entries }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// ---- writer ------------------------------------------------------------------------------------------------------

/** A tensor to write whose data is produced only when its turn comes (lets scripts write files larger than RAM). */
export interface LazyHostTensor {
  name: string
  dtype: HostTensor['dtype']
  shape: number[]
  data: () => HostTensor['data']
}

/** Writes a safetensors file atomically (temp file in the same folder, then rename); layout: safetensorsLayout. */
export function writeSafetensors(path: string, tensors: Record<string, HostTensor>, metadata?: Record<string, string>): void {
  writeSafetensorsLazy(
    path,
    Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: () => t.data })),
    metadata,
  )
}

export function writeSafetensorsLazy(path: string, tensors: LazyHostTensor[], metadata?: Record<string, string>): void {
  const { ordered, sizes, head } = safetensorsLayout(tensors, metadata)
  writeAtomically(path, (fd) => {
    writeAll(fd, head)
    ordered.forEach((t, i) => {
      const data = t.data()
      checkHostData(t.name, t.dtype, data, sizes[i])
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    })
  })
}

/** A safetensors file in memory (same layout as writeSafetensors): for small models stored as one blob. */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata?: Record<string, string>): Uint8Array {
  const { ordered, sizes, head } = safetensorsLayout(
    Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: () => t.data })),
    metadata,
  )
  const out = new Uint8Array(head.byteLength + sizes.reduce((a, b) => a + b, 0))
  out.set(head, 0)
  let offset = head.byteLength
  ordered.forEach((t, i) => {
    const data = t.data()
    checkHostData(t.name, t.dtype, data, sizes[i])
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset)
    offset += sizes[i]
  })
  return out
}

/**
 * The tensor order, data sizes and the bytes before the data (u64 header length + JSON header). 8-byte tensors
 * come first and the header is padded with spaces to a multiple of 8, so every tensor is aligned to its element size.
 */
function safetensorsLayout(tensors: LazyHostTensor[], metadata?: Record<string, string>): { ordered: LazyHostTensor[]; sizes: number[]; head: Uint8Array } {
  const seen = new Set<string>()
  for (const t of tensors) {
    if (t.name === '__metadata__' || seen.has(t.name)) {
      throw new LabError('INPUT_INVALID', `cannot write tensor name "${t.name}" (reserved or duplicate)`)
    }
    seen.add(t.name)
  }
  // stable: 8-byte dtypes first, then 4-byte ones
  const ordered = [...tensors].sort((a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype])
  const header: Record<string, unknown> = {}
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata }
  let offset = 0
  const sizes: number[] = []
  for (const t of ordered) {
    const bytes = shapeNumel(t.shape, t.name) * DTYPE_BYTES[t.dtype]
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] }
    sizes.push(bytes)
    offset += bytes
  }
  let json = JSON.stringify(header)
  const jsonBytes = Buffer.byteLength(json, 'utf8')
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8)
  const headerBytes = Buffer.from(json, 'utf8')
  const head = new Uint8Array(8 + headerBytes.length)
  new DataView(head.buffer).setBigUint64(0, BigInt(headerBytes.length), true)
  head.set(headerBytes, 8)
  return { ordered, sizes, head }
}

function checkHostData(name: string, dtype: HostTensor['dtype'], data: HostTensor['data'], bytes: number): void {
  const ok =
    (dtype === 'F32' && data instanceof Float32Array) ||
    (dtype === 'I32' && data instanceof Int32Array) ||
    (dtype === 'I64' && data instanceof BigInt64Array)
  if (!ok) throw new LabError('INPUT_INVALID', `tensor "${name}": ${dtype} data must be a ${hostArrayName(dtype)}`)
  if (data.byteLength !== bytes) {
    throw new LabError('INPUT_INVALID', `tensor "${name}": data has ${data.byteLength} bytes, shape needs ${bytes}`)
  }
}

function hostArrayName(dtype: HostTensor['dtype']): string {
  return dtype === 'F32' ? 'Float32Array' : dtype === 'I32' ? 'Int32Array' : 'BigInt64Array'
}

export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0
  while (done < bytes.byteLength) {
    done += fs.writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, 1 << 30))
  }
}

/** Runs `write` on a temp file next to `path`, fsyncs, then renames over `path`; removes the temp file on failure. */
export function writeAtomically(path: string, write: (fd: number) => void): void {
  const dir = nodePath.dirname(path)
  const temp = nodePath.join(dir, `.${nodePath.basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`)
  const fd = fs.openSync(temp, 'wx')
  let open = true
  try {
    write(fd)
    fs.fsyncSync(fd)
    open = false
    fs.closeSync(fd)
    fs.renameSync(temp, path)
  } catch (error) {
    if (open) fs.closeSync(fd)
    fs.rmSync(temp, { force: true })
    throw error
  }
}

