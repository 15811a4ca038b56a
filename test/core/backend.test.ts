// Backend selection and the Node 24 shim for tfjs-node.
import { describe, expect, it } from 'vitest'
import { initBackend, patchNodeUtilForTfjsNode } from '../../src/core/backend'

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

  it('honours an explicit choice and rejects unknown names', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu')
    await expect(initBackend('gpu')).rejects.toMatchObject({ code: 'INPUT_INVALID' })
  })
})
