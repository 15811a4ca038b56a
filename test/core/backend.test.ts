// Backend selection, the Node 24 shim for tfjs-node, the run's backend report, and quiet native start-up.
import * as tf from '@tensorflow/tfjs-core'
import { describe, expect, it } from 'vitest'
import { Worker } from 'node:worker_threads'
import { debugOutputRequested, initBackend, patchNodeUtilForTfjsNode, quietTensorflowLogs, splitMode, tensorflowThreads } from '../../src/core/backend'
import { enableArrayBufferTransfer, releaseBuffer } from '../../src/core/backend-env'
import { backendsToTest, describeProbes, type BackendProbe } from './backends'
import { BACKEND_PROBES, useBackend } from './helpers'

describe('backend selection', () => {
  it('puts back the util functions tfjs-node 4.22 calls and Node 24 removed, without replacing existing ones', () => {
    const own = (v: unknown) => v === 'own'
    const util: Record<string, unknown> = { isArray: own }
    patchNodeUtilForTfjsNode(util)
    expect((util.isNullOrUndefined as (v: unknown) => boolean)(null)).toBe(true)
    expect((util.isNullOrUndefined as (v: unknown) => boolean)(0)).toBe(false)
    expect((util.isString as (v: unknown) => boolean)('x')).toBe(true)
    expect((util.isPrimitive as (v: unknown) => boolean)({})).toBe(false)
    expect(util.isArray).toBe(own)
  })

  it('falls back past tfjs-node when it cannot load, and says why', async () => {
    const info = await initBackend('')
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name)
    if (info.name !== 'tensorflow') expect(info.skipped[0]).toMatch(/^tensorflow: /)
  })

  it('picks tensorflow first when tfjs-node loads', async () => {
    const tensorflow = BACKEND_PROBES.find((p) => p.name === 'tensorflow')!
    const info = await initBackend('')
    expect(info.name).toBe(tensorflow.state === 'loaded' ? 'tensorflow' : 'wasm')
  })

  it('honours an explicit choice and rejects unknown names', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu')
    await expect(initBackend('gpu')).rejects.toMatchObject({ code: 'INPUT_INVALID' })
  })
})

describe('the backends this run covers (test/global-setup.ts)', () => {
  for (const probe of BACKEND_PROBES) {
    it(`${probe.name}: loads here too, or is reported as not installed`, async () => {
      if (probe.state === 'failed') throw new Error(`${probe.name} is installed but does not load: ${probe.detail}`)
      if (probe.state === 'not-installed') {
        expect(probe.name).toBe('tensorflow') // only tfjs-node is optional
        console.log(`${probe.name}: not installed — parity NOT checked on it (${probe.detail})`)
        return
      }
      await useBackend(probe.name)
      const sum = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3.5])).dataSync()[0])
      expect(sum).toBe(6.5)
    })
  }

  it('lists the loaded backends on one line and reports a missing or broken one loudly', () => {
    const probes: BackendProbe[] = [
      { name: 'tensorflow', state: 'not-installed', detail: '@tensorflow/tfjs-node is not in node_modules' },
      { name: 'wasm', state: 'loaded' },
      { name: 'cpu', state: 'loaded' },
    ]
    expect(describeProbes(probes)).toEqual([
      'parity backends: wasm, cpu',
      'tensorflow: not installed — parity NOT checked on it (@tensorflow/tfjs-node is not in node_modules)',
    ])
    expect(backendsToTest(probes)).toEqual(['wasm', 'cpu'])
    probes[0] = { name: 'tensorflow', state: 'failed', detail: 'libtensorflow.so.2: cannot open shared object file' }
    expect(describeProbes(probes)).toEqual([
      'parity backends: wasm, cpu',
      'tensorflow: installed but FAILS to load — its tests fail: libtensorflow.so.2: cannot open shared object file',
    ])
    // a broken install stays in the list, so every suite on it fails in useBackend with the reason
    expect(backendsToTest(probes)).toEqual(['tensorflow', 'wasm', 'cpu'])
  })
})

