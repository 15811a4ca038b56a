// DeBERTa-v3's tokenizer: a SentencePiece Unigram model (spm.model) used the way transformers'
// DebertaV2Tokenizer uses it (fixtures README, "Splitting rule"): split on special tokens, then
// SentencePieceProcessor.encode(piece) for every text piece (nmt_nfkc normalisation from the model's
// precompiled charsmap, dummy prefix, whitespace collapsing), [MASK] = an added id after the vocabulary.
import { LabError } from '../../common/errors'
import { BaseTokenizer, debertaTemplate, utf8ToUtf16Offsets, type AddedToken, type Template, type TextToken } from './base'
import type { HfTokenizerConfig } from './hf-config'
import { lowercaseWithOffsets } from './offsets'
import { PieceType, parseSentencePieceModel, type SentencePieceModel } from './sentencepiece-model'
import { SPACE_SYMBOL, SpmNormalizer, type NormalizedBytes } from './spm-normalizer'
import { UnigramPieceKind, buildUnigramVocab, unigramSegment, type UnigramVocab } from './unigram'
import type { SpecialTokenIds } from './types'

const SPACE_BYTES = [0xe2, 0x96, 0x81]

export class SentencePieceTokenizer extends BaseTokenizer {
  readonly kind = 'sentencepiece' as const
  readonly vocabSize: number
  readonly special: SpecialTokenIds
  protected readonly addedTokens: AddedToken[]
  protected readonly template: Template
  readonly model: SentencePieceModel
  private readonly pieceToId = new Map<string, number>()
  private readonly normalizer: SpmNormalizer
  private readonly vocab: UnigramVocab
  private readonly doLowerCase: boolean

  constructor(modelBytes: Uint8Array, config: HfTokenizerConfig, what = 'spm.model') {
    super()
    const model = parseSentencePieceModel(modelBytes, what)
    this.model = model
    if (model.trainerSpec.modelType !== 1) {
      const name = ({ 2: 'BPE', 3: 'WORD', 4: 'CHAR' } as Record<number, string>)[model.trainerSpec.modelType] ?? `type ${model.trainerSpec.modelType}`
      throw new LabError('TOKENIZER_FORMAT', `${what}: SentencePiece ${name} models are not supported (only Unigram)`)
    }
    const { unkId } = model.trainerSpec
    if (unkId < 0 || unkId >= model.pieces.length || model.pieces[unkId].type !== PieceType.UNKNOWN) {
      throw new LabError('TOKENIZER_FORMAT', `${what}: unk_id ${unkId} does not name the unknown piece`)
    }
    model.pieces.forEach((p, id) => {
      if (!this.pieceToId.has(p.piece)) this.pieceToId.set(p.piece, id)
    })
    this.vocab = buildUnigramVocab(
      model.pieces.map((p) => ({ piece: p.piece, score: p.score, kind: unigramKind(p.type) })),
      unkId,
      true,
    )
    this.normalizer = new SpmNormalizer({
      spec: model.normalizerSpec,
      treatWhitespaceAsSuffix: model.trainerSpec.treatWhitespaceAsSuffix,
      userDefined: model.pieces.filter((p) => p.type === PieceType.USER_DEFINED).map((p) => p.piece),
    })
    this.doLowerCase = config.doLowerCase

    // added tokens: the ones the config lists, plus every special token role (DebertaV2Tokenizer adds them all)
    const added = new Map<string, AddedToken>()
    let nextId = model.pieces.length
    for (const t of config.addedTokens) {
      if (t.id === undefined) continue
      added.set(t.content, { content: t.content, id: t.id, special: t.special, lstrip: t.lstrip ?? false, rstrip: t.rstrip ?? false })
      nextId = Math.max(nextId, t.id + 1)
    }
    const ts = model.trainerSpec
    // a role's default text: the conventional DeBERTa token, else the model's own control piece at that id
    const control = (id: number): string | undefined =>
      id >= 0 && model.pieces[id]?.type === PieceType.CONTROL ? model.pieces[id].piece : undefined
    const conventional = (text: string, id: number): string =>
      this.pieceToId.has(text) ? text : (control(id) ?? text)
    const roleDefaults: Record<'pad' | 'cls' | 'sep' | 'unk' | 'mask', string> = {
      pad: conventional('[PAD]', ts.padId),
      cls: conventional('[CLS]', ts.bosId),
      sep: conventional('[SEP]', ts.eosId),
      unk: model.pieces[unkId].piece,
      mask: '[MASK]',
    }
    const ids: Partial<Record<keyof typeof roleDefaults, number>> = {}
    for (const role of ['pad', 'cls', 'sep', 'unk', 'mask'] as const) {
      const content = config.specialTokens[role] ?? roleDefaults[role]
      let token = added.get(content)
      if (!token) {
        const flags = config.specialFlags[role] ?? {}
        const id = this.pieceToId.get(content) ?? nextId++
        token = { content, id, special: true, lstrip: flags.lstrip ?? false, rstrip: flags.rstrip ?? false }
        added.set(content, token)
      }
      ids[role] = token.id
    }
    this.addedTokens = [...added.values()]
    this.special = { cls: ids.cls!, sep: ids.sep!, pad: ids.pad!, unk: ids.unk!, mask: ids.mask }
    this.vocabSize = Math.max(model.pieces.length, ...this.addedTokens.map((t) => t.id + 1))
    this.template = debertaTemplate(this.special.cls, this.special.sep)
  }

