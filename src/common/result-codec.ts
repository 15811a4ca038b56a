// The binary form of a result that holds float32 arrays (workspace matrices): a small JSON skeleton in which
// each Float32Array is a reference {"$f32": index, "shape": [length]}, followed by the arrays' raw bytes. The
// store keeps large results in this form and browser mode sends them in it, so no thread ever writes or parses
// the numbers as text; decoding gives Float32Array views of the bytes, without a copy.
//
// Layout (little-endian):
//   0  "DLR1"                       magic (a JSON text never starts with these bytes)
//   4  uint32 skeleton byte length  n
//   8  skeleton, UTF-8 JSON          {"arrays": [length, …], "value": <the value with references>}
//   8 + n, padded to a multiple of 8: the arrays' float32 values, one after the other, in index order
import type { Matrix } from './api'

/** Media type of the binary form over HTTP (the client asks for it with Accept). */
export const BINARY_RESULT_MIME = 'application/vnd.deberta-lab.result'

const MAGIC = [0x44, 0x4c, 0x52, 0x31] // "DLR1"
const HEADER_BYTES = 8
const F32_TAG = '$f32'

type Stringify = (value: unknown) => string
type Parse = (text: string) => unknown

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** Whether value holds a Float32Array anywhere (plain objects and arrays are searched). */
export function hasFloat32Arrays(value: unknown): boolean {
  if (value instanceof Float32Array) return true
  if (Array.isArray(value)) {
    // arrays of numbers (token ids, shares) hold no typed arrays: skip them quickly
    for (const item of value) if (item !== null && typeof item === 'object' && hasFloat32Arrays(item)) return true
    return false
  }
  if (isPlainObject(value)) {
    for (const key in value) if (hasFloat32Arrays(value[key])) return true
  }
  return false
}

/** The distinct ArrayBuffers of the Float32Arrays in value that own their whole buffer (safe to transfer). */
export function ownedFloat32Buffers(value: unknown, out = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (value instanceof Float32Array) {
    if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength && value.buffer instanceof ArrayBuffer) out.add(value.buffer)
  } else if (Array.isArray(value)) {
    for (const item of value) if (item !== null && typeof item === 'object') ownedFloat32Buffers(item, out)
  } else if (isPlainObject(value)) {
    for (const key in value) ownedFloat32Buffers(value[key], out)
  }
  return [...out]
}

/** The value with every Float32Array replaced by its reference, and the arrays in reference order. */
function split(value: unknown, arrays: Float32Array[]): unknown {
  if (value instanceof Float32Array) {
    arrays.push(value)
    return { [F32_TAG]: arrays.length - 1, shape: [value.length] }
  }
  if (ArrayBuffer.isView(value)) throw new TypeError(`a ${value.constructor.name} cannot be encoded (only Float32Array)`)
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let k = 0; k < value.length; k++) {
      const item: unknown = value[k]
      if (item === null || typeof item !== 'object') continue
      const replaced = split(item, arrays)
      if (replaced !== item) (copy ??= value.slice())[k] = replaced
    }
    return copy ?? value
  }
  if (isPlainObject(value)) {
    if (Object.hasOwn(value, F32_TAG)) throw new TypeError(`an object with a "${F32_TAG}" key cannot be encoded`)
    let copy: Record<string, unknown> | undefined
    for (const key of Object.keys(value)) {
      const item = value[key]
      if (item === null || typeof item !== 'object') continue
      const replaced = split(item, arrays)
      if (replaced !== item) (copy ??= { ...value })[key] = replaced
    }
    return copy ?? value
  }
  return value
}

const isReference = (value: Record<string, unknown>): boolean => typeof value[F32_TAG] === 'number'

/** Puts the arrays back in place of their references (in place: the skeleton was parsed for this). */
function join(value: unknown, arrays: readonly Float32Array[]): unknown {
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) if (value[k] !== null && typeof value[k] === 'object') value[k] = join(value[k], arrays)
    return value
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    if (isReference(record)) {
      const array = arrays[record[F32_TAG] as number]
      if (array === undefined) throw new TypeError(`reference to array ${String(record[F32_TAG])}, which is not in the result`)
      return array
    }
    for (const key of Object.keys(record)) if (record[key] !== null && typeof record[key] === 'object') record[key] = join(record[key], arrays)
  }
  return value
}

