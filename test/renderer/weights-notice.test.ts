import { describe, expect, it } from 'vitest'
import { recordedCheckpoint, weightsNotice } from '../../src/renderer/workspace-state'

const SHA_A = 'a'.repeat(64)
const SHA_B = 'b'.repeat(64)

describe('restored results and the checkpoint they were computed with', () => {
  it('takes the recorded checkpoint and hash from a run’s model, nothing else', () => {
    expect(recordedCheckpoint({ kind: 'checkpoint', path: '/m', weightsSha256: SHA_A })).toEqual({ ref: { kind: 'checkpoint', path: '/m' }, sha256: SHA_A })
    expect(recordedCheckpoint({ kind: 'checkpoint', path: '/m', variant: 'generator', weightsSha256: SHA_A })!.ref).toEqual({ kind: 'checkpoint', path: '/m', variant: 'generator' })
    expect(recordedCheckpoint({ kind: 'checkpoint', path: '/m' })).toBeNull() // no hash recorded: nothing to compare
    expect(recordedCheckpoint({ kind: 'bundled', name: 'toy-deberta', weightsSha256: SHA_A })).toBeNull()
    expect(recordedCheckpoint(null)).toBeNull()
  })

  it('is silent when the weights are the same, and says what changed or why the folder cannot be opened', () => {
    const recorded = { ref: { path: '/models/v3' }, sha256: SHA_A }
    expect(weightsNotice(recorded, { sha256: SHA_A })).toBeNull()
    expect(weightsNotice(recorded, { sha256: SHA_B })).toMatch(/\/models\/v3 has changed .*aaaaaaaaaaaa… then, bbbbbbbbbbbb… now/)
    expect(weightsNotice(recorded, { error: { code: 'NOT_FOUND', message: 'no such folder' } })).toMatch(/cannot be opened here: no such folder/)
  })
})
