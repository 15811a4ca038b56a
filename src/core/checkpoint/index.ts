// Checkpoint readers: one entry point that picks the reader from the file's magic bytes (extension as a hint).
import * as nodePath from 'node:path'
import { LabError } from '../../common/errors'
import { PositionedFile } from './positioned-file'
import { openPytorch } from './pytorch'
import { openSafetensors } from './safetensors'
import type { CheckpointLimits, TensorSource } from './types'

export type { CheckpointLimits, HostTensor, ReadStats, StoredDType, TensorEntry, TensorSource } from './types'
export { DEFAULT_CHECKPOINT_LIMITS } from './types'
export { encodeSafetensors, openSafetensors, writeSafetensors, writeSafetensorsLazy, MAX_SAFETENSORS_HEADER } from './safetensors'
export type { SafetensorsSource, LazyHostTensor } from './safetensors'
export { openPytorch } from './pytorch'
export { writePytorchStateDict, writeZip, PickleBuilder } from './pytorch-writer'
export type { TorchTensorSpec, WritePytorchOptions, ZipEntrySpec } from './pytorch-writer'
export { resolveModelFolder } from './folder'
export type { ModelFolder, ModelVariant, TokenizerFiles } from './folder'
export { DTYPE_BYTES, f16ToNumber, bf16ToNumber } from './dtype'

export type TensorFileFormat = TensorSource['format']

/** Legacy (pre-1.6) torch.save files start with a pickled magic number. */
const LEGACY_TORCH_MAGIC = 0x1950a86a20f9469cfc6cn

/**
 * Detects the format of a weights file: zip magic → pytorch (torch.save ≥ 1.6), JSON header → safetensors.
 * Throws CHECKPOINT_NOT_FOUND, CHECKPOINT_TRUNCATED, or CHECKPOINT_FORMAT (legacy torch files included).
 */
export function detectTensorFileFormat(path: string): TensorFileFormat {
  const file = new PositionedFile(path)
  try {
    const head = file.read(0, Math.min(16, file.size), 'file header')
    const ext = nodePath.extname(path).toLowerCase()
    if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6)) {
      return 'pytorch'
    }
    if (head.length >= 9 && head[8] === 0x7b /* { */) return 'safetensors'
    if (ext === '.safetensors') return 'safetensors'
    if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
      throw new LabError(
        'CHECKPOINT_FORMAT',
        `${path} is a legacy (non-zip) torch.save file${isLegacyTorchMagic(head) ? '' : ' or a bare pickle'}; ` +
          're-save it with torch>=1.6 (torch.save(torch.load(f), f)) or convert to safetensors',
        { path },
      )
    }
    if (file.size < 9) {
      throw new LabError('CHECKPOINT_TRUNCATED', `${path}: ${file.size} bytes is too short for a checkpoint`, { path })
    }
    throw new LabError(
      'CHECKPOINT_FORMAT',
      `${path} (${ext || 'no extension'}) is neither a safetensors file nor a torch.save zip archive`,
      { path },
    )
  } finally {
    file.close()
  }
}

function isLegacyTorchMagic(head: Uint8Array): boolean {
  // PROTO 2, LONG1 10 <10 bytes LE> ...
  if (head.length < 13 || head[2] !== 0x8a || head[3] !== 10) return false
  let v = 0n
  for (let i = 9; i >= 0; i--) v = (v << 8n) | BigInt(head[4 + i])
  return v === LEGACY_TORCH_MAGIC
}

/** Opens a weights file (safetensors or torch.save zip) as a lazy tensor source. */
export function openTensorFile(path: string, limits: Partial<CheckpointLimits> = {}): TensorSource {
  return detectTensorFileFormat(path) === 'pytorch' ? openPytorch(path, limits) : openSafetensors(path, limits)
}
