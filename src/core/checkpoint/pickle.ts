// A pickle *parser* for torch state dicts. It interprets the opcodes a state dict needs (protocols 0–5 subset)
// as pure data construction. GLOBAL/STACK_GLOBAL resolve only against an allowlist of names, REDUCE/NEWOBJ
// apply only the allowlisted callables (each implemented here as data construction), and nothing from the file
// is ever executed. Any other global throws CHECKPOINT_UNSAFE naming it.
import { LabError } from '../../common/errors'
import type { StoredDType } from './types'

// ---- values ------------------------------------------------------------------------------------------------------

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[] // list
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | StorageRef
  | TensorRef

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export class PyDict {
  /** Keys in insertion order. Non-string keys are kept by identity/primitive value. */
  readonly map = new Map<unknown, PyValue>()
  constructor(readonly ordered: boolean) {}
}

export class PySet {
  readonly items: PyValue[] = []
}

/** A resolved allowlisted global (module + qualified name). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`
  }
}

/** A storage named by a persistent id ('storage', torch.XStorage, key, location, numel). */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: StoredDType,
    readonly numel: number,
    readonly location: string,
  ) {}
}

/** What torch._utils._rebuild_tensor_v2 would build: a strided view into a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

// ---- allowlist ---------------------------------------------------------------------------------------------------

export const STORAGE_DTYPES: Readonly<Record<string, StoredDType>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
}

const CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
])

export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  ...CALLABLES,
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
])

// ---- opcodes -----------------------------------------------------------------------------------------------------

const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  FLOAT: 0x46, // F
  INT: 0x49, // I
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  LONG: 0x4c, // L
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  STRING: 0x53, // S
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  UNICODE: 0x56, // V
  BINUNICODE: 0x58, // X
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  EMPTY_DICT: 0x7d, // }
  APPENDS: 0x65, // e
  GET: 0x67, // g
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  EMPTY_LIST: 0x5d, // ]
  PUT: 0x70, // p
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  EMPTY_TUPLE: 0x29, // )
  SETITEMS: 0x75, // u
  BINFLOAT: 0x47, // G
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  INST: 0x69, // i
  OBJ: 0x6f, // o
} as const


export interface UnpickleOptions {
  /** Resolves a persistent id (BINPERSID) to a value; called with the pid as parsed. */
  persistentLoad: (pid: PyValue) => PyValue
  /** For messages */
  source: string
}

/** Parses a pickle into data. Throws CHECKPOINT_FORMAT for malformed input, CHECKPOINT_UNSAFE for disallowed globals. */
export function unpickle(data: Uint8Array, options: UnpickleOptions): PyValue {
  return new Unpickler(data, options).run()
}

