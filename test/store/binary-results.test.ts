// Results with float32 matrices are stored as the run's "result.bin" artifact: a small JSON skeleton and the
// arrays' raw bytes (src/common/result-codec.ts). Recording one never writes its numbers as text; reading it
// back gives Float32Array views of the stored bytes; old stores (a result.json of number[] matrices) still read.
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isStoredResultRef, STORED_BINARY_RESULT_ARTIFACT, STORED_RESULT_ARTIFACT, type StoredResultRef } from '../../src/common/sessions'
import { BINARY_RESULT_MIME, decodeResult, encodeResult, float32Matrices, hasFloat32Arrays, isBinaryResult, typedArraysAsLists } from '../../src/common/result-codec'
import { openStore, type ExperimentStore } from '../../src/store'
import { tempDir } from './helpers/fixtures'
import { reseal, unpack, pack } from './helpers/zip-tools'

/** An attention result as the worker makes it at T tokens: five T × T float32 matrices and small JSON beside them. */
function attentionLike(T: number) {
  const matrix = (seed: number) => ({ rows: T, cols: T, data: Float32Array.from({ length: T * T }, (_, k) => Math.sin(seed + k) / 3) })
  return {
    model: { name: 'toy' },
    tokens: { tokens: Array.from({ length: T }, (_, k) => `t${k}`), inputIds: Array.from({ length: T }, (_, k) => k) },
    layer: 1,
    head: 2,
    terms: { c2c: matrix(1), c2p: matrix(2), p2c: matrix(3) },
    scores: matrix(4),
    probabilities: matrix(5),
    shares: { layers: 2, heads: 4, terms: ['c2c', 'c2p', 'p2c'], values: [0.5, Number.NaN, 0.25] },
  }
}

describe('the binary result form', () => {
  it('round-trips a value with Float32Arrays, NaN and Infinity inside them and views the bytes without a copy', () => {
    const value = { a: { rows: 1, cols: 3, data: new Float32Array([1.5, Number.NaN, -Infinity]) }, list: [new Float32Array([2]), 'x', null], n: 3 }
    const bytes = encodeResult(value)
    expect(isBinaryResult(bytes)).toBe(true)
    const back = decodeResult(bytes) as typeof value
    expect(back).toEqual(value)
    expect(back.a.data).toBeInstanceOf(Float32Array)
    expect(back.a.data.buffer).toBe(bytes.buffer) // a view, not a copy
    expect(back.list[0]).toBeInstanceOf(Float32Array)
    expect(value.a.data).toBeInstanceOf(Float32Array) // the encoded value is left as it was
  })

  it('holds the numbers as raw float32 bytes after a skeleton that names only shapes', () => {
    const value = attentionLike(64)
    const bytes = encodeResult(value)
    const floats = 5 * 64 * 64
    const skeletonBytes = new DataView(bytes.buffer).getUint32(4, true)
    expect(bytes.byteLength).toBe(8 + Math.ceil(skeletonBytes / 8) * 8 + 4 * floats)
    const skeleton = new TextDecoder().decode(bytes.subarray(8, 8 + skeletonBytes))
    expect(skeleton).toContain('{"$f32":0,"shape":[4096]}')
    expect(skeleton.length).toBeLessThan(2000)
  })

  it('copies once when the bytes are part of a larger buffer (unaligned, or beside other data)', () => {
    const bytes = encodeResult({ data: new Float32Array([1, 2, 3]) })
    const shifted = new Uint8Array(bytes.byteLength + 1)
    shifted.set(bytes, 1)
    const back = decodeResult(shifted.subarray(1)) as { data: Float32Array }
    expect(Array.from(back.data)).toEqual([1, 2, 3])
    const beside = new Uint8Array(bytes.byteLength + 8)
    beside.set(bytes, 0)
    beside.set(new TextEncoder().encode('SECRET!!'), bytes.byteLength)
    const decoded = decodeResult(beside.subarray(0, bytes.byteLength)) as { data: Float32Array }
    expect(Array.from(decoded.data)).toEqual([1, 2, 3])
    expect(decoded.data.buffer.byteLength).toBe(bytes.byteLength) // the other bytes do not travel with the view
  })

  it('refuses what it cannot represent and bytes that do not add up', () => {
    expect(() => encodeResult({ $f32: 1 })).toThrow(/"\$f32"/)
    expect(() => encodeResult({ x: new Int32Array(2) })).toThrow(/Int32Array/)
    const bytes = encodeResult({ data: new Float32Array([1, 2]) })
    expect(() => decodeResult(bytes.subarray(0, bytes.byteLength - 4))).toThrow(/bytes/)
    expect(() => decodeResult(new TextEncoder().encode('{"x": 1}'))).toThrow(/magic/)
  })

  it('writes Float32Arrays as lists in JSON for clients without the binary form', () => {
    expect(JSON.stringify({ data: new Float32Array([0.5, 2]) }, typedArraysAsLists)).toBe('{"data":[0.5,2]}')
  })

  it('turns number[] matrices of old results into Float32Array and leaves other lists alone', () => {
    const old = { m: { rows: 1, cols: 2, data: [0.25, 3] }, ids: [1, 2], odd: { rows: 2, cols: 2, data: [1] } }
    const value = float32Matrices(old)
    expect(value.m.data).toEqual(new Float32Array([0.25, 3]))
    expect(value.ids).toEqual([1, 2])
    expect(value.odd.data).toEqual([1])
    expect(hasFloat32Arrays(value)).toBe(true)
  })
})

