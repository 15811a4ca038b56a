// A minimal protobuf wire-format reader (varint, 64-bit, length-delimited, 32-bit fields), bounds-checked:
// truncated varints or lengths past the end throw TOKENIZER_FORMAT instead of reading garbage or looping.
import { LabError } from '../../common/errors'

export const WIRE_VARINT = 0
export const WIRE_I64 = 1
export const WIRE_LEN = 2
export const WIRE_I32 = 5

export interface ProtoField {
  field: number
  wire: number
  /** varint value (as a JS number; values ≥ 2^53 lose precision, fine for the fields we read) */
  varint: number
  /** payload of a length-delimited field, or the 4/8 raw bytes of a fixed field */
  bytes: Uint8Array
}

export class ProtoReader {
  private pos = 0
  private readonly view: DataView

  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  private fail(message: string): LabError {
    return new LabError('TOKENIZER_FORMAT', `${this.what}: ${message} (at byte ${this.pos})`)
  }

  get done(): boolean {
    return this.pos >= this.buf.length
  }

  varint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw this.fail('truncated varint')
      const b = this.buf[this.pos++]
      result += (b & 0x7f) * scale
      if ((b & 0x80) === 0) return result
      scale *= 128
    }
    throw this.fail('varint longer than 10 bytes')
  }

  private take(n: number): Uint8Array {
    if (n < 0 || n > this.buf.length - this.pos) throw this.fail(`length ${n} runs past the end of the data`)
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** Reads the next field; call only when !done. */
  next(): ProtoField {
    const key = this.varint()
    const field = Math.floor(key / 8)
    const wire = key % 8
    if (field === 0) throw this.fail('field number 0')
    switch (wire) {
      case WIRE_VARINT:
        return { field, wire, varint: this.varint(), bytes: EMPTY }
      case WIRE_I64:
        return { field, wire, varint: 0, bytes: this.take(8) }
      case WIRE_LEN:
        return { field, wire, varint: 0, bytes: this.take(this.varint()) }
      case WIRE_I32:
        return { field, wire, varint: 0, bytes: this.take(4) }
      default:
        throw this.fail(`unsupported wire type ${wire} (field ${field})`)
    }
  }

  /** Iterates all fields of this message. */
  *fields(): Generator<ProtoField> {
    while (!this.done) yield this.next()
  }

  float(f: ProtoField): number {
    if (f.wire !== WIRE_I32) throw this.fail(`field ${f.field} should be a float`)
    return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true)
  }

  string(f: ProtoField): string {
    if (f.wire !== WIRE_LEN) throw this.fail(`field ${f.field} should be a string`)
    try {
      return decoder.decode(f.bytes)
    } catch {
      throw this.fail(`field ${f.field} is not valid UTF-8`)
    }
  }

  expectVarint(f: ProtoField): number {
    if (f.wire !== WIRE_VARINT) throw this.fail(`field ${f.field} should be a varint`)
    return f.varint
  }

  expectBytes(f: ProtoField): Uint8Array {
    if (f.wire !== WIRE_LEN) throw this.fail(`field ${f.field} should be length-delimited`)
    return f.bytes
  }

  /** A signed int32 field stored as a varint (negative values are sign-extended to 64 bits). */
  int32(f: ProtoField): number {
    const v = this.expectVarint(f)
    return v >= 2 ** 63 ? v - 2 ** 64 : v > 0x7fffffff ? v - 2 ** 32 : v
  }
}

const EMPTY = new Uint8Array(0)
const decoder = new TextDecoder('utf-8', { fatal: true })
