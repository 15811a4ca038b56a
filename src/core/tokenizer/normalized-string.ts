// A string being normalised/pre-tokenised that remembers, for every UTF-16 unit, the [start, end) span of the
// original text it came from (like HF tokenizers' NormalizedString alignments).

export class NormalizedString {
  constructor(
    readonly text: string,
    /** per UTF-16 unit of text: original span */
    readonly starts: Int32Array,
    readonly ends: Int32Array,
    /** original span of an empty string (where it sits) */
    readonly anchor: number,
  ) {}

  static from(original: string, offset = 0): NormalizedString {
    const n = original.length
    const starts = new Int32Array(n)
    const ends = new Int32Array(n)
    for (let i = 0; i < n; ) {
      const len = isHigh(original.charCodeAt(i)) && i + 1 < n && isLow(original.charCodeAt(i + 1)) ? 2 : 1
      for (let k = 0; k < len; k++) {
        starts[i + k] = offset + i
        ends[i + k] = offset + i + len
      }
      i += len
    }
    return new NormalizedString(original, starts, ends, offset)
  }

  get length(): number {
    return this.text.length
  }

  slice(a: number, b: number): NormalizedString {
    const anchor = a < this.text.length ? this.starts[a] : this.text.length > 0 ? this.ends[this.text.length - 1] : this.anchor
    return new NormalizedString(this.text.slice(a, b), this.starts.slice(a, b), this.ends.slice(a, b), anchor)
  }

  /** Original span of units [a, b): min start, max end (empty → anchor point). */
  span(a: number, b: number): [number, number] {
    if (b <= a) {
      const at = a < this.text.length ? this.starts[a] : this.text.length > 0 ? this.ends[this.text.length - 1] : this.anchor
      return [at, at]
    }
    let s = Infinity
    let e = -Infinity
    for (let i = a; i < b; i++) {
      if (this.starts[i] === this.ends[i] && b - a > 1) continue // inserted unit (e.g. a prepended ▁)
      s = Math.min(s, this.starts[i])
      e = Math.max(e, this.ends[i])
    }
    if (s === Infinity) return [this.starts[a], this.starts[a]]
    return [s, e]
  }

  /**
   * Rebuilds the string from consecutive chunks covering it: each chunk [a, b) is replaced by `out`, whose units all
   * get the original span of the chunk (or a point when the chunk is empty, for insertions).
   */
  rewrite(chunks: Array<{ a: number; b: number; out: string }>): NormalizedString {
    let text = ''
    const starts: number[] = []
    const ends: number[] = []
    for (const { a, b, out } of chunks) {
      if (out.length === 0) continue
      let s: number
      let e: number
      if (b > a) {
        s = Infinity
        e = -Infinity
        for (let i = a; i < b; i++) {
          s = Math.min(s, this.starts[i])
          e = Math.max(e, this.ends[i])
        }
      } else {
        s = e = a < this.text.length ? this.starts[a] : this.text.length ? this.ends[this.text.length - 1] : this.anchor
      }
      if (out === this.text.slice(a, b)) {
        // unchanged: keep fine-grained alignment
        for (let i = a; i < b; i++) {
          starts.push(this.starts[i])
          ends.push(this.ends[i])
        }
      } else {
        for (let k = 0; k < out.length; k++) {
          starts.push(s)
          ends.push(e)
        }
      }
      text += out
    }
    return new NormalizedString(text, Int32Array.from(starts), Int32Array.from(ends), this.anchor)
  }

  /** Applies `fn` per code point. */
  mapChars(fn: (ch: string) => string): NormalizedString {
    return this.rewrite(this.codePoints().map(({ a, b }) => ({ a, b, out: fn(this.text.slice(a, b)) })))
  }

  /** Applies `fn` per grapheme cluster. */
  mapGraphemes(fn: (g: string) => string): NormalizedString {
    return this.rewrite(this.graphemes().map(({ a, b }) => ({ a, b, out: fn(this.text.slice(a, b)) })))
  }

  /** Replaces each [start, end) of `spans` (non-empty, ascending, disjoint: regex matches) by `content`. */
  replaceSpans(spans: ReadonlyArray<readonly [number, number]>, content: string): NormalizedString {
    const chunks: Array<{ a: number; b: number; out: string }> = []
    let last = 0
    for (const [a, b] of spans) {
      if (a > last) chunks.push({ a: last, b: a, out: this.text.slice(last, a) })
      chunks.push({ a, b, out: content })
      last = b
    }
    if (last < this.text.length) chunks.push({ a: last, b: this.text.length, out: this.text.slice(last) })
    return this.rewrite(chunks)
  }

  prepend(s: string): NormalizedString {
    return this.rewrite([
      { a: 0, b: 0, out: s },
      { a: 0, b: this.text.length, out: this.text },
    ])
  }

  codePoints(): Array<{ a: number; b: number }> {
    const out: Array<{ a: number; b: number }> = []
    for (let i = 0; i < this.text.length; ) {
      const len = isHigh(this.text.charCodeAt(i)) && i + 1 < this.text.length && isLow(this.text.charCodeAt(i + 1)) ? 2 : 1
      out.push({ a: i, b: i + len })
      i += len
    }
    return out
  }

  graphemes(): Array<{ a: number; b: number }> {
    const out: Array<{ a: number; b: number }> = []
    for (const s of graphemeSegmenter().segment(this.text)) out.push({ a: s.index, b: s.index + s.segment.length })
    return out
  }
}

let segmenter: Intl.Segmenter | undefined
function graphemeSegmenter(): Intl.Segmenter {
  if (!segmenter) segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' })
  return segmenter
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}