describe('stored results with float32 matrices', () => {
  let store: ExperimentStore
  beforeEach(() => {
    store = openStore(':memory:')
  })
  afterEach(() => store.close())

  function recorded(result: unknown) {
    const session = store.createSession({ name: 's' })
    const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
    return { session, run, finished: store.finishRun(run.id, { status: 'done', result }) }
  }

  it('keeps the result as the binary result.bin artifact, its row a reference, and reads back Float32Array views', () => {
    const result = attentionLike(32)
    const { session, run, finished } = recorded(result)
    expect(isStoredResultRef(finished.result)).toBe(true)
    const [artifact] = store.listArtifacts(session.id)
    expect(artifact).toMatchObject({ runId: run.id, name: STORED_BINARY_RESULT_ARTIFACT, kind: 'json', mime: BINARY_RESULT_MIME })
    expect(artifact.sha256).toBe((finished.result as StoredResultRef).$storedResult)
    expect(isBinaryResult(store.getArtifactData(artifact.sha256))).toBe(true)
    const back = store.getRunResult(run.id) as ReturnType<typeof attentionLike>
    expect(back).toEqual(result) // NaN in the skeleton kept
    expect(back.probabilities.data).toBeInstanceOf(Float32Array)
    expect(back.scores.data.buffer).toBe(back.probabilities.data.buffer) // views of one stored blob
  })

  it('stores even a small such result apart (its matrices cannot be JSON in the row)', () => {
    const { finished, run } = recorded(attentionLike(2))
    expect(isStoredResultRef(finished.result)).toBe(true)
    expect(store.getRunResult(run.id)).toEqual(attentionLike(2))
  })

  it('records a T = 1024 attention result without writing any large JSON text', () => {
    const result = attentionLike(1024)
    const session = store.createSession({ name: 's' })
    const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
    const stringify = vi.spyOn(JSON, 'stringify')
    try {
      store.finishRun(run.id, { status: 'done', result })
      const longest = Math.max(0, ...stringify.mock.results.map((r) => (typeof r.value === 'string' ? r.value.length : 0)))
      expect(stringify).toHaveBeenCalled()
      // the skeleton holds 1024 tokens and ids; the 5 × 1024² numbers never become text
      expect(longest).toBeLessThan(64 * 1024)
    } finally {
      stringify.mockRestore()
    }
    const [artifact] = store.listArtifacts(session.id)
    // float32 bytes plus a small skeleton: 20 MiB, against ~100 MB of JSON text before
    expect(artifact.size).toBeGreaterThanOrEqual(5 * 1024 * 1024 * 4)
    expect(artifact.size).toBeLessThan(5 * 1024 * 1024 * 4 + 64 * 1024)
  })

  it('comes back through duplicate, export and import, and the export checks its bytes', () => {
    const result = attentionLike(16)
    const { session, run } = recorded(result)
    const copy = store.duplicateSession(session.id)
    expect(store.getRunResult(store.listRuns(copy.id)[0].id)).toEqual(result)
    const file = store.exportSession(session.id)
    const other = openStore(':memory:')
    try {
      const outcome = other.importSession(file)
      const [imported] = other.listRuns(outcome.session.id)
      expect(imported.id).toBe(run.id)
      const back = other.getRunResult(imported.id) as ReturnType<typeof attentionLike>
      expect(back).toEqual(result)
      expect(back.terms.c2p.data).toBeInstanceOf(Float32Array)
      // one flipped float in the binary artifact: the import refuses the file
      const files = unpack(file)
      const name = Object.keys(files).find((n) => n.startsWith('artifacts/'))!
      const tampered = files[name].slice()
      tampered[tampered.byteLength - 1] ^= 0x01
      expect(() => other.importSession(pack({ ...files, [name]: tampered }), { mode: 'keep-both' })).toThrow(expect.objectContaining({ code: 'IMPORT_CHECKSUM' }))
      // resealed by a forger, the manifest matches again, but the entry is no longer named by its checksum
      expect(() => other.importSession(pack(reseal({ ...files, [name]: tampered })), { mode: 'keep-both' })).toThrow(expect.objectContaining({ code: 'IMPORT_INVALID' }))
    } finally {
      other.close()
    }
  })

  it('a damaged binary artifact is STORE_CORRUPT', () => {
    const session = store.createSession({ name: 's' })
    const run = store.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} })
    const bytes = encodeResult(attentionLike(4)).subarray(0, 100)
    const artifact = store.putArtifact({ sessionId: session.id, runId: run.id, name: STORED_BINARY_RESULT_ARTIFACT, kind: 'json', data: bytes })
    store.finishRun(run.id, { status: 'done', result: { $storedResult: artifact.sha256, bytes: bytes.byteLength } })
    expect(() => store.getRunResult(run.id)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }))
  })
})

