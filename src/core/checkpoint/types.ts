// The contract between weight-file readers (safetensors, pytorch_model.bin) and the model builder.
// Readers are lazy: they index the file once and read one tensor at a time, so a large checkpoint
// never sits in memory twice (file bytes + model tensors).

/** Storage dtypes as safetensors names them; pytorch storages map onto the same names. */
export type StoredDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL'

/** What a reader counts while it reads a tensor (see TensorSource.readFloat32). */
export interface ReadStats {
  nonFinite: number
}

/** What one checkpoint load may allocate, checked when the file is indexed, before any tensor is read. */
export interface CheckpointLimits {
  /** bytes of the host tensors (float32 or int32, 4 bytes per element) all tensors of the file would take */
  maxLoadBytes: number
}

/** 8 GiB of float32: above deberta-v2-xxlarge (1.5 B parameters, 6 GB). */
export const DEFAULT_CHECKPOINT_LIMITS: Readonly<CheckpointLimits> = Object.freeze({ maxLoadBytes: 8 * 1024 ** 3 })

export interface TensorEntry {
  name: string
  dtype: StoredDType
  shape: number[]
}

export interface TensorSource {
  readonly format: 'safetensors' | 'pytorch'
  readonly path: string
  /** Every tensor in the file, in file order. */
  entries(): TensorEntry[]
  has(name: string): boolean
  /**
   * Reads one floating tensor as float32 (F16/BF16/F64 converted). Throws LabError CHECKPOINT_DTYPE for integer
   * tensors. When given, stats.nonFinite grows by the number of NaN/±Inf values (counted while converting).
   */
  readFloat32(name: string, stats?: ReadStats): Float32Array
  /** Reads one integer tensor as Int32Array (I64 values must fit in int32, else CHECKPOINT_DTYPE). */
  readInt32(name: string): Int32Array
  /** Releases the file handle. Safe to call twice. */
  close(): void
}

/** A tensor held in memory, e.g. for writing a safetensors file. */
export interface HostTensor {
  dtype: 'F32' | 'I64' | 'I32'
  shape: number[]
  data: Float32Array | Int32Array | BigInt64Array
}
