// SentencePiece ModelProto (sentencepiece_model.proto), parsed with ./protobuf. Only the fields a tokenizer
// needs are kept; unknown fields are skipped, malformed input throws TOKENIZER_FORMAT.
import { LabError } from '../../common/errors'
import { ProtoReader } from './protobuf'

export enum PieceType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

export interface SentencePiece {
  piece: string
  score: number
  type: PieceType
}

export interface TrainerSpec {
  /** 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR */
  modelType: number
  vocabSize: number
  treatWhitespaceAsSuffix: boolean
  byteFallback: boolean
  unkId: number
  bosId: number
  eosId: number
  padId: number
  unkPiece: string
  bosPiece: string
  eosPiece: string
  padPiece: string
  splitDigits: boolean
}

export interface NormalizerSpec {
  name: string
  precompiledCharsmap: Uint8Array
  addDummyPrefix: boolean
  removeExtraWhitespaces: boolean
  escapeWhitespaces: boolean
}

export interface SentencePieceModel {
  pieces: SentencePiece[]
  trainerSpec: TrainerSpec
  normalizerSpec: NormalizerSpec
}

export function parseSentencePieceModel(bytes: Uint8Array, what = 'spm.model'): SentencePieceModel {
  const reader = new ProtoReader(bytes, what)
  const pieces: SentencePiece[] = []
  let trainerSpec = defaultTrainerSpec()
  let normalizerSpec = defaultNormalizerSpec()
  for (const f of reader.fields()) {
    if (f.field === 1) pieces.push(parsePiece(reader.expectBytes(f), what))
    else if (f.field === 2) trainerSpec = parseTrainerSpec(reader.expectBytes(f), what)
    else if (f.field === 3) normalizerSpec = parseNormalizerSpec(reader.expectBytes(f), what)
  }
  if (pieces.length === 0) throw new LabError('TOKENIZER_FORMAT', `${what}: no pieces (not a SentencePiece model?)`)
  return { pieces, trainerSpec, normalizerSpec }
}

function parsePiece(bytes: Uint8Array, what: string): SentencePiece {
  const r = new ProtoReader(bytes, what)
  const out: SentencePiece = { piece: '', score: 0, type: PieceType.NORMAL }
  for (const f of r.fields()) {
    if (f.field === 1) out.piece = r.string(f)
    else if (f.field === 2) out.score = r.float(f)
    else if (f.field === 3) {
      const t = r.expectVarint(f)
      if (t < 1 || t > 6) throw new LabError('TOKENIZER_FORMAT', `${what}: piece "${out.piece}" has unknown type ${t}`)
      out.type = t
    }
  }
  return out
}

function defaultTrainerSpec(): TrainerSpec {
  return {
    modelType: 1,
    vocabSize: 8000,
    treatWhitespaceAsSuffix: false,
    byteFallback: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: '<unk>',
    bosPiece: '<s>',
    eosPiece: '</s>',
    padPiece: '<pad>',
    splitDigits: false,
  }
}

function parseTrainerSpec(bytes: Uint8Array, what: string): TrainerSpec {
  const r = new ProtoReader(bytes, what)
  const s = defaultTrainerSpec()
  for (const f of r.fields()) {
    switch (f.field) {
      case 3:
        s.modelType = r.expectVarint(f)
        break
      case 4:
        s.vocabSize = r.int32(f)
        break
      case 24:
        s.treatWhitespaceAsSuffix = r.expectVarint(f) !== 0
        break
      case 25:
        s.splitDigits = r.expectVarint(f) !== 0
        break
      case 35:
        s.byteFallback = r.expectVarint(f) !== 0
        break
      case 40:
        s.unkId = r.int32(f)
        break
      case 41:
        s.bosId = r.int32(f)
        break
      case 42:
        s.eosId = r.int32(f)
        break
      case 43:
        s.padId = r.int32(f)
        break
      case 45:
        s.unkPiece = r.string(f)
        break
      case 46:
        s.bosPiece = r.string(f)
        break
      case 47:
        s.eosPiece = r.string(f)
        break
      case 48:
        s.padPiece = r.string(f)
        break
    }
  }
  return s
}

function defaultNormalizerSpec(): NormalizerSpec {
  return {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  }
}

function parseNormalizerSpec(bytes: Uint8Array, what: string): NormalizerSpec {
  const r = new ProtoReader(bytes, what)
  const s = defaultNormalizerSpec()
  for (const f of r.fields()) {
    switch (f.field) {
      case 1:
        s.name = r.string(f)
        break
      case 2:
        s.precompiledCharsmap = r.expectBytes(f)
        break
      case 3:
        s.addDummyPrefix = r.expectVarint(f) !== 0
        break
      case 4:
        s.removeExtraWhitespaces = r.expectVarint(f) !== 0
        break
      case 5:
        s.escapeWhitespaces = r.expectVarint(f) !== 0
        break
    }
  }
  return s
}
