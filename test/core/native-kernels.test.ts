// TF's own kernels on the tensorflow backend (src/core/native-kernels.ts): the same numbers as tfjs's kernels,
// absent on the other backends and while a gradient tape records (training keeps tfjs's differentiable ops).
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { firstMatchingVariant, readOnce, residentInTensorflow, tensorflowKernels } from '../../src/core/native-kernels'
import { weightTensors } from '../../src/core/params'
import { layerNorm, linear, softmax } from '../../src/core/ops'
import { createSyntheticModel, fillNormalSeeded } from '../../src/core/synthetic'
import { expectClose, seededIds, SMALL_V3, TEST_BACKENDS, useBackend } from './helpers'

function randn(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(fillNormalSeeded(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed), shape)
}

/** tfjs's own LayerNorm, written out (the reference for the native one) */
function tfjsLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D
  })
}

describe.runIf(TEST_BACKENDS.includes('tensorflow'))('TF kernels on tensorflow', () => {
  it('MatMul (every transpose), BiasAdd and LayerNorm equal tfjs kernels; linear and layerNorm use them', async () => {
    await useBackend('tensorflow')
    const k = tensorflowKernels()
    expect(k).not.toBeNull()
    const a = randn([7, 5], 1) as tf.Tensor2D
    const b = randn([5, 3], 2) as tf.Tensor2D
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const x = ta ? (tf.transpose(a) as tf.Tensor2D) : a
      const y = tb ? (tf.transpose(b) as tf.Tensor2D) : b
      expectClose(`MatMul ${ta} ${tb}`, k!.matMul(x, y, ta, tb).dataSync(), tf.matMul(x, y, ta, tb).dataSync(), 1e-5)
    }
    const bias = randn([3], 3) as tf.Tensor1D
    expectClose('BiasAdd', k!.biasAdd(tf.matMul(a, b), bias).dataSync(), tf.add(tf.matMul(a, b), bias).dataSync(), 1e-6)
    expectClose('linear', linear(a, { wT: b, b: bias }).dataSync(), tf.add(tf.matMul(a, b), bias).dataSync(), 1e-5)

    const h = tf.add(tf.mul(randn([6, 32], 4), 3), 0.5) as tf.Tensor2D
    const gamma = randn([32], 5) as tf.Tensor1D
    const beta = randn([32], 6) as tf.Tensor1D
    const expected = tfjsLayerNorm(h, gamma, beta, 1e-7).dataSync()
    expectClose('LayerNorm', k!.layerNorm(h, gamma, beta, 1e-7).dataSync(), expected, 1e-6)
    expectClose('layerNorm', layerNorm(h, { gamma, beta }, 1e-7).dataSync(), expected, 1e-6)
    // a large eps is not lost on the way
    expectClose('LayerNorm eps 10', k!.layerNorm(h, gamma, beta, 10).dataSync(), tfjsLayerNorm(h, gamma, beta, 10).dataSync(), 1e-6)
  })

  it("oneDNN's LayerNorm and Softmax where they pass the probe (TF 2.21 here), the same numbers as TF's plain calls; DEBERTA_LAB_ONEDNN=0 turns them off", async () => {
    await useBackend('tensorflow')
    const k = tensorflowKernels()!
    const version = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding.TF_Version
    const [major, minor] = version.split('.').map(Number)
    // verified on the TF 2.21 C API (../shared/tools/tfjs-node-local.sh); other builds fall back after the probe
    if (process.platform === 'linux' && process.arch === 'x64' && (major > 2 || (major === 2 && minor >= 21))) expect(k.oneDnn).toEqual({ layerNorm: true, softmax: true })

    const backend = tf.backend() as unknown as { executeSingleOutput: (op: string, ...rest: unknown[]) => tf.Tensor }
    const original = backend.executeSingleOutput
    const ops: string[] = []
    backend.executeSingleOutput = function (op: string, ...rest: unknown[]) {
      ops.push(op)
      return original.call(this, op, ...rest)
    }
    const saved = process.env.DEBERTA_LAB_ONEDNN
    try {
      // scores with masked keys, a fully masked row and large values, at an attention-like shape
      const scores = tf.tidy(() => {
        const s = tf.mul(randn([3, 17, 29], 20), 6)
        const mask = tf.tensor3d(Array.from({ length: 17 * 29 }, (_, i) => (i % 5 === 0 || Math.floor(i / 29) === 4 ? -3.4028234663852886e38 : 0)), [1, 17, 29])
        return tf.add(tf.add(s, mask), tf.mul(tf.oneHot(tf.fill([3, 17], 3, 'int32'), 29), 90))
      }) as tf.Tensor3D
      const h = tf.add(tf.mul(randn([9, 96], 21), 4), tf.tensor2d(Array.from({ length: 9 }, (_, i) => 30 * (i - 4)), [9, 1])) as tf.Tensor2D
      const gamma = randn([96], 22) as tf.Tensor1D
      const beta = randn([96], 23) as tf.Tensor1D
      const results = (): { probs: Float32Array; normed: Float32Array } => ({ probs: softmax(scores).dataSync() as Float32Array, normed: layerNorm(h, { gamma, beta }, 1e-7).dataSync() as Float32Array })

      delete process.env.DEBERTA_LAB_ONEDNN
      ops.length = 0
      const fused = results()
      const used = k.oneDnn
      expect(ops.includes('_MklSoftmax')).toBe(used.softmax)
      expect(ops.includes('_MklLayerNorm')).toBe(used.layerNorm)

      process.env.DEBERTA_LAB_ONEDNN = '0'
      expect(k.oneDnn).toEqual({ layerNorm: false, softmax: false })
      ops.length = 0
      const plain = results()
      expect(ops).not.toContain('_MklSoftmax')
      expect(ops).not.toContain('_MklLayerNorm')
      expect(ops).toContain('Softmax')

      expectClose('softmax', fused.probs, plain.probs, 1e-6)
      expectClose('softmax = tfjs', fused.probs, tf.softmax(scores).dataSync(), 1e-6)
      expectClose('LayerNorm', fused.normed, plain.normed, 1e-5)
      expectClose('LayerNorm = tfjs', fused.normed, tfjsLayerNorm(h, gamma, beta, 1e-7).dataSync(), 1e-5)
      // the fully masked row is uniform, as HF's (before XSoftmax zeroes it)
      expect(Array.from(fused.probs.slice(4 * 29, 5 * 29)).every((p) => Math.abs(p - 1 / 29) < 1e-7)).toBe(true)
    } finally {
      backend.executeSingleOutput = original
      if (saved === undefined) delete process.env.DEBERTA_LAB_ONEDNN
      else process.env.DEBERTA_LAB_ONEDNN = saved
    }
  })

  it('MatrixDiagPartV3: diagonals high … low as rows, each from its first row; one diagonal keeps its axis', async () => {
    await useBackend('tensorflow')
    const k = tensorflowKernels()!
    const [X, R, C] = [2, 5, 11]
    const x = randn([X, R, C], 10) as tf.Tensor3D
    const v = x.arraySync()
    for (const [low, high] of [
      [0, 4],
      [2, 6],
      [3, 3],
      [0, 0],
    ] as const) {
      const out = k.diagonals(x, low, high)
      expect(out.shape).toEqual([X, high - low + 1, R])
      const got = out.arraySync()
      for (let b = 0; b < X; b++) {
        for (let d = 0; d <= high - low; d++) {
          for (let r = 0; r < R; r++) expect(got[b][d][r], `[${b}, ${d}, ${r}] of ${low}…${high}`).toBe(v[b][r][r + high - d])
        }
      }
    }
    // diagonals that would be short are refused (they would be padded)
    expect(() => k.diagonals(x, 0, 7)).toThrow(/not all full/)
    expect(() => k.diagonals(x, -1, 2)).toThrow(/not all full/)
  })

  it('a forward takes p2c off the diagonals (no rel-shift slices or transpose for it), blocked or not, for each sequence', async () => {
    await useBackend('tensorflow')
    const backend = tf.backend() as unknown as { executeSingleOutput: (op: string, ...rest: unknown[]) => tf.Tensor }
    const original = backend.executeSingleOutput
    const ops: string[] = []
    backend.executeSingleOutput = function (op: string, ...rest: unknown[]) {
      ops.push(op)
      return original.call(this, op, ...rest)
    }
    const saved = process.env.DEBERTA_LAB_RELATIVE_BLOCK
    const model = createSyntheticModel({ ...SMALL_V3, numHiddenLayers: 2 }, { seed: 3, withHead: false, strategy: 'batched' })
    try {
      for (const [block, rows] of [
        ['0', 1],
        ['5', 1],
        ['0', 2],
      ] as const) {
        process.env.DEBERTA_LAB_RELATIVE_BLOCK = block
        ops.length = 0
        tf.tidy(() => {
          model.forward({ inputIds: seededIds(rows, 17, SMALL_V3.vocabSize, 4) })
        })
        // sequences run one at a time: one diagonal read per layer and sequence
        expect(ops.filter((op) => op === 'MatrixDiagPartV3').length, `block ${block}, ${rows} row(s)`).toBe(2 * rows)
        // the only transposes left: Q/K/V to heads and the context back to rows (2 per layer and sequence)
        expect(ops.filter((op) => op === 'Transpose').length, `block ${block}, ${rows} row(s)`).toBe(2 * 2 * rows)
      }
    } finally {
      backend.executeSingleOutput = original
      model.dispose()
      if (saved === undefined) delete process.env.DEBERTA_LAB_RELATIVE_BLOCK
      else process.env.DEBERTA_LAB_RELATIVE_BLOCK = saved
    }
  })

  it('no leaked tensors; a non-float32 operand is refused', async () => {
    await useBackend('tensorflow')
    const k = tensorflowKernels()!
    const x = randn([4, 8], 7) as tf.Tensor2D
    const g = tf.ones([8]) as tf.Tensor1D
    const z = tf.zeros([8]) as tf.Tensor1D
    const x3 = tf.reshape(x, [1, 4, 8]) as tf.Tensor3D
    const before = tf.memory().numTensors
    k.layerNorm(x, g, z, 1e-5).dispose()
    k.matMul(x, x, false, true).dispose()
    k.diagonals(x3, 0, 3).dispose()
    expect(tf.memory().numTensors).toBe(before)
    expect(() => k.matMul(tf.ones([2, 2], 'int32') as tf.Tensor2D, tf.ones([2, 2], 'int32') as tf.Tensor2D)).toThrow(/float32/)
  })

  it("a model's weights and relative tables are in TensorFlow's memory once it is built, not copied by its first forward", async () => {
    await useBackend('tensorflow')
    // tfjs-node's backend keeps a tensor's values in JS (tensorMap[dataId].values) until an op reads it
    const pending = (t: tf.Tensor): boolean => (tf.backend() as unknown as { tensorMap: { get(id: object): { values: unknown } } }).tensorMap.get(t.dataId).values != null
    const fresh = tf.tensor1d([1, 2, 3])
    expect(pending(fresh)).toBe(true) // what a new tensor looks like
    expect(residentInTensorflow([fresh])).toBe(1)
    expect(pending(fresh)).toBe(false)
    fresh.dispose()
    const model = createSyntheticModel(SMALL_V3, { seed: 3 })
    try {
      const weights = weightTensors(model.weights)
      expect(weights.length).toBeGreaterThan(10)
      expect(weights.filter(pending)).toHaveLength(0)
      const tables = (model as unknown as { deviceTables: { tensors(): tf.Tensor[] } }).deviceTables.tensors()
      expect(tables.length).toBeGreaterThan(0)
      expect(tables.filter(pending)).toHaveLength(0)
    } finally {
      model.dispose()
    }
  })

  it('absent while a gradient tape records, so training gets gradients through linear and layerNorm', async () => {
    await useBackend('tensorflow')
    let seen: unknown = 'unset'
    const w = randn([5, 3], 8) as tf.Tensor2D
    const x = randn([4, 5], 9) as tf.Tensor2D
    const gamma = tf.ones([3]) as tf.Tensor1D
    const beta = tf.zeros([3]) as tf.Tensor1D
    const grad = tf.grad((wT: tf.Tensor) => {
      seen = tensorflowKernels()
      return tf.sum(tf.square(layerNorm(linear(x, { wT: wT as tf.Tensor2D, b: null }), { gamma, beta }, 1e-5)))
    })(w)
    expect(seen).toBeNull()
    expect(tf.max(tf.abs(grad)).dataSync()[0]).toBeGreaterThan(0)
    expect(tensorflowKernels()).not.toBeNull()
  })
})