/** Whether bytes start like the binary form (else they are, for stored results, the JSON text of old stores). */
export function isBinaryResult(bytes: Uint8Array): boolean {
  return bytes.byteLength >= HEADER_BYTES && MAGIC.every((b, k) => bytes[k] === b)
}

/**
 * The binary form of value. `stringify` writes the skeleton (the store passes its exact JSON, which keeps NaN);
 * only the skeleton is text, the arrays are copied as bytes.
 */
export function encodeResult(value: unknown, stringify: Stringify = JSON.stringify): Uint8Array {
  const arrays: Float32Array[] = []
  const skeleton = split(value, arrays)
  const text = new TextEncoder().encode(stringify({ arrays: arrays.map((a) => a.length), value: skeleton }))
  const dataStart = HEADER_BYTES + Math.ceil(text.byteLength / 8) * 8
  const total = arrays.reduce((sum, a) => sum + a.byteLength, dataStart)
  const out = new Uint8Array(total)
  out.set(MAGIC, 0)
  new DataView(out.buffer).setUint32(4, text.byteLength, true)
  out.set(text, HEADER_BYTES)
  let offset = dataStart
  for (const array of arrays) {
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset)
    offset += array.byteLength
  }
  return out
}

/**
 * The value of a binary result, its arrays Float32Array views of `bytes`. The bytes are copied once when they
 * are only part of their buffer (a view's whole buffer goes with it through structured clone, and a pooled
 * buffer may hold other data) or not 4-byte aligned in it. Throws TypeError on anything malformed.
 */
export function decodeResult(bytes: Uint8Array, parse: Parse = JSON.parse): unknown {
  if (!isBinaryResult(bytes)) throw new TypeError('not a binary result (bad magic)')
  const textBytes = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true)
  if (HEADER_BYTES + textBytes > bytes.byteLength) throw new TypeError('binary result: the skeleton runs past the end')
  const skeleton = parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + textBytes))) as { arrays?: unknown; value?: unknown }
  const lengths = skeleton?.arrays
  if (!Array.isArray(lengths) || !lengths.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) throw new TypeError('binary result: bad array table')
  const dataStart = HEADER_BYTES + Math.ceil(textBytes / 8) * 8
  const total = (lengths as number[]).reduce((sum, n) => sum + n * 4, dataStart)
  if (total !== bytes.byteLength) throw new TypeError(`binary result: ${bytes.byteLength} bytes, the array table needs ${total}`)
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  const aligned = whole ? bytes : bytes.slice()
  const arrays: Float32Array[] = []
  let offset = aligned.byteOffset + dataStart
  for (const length of lengths as number[]) {
    arrays.push(new Float32Array(aligned.buffer, offset, length))
    offset += length * 4
  }
  return join(skeleton.value, arrays)
}

/** JSON.stringify replacer that writes Float32Arrays as arrays of numbers (JSON answers for clients without the binary form). */
export function typedArraysAsLists(_key: string, value: unknown): unknown {
  return value instanceof Float32Array ? Array.from(value) : value
}

const isNumberList = (value: unknown): value is number[] => Array.isArray(value) && value.every((v) => typeof v === 'number')

/**
 * Turns the number[] data of the matrices in a result written before matrices were float32 ({rows, cols,
 * data} with rows · cols numbers) into Float32Array, in place; returns the value.
 */
export function float32Matrices<T>(value: T): T {
  const visit = (item: unknown): void => {
    if (Array.isArray(item)) {
      for (const element of item) if (element !== null && typeof element === 'object') visit(element)
      return
    }
    if (!isPlainObject(item)) return
    const m = item as Partial<Record<keyof Matrix, unknown>>
    if (typeof m.rows === 'number' && typeof m.cols === 'number' && isNumberList(m.data) && m.data.length === m.rows * m.cols) {
      m.data = Float32Array.from(m.data)
      return
    }
    for (const key of Object.keys(item)) if (item[key] !== null && typeof item[key] === 'object') visit(item[key])
  }
  visit(value)
  return value
}
