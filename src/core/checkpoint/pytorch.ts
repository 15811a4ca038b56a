// pytorch_model.bin reader: torch.save zip archives (torch ≥ 1.6). The pickle (<archive>/data.pkl) is parsed
// as data by ./pickle (allowlisted globals only); tensor storages (<archive>/data/<key>) are read lazily with
// positioned reads, one tensor at a time. Half-precision storages are converted to float32 on read.
import { LabError } from '../../common/errors'
import { DTYPE_BYTES, FLOAT_DTYPES, checkLoadBytes, convertToFloat32, convertToInt32, countNonFinite } from './dtype'
import { PyDict, PyTuple, PyGlobal, STORAGE_DTYPES, StorageRef, TensorRef, unpickle, type PyValue } from './pickle'
import { PositionedFile } from './positioned-file'
import { DEFAULT_CHECKPOINT_LIMITS, type CheckpointLimits, type ReadStats, type TensorEntry, type TensorSource } from './types'
import { ZipArchive, type ZipEntry } from './zip'

/** data.pkl of a state dict is small (≈100 bytes per tensor); a larger one is not a state dict we can use. */
const MAX_PICKLE_BYTES = 256 << 20

interface PytorchTensor extends TensorEntry {
  ref: TensorRef
  numel: number
  entry: ZipEntry
  contiguous: boolean
}

export function openPytorch(path: string, limits: Partial<CheckpointLimits> = {}): TensorSource {
  const file = new PositionedFile(path)
  try {
    return new PytorchReader(file, { ...DEFAULT_CHECKPOINT_LIMITS, ...limits })
  } catch (error) {
    file.close()
    throw error
  }
}

class PytorchReader implements TensorSource {
  readonly format = 'pytorch' as const
  readonly path: string
  private readonly file: PositionedFile
  private readonly zip: ZipArchive
  private readonly tensors = new Map<string, PytorchTensor>()

  constructor(file: PositionedFile, limits: CheckpointLimits) {
    this.file = file
    this.path = file.path
    this.zip = new ZipArchive(file)
    const prefix = this.findArchivePrefix()
    const byteorder = this.zip.entries.get(`${prefix}/byteorder`)
    if (byteorder) {
      const order = new TextDecoder().decode(this.zip.readEntry(byteorder, 16)).trim()
      if (order !== 'little') {
        throw this.error('CHECKPOINT_FORMAT', `storages are ${JSON.stringify(order)}-endian; only little-endian is supported`)
      }
    }
    const pkl = this.zip.readEntry(this.zip.entries.get(`${prefix}/data.pkl`)!, MAX_PICKLE_BYTES)
    const storages = new Map<string, StorageRef>()
    const root = unpickle(pkl, {
      source: file.path,
      persistentLoad: (pid) => this.loadStorage(pid, storages),
    })
    if (!(root instanceof PyDict)) {
      throw this.error('CHECKPOINT_FORMAT', `the pickled object is ${kindOf(root)}, not a state dict (dict of name → tensor)`)
    }
    for (const [key, value] of root.map) {
      if (typeof key !== 'string') throw this.error('CHECKPOINT_FORMAT', `state dict key ${String(key)} is not a string`)
      if (!(value instanceof TensorRef)) {
        const hint = value instanceof PyDict ? ` (a nested dict: is this a training checkpoint with the weights under "${key}"?)` : ''
        throw this.error('CHECKPOINT_FORMAT', `state dict entry "${key}" is ${kindOf(value)}, not a tensor${hint}`)
      }
      this.tensors.set(key, this.indexTensor(key, value, prefix))
    }
    // Views may share a storage (tied weights), and each is read into its own array: count every one. A DEFLATE
    // storage (torch never writes one, a forged file may) is inflated whole when read: count its size too.
    let elements = 0
    const deflated = new Set<ZipEntry>()
    for (const t of this.tensors.values()) {
      elements += t.numel
      if (t.entry.method !== 0) deflated.add(t.entry)
    }
    for (const entry of deflated) elements += Math.ceil(entry.uncompressedSize / 4)
    checkLoadBytes(this.path, elements, limits)
  }

  entries(): TensorEntry[] {
    return [...this.tensors.values()].map(({ name, dtype, shape }) => ({ name, dtype, shape: [...shape] }))
  }

  has(name: string): boolean {
    return this.tensors.has(name)
  }