describe('readOnce: a read buffer is freed at once only when it is a copy made for the read', () => {
  for (const backend of TEST_BACKENDS) {
    it(`on ${backend}`, async () => {
      await useBackend(backend)
      // record which buffers done() hands to ArrayBuffer.prototype.transfer (the real one where this realm has it)
      const proto = ArrayBuffer.prototype as { transfer?: (this: ArrayBuffer, length: number) => ArrayBuffer }
      const original = Object.getOwnPropertyDescriptor(proto, 'transfer')
      const transferred: ArrayBuffer[] = []
      Object.defineProperty(proto, 'transfer', {
        configurable: true,
        writable: true,
        value(this: ArrayBuffer, length: number) {
          transferred.push(this)
          return original ? original.value.call(this, length) : new ArrayBuffer(length)
        },
      })
      try {
        const computed = tf.add(tf.tensor1d([1, 2, 3]), 1) // an op's output: on tfjs-node held by TensorFlow
        const read = readOnce(computed)
        expect(Array.from(read.values)).toEqual([2, 3, 4])
        const buffer = read.values.buffer
        read.done()
        expect(transferred.includes(buffer as ArrayBuffer)).toBe(backend === 'tensorflow')
        expect(Array.from(computed.dataSync())).toEqual([2, 3, 4]) // the tensor is untouched

        const fresh = tf.tensor1d([5, 6]) // values still in JS on tfjs-node; the backend's own storage on cpu
        const own = readOnce(fresh)
        own.done()
        expect(transferred.includes(own.values.buffer as ArrayBuffer)).toBe(false)
        expect(Array.from(fresh.dataSync())).toEqual([5, 6])
        expect(Array.from(tf.add(fresh, 0).dataSync())).toEqual([5, 6])
      } finally {
        if (original) Object.defineProperty(proto, 'transfer', original)
        else delete proto.transfer
      }
    })
  }
})

