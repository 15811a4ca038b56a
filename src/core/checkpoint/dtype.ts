// Stored dtypes: element sizes and exact conversions to the two host types the model uses
// (float32 for weights, int32 for ids/positions).
import { LabError } from '../../common/errors'
import type { CheckpointLimits, ReadStats, StoredDType } from './types'

export const DTYPE_BYTES: Record<StoredDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
}

export const FLOAT_DTYPES: ReadonlySet<StoredDType> = new Set(['F64', 'F32', 'F16', 'BF16'])

export function isStoredDType(value: unknown): value is StoredDType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, value)
}

/** Number of elements of a shape; throws CHECKPOINT_FORMAT (naming the tensor) for invalid or absurd shapes. */
export function shapeNumel(shape: unknown, tensor: string): number {
  if (!Array.isArray(shape)) {
    throw new LabError('CHECKPOINT_FORMAT', `tensor "${tensor}": shape is not an array`, { tensor })
  }
  let numel = 1
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new LabError('CHECKPOINT_FORMAT', `tensor "${tensor}": invalid dimension ${JSON.stringify(dim)} in shape`, {
        tensor,
      })
    }
    numel *= dim
    if (!Number.isSafeInteger(numel)) {
      throw new LabError('CHECKPOINT_FORMAT', `tensor "${tensor}": shape [${shape.join(', ')}] is too large`, { tensor })
    }
  }
  return numel
}

/**
 * Refuses (CHECKPOINT_TOO_LARGE, before anything is allocated) a file whose tensors would take more than
 * maxLoadBytes as host arrays (4 bytes per element: float32 or int32).
 */
export function checkLoadBytes(path: string, elements: number, limits: CheckpointLimits): void {
  const bytes = elements * 4
  if (bytes > limits.maxLoadBytes) {
    throw new LabError(
      'CHECKPOINT_TOO_LARGE',
      `${path}: its tensors hold ${elements} values (${bytes} bytes as float32), over the ${limits.maxLoadBytes}-byte limit for one load`,
      { path, bytes, maxLoadBytes: limits.maxLoadBytes },
    )
  }
}

// ---- half-precision tables ---------------------------------------------------------------------------------------

let f16Table: Uint32Array | undefined

/** float32 bit pattern for an IEEE binary16 bit pattern (exact: subnormals, ±0, ±inf, NaN payload kept). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exp = (h >> 10) & 0x1f
  let mant = h & 0x3ff
  if (exp === 0) {
    if (mant === 0) return sign >>> 0
    // subnormal: normalise into float32's range
    let e = -1
    do {
      e++
      mant <<= 1
    } while ((mant & 0x400) === 0)
    mant &= 0x3ff
    return (sign | ((127 - 15 - e) << 23) | (mant << 13)) >>> 0
  }
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0
  return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0
}

function getF16Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536)
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h)
  }
  return f16Table
}

const scratch = new DataView(new ArrayBuffer(4))

/** One binary16 value as a JS number (exact). */
export function f16ToNumber(h: number): number {
  scratch.setUint32(0, f16BitsToF32Bits(h & 0xffff))
  return scratch.getFloat32(0)
}

/** One bfloat16 value as a JS number (exact). */
export function bf16ToNumber(b: number): number {
  scratch.setUint32(0, ((b & 0xffff) << 16) >>> 0)
  return scratch.getFloat32(0)
}

export type { ReadStats } from './types'

/** NaN/±Inf among values[from, from + count). */
export function countNonFinite(values: Float32Array, from = 0, count = values.length - from): number {
  let bad = 0
  for (let i = from, end = from + count; i < end; i++) {
    const v = values[i]
    // v - v is NaN exactly for NaN and ±Inf
    if (v - v !== 0) bad++
  }
  return bad
}

// ---- bulk conversion from little-endian bytes ---------------------------------------------------------------------
// `src` must start at a multiple of the element size within its buffer (callers allocate fresh buffers).

/** Converts `src` (little-endian `dtype` elements) into out[outOffset ...]. */
export function convertToFloat32(
  dtype: StoredDType,
  src: Uint8Array,
  out: Float32Array,
  outOffset: number,
  name: string,
  stats?: ReadStats,
): void {
  const n = src.byteLength / DTYPE_BYTES[dtype]
  switch (dtype) {
    case 'F32':
      out.set(new Float32Array(src.buffer, src.byteOffset, n), outOffset)
      if (stats) stats.nonFinite += countNonFinite(out, outOffset, n)
      return
    case 'F16': {
      const table = getF16Table()
      const h = new Uint16Array(src.buffer, src.byteOffset, n)
      const o = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, n)
      let bad = 0
      for (let i = 0; i < n; i++) {
        const bits = h[i]
        o[i] = table[bits]
        // exponent all ones: ±Inf or NaN
        if ((bits & 0x7c00) === 0x7c00) bad++
      }
      if (stats) stats.nonFinite += bad
      return
    }
    case 'BF16': {
      const b = new Uint16Array(src.buffer, src.byteOffset, n)
      const o = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, n)
      let bad = 0
      for (let i = 0; i < n; i++) {
        const bits = b[i]
        o[i] = bits << 16
        if ((bits & 0x7f80) === 0x7f80) bad++
      }
      if (stats) stats.nonFinite += bad
      return
    }
    case 'F64':
      out.set(new Float64Array(src.buffer, src.byteOffset, n), outOffset)
      // float64 values beyond float32's range become ±Inf here: counted too
      if (stats) stats.nonFinite += countNonFinite(out, outOffset, n)
      return
    default:
      throw new LabError('CHECKPOINT_DTYPE', `tensor "${name}" has dtype ${dtype}, expected a floating-point tensor`, {
        tensor: name,
        dtype,
      })
  }
}

/** Converts `src` (little-endian integer elements) into out[outOffset ...]; I64 values must fit in int32. */
export function convertToInt32(dtype: StoredDType, src: Uint8Array, out: Int32Array, outOffset: number, name: string): void {
  const n = src.byteLength / DTYPE_BYTES[dtype]
  switch (dtype) {
    case 'I64': {
      const words = new Int32Array(src.buffer, src.byteOffset, n * 2)
      for (let i = 0; i < n; i++) {
        const lo = words[2 * i]
        const hi = words[2 * i + 1]
        if (hi !== lo >> 31) {
          const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0)
          throw new LabError('CHECKPOINT_DTYPE', `tensor "${name}": int64 value ${value} does not fit in int32`, {
            tensor: name,
          })
        }
        out[outOffset + i] = lo
      }
      return
    }
    case 'I32':
      out.set(new Int32Array(src.buffer, src.byteOffset, n), outOffset)
      return
    case 'I16':
      out.set(new Int16Array(src.buffer, src.byteOffset, n), outOffset)
      return
    case 'I8':
      out.set(new Int8Array(src.buffer, src.byteOffset, n), outOffset)
      return
    case 'U8':
    case 'BOOL':
      out.set(src, outOffset)
      return
    default:
      throw new LabError('CHECKPOINT_DTYPE', `tensor "${name}" has dtype ${dtype}, expected an integer tensor`, {
        tensor: name,
        dtype,
      })
  }
}