class Unpickler {
  private pos = 0
  private stack: PyValue[] = []
  private readonly marks: number[] = []
  private readonly memo = new Map<number, PyValue>()
  private readonly view: DataView
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true })
  private readonly latin1 = new TextDecoder('latin1')

  constructor(
    private readonly data: Uint8Array,
    private readonly options: UnpickleOptions,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  private fail(message: string, at = this.pos): LabError {
    return new LabError('CHECKPOINT_FORMAT', `${this.options.source}: pickle ${message} (at byte ${at})`, {
      path: this.options.source,
    })
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.data.length) throw this.fail('ends unexpectedly')
  }
  private u8(): number {
    this.need(1)
    return this.data[this.pos++]
  }
  private u16(): number {
    this.need(2)
    const v = this.view.getUint16(this.pos, true)
    this.pos += 2
    return v
  }
  private u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.pos, true)
    this.pos += 4
    return v
  }
  private i32(): number {
    this.need(4)
    const v = this.view.getInt32(this.pos, true)
    this.pos += 4
    return v
  }
  private u64(): number {
    this.need(8)
    const v = this.view.getBigUint64(this.pos, true)
    this.pos += 8
    if (v > BigInt(this.data.length)) throw this.fail(`length ${v} exceeds the pickle size`)
    return Number(v)
  }
  private bytes(n: number): Uint8Array {
    this.need(n)
    const out = this.data.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos)
    if (end < 0) throw this.fail('ends inside a text line')
    const text = this.latin1.decode(this.data.subarray(this.pos, end))
    this.pos = end + 1
    return text
  }
  private utf8String(n: number): string {
    const raw = this.bytes(n)
    try {
      return this.utf8.decode(raw)
    } catch {
      throw this.fail('contains a string that is not UTF-8')
    }
  }

  private push(v: PyValue): void {
    this.stack.push(v)
  }
  private pop(): PyValue {
    const base = this.marks.length ? this.marks[this.marks.length - 1] : 0
    if (this.stack.length <= base) throw this.fail('stack underflow')
    return this.stack.pop()!
  }
  private top(): PyValue {
    const base = this.marks.length ? this.marks[this.marks.length - 1] : 0
    if (this.stack.length <= base) throw this.fail('stack underflow')
    return this.stack[this.stack.length - 1]
  }
  private popMark(): PyValue[] {
    const mark = this.marks.pop()
    if (mark === undefined) throw this.fail('has no MARK to pop to')
    return this.stack.splice(mark)
  }

  run(): PyValue {
    const data = this.data
    while (this.pos < data.length) {
      const at = this.pos
      const op = data[this.pos++]
      switch (op) {
        case OP.PROTO: {
          const proto = this.u8()
          if (proto > 5) throw this.fail(`protocol ${proto} is not supported`, at)
          break
        }
        case OP.FRAME:
          this.u64() // frame length: framing is transparent to a reader holding the whole pickle
          break
        case OP.STOP: {
          const result = this.pop()
          if (this.stack.length !== 0 || this.marks.length !== 0) throw this.fail('STOP with a non-empty stack', at)
          return result
        }
        case OP.MARK:
          this.marks.push(this.stack.length)
          break
        case OP.POP:
          this.pop()
          break
        case OP.POP_MARK:
          this.popMark()
          break
        case OP.DUP:
          this.push(this.top())
          break
        // ---- constants and numbers
        case OP.NONE:
          this.push(null)
          break
        case OP.NEWTRUE:
          this.push(true)
          break
        case OP.NEWFALSE:
          this.push(false)
          break
        case OP.BININT:
          this.push(this.i32())
          break
        case OP.BININT1:
          this.push(this.u8())
          break
        case OP.BININT2:
          this.push(this.u16())
          break
        case OP.LONG1:
          this.push(this.long(this.u8()))
          break
        case OP.LONG4: {
          const n = this.i32()
          if (n < 0) throw this.fail('negative LONG4 length', at)
          this.push(this.long(n))
          break
        }
        case OP.INT: {
          const text = this.line()
          if (text === '00') this.push(false)
          else if (text === '01') this.push(true)
          else this.push(this.parseInt(text, at))
          break
        }
        case OP.LONG:
          this.push(this.parseInt(this.line().replace(/L$/, ''), at))
          break
        case OP.BINFLOAT: {
          this.need(8)
          this.push(this.view.getFloat64(this.pos, false))
          this.pos += 8
          break
        }
        case OP.FLOAT: {
          const value = Number(this.line())
          if (Number.isNaN(value)) throw this.fail('FLOAT is not a number', at)
          this.push(value)
          break
        }
        // ---- strings and bytes
        case OP.BINUNICODE:
          this.push(this.utf8String(this.u32()))
          break
        case OP.SHORT_BINUNICODE:
          this.push(this.utf8String(this.u8()))
          break
        case OP.BINUNICODE8:
          this.push(this.utf8String(this.u64()))
          break
        case OP.BINSTRING: {
          const n = this.i32()
          if (n < 0) throw this.fail('negative BINSTRING length', at)
          this.push(this.latin1.decode(this.bytes(n)))
          break
        }
        case OP.SHORT_BINSTRING:
          this.push(this.latin1.decode(this.bytes(this.u8())))
          break
        case OP.BINBYTES:
          this.push(this.bytes(this.u32()).slice())
          break
        case OP.SHORT_BINBYTES:
          this.push(this.bytes(this.u8()).slice())
          break
        case OP.BINBYTES8:
          this.push(this.bytes(this.u64()).slice())
          break
        case OP.STRING:
        case OP.UNICODE:
          // text-mode strings (protocol 0) need escape parsing; state dicts written by torch never use them
          throw this.fail(`opcode ${opName(op)} (protocol 0 text string) is not supported`, at)
        // ---- containers
        case OP.EMPTY_DICT:
          this.push(new PyDict(false))
          break
        case OP.EMPTY_LIST:
          this.push([])
          break
        case OP.EMPTY_TUPLE:
          this.push(new PyTuple([]))
          break
        case OP.EMPTY_SET:
          this.push(new PySet())
          break
        case OP.TUPLE1:
          this.push(new PyTuple([this.pop()]))
          break
        case OP.TUPLE2: {
          const b = this.pop()
          const a = this.pop()
          this.push(new PyTuple([a, b]))
          break
        }
        case OP.TUPLE3: {
          const c = this.pop()
          const b = this.pop()
          const a = this.pop()
          this.push(new PyTuple([a, b, c]))
          break
        }
        case OP.TUPLE: {
          const items = this.popMarked()
          this.push(new PyTuple(items))
          break
        }
        case OP.LIST:
          this.push(this.popMarked())
          break
        case OP.DICT: {
          const items = this.popMarked()
          const dict = new PyDict(false)
          this.setItems(dict, items, at)
          this.push(dict)
          break
        }
        case OP.FROZENSET: {
          const set = new PySet()
          set.items.push(...this.popMarked())
          this.push(set)
          break
        }
        case OP.APPEND: {
          const value = this.pop()
          const list = this.top()
          if (!Array.isArray(list)) throw this.fail('APPEND to a non-list', at)
          list.push(value)
          break
        }
        case OP.APPENDS: {
          const items = this.popMarked()
          const list = this.top()
          if (!Array.isArray(list)) throw this.fail('APPENDS to a non-list', at)
          for (const item of items) list.push(item)
          break
        }
        case OP.ADDITEMS: {
          const items = this.popMarked()
          const set = this.top()
          if (!(set instanceof PySet)) throw this.fail('ADDITEMS to a non-set', at)
          set.items.push(...items)
          break
        }
        case OP.SETITEM: {
          const value = this.pop()
          const key = this.pop()
          const dict = this.top()
          if (!(dict instanceof PyDict)) throw this.fail('SETITEM on a non-dict', at)
          this.setItems(dict, [key, value], at)
          break
        }
        case OP.SETITEMS: {
          const items = this.popMarked()
          const dict = this.top()
          if (!(dict instanceof PyDict)) throw this.fail('SETITEMS on a non-dict', at)
          this.setItems(dict, items, at)
          break
        }
        // ---- memo
        case OP.BINPUT:
          this.memo.set(this.u8(), this.top())
          break
        case OP.LONG_BINPUT:
          this.memo.set(this.u32(), this.top())
          break
        case OP.PUT:
          this.memo.set(this.parseIndex(this.line(), at), this.top())
          break
        case OP.MEMOIZE:
          this.memo.set(this.memo.size, this.top())
          break
        case OP.BINGET:
          this.push(this.memoGet(this.u8(), at))
          break
        case OP.LONG_BINGET:
          this.push(this.memoGet(this.u32(), at))
          break
        case OP.GET:
          this.push(this.memoGet(this.parseIndex(this.line(), at), at))
          break
        // ---- globals and object construction
        case OP.GLOBAL: {
          const module = this.line()
          const name = this.line()
          this.push(resolveGlobal(module, name, this.options.source))
          break
        }
        case OP.STACK_GLOBAL: {
          const name = this.pop()
          const module = this.pop()
          if (typeof module !== 'string' || typeof name !== 'string') throw this.fail('STACK_GLOBAL needs two strings', at)
          this.push(resolveGlobal(module, name, this.options.source))
          break
        }
        case OP.REDUCE: {
          const args = this.pop()
          const callable = this.pop()
          if (!(args instanceof PyTuple)) throw this.fail('REDUCE arguments are not a tuple', at)
          this.push(this.call(callable, args.items, at))
          break
        }
        case OP.NEWOBJ: {
          const args = this.pop()
          const cls = this.pop()
          if (!(args instanceof PyTuple)) throw this.fail('NEWOBJ arguments are not a tuple', at)
          if (!(cls instanceof PyGlobal) || cls.qualified !== 'collections.OrderedDict') {
            throw unsafe(`NEWOBJ of ${describe(cls)}`, this.options.source)
          }
          this.push(new PyDict(true))
          break
        }
        case OP.INST: {
          // INST module\nname\n: class instantiation from text; resolve for the UNSAFE message, never build
          const module = this.line()
          const name = this.line()
          resolveGlobal(module, name, this.options.source)
          throw this.fail(`uses unsupported opcode ${opName(op)}`, at)
        }
        case OP.NEWOBJ_EX:
          throw unsafe('NEWOBJ_EX', this.options.source)
        case OP.BUILD: {
          const state = this.pop()
          const target = this.top()
          // OrderedDict state dicts carry `_metadata` (module versions); parameters may carry state. Both are
          // irrelevant to the weights and are dropped. Anything else cannot be built from data.
          if (!(target instanceof PyDict) && !(target instanceof TensorRef)) {
            throw this.fail(`BUILD on ${describe(target)}`, at)
          }
          void state
          break
        }
        case OP.BINPERSID: {
          const pid = this.pop()
          this.push(this.options.persistentLoad(pid))
          break
        }
        default:
          throw this.fail(`uses unsupported opcode ${opName(op)}`, at)
      }
    }
    throw this.fail('ends without STOP')
  }

  private popMarked(): PyValue[] {
    return this.popMark()
  }

  private setItems(dict: PyDict, items: PyValue[], at: number): void {
    if (items.length % 2 !== 0) throw this.fail('odd number of items for a dict', at)
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i]
      if (key !== null && typeof key === 'object' && !(key instanceof PyTuple)) {
        throw this.fail(`unhashable dict key ${describe(key)}`, at)
      }
      dict.map.set(key, items[i + 1])
    }
  }

  private memoGet(index: number, at: number): PyValue {
    if (!this.memo.has(index)) throw this.fail(`memo key ${index} is not defined`, at)
    return this.memo.get(index) as PyValue
  }

  private parseIndex(text: string, at: number): number {
    if (!/^\d{1,10}$/.test(text)) throw this.fail(`bad memo index ${JSON.stringify(text)}`, at)
    return Number(text)
  }

  private parseInt(text: string, at: number): number | bigint {
    if (!/^[+-]?\d{1,4300}$/.test(text)) throw this.fail(`bad integer ${JSON.stringify(text.slice(0, 40))}`, at)
    const big = BigInt(text)
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
  }

  private long(n: number): number | bigint {
    if (n > 64) throw this.fail(`integer of ${n} bytes is too large`)
    const raw = this.bytes(n)
    if (n === 0) return 0
    let v = 0n
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i])
    if (raw[n - 1] & 0x80) v -= 1n << BigInt(8 * n)
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
  }

  private call(callable: PyValue, args: PyValue[], at: number): PyValue {
    if (!(callable instanceof PyGlobal) || !CALLABLES.has(callable.qualified)) {
      throw unsafe(`REDUCE of ${describe(callable)}`, this.options.source)
    }
    switch (callable.qualified) {
      case 'collections.OrderedDict': {
        if (args.length !== 0) throw this.fail('OrderedDict(...) with arguments is not supported', at)
        return new PyDict(true)
      }
      case 'torch._utils._rebuild_tensor_v2': {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        const [storage, offset, size, stride] = args
        if (!(storage instanceof StorageRef)) throw this.fail('_rebuild_tensor_v2: first argument is not a storage', at)
        const off = this.nonNegativeInt(offset, '_rebuild_tensor_v2 storage offset', at)
        const shape = this.intTuple(size, '_rebuild_tensor_v2 size', at)
        const strides = this.intTuple(stride, '_rebuild_tensor_v2 stride', at)
        if (shape.length !== strides.length) throw this.fail('_rebuild_tensor_v2: size and stride differ in length', at)
        return new TensorRef(storage, off, shape, strides)
      }
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        const [tensor] = args
        if (!(tensor instanceof TensorRef)) throw this.fail(`${callable.name}: first argument is not a tensor`, at)
        return tensor
      }
      default:
        throw unsafe(`REDUCE of ${callable.qualified}`, this.options.source)
    }
  }

  private nonNegativeInt(value: PyValue | undefined, what: string, at: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.fail(`${what} is not a non-negative integer`, at)
    }
    return value
  }

  private intTuple(value: PyValue | undefined, what: string, at: number): number[] {
    const items = value instanceof PyTuple ? value.items : Array.isArray(value) ? value : undefined
    if (!items) throw this.fail(`${what} is not a tuple`, at)
    return items.map((v) => this.nonNegativeInt(v, what, at))
  }
}

function resolveGlobal(module: string, name: string, source: string): PyGlobal {
  const qualified = `${module}.${name}`
  if (!ALLOWED_GLOBALS.has(qualified)) throw unsafe(`global ${qualified}`, source)
  return new PyGlobal(module, name)
}

function unsafe(what: string, source: string): LabError {
  return new LabError(
    'CHECKPOINT_UNSAFE',
    `${source}: refusing ${what}: only tensors and state-dict containers may appear in a checkpoint pickle`,
    { path: source },
  )
}

function describe(value: unknown): string {
  if (value instanceof PyGlobal) return value.qualified
  if (value === null) return 'None'
  if (Array.isArray(value)) return 'a list'
  if (value instanceof PyTuple) return 'a tuple'
  if (value instanceof PyDict) return 'a dict'
  if (value instanceof TensorRef) return 'a tensor'
  if (value instanceof StorageRef) return 'a storage'
  return typeof value
}

const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]))

function opName(op: number): string {
  const hex = `0x${op.toString(16).padStart(2, '0')}`
  const name = OP_NAMES.get(op)
  return name ? `${name} (${hex})` : hex
}