describe('firstMatchingVariant (the probe of an internal kernel)', () => {
  it('takes the first variant that runs and gives the expected numbers; passes over throws, other numbers, NaN and other lengths', () => {
    const expected = [1, 2, 3]
    const outputs: Record<string, () => number[]> = {
      throws: () => {
        throw new Error('no kernel')
      },
      wrong: () => [1, 2, 3.1],
      nan: () => [1, NaN, 3],
      short: () => [1, 2],
      close: () => [1, 2 + 1e-7, 3],
      exact: () => [1, 2, 3],
    }
    const run = (name: string): number[] => outputs[name]()
    expect(firstMatchingVariant(['throws', 'wrong', 'nan', 'short', 'close', 'exact'], run, expected, 1e-6)).toBe('close')
    expect(firstMatchingVariant(['throws', 'exact', 'close'], run, expected, 1e-6)).toBe('exact')
    expect(firstMatchingVariant(['throws', 'wrong', 'nan', 'short'], run, expected, 1e-6)).toBeNull()
    expect(firstMatchingVariant(['close'], run, expected, 1e-8)).toBeNull()
    expect(firstMatchingVariant([], run, expected, 1)).toBeNull()
  })
})

describe('TF kernels elsewhere', () => {
  for (const backend of TEST_BACKENDS.filter((b) => b !== 'tensorflow')) {
    it(`none on ${backend}`, async () => {
      await useBackend(backend)
      expect(tensorflowKernels()).toBeNull()
      const t = tf.tensor1d([1])
      expect(residentInTensorflow([t])).toBe(0)
      t.dispose()
    })
  }
})