describe('native start-up logs', () => {
  it('TF_CPP_MIN_LOG_LEVEL defaults to 2, a user value stays, and DEBERTA_LAB_DEBUG leaves it unset', () => {
    const env: NodeJS.ProcessEnv = {}
    quietTensorflowLogs(env)
    expect(env.TF_CPP_MIN_LOG_LEVEL).toBe('2')
    const mine: NodeJS.ProcessEnv = { TF_CPP_MIN_LOG_LEVEL: '0' }
    quietTensorflowLogs(mine)
    expect(mine.TF_CPP_MIN_LOG_LEVEL).toBe('0')
    const debug: NodeJS.ProcessEnv = { DEBERTA_LAB_DEBUG: '1' }
    quietTensorflowLogs(debug)
    expect(debug.TF_CPP_MIN_LOG_LEVEL).toBeUndefined()
    expect(debugOutputRequested({ DEBERTA_LAB_DEBUG: '0' })).toBe(false)
    expect(debugOutputRequested({ DEBERTA_LAB_DEBUG: '' })).toBe(false)
  })
})

describe('split forwards and TF threads', () => {
  it('DEBERTA_LAB_SPLIT: unset = auto, 0 = off, anything else = on; one intra-op thread per TF thread unless off or one core', () => {
    expect(splitMode({})).toBe('auto')
    expect(splitMode({ DEBERTA_LAB_SPLIT: '' })).toBe('auto')
    expect(splitMode({ DEBERTA_LAB_SPLIT: '0' })).toBe('off')
    expect(splitMode({ DEBERTA_LAB_SPLIT: '1' })).toBe('on')
    const auto: NodeJS.ProcessEnv = {}
    tensorflowThreads(auto, 2)
    expect(auto.TF_NUM_INTRAOP_THREADS).toBe('1')
    const mine: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: '2' }
    tensorflowThreads(mine, 2)
    expect(mine.TF_NUM_INTRAOP_THREADS).toBe('2')
    const off: NodeJS.ProcessEnv = { DEBERTA_LAB_SPLIT: '0' }
    tensorflowThreads(off, 2)
    expect(off.TF_NUM_INTRAOP_THREADS).toBeUndefined()
    const oneCore: NodeJS.ProcessEnv = {}
    tensorflowThreads(oneCore, 1)
    expect(oneCore.TF_NUM_INTRAOP_THREADS).toBeUndefined()
  })
})

describe('freeing read buffers at once (ArrayBuffer.prototype.transfer)', () => {
  it('enableArrayBufferTransfer gives worker threads started after it ArrayBuffer.prototype.transfer; releaseBuffer detaches', async () => {
    enableArrayBufferTransfer()
    const code = `
      const { parentPort } = require('node:worker_threads')
      const ab = new ArrayBuffer(1 << 20)
      const has = typeof ArrayBuffer.prototype.transfer === 'function'
      if (has) ab.transfer(0)
      parentPort.postMessage({ has, length: ab.byteLength })`
    const result = await new Promise<{ has: boolean; length: number }>((resolve, reject) => {
      const worker = new Worker(code, { eval: true })
      worker.once('message', (m) => {
        void worker.terminate()
        resolve(m)
      })
      worker.once('error', reject)
    })
    expect(result).toEqual({ has: true, length: 0 })
    // here (this realm may predate the flag): detaches where it can, never a SharedArrayBuffer
    const ab = new ArrayBuffer(64)
    const released = releaseBuffer(ab)
    expect(released).toBe(typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function')
    if (released) expect(ab.byteLength).toBe(0)
    const shared = new SharedArrayBuffer(64)
    expect(releaseBuffer(shared)).toBe(false)
    expect(shared.byteLength).toBe(64)
  })
})