  protected vocabIdToToken(id: number): string | undefined {
    return this.model.pieces[id]?.piece
  }

  protected vocabTokenToId(token: string): number | undefined {
    return this.pieceToId.get(token)
  }

  /** SentencePieceProcessor::PieceToId: unknown pieces map to unk_id. */
  pieceId(piece: string): number {
    return this.pieceToId.get(piece) ?? this.model.trainerSpec.unkId
  }

  protected decodePieces(tokens: string[]): string {
    const bytes: number[] = []
    const enc = new TextEncoder()
    for (const t of tokens) {
      const m = /^<0x([0-9A-F]{2})>$/.exec(t)
      if (m && this.model.pieces[this.pieceId(t)]?.type === PieceType.BYTE) bytes.push(parseInt(m[1], 16))
      else bytes.push(...enc.encode(t))
    }
    const text = new TextDecoder().decode(Uint8Array.from(bytes)).split(SPACE_SYMBOL).join(' ')
    return this.model.normalizerSpec.addDummyPrefix && text.startsWith(' ') ? text.slice(1) : text
  }

  /** SentencePieceProcessor.encode(text) with offsets into `text`. */
  protected segment(text: string): TextToken[] {
    const lowered = this.doLowerCase ? lowercaseWithOffsets(text) : undefined
    const source = lowered ? lowered.text : text
    const { bytes, toUtf16 } = utf8ToUtf16Offsets(source)
    const norm = this.normalizer.normalize(bytes)
    if (norm.bytes.length === 0) return []
    const normText = new TextDecoder().decode(norm.bytes)
    const { toUtf16: normByteToUnit } = utf8ToUtf16Offsets(normText)
    // UTF-16 index in normText → byte offset in norm.bytes
    const unitToByte = new Int32Array(normText.length + 1)
    for (let b = normByteToUnit.length - 1; b >= 0; b--) unitToByte[normByteToUnit[b]] = b
    unitToByte[normText.length] = norm.bytes.length

    const mapBack = (i: number): number => (lowered ? lowered.toOriginal[i] : i)
    const out: TextToken[] = []
    for (const piece of unigramSegment(normText, this.vocab)) {
      const token = normText.slice(piece.start, piece.end)
      const [bs, be] = [unitToByte[piece.start], unitToByte[piece.end]]
      const [s, e] = originalSpan(norm, bs, be)
      const start = mapBack(toUtf16[s])
      const end = Math.max(start, mapBack(toUtf16[e]))
      if (piece.unknown && this.model.trainerSpec.byteFallback) {
        for (const b of norm.bytes.subarray(bs, be)) {
          const byteToken = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`
          out.push({ id: this.pieceId(byteToken), token: byteToken, start, end })
        }
        continue
      }
      out.push({ id: piece.unknown ? this.model.trainerSpec.unkId : piece.id, token, start, end })
    }
    return out
  }
}

function unigramKind(type: PieceType): UnigramPieceKind | undefined {
  if (type === PieceType.NORMAL) return UnigramPieceKind.Normal
  if (type === PieceType.USER_DEFINED) return UnigramPieceKind.UserDefined
  if (type === PieceType.UNUSED) return UnigramPieceKind.Unused
  return undefined
}

/**
 * Original byte span of normalised bytes [bs, be). Leading/trailing "▁" bytes are left out when the token has
 * other content (so "▁the" maps to "the", not " the"); a token made only of "▁" maps to the whitespace it
 * came from, or to an empty span where it was inserted (the dummy prefix).
 */
export function originalSpan(norm: NormalizedBytes, bs: number, be: number): [number, number] {
  let a = bs
  let z = be
  while (a + 3 <= z && isSpaceAt(norm.bytes, a)) a += 3
  while (z - 3 >= a && isSpaceAt(norm.bytes, z - 3)) z -= 3
  if (a >= z) {
    a = bs
    z = be
  }
  let start = Infinity
  let end = -Infinity
  for (let i = a; i < z; i++) {
    if (norm.synthetic[i]) continue
    start = Math.min(start, norm.origStart[i])
    end = Math.max(end, norm.origEnd[i])
  }
  if (start === Infinity) return [norm.origStart[bs], norm.origStart[bs]]
  return [start, end]
}

function isSpaceAt(b: Uint8Array, i: number): boolean {
  return b[i] === SPACE_BYTES[0] && b[i + 1] === SPACE_BYTES[1] && b[i + 2] === SPACE_BYTES[2]
}
