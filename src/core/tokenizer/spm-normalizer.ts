// SentencePiece's Normalizer::Normalize (normalizer.cc), byte for byte: precompiled-charsmap rules (longest
// prefix), user-defined symbols kept verbatim, whitespace trimming/collapsing, "▁" escaping and the dummy prefix.
// Alongside every normalised byte it records the span of original bytes it came from (for token offsets).
import { PrecompiledCharsmap } from './charsmap'
import type { NormalizerSpec } from './sentencepiece-model'

export const SPACE_SYMBOL = '\u2581'
const SPACE_BYTES = new Uint8Array([0xe2, 0x96, 0x81])
const REPLACEMENT_CHAR = new Uint8Array([0xef, 0xbf, 0xbd])

export interface NormalizedBytes {
  bytes: Uint8Array
  /** per normalised byte: [start, end) byte span of the original input it came from */
  origStart: Int32Array
  origEnd: Int32Array
  /** bytes of the normalised text that came from no input (the dummy prefix ▁) are marked true */
  synthetic: Uint8Array
}

export interface SpmNormalizerOptions {
  spec: NormalizerSpec
  treatWhitespaceAsSuffix: boolean
  /** user-defined symbols: matched before the rules and never normalised */
  userDefined: string[]
}

export class SpmNormalizer {
  private readonly charsmap: PrecompiledCharsmap | undefined
  private readonly spec: NormalizerSpec
  private readonly suffix: boolean
  private readonly userDefined: Uint8Array[]

  constructor(options: SpmNormalizerOptions) {
    this.spec = options.spec
    this.suffix = options.treatWhitespaceAsSuffix
    this.charsmap = options.spec.precompiledCharsmap.length > 0 ? new PrecompiledCharsmap(options.spec.precompiledCharsmap) : undefined
    const enc = new TextEncoder()
    this.userDefined = options.userDefined.map((s) => enc.encode(s)).filter((b) => b.length > 0)
  }

  /** NormalizePrefix: the replacement for the longest rule at input[pos...], and the bytes consumed. */
  private normalizePrefix(input: Uint8Array, pos: number): { out: Uint8Array; consumed: number } {
    // user-defined symbols (PrefixMatcher: longest match)
    let userLength = 0
    for (const sym of this.userDefined) {
      if (sym.length > userLength && sym.length <= input.length - pos && startsWith(input, pos, sym)) userLength = sym.length
    }
    if (userLength > 0) return { out: input.subarray(pos, pos + userLength), consumed: userLength }
    const match = this.charsmap?.longestPrefix(input, pos, input.length)
    if (match) return { out: match.replacement, consumed: match.length }
    const length = validUtf8Length(input, pos)
    if (length === 0) return { out: REPLACEMENT_CHAR, consumed: 1 }
    return { out: input.subarray(pos, pos + length), consumed: length }
  }

  normalize(input: Uint8Array): NormalizedBytes {
    const out: number[] = []
    const starts: number[] = []
    const ends: number[] = []
    const synth: number[] = []
    const spec = this.spec
    let pos = 0
    if (input.length === 0) return pack(out, starts, ends, synth)
    if (spec.removeExtraWhitespaces) {
      while (pos < input.length) {
        const p = this.normalizePrefix(input, pos)
        if (!(p.out.length === 1 && p.out[0] === 0x20)) break
        pos += p.consumed
      }
    }
    if (pos >= input.length) return pack(out, starts, ends, synth)

    const addWs = (at: number): void => {
      const bytes = spec.escapeWhitespaces ? SPACE_BYTES : new Uint8Array([0x20])
      for (const b of bytes) {
        out.push(b)
        starts.push(at)
        ends.push(at)
        synth.push(1)
      }
    }
    if (!this.suffix && spec.addDummyPrefix) addWs(pos)

    let isPrevSpace = spec.removeExtraWhitespaces
    while (pos < input.length) {
      const p = this.normalizePrefix(input, pos)
      let sp = p.out
      if (isPrevSpace) {
        let k = 0
        while (k < sp.length && sp[k] === 0x20) k++
        sp = sp.subarray(k)
      }
      if (sp.length > 0) {
        for (const b of sp) {
          if (spec.escapeWhitespaces && b === 0x20) {
            for (const s of SPACE_BYTES) {
              out.push(s)
              starts.push(pos)
              ends.push(pos + p.consumed)
              synth.push(0)
            }
          } else {
            out.push(b)
            starts.push(pos)
            ends.push(pos + p.consumed)
            synth.push(0)
          }
        }
        isPrevSpace = sp[sp.length - 1] === 0x20
      }
      pos += p.consumed
      if (!spec.removeExtraWhitespaces) isPrevSpace = false
    }

    if (spec.removeExtraWhitespaces) {
      const space = spec.escapeWhitespaces ? SPACE_BYTES : new Uint8Array([0x20])
      while (out.length >= space.length && space.every((b, i) => out[out.length - space.length + i] === b)) {
        out.length -= space.length
        starts.length = ends.length = synth.length = out.length
      }
    }
    if (this.suffix && spec.addDummyPrefix) addWs(input.length)
    return pack(out, starts, ends, synth)
  }
}

function pack(out: number[], starts: number[], ends: number[], synth: number[]): NormalizedBytes {
  return {
    bytes: Uint8Array.from(out),
    origStart: Int32Array.from(starts),
    origEnd: Int32Array.from(ends),
    synthetic: Uint8Array.from(synth),
  }
}

function startsWith(input: Uint8Array, pos: number, sym: Uint8Array): boolean {
  for (let i = 0; i < sym.length; i++) if (input[pos + i] !== sym[i]) return false
  return true
}

/** Length of the valid UTF-8 character at pos, or 0 when malformed (string_util::IsValidDecodeUTF8). */
export function validUtf8Length(b: Uint8Array, pos: number): number {
  const c = b[pos]
  if (c < 0x80) return 1
  const rest = b.length - pos
  const cont = (i: number): boolean => (b[pos + i] & 0xc0) === 0x80
  if (c >= 0xc2 && c <= 0xdf) return rest >= 2 && cont(1) ? 2 : 0
  if (c >= 0xe0 && c <= 0xef) {
    if (rest < 3 || !cont(1) || !cont(2)) return 0
    const cp = ((c & 0x0f) << 12) | ((b[pos + 1] & 0x3f) << 6) | (b[pos + 2] & 0x3f)
    return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) ? 3 : 0
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (rest < 4 || !cont(1) || !cont(2) || !cont(3)) return 0
    const cp = ((c & 0x07) << 18) | ((b[pos + 1] & 0x3f) << 12) | ((b[pos + 2] & 0x3f) << 6) | (b[pos + 3] & 0x3f)
    return cp >= 0x10000 && cp <= 0x10ffff ? 4 : 0
  }
  return 0
}