  readFloat32(name: string, stats?: ReadStats): Float32Array {
    const t = this.tensor(name)
    if (!FLOAT_DTYPES.has(t.dtype)) {
      throw new LabError('CHECKPOINT_DTYPE', `tensor "${name}" has dtype ${t.dtype}, expected a floating-point tensor`, {
        tensor: name,
        dtype: t.dtype,
      })
    }
    if (t.entry.method === 0 && t.contiguous) {
      return this.file.readFloat32(this.zip.dataOffset(t.entry) + t.ref.offset * DTYPE_BYTES[t.dtype], t.numel, t.dtype, name, stats)
    }
    const { span, base } = this.readSpan(t)
    const out = new Float32Array(span.length / DTYPE_BYTES[t.dtype])
    if (t.contiguous) {
      convertToFloat32(t.dtype, span, out, 0, name, stats)
      return out
    }
    // a strided view covers only some of the span's elements: count on what the tensor holds
    convertToFloat32(t.dtype, span, out, 0, name)
    const gathered = gatherStrided(out, t.ref, base, Float32Array)
    if (stats) stats.nonFinite += countNonFinite(gathered)
    return gathered
  }

  readInt32(name: string): Int32Array {
    const t = this.tensor(name)
    if (FLOAT_DTYPES.has(t.dtype)) {
      throw new LabError('CHECKPOINT_DTYPE', `tensor "${name}" has dtype ${t.dtype}, expected an integer tensor`, {
        tensor: name,
        dtype: t.dtype,
      })
    }
    if (t.entry.method === 0 && t.contiguous) {
      return this.file.readInt32(this.zip.dataOffset(t.entry) + t.ref.offset * DTYPE_BYTES[t.dtype], t.numel, t.dtype, name)
    }
    const { span, base } = this.readSpan(t)
    const out = new Int32Array(span.length / DTYPE_BYTES[t.dtype])
    convertToInt32(t.dtype, span, out, 0, name)
    return t.contiguous ? out : gatherStrided(out, t.ref, base, Int32Array)
  }

  close(): void {
    this.file.close()
  }

  private tensor(name: string): PytorchTensor {
    const t = this.tensors.get(name)
    if (!t) throw new LabError('CHECKPOINT_MISSING_KEY', `tensor "${name}" is not in ${this.path}`, { tensor: name, path: this.path })
    return t
  }

  /**
   * Bytes of the storage elements a tensor touches, [first, last], copied into a fresh aligned buffer;
   * `base` is the storage index of the first one. Used for DEFLATE entries and strided views.
   */
  private readSpan(t: PytorchTensor): { span: Uint8Array; base: number } {
    const size = DTYPE_BYTES[t.dtype]
    const base = t.ref.offset
    const count = t.numel === 0 ? 0 : maxIndex(t.ref) - base + 1
    if (t.entry.method === 0) {
      return { span: this.file.read(this.zip.dataOffset(t.entry) + base * size, count * size, `tensor "${t.name}"`), base }
    }
    const all = this.zip.readEntry(t.entry)
    return { span: all.slice(base * size, (base + count) * size), base }
  }

  private indexTensor(name: string, ref: TensorRef, prefix: string): PytorchTensor {
    const { storage, shape, stride, offset } = ref
    const entryName = `${prefix}/data/${storage.key}`
    const entry = this.zip.entries.get(entryName)
    if (!entry) {
      throw this.error('CHECKPOINT_FORMAT', `tensor "${name}": storage "${storage.key}" has no zip entry "${entryName}"`, name)
    }
    const itemSize = DTYPE_BYTES[storage.dtype]
    if (entry.uncompressedSize < storage.numel * itemSize) {
      throw this.error(
        'CHECKPOINT_TRUNCATED',
        `tensor "${name}": storage "${storage.key}" should hold ${storage.numel} ${storage.dtype} elements ` +
          `(${storage.numel * itemSize} bytes) but its entry has ${entry.uncompressedSize} bytes`,
        name,
      )
    }
    let numel = 1
    for (const d of shape) numel *= d
    if (!Number.isSafeInteger(numel)) throw this.error('CHECKPOINT_FORMAT', `tensor "${name}": shape [${shape}] is too large`, name)
    if (numel > 0 && !isNonOverlapping(shape, stride)) {
      // A zero stride or interleaved strides reuse storage elements: a 4-byte storage could stand for a
      // gigabyte tensor. torch.save writes such views only for expanded/broadcast tensors, never in state dicts.
      throw this.error(
        'CHECKPOINT_FORMAT',
        `tensor "${name}": view (size [${shape}], stride [${stride}]) reuses storage elements (zero or overlapping strides); only views that cover distinct elements are read`,
        name,
      )
    }
    if (numel > 0) {
      const last = maxIndex(ref)
      if (!Number.isSafeInteger(last) || last >= storage.numel) {
        throw this.error(
          'CHECKPOINT_FORMAT',
          `tensor "${name}": view (offset ${offset}, size [${shape}], stride [${stride}]) reaches element ${last} ` +
            `of a storage with ${storage.numel}`,
          name,
        )
      }
    }
    // the data must be inside the file (also for entries whose local header we have not read yet)
    if (entry.method === 0) this.zip.dataOffset(entry)
    return { name, dtype: storage.dtype, shape, ref, numel, entry, contiguous: isContiguous(shape, stride) }
  }

