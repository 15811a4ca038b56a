// The contract between weight-file readers (safetensors, pytorch_model.bin) and the model builder.
// Readers are lazy: they index the file once and read one tensor at a time, so a large checkpoint
// never sits in memory twice (file bytes + model tensors).

/** Storage dtypes as safetensors names them; pytorch storages map onto the same names. */
export type StoredDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL'

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
  /** Reads one floating tensor as float32 (F16/BF16/F64 converted). Throws LabError CHECKPOINT_DTYPE for integer tensors. */
  readFloat32(name: string): Float32Array
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
