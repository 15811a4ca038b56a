// JSON columns: written only through toJson, so that what is read back deep-equals what was saved.
// NaN and ±Infinity (which JSON lacks and JSON.stringify turns into null) are kept as {"$num": "NaN"} and
// revived by fromJson; what JSON.stringify would silently drop or mangle (undefined inside arrays, typed
// arrays, Maps, class instances, functions) is refused with INPUT_INVALID.
import { LabError } from '../common/errors'

const NUM_TAG = '$num'
const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity }

/** {"$num": "NaN" | "Infinity" | "-Infinity"}: the stored form of a non-finite number. */
function isNumberTag(value: object): boolean {
  const keys = Object.keys(value)
  const tag = (value as Record<string, unknown>)[NUM_TAG]
  return keys.length === 1 && keys[0] === NUM_TAG && typeof tag === 'string' && Object.hasOwn(NON_FINITE, tag)
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'object' && value !== null) return isNumberTag(value) ? `an object shaped like the store's NaN tag` : (value.constructor?.name ?? 'object')
  return typeof value
}

/** JSON text of value, or LabError INPUT_INVALID naming the key that holds a non-JSON value. */
export function toJson(value: unknown, what: string): string {
  const refuse = (key: string, value: unknown): never => {
    const where = key === '' ? '' : ` at key "${key}"`
    throw new LabError('INPUT_INVALID', `${what} is not plain JSON${where}: ${describe(value)} cannot be stored exactly`)
  }
  let text: string | undefined
  try {
    text = stringify(value, refuse)
  } catch (error) {
    if (error instanceof LabError) throw error
    // a cycle (TypeError) or a nesting too deep for the stack (RangeError)
    throw new LabError('INPUT_INVALID', `${what} is not plain JSON: ${(error as Error).message}`)
  }
  if (text === undefined) return refuse('', value)
  return text
}

function stringify(value: unknown, refuse: (key: string, value: unknown) => never): string | undefined {
  return JSON.stringify(value, function (this: unknown, key: string, item: unknown) {
    switch (typeof item) {
      case 'number':
        return Number.isFinite(item) ? item : { [NUM_TAG]: String(item) }
      case 'string':
      case 'boolean':
        return item
      case 'undefined':
        // Object properties holding undefined are dropped (an absent optional field); array slots are not.
        if (Array.isArray(this) || key === '') refuse(key, item)
        return item
      case 'object': {
        if (item === null || Array.isArray(item)) return item
        const proto = Object.getPrototypeOf(item)
        if (proto !== Object.prototype && proto !== null) refuse(key, item)
        if (isNumberTag(item)) refuse(key, item)
        return item
      }
      default:
        return refuse(key, item)
    }
  })
}

const isTag = (value: unknown): boolean => value !== null && typeof value === 'object' && !Array.isArray(value) && isNumberTag(value)

/**
 * Replaces the NaN tags in a parsed value, in place. Iterative: JSON.parse's reviver recurses once per level
 * and overflows the stack on a value a few thousand levels deep, which JSON.parse itself reads fine.
 */
function revive(root: unknown): unknown {
  if (isTag(root)) return NON_FINITE[(root as Record<string, string>)[NUM_TAG]]
  const stack: unknown[] = [root]
  const visit = (container: Record<string | number, unknown>, key: string | number): void => {
    const child = container[key]
    if (child === null || typeof child !== 'object') return
    if (isTag(child)) container[key] = NON_FINITE[(child as Record<string, string>)[NUM_TAG]]
    else stack.push(child)
  }
  while (stack.length > 0) {
    const item = stack.pop() as Record<string | number, unknown>
    if (item === null || typeof item !== 'object') continue
    // Arrays by index: Object.keys would make a string per element of a large numeric array.
    if (Array.isArray(item)) for (let i = 0; i < item.length; i++) visit(item, i)
    else for (const key of Object.keys(item)) visit(item, key)
  }
  return root
}

export function fromJson(text: string): unknown {
  // Reviving costs a walk over the value: only pay it when a tag is there.
  const value: unknown = JSON.parse(text)
  return text.includes(`{"${NUM_TAG}":`) ? revive(value) : value
}

/** Key that JSON.parse keeps as data but that assignments, spreads and zod records turn into a prototype. */
const PROTO_KEY = '__proto__'

/**
 * Why a JSON document cannot be kept as it is, or undefined: it nests deeper than maxDepth levels of
 * objects/arrays (the value itself is level 1; a cycle counts as too deep), or one of its objects has a
 * "__proto__" key. Such a key is refused rather than kept as data: it survives JSON.parse as an own property,
 * but every copy made with an assignment (zod records, spreads, Object.assign) turns it into the copy's
 * prototype, so the saved document would silently lose it (or carry a foreign prototype). Iterative, so a
 * hostile depth cannot overflow the stack; maxNodes bounds the walk over shared references (structured clone).
 */
export function jsonShapeProblem(value: unknown, maxDepth: number, maxNodes = Number.POSITIVE_INFINITY): string | undefined {
  interface Entry {
    item: unknown
    depth: number
    key: string
    parent: Entry | undefined
  }
  const where = (entry: Entry): string => {
    const keys: string[] = []
    for (let e: Entry | undefined = entry; e?.parent !== undefined; e = e.parent) keys.push(e.key)
    return keys.length === 0 ? '' : ` at ${keys.reverse().map((k) => (/^[\w$]{1,40}$/.test(k) ? k : JSON.stringify(k.slice(0, 40)))).join('.')}`
  }
  const stack: Entry[] = [{ item: value, depth: 1, key: '', parent: undefined }]
  let visited = 0
  while (stack.length > 0) {
    const entry = stack.pop() as Entry
    const item = entry.item
    if (item === null || typeof item !== 'object') continue
    if (entry.depth > maxDepth) return `nests deeper than ${maxDepth} levels (or refers to itself)`
    if (++visited > maxNodes) return `holds more than ${maxNodes} objects and arrays`
    if (Array.isArray(item)) {
      // by index: Object.keys would make a string per element of a large numeric array
      for (let i = 0; i < item.length; i++) {
        const child: unknown = item[i]
        if (child !== null && typeof child === 'object') stack.push({ item: child, depth: entry.depth + 1, key: String(i), parent: entry })
      }
      continue
    }
    if (Object.hasOwn(item, PROTO_KEY)) return `holds a "${PROTO_KEY}" key${where(entry)}, which cannot be stored as data`
    for (const key of Object.keys(item)) {
      const child = (item as Record<string, unknown>)[key]
      if (child !== null && typeof child === 'object') stack.push({ item: child, depth: entry.depth + 1, key, parent: entry })
    }
  }
  return undefined
}

export function fromJsonOrNull(text: string | null): unknown {
  return text === null ? null : fromJson(text)
}
