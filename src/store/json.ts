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

function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && isNumberTag(value)) {
    return NON_FINITE[(value as Record<string, string>)[NUM_TAG]]
  }
  return value
}

export function fromJson(text: string): unknown {
  // The reviver costs a call per value: only pay it when a tag is there.
  return text.includes(`{"${NUM_TAG}":`) ? JSON.parse(text, revive) : JSON.parse(text)
}

export function fromJsonOrNull(text: string | null): unknown {
  return text === null ? null : fromJson(text)
}
