// SentencePiece's precompiled normalisation rules ("precompiled_charsmap", e.g. nmt_nfkc): a darts-clone
// double-array trie over UTF-8 byte strings whose values index a table of NUL-terminated replacements.
// Blob layout (normalizer.cc DecodePrecompiledCharsMap): <u32 LE trie size><trie units (u32 LE)><replacements>.
import { LabError } from '../../common/errors'

export interface PrefixMatch {
  /** bytes of the input consumed */
  length: number
  /** replacement bytes */
  replacement: Uint8Array
}

export class PrecompiledCharsmap {
  private readonly units: Uint32Array
  private readonly normalized: Uint8Array

  constructor(blob: Uint8Array, what = 'precompiled_charsmap') {
    if (blob.length < 4) throw new LabError('TOKENIZER_FORMAT', `${what}: blob of ${blob.length} bytes is too short`)
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
    const trieSize = view.getUint32(0, true)
    if (trieSize > blob.length - 4 || trieSize % 4 !== 0 || trieSize === 0) {
      throw new LabError('TOKENIZER_FORMAT', `${what}: trie size ${trieSize} does not fit the ${blob.length}-byte blob`)
    }
    this.units = new Uint32Array(trieSize / 4)
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true)
    this.normalized = blob.slice(4 + trieSize)
  }

  /**
   * Longest rule matching a prefix of input[start, end) (Darts commonPrefixSearch, then the longest result,
   * as Normalizer::NormalizePrefix does); undefined when no rule matches.
   */
  longestPrefix(input: Uint8Array, start: number, end: number): PrefixMatch | undefined {
    const units = this.units
    const n = units.length
    let id = 0
    let unit = units[0]
    id ^= offsetOf(unit)
    let bestLength = 0
    let bestValue = -1
    for (let i = start; i < end; i++) {
      const c = input[i]
      id ^= c
      if (id >= n) return this.result(bestLength, bestValue)
      unit = units[id]
      if (labelOf(unit) !== c) break
      id ^= offsetOf(unit)
      if (hasLeaf(unit)) {
        if (id >= n) throw new LabError('TOKENIZER_FORMAT', 'precompiled_charsmap: trie leaf index out of range')
        bestLength = i - start + 1
        bestValue = valueOf(units[id])
      }
    }
    return this.result(bestLength, bestValue)
  }

  /**
   * The rule for a whole chunk via its *first* (shortest) prefix match, as the HF tokenizers `Precompiled`
   * normaliser (spm_precompiled::transform) does.
   */
  firstPrefix(input: Uint8Array): Uint8Array | undefined {
    const units = this.units
    const n = units.length
    let id = offsetOf(units[0])
    for (let i = 0; i < input.length; i++) {
      const c = input[i]
      id ^= c
      if (id >= n) return undefined
      const unit = units[id]
      if (labelOf(unit) !== c) return undefined
      id ^= offsetOf(unit)
      if (hasLeaf(unit)) {
        if (id >= n) throw new LabError('TOKENIZER_FORMAT', 'precompiled_charsmap: trie leaf index out of range')
        return this.result(i + 1, valueOf(units[id]))?.replacement
      }
    }
    return undefined
  }

  private result(length: number, value: number): PrefixMatch | undefined {
    if (length === 0) return undefined
    if (value >= this.normalized.length) {
      throw new LabError('TOKENIZER_FORMAT', `precompiled_charsmap: replacement index ${value} out of range`)
    }
    let endAt = value
    while (endAt < this.normalized.length && this.normalized[endAt] !== 0) endAt++
    return { length, replacement: this.normalized.subarray(value, endAt) }
  }
}

// darts-clone DoubleArrayUnit
function hasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1
}
function valueOf(unit: number): number {
  return unit & 0x7fffffff
}
function labelOf(unit: number): number {
  return (unit & (0x80000000 | 0xff)) >>> 0
}
function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0
}
