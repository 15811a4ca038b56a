// A damaged store is moved aside (with its -wal and -shm) and a fresh one opened, with a notice saying where.
import { existsSync, mkdirSync, rmdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, openStoreSafely } from '../../src/store'
import { makeReadOnly, tempDir } from './helpers/fixtures'

let dir: string
let cleanup: () => void
let path: string
beforeEach(() => {
  ;({ dir, cleanup } = tempDir())
  path = join(dir, 'lab.sqlite')
})
afterEach(() => cleanup())

const NOW = new Date('2026-05-04T03:02:01.123Z')

function populate(runs: number): string {
  const store = openStore(path)
  const s = store.createSession({ name: 'precious' })
  for (let i = 0; i < runs; i++) {
    const run = store.startRun({ sessionId: s.id, kind: 'experiment', name: `run ${i}`, config: { i, padding: 'x'.repeat(200) } })
    store.logMetrics(run.id, [{ key: 'loss', step: i, value: i / 3 }])
    store.finishRun(run.id, { status: 'done', result: { i } })
  }
  store.close()
  return s.id
}

describe('openStoreSafely', () => {
  it('opens a sound store as it is, without a notice', () => {
    const id = populate(5)
    const { store, notice } = openStoreSafely(path)
    expect(notice).toBeUndefined()
    expect(store.getSession(id).runCount).toBe(5)
    store.close()
  })

  it('moves a file that is not a SQLite database aside, with its -wal and -shm, and opens a fresh store', () => {
    const garbage = Buffer.from('this is a text file, not a database\n'.repeat(200))
    writeFileSync(path, garbage)
    writeFileSync(`${path}-wal`, 'stale wal')
    writeFileSync(`${path}-shm`, 'stale shm')
    const { store, notice } = openStoreSafely(path, { now: () => NOW })
    expect(notice).toEqual({ kind: 'recovered', movedTo: `${path}.corrupt-20260504T030201123Z`, reason: expect.stringMatching(/not a SQLite database/) })
    expect(readFileSync(notice!.movedTo)).toEqual(garbage)
    expect(readFileSync(`${notice!.movedTo}-wal`, 'utf8')).toBe('stale wal')
    expect(readFileSync(`${notice!.movedTo}-shm`, 'utf8')).toBe('stale shm')
    expect(store.listSessions()).toEqual([])
    expect(store.createSession({ name: 'fresh' }).name).toBe('fresh')
    expect(store.integrityCheck()).toEqual([])
    store.close()
  })

  it('moves aside a store whose pages are damaged (integrity_check fails or reads fail)', () => {
    populate(400)
    const size = statSync(path).size
    expect(size).toBeGreaterThan(50 * 4096)
    // Overwrite pages in the middle of the file with a pattern: b-tree pages become nonsense.
    const fd = openSync(path, 'r+')
    for (let page = Math.floor(size / 4096 / 2); page < Math.floor(size / 4096 / 2) + 4; page++) writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, page * 4096)
    closeSync(fd)

    const { store, notice } = openStoreSafely(path, { now: () => NOW })
    expect(notice?.kind).toBe('recovered')
    expect(notice?.reason).toMatch(/integrity check failed|damaged|malformed/)
    expect(existsSync(notice!.movedTo)).toBe(true)
    expect(statSync(notice!.movedTo).size).toBe(size)
    expect(store.listSessions()).toEqual([])
    store.close()
  })

  it('detects damage with the quick check too', () => {
    populate(400)
    const size = statSync(path).size
    const fd = openSync(path, 'r+')
    const page = Math.floor(size / 4096 / 2)
    writeSync(fd, Buffer.alloc(4096 * 4, 0x5a), 0, 4096 * 4, page * 4096)
    closeSync(fd)
    const { store, notice } = openStoreSafely(path, { integrityCheck: 'quick', now: () => NOW })
    expect(notice?.kind).toBe('recovered')
    store.close()
  })

  it('never moves a folder at the store path (a --store naming a work folder): STORE_UNUSABLE, nothing changed', () => {
    mkdirSync(path)
    writeFileSync(join(path, 'inside.txt'), 'kept')
    expect(() => openStoreSafely(path, { now: () => NOW })).toThrow(expect.objectContaining({ code: 'STORE_UNUSABLE', message: expect.stringMatching(/is a folder/) }))
    expect(readFileSync(join(path, 'inside.txt'), 'utf8')).toBe('kept')
    expect(readdirSync(dir)).toEqual([basename(path)])
  })

  it('leaves a file that is neither SQLite nor named like a store alone (a mistyped --store)', () => {
    const notes = join(dir, 'notes.json')
    writeFileSync(notes, '{"mine": true}')
    expect(() => openStoreSafely(notes, { now: () => NOW })).toThrow(expect.objectContaining({ code: 'STORE_UNUSABLE' }))
    expect(readFileSync(notes, 'utf8')).toBe('{"mine": true}')
    expect(readdirSync(dir)).toEqual(['notes.json'])
  })

  it('refuses another program’s SQLite database without changing a byte', async () => {
    const other = join(dir, 'other.sqlite')
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(other)
    db.exec('CREATE TABLE precious (x INTEGER); INSERT INTO precious VALUES (42)')
    db.close()
    const before = readFileSync(other)
    expect(() => openStoreSafely(other, { now: () => NOW })).toThrow(expect.objectContaining({ code: 'STORE_UNUSABLE', message: expect.stringMatching(/another program's SQLite database \(tables: precious\)/) }))
    expect(readFileSync(other)).toEqual(before)
    expect(readdirSync(dir)).toEqual(['other.sqlite'])
  })

  it('never overwrites an earlier corrupt copy', () => {
    writeFileSync(path, 'garbage one'.repeat(100))
    const first = openStoreSafely(path, { now: () => NOW })
    first.store.close()
    writeFileSync(path, 'garbage two'.repeat(100))
    const second = openStoreSafely(path, { now: () => NOW })
    second.store.close()
    expect(second.notice!.movedTo).not.toBe(first.notice!.movedTo)
    expect(readFileSync(first.notice!.movedTo, 'utf8')).toMatch(/^garbage one/)
    expect(readFileSync(second.notice!.movedTo, 'utf8')).toMatch(/^garbage two/)
    expect(readdirSync(dir).filter((n) => n.startsWith(`${basename(path)}.corrupt-`) && !n.endsWith('-wal') && !n.endsWith('-shm'))).toHaveLength(2)
  })

  /** Every file in the folder with its bytes (and whether it is a folder). */
  const listing = (): Record<string, string> =>
    Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).isDirectory() ? 'folder' : readFileSync(join(dir, name)).toString('hex')]))

  for (const side of ['-wal', '-shm']) {
    it(`leaves a healthy store alone when its ${side} is a folder: STORE_UNUSABLE naming that file, every byte as it was`, () => {
      populate(20)
      mkdirSync(path + side)
      const before = listing()
      expect(() => openStoreSafely(path, { now: () => NOW })).toThrow(
        expect.objectContaining({ code: 'STORE_UNUSABLE', message: expect.stringContaining(`${path}${side} is a folder`) }),
      )
      expect(listing()).toEqual(before)
      rmdirSync(path + side)
      const { store, notice } = openStoreSafely(path)
      expect(notice).toBeUndefined()
      expect(store.listSessions()[0].runCount).toBe(20)
      store.close()
    })
  }

  describe('read-only', () => {
    const undo: Array<() => void> = []
    afterEach(() => {
      while (undo.length) undo.pop()!()
    })

    it('opens a healthy store in a read-only folder read-only: readable, nothing moved, writes refused with STORE_READONLY', () => {
      const id = populate(20)
      const before = listing()
      undo.push(makeReadOnly(dir))
      const { store, notice } = openStoreSafely(path, { now: () => NOW })
      expect(notice).toBeUndefined()
      expect(store.readOnly).toMatch(/read-only/)
      expect(store.readOnly).toContain(dir)
      expect(store.getSession(id).runCount).toBe(20)
      expect(store.integrityCheck()).toEqual([])
      expect(() => store.createSession({ name: 'lost' })).toThrow(expect.objectContaining({ code: 'STORE_READONLY' }))
      store.close()
      expect(listing()).toEqual(before)
    })

    it('opens a read-only store file read-only and says so', () => {
      const id = populate(3)
      undo.push(makeReadOnly(path))
      const { store, notice } = openStoreSafely(path)
      expect(notice).toBeUndefined()
      expect(store.readOnly).toBe(`the file ${path} is read-only`)
      expect(store.getSession(id).name).toBe('precious')
      expect(() => store.saveWorkspaceState(id, 'attention', { version: 1, inputs: {}, model: null, selections: {}, view: {}, lastResult: null })).toThrow(
        expect.objectContaining({ code: 'STORE_READONLY' }),
      )
      store.close()
    })

    it('leaves a damaged store in a read-only folder where it is: STORE_CORRUPT naming the file, nothing moved', () => {
      writeFileSync(path, 'garbage'.repeat(100))
      const before = listing()
      undo.push(makeReadOnly(dir))
      expect(() => openStoreSafely(path, { now: () => NOW })).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT', message: expect.stringContaining(`${path} is damaged`) }))
      expect(listing()).toEqual(before)
    })

    it('moves a damaged store with its -wal or not at all (a -wal that cannot be moved keeps the store in place)', () => {
      writeFileSync(path, 'garbage'.repeat(100))
      writeFileSync(`${path}-wal`, 'committed pages')
      const before = listing()
      undo.push(makeReadOnly(`${path}-wal`))
      expect(() => openStoreSafely(path, { now: () => NOW })).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT', message: expect.stringContaining('moving it aside failed') }))
      expect(listing()).toEqual(before)
    })

    it('cannot create a store in a read-only folder: STORE_READONLY, nothing created', () => {
      undo.push(makeReadOnly(dir))
      expect(() => openStoreSafely(path)).toThrow(expect.objectContaining({ code: 'STORE_READONLY', message: expect.stringContaining(path) }))
      expect(readdirSync(dir)).toEqual([])
    })
  })
})