describe('stores written before matrices were float32', () => {
  it('read the result.json of number[] matrices as it was written', () => {
    const { dir, cleanup } = tempDir()
    const path = join(dir, 'lab.sqlite')
    const old = { probabilities: { rows: 2, cols: 2, data: [0.1, 0.9, 0.30000000000000004, 0.7] }, tokens: { tokens: ['a', 'b'] }, shares: { values: [Number.NaN] } }
    try {
      // the layout the previous version wrote: the JSON text as the run's result.json, the row a reference
      let runId: string
      const writer = openStore(path)
      try {
        const session = writer.createSession({ name: 'old' })
        runId = writer.startRun({ sessionId: session.id, kind: 'workspace', workspace: 'attention', name: 'runAttention', config: {} }).id
        const text = new TextEncoder().encode('{"probabilities":{"rows":2,"cols":2,"data":[0.1,0.9,0.30000000000000004,0.7]},"tokens":{"tokens":["a","b"]},"shares":{"values":[{"$num":"NaN"}]}}')
        const artifact = writer.putArtifact({ sessionId: session.id, runId, name: STORED_RESULT_ARTIFACT, kind: 'json', data: text })
        writer.finishRun(runId, { status: 'done', result: { $storedResult: artifact.sha256, bytes: text.byteLength } })
      } finally {
        writer.close()
      }
      const reader = openStore(path)
      try {
        expect(reader.getRunResult(runId)).toEqual(old)
      } finally {
        reader.close()
      }
    } finally {
      cleanup()
    }
  })
})
