// A read-only file opened once and read with positioned fs.readSync calls: readers index a checkpoint
// and then read one tensor (or one chunk of it) at a time, never the whole file.
import * as fs from 'node:fs'
import { LabError } from '../../common/errors'
import { DTYPE_BYTES, convertToFloat32, convertToInt32, countNonFinite, type ReadStats } from './dtype'
import type { StoredDType } from './types'

/** Largest single fs.readSync request (Node caps a read at 2 GiB − 1). */
const MAX_READ = 1 << 30
/** Source bytes converted per step when the stored dtype is not the output dtype. */
const CONVERT_CHUNK = 8 << 20

export class PositionedFile {
  readonly path: string
  readonly size: number
  private fd: number | undefined

  constructor(path: string) {
    this.path = path
    let fd: number
    try {
      // O_NONBLOCK: a FIFO must not block the open (it is refused below); no effect on regular files.
      fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new LabError('CHECKPOINT_NOT_FOUND', `checkpoint file not found: ${path}`, { path })
      }
      throw new LabError('CHECKPOINT_FORMAT', `cannot open ${path}: ${(error as Error).message}`, { path })
    }
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) {
      fs.closeSync(fd)
      throw new LabError('CHECKPOINT_FORMAT', `${path} is not a regular file`, { path })
    }
    this.fd = fd
    this.size = stat.size
  }

  get closed(): boolean {
    return this.fd === undefined
  }

  close(): void {
    if (this.fd !== undefined) {
      const fd = this.fd
      this.fd = undefined
      fs.closeSync(fd)
    }
  }

  /**
   * Fills `target` from file position `position`. Reading past the end of the file throws
   * CHECKPOINT_TRUNCATED with `what` in the message.
   */
  readInto(target: Uint8Array, position: number, what: string): void {
    if (this.fd === undefined) throw new LabError('INTERNAL', `${this.path} was already closed`)
    if (position < 0 || position + target.byteLength > this.size) {
      throw new LabError(
        'CHECKPOINT_TRUNCATED',
        `${what} lies past the end of ${this.path} (bytes ${position}–${position + target.byteLength}, file has ${this.size})`,
        { path: this.path },
      )
    }
    let done = 0
    while (done < target.byteLength) {
      const want = Math.min(MAX_READ, target.byteLength - done)
      const got = fs.readSync(this.fd, target, done, want, position + done)
      if (got <= 0) {
        throw new LabError('CHECKPOINT_TRUNCATED', `${what}: unexpected end of ${this.path}`, { path: this.path })
      }
      done += got
    }
  }

  /** Reads `length` bytes at `position` into a fresh buffer. */
  read(position: number, length: number, what: string): Uint8Array {
    const out = new Uint8Array(length)
    this.readInto(out, position, what)
    return out
  }

  /**
   * Reads `numel` elements of `dtype` stored contiguously at `position` as float32. F32 is read straight
   * into the result; other dtypes are converted chunk by chunk so no second full-size buffer exists.
   * `stats.nonFinite` grows by the number of NaN/±Inf values read.
   */
  readFloat32(position: number, numel: number, dtype: StoredDType, name: string, stats?: ReadStats): Float32Array {
    const out = new Float32Array(numel)
    if (dtype === 'F32') {
      this.readInto(new Uint8Array(out.buffer), position, `tensor "${name}"`)
      if (stats) stats.nonFinite += countNonFinite(out)
      return out
    }
    // throws CHECKPOINT_DTYPE for integer dtypes before any I/O
    convertToFloat32(dtype, new Uint8Array(0), out, 0, name)
    this.readConverted(position, numel, dtype, name, (chunk, offset) => convertToFloat32(dtype, chunk, out, offset, name, stats))
    return out
  }

  /** Reads `numel` integer elements of `dtype` at `position` as int32 (I64 range-checked). */
  readInt32(position: number, numel: number, dtype: StoredDType, name: string): Int32Array {
    const out = new Int32Array(numel)
    convertToInt32(dtype, new Uint8Array(0), out, 0, name)
    if (dtype === 'I32') {
      this.readInto(new Uint8Array(out.buffer), position, `tensor "${name}"`)
      return out
    }
    this.readConverted(position, numel, dtype, name, (chunk, offset) => convertToInt32(dtype, chunk, out, offset, name))
    return out
  }

  private readConverted(
    position: number,
    numel: number,
    dtype: StoredDType,
    name: string,
    sink: (chunk: Uint8Array, elementOffset: number) => void,
  ): void {
    const size = DTYPE_BYTES[dtype]
    const perChunk = Math.max(1, Math.floor(CONVERT_CHUNK / size))
    const buffer = new Uint8Array(Math.min(numel, perChunk) * size)
    for (let start = 0; start < numel; start += perChunk) {
      const count = Math.min(perChunk, numel - start)
      const chunk = buffer.subarray(0, count * size)
      this.readInto(chunk, position + start * size, `tensor "${name}"`)
      sink(chunk, start)
    }
  }
}
