// Property tests of the .dlab reader: byte flips and truncations of a real export, and structural mutations
// of its session.json and manifest.json (resealed, so they get past the checksums). Every input either
// imports or throws a LabError IMPORT_* (or INPUT_INVALID); a failed import leaves the store untouched.
import { describe, expect, it } from 'vitest'
import { openStore } from '../../src/store'
import { importSessionFile } from '../../src/store/dlab/import'
import { fillSession } from '../store/helpers/session'
import { json, pack, parse, reseal, unpack } from '../store/helpers/zip-tools'
import { flipBytes, fuzz, int, mutateJson, pick } from './fuzz-helpers'

const IMPORT_CODES = ['IMPORT_INVALID', 'IMPORT_CHECKSUM', 'IMPORT_FUTURE_FORMAT', 'IMPORT_TOO_LARGE', 'IMPORT_UNSAFE_PATH', 'IMPORT_CONFLICT', 'INPUT_INVALID', 'BAD_REQUEST']
const BUDGET_MS = 2500

function baseExport(): Uint8Array {
  const store = openStore(':memory:')
  const saved = fillSession(store, 2000)
  const bytes = store.exportSession(saved.sessionId)
  store.close()
  return bytes
}

describe('.dlab reader under mutation', () => {
  const base = baseExport()
  const files = unpack(base)

  it('byte flips and truncations of a real export: imported or refused with IMPORT_*', async () => {
    const cases = await fuzz('dlab bytes', { seed: 5150, budgetMs: BUDGET_MS, allowed: IMPORT_CODES }, (random) => {
      const roll = random()
      const bytes = roll < 0.3 ? base.subarray(0, int(random, base.length)) : roll < 0.6 ? flipBytes(random, base, Math.max(0, base.length - 400)) : flipBytes(random, base)
      importSessionFile(bytes)
    })
    expect(cases).toBeGreaterThan(20)
  })

  it('mutated session.json and manifest.json (resealed): imported into a store or refused, store untouched', async () => {
    const store = openStore(':memory:')
    let imported = 0
    await fuzz('dlab json', { seed: 8086, budgetMs: BUDGET_MS, allowed: IMPORT_CODES }, (random) => {
      const which = pick(random, ['session.json', 'session.json', 'manifest.json'] as const)
      let value: unknown = parse(files[which])
      const rounds = 1 + int(random, 3)
      for (let i = 0; i < rounds; i++) value = mutateJson(random, value)
      const changed = { ...files, [which]: json(value) }
      const forged = which === 'session.json' ? reseal(changed) : changed
      const before = store.listSessions({ includeDeleted: true }).length
      try {
        store.importSession(pack(forged), { mode: 'keep-both' })
        imported++
      } catch (error) {
        expect(store.listSessions({ includeDeleted: true }).length).toBe(before)
        throw error
      }
    })
    expect(store.integrityCheck('quick')).toEqual([])
    store.close()
    expect(imported).toBeGreaterThanOrEqual(0)
  })
})