  private loadStorage(pid: PyValue, storages: Map<string, StorageRef>): StorageRef {
    // ('storage', torch.FloatStorage, key, location, numel)
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      throw this.error('CHECKPOINT_FORMAT', 'persistent id is not a (storage, type, key, location, numel) tuple')
    }
    const [, type, key, location, numel] = pid.items
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) {
      throw this.error('CHECKPOINT_FORMAT', 'persistent id does not name a torch storage type')
    }
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,200}$/.test(key) || key === '.' || key === '..') {
      throw this.error('CHECKPOINT_FORMAT', `invalid storage key ${JSON.stringify(key)}`)
    }
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      throw this.error('CHECKPOINT_FORMAT', `storage "${key}" has an invalid element count`)
    }
    const dtype = STORAGE_DTYPES[type.name]
    const existing = storages.get(key)
    if (existing) {
      if (existing.dtype !== dtype || existing.numel !== numel) {
        throw this.error('CHECKPOINT_FORMAT', `storage "${key}" is described inconsistently`)
      }
      return existing
    }
    const ref = new StorageRef(key, dtype, numel, typeof location === 'string' ? location : '')
    storages.set(key, ref)
    return ref
  }

  private findArchivePrefix(): string {
    const candidates = [...this.zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n))
    if (candidates.length !== 1) {
      throw this.error(
        'CHECKPOINT_FORMAT',
        candidates.length === 0
          ? 'zip archive has no <name>/data.pkl entry: not a torch.save file'
          : `zip archive has ${candidates.length} data.pkl entries`,
      )
    }
    return candidates[0].slice(0, -'/data.pkl'.length)
  }

  private error(code: 'CHECKPOINT_FORMAT' | 'CHECKPOINT_TRUNCATED', message: string, tensor?: string): LabError {
    return new LabError(code, `${this.path}: ${message}`, tensor ? { path: this.path, tensor } : { path: this.path })
  }
}


function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false
    expected *= shape[i]
  }
  return true
}

/**
 * Whether a strided view maps every index to a distinct storage element: with the dimensions of size > 1
 * sorted by stride, each stride must reach past everything the smaller ones span (contiguous tensors, their
 * transposes/permutations and slices of them pass; zero strides and interleavings do not). Such a view never
 * has more elements than the storage range it lies in.
 */
function isNonOverlapping(shape: number[], stride: number[]): boolean {
  const dims = shape.map((size, i) => ({ size, stride: stride[i] })).filter((d) => d.size > 1)
  dims.sort((a, b) => a.stride - b.stride)
  let span = 1
  for (const d of dims) {
    if (d.stride < span) return false
    span += d.stride * (d.size - 1)
  }
  return true
}

/** Storage index of the last element a (non-empty) view touches. */
function maxIndex(ref: TensorRef): number {
  let last = ref.offset
  for (let i = 0; i < ref.shape.length; i++) last += (ref.shape[i] - 1) * ref.stride[i]
  return last
}

/** Copies a strided view out of `span` (storage elements starting at index `base`) into row-major order. */
function gatherStrided<T extends Float32Array | Int32Array>(
  span: T,
  ref: TensorRef,
  base: number,
  Ctor: { new (n: number): T },
): T {
  const { shape, stride } = ref
  let numel = 1
  for (const d of shape) numel *= d
  const out = new Ctor(numel)
  if (numel === 0) return out
  const rank = shape.length
  const index = new Array<number>(rank).fill(0)
  let src = ref.offset - base
  for (let i = 0; i < numel; i++) {
    out[i] = span[src]
    // odometer increment over the last axis first
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++
      src += stride[d]
      if (index[d] < shape[d]) break
      src -= stride[d] * shape[d]
      index[d] = 0
    }
  }
  return out
}

function kindOf(value: PyValue): string {
  if (value === null) return 'None'
  if (Array.isArray(value)) return 'a list'
  if (value instanceof PyTuple) return 'a tuple'
  if (value instanceof PyDict) return 'a dict'
  if (value instanceof TensorRef) return 'a tensor'
  if (value instanceof StorageRef) return 'a storage'
  if (value instanceof Uint8Array) return 'bytes'
  return `a ${typeof value}`
}
