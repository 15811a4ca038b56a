// Shared pieces of the workspace jobs: the loaded model and tokenizer, text encoding, and slicing the core's
// [B, NH, T, T] float arrays into the LabApi's float32 matrices.
import type { Matrix, ModelInfo, ModelRef, TokenizedText } from '../../common/api'
import { LabError } from '../../common/errors'
import type { DebertaModel, FloatArray, ForwardOptions } from '../../core/model'
import type { Encoding, Tokenizer } from '../../core/tokenizer'
import type { JobContext } from '../jobs'

export interface WorkspaceModel {
  info: ModelInfo
  model: DebertaModel
  tokenizer: Tokenizer
}

export async function loadWorkspaceModel(context: JobContext, ref: ModelRef): Promise<WorkspaceModel> {
  const loaded = await context.getModel(ref)
  return { info: loaded.info, model: loaded.model, tokenizer: loaded.tokenizer }
}

/**
 * Most tokens a workspace computes with. Every workspace returns T × T matrices: at T = 1024 an attention
 * result holds five of them (20 MB of float32), and far beyond it the worker runs out of memory (a 20,000-token
 * text used to crash it). Benchmarks, which return timings only, are not limited by this.
 */
export const MAX_WORKSPACE_TOKENS = 1024

/** Encodes a single text with [CLS] … [SEP]; empty text and texts over MAX_WORKSPACE_TOKENS are refused. */
export function encodeText(tokenizer: Tokenizer, text: string, what = 'text'): Encoding {
  if (typeof text !== 'string' || text.trim() === '') throw new LabError('INPUT_INVALID', `the ${what} is empty: type a sentence`)
  const encoding = tokenizer.encode(text)
  const T = encoding.inputIds.length
  if (T > MAX_WORKSPACE_TOKENS) {
    throw new LabError('SEQUENCE_TOO_LONG', `the ${what} has ${T} tokens; the lab's workspaces show at most ${MAX_WORKSPACE_TOKENS}`, {
      length: T,
      max: MAX_WORKSPACE_TOKENS,
    })
  }
  return encoding
}

/** The encoding as the LabApi returns it, naming the pieces of `text` the tokenizer read as its unknown token. */
export function tokenized(encoding: Encoding, tokenizer: Pick<Tokenizer, 'special'>, text: string): TokenizedText {
  const unknown = encoding.inputIds.flatMap((id, position) => {
    if (id !== tokenizer.special.unk) return []
    const [a, b] = encoding.offsets[position]
    return [{ position, text: text.slice(a, b) }]
  })
  const out: TokenizedText = { tokens: encoding.tokens.slice(), inputIds: encoding.inputIds.slice(), offsets: encoding.offsets.map(([a, b]) => [a, b] as [number, number]) }
  if (unknown.length > 0) out.unknown = unknown
  return out
}

/** A [rows, cols] block of a float array starting at `offset`, as a matrix with its own buffer (transferable). */
export function matrixAt(data: Float32Array, rows: number, cols: number, offset = 0): Matrix {
  return { rows, cols, data: data.slice(offset, offset + rows * cols) }
}

/** A [T, E] float array (or the batch row b of [B, T, E]) as a matrix. */
export function rowsMatrix(array: FloatArray, b = 0): Matrix {
  const [rows, cols] = array.shape.length === 3 ? array.shape.slice(1) : array.shape
  return matrixAt(array.data, rows, cols, b * rows * cols)
}

/** Head h of sequence b of a [B, NH, T, T] array. */
export function headMatrix(array: FloatArray, head: number, b = 0): Matrix {
  const [, heads, rows, cols] = array.shape
  return matrixAt(array.data, rows, cols, (b * heads + head) * rows * cols)
}

/** The mean over heads of sequence b of a [B, NH, T, T] array. */
export function meanOverHeads(array: FloatArray, b = 0): Matrix {
  const [, heads, rows, cols] = array.shape
  const size = rows * cols
  // summed in float64, then rounded once to float32
  const sum = new Float64Array(size)
  for (let h = 0; h < heads; h++) {
    const offset = (b * heads + h) * size
    for (let k = 0; k < size; k++) sum[k] += array.data[offset + k]
  }
  const out = new Float32Array(size)
  for (let k = 0; k < size; k++) out[k] = sum[k] / heads
  return { rows, cols, data: out }
}

/**
 * The forward pass's onProgress for a job: stops at the next layer when the job was cancelled, and reports
 * fraction `from + (to − from) · done / total`.
 */
export function forwardProgress(context: JobContext, from: number, to: number, message: string): NonNullable<ForwardOptions['onProgress']> {
  return (done, total) => {
    context.checkCancelled()
    context.progress(from + ((to - from) * done) / Math.max(1, total), `${message} (layer ${done} of ${total})`)
  }
}
