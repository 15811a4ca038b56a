// A model load polls its job's cancel flag between tensors (ModelCache.get → loadPretrained → buildWeights), so
// cancelling a describeModel/tokenize/workspace job that is loading a large checkpoint stops it at the next
// tensor, with nothing left allocated and nothing cached.
import * as path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { loadPretrained } from '../../src/core/load'
import { ModelCache } from '../../src/lab/models'
import { useBackend } from '../core/helpers'

const RESOURCES = path.resolve(__dirname, '../../resources')
const TOY = path.join(RESOURCES, 'toy-deberta')

/** A cancel flag raised after `polls` polls: a load of a slow source that the user cancels midway. */
function cancelAfter(polls: number): { check: () => void; count: () => number } {
  let n = 0
  return {
    check: () => {
      n++
      if (n > polls) throw new LabError('CANCELLED', 'cancelled')
    },
    count: () => n,
  }
}

describe('cancelling a model load', () => {
  beforeAll(async () => {
    await useBackend('cpu')
  })

  it('loadPretrained stops at the next tensor once the flag is raised, and frees what it built', async () => {
    const before = tf.memory().numTensors
    const flag = cancelAfter(5)
    await expect(loadPretrained(TOY, { checkCancelled: flag.check })).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(flag.count()).toBe(6)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('a checkpoint job cancelled while loading fails CANCELLED and is not cached: the next job loads it', async () => {
    const cache = new ModelCache(RESOURCES)
    const ref = { kind: 'checkpoint' as const, path: TOY }
    const flag = cancelAfter(3)
    await expect(cache.get(ref, flag.check)).rejects.toMatchObject({ code: 'CANCELLED' })
    const loaded = await cache.get(ref, () => undefined)
    expect(loaded.info.parameterCount).toBeGreaterThan(0)
  })
})
