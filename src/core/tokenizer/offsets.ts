// Text transformations that keep a map back to the original UTF-16 positions.

export interface MappedText {
  text: string
  /** for every UTF-16 index of `text` (and its end): the original index */
  toOriginal: Int32Array
}

/** Lower-cases character by character (as Python's str.lower does per code point) keeping offsets. */
export function lowercaseWithOffsets(text: string): MappedText {
  let out = ''
  const map: number[] = []
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    const lower = ch.toLowerCase()
    for (let k = 0; k < lower.length; k++) map.push(i)
    out += lower
    i += ch.length
  }
  map.push(text.length)
  return { text: out, toOriginal: Int32Array.from(map) }
}
