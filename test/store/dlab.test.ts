// .dlab export and import: round trip, conflicts, and every kind of bad file leaving the store untouched.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { APP_VERSION } from '../../src/common/version'
import { openStore, type ExperimentStore } from '../../src/store'
import { dumpDatabase, dumpHash, tempDir } from './helpers/fixtures'
import { fillSession } from './helpers/session'
import { json, pack, parse, patchDeclaredSize, reseal, sha256, text, unpack, type Files } from './helpers/zip-tools'

function importError(store: ExperimentStore, bytes: Uint8Array, options?: Parameters<ExperimentStore['importSession']>[1]): LabError {
  try {
    store.importSession(bytes, options)
  } catch (error) {
    if (error instanceof LabError) return error
    throw error
  }
  throw new Error('the import succeeded')
}

describe('.dlab export', () => {
  it('writes manifest.json, session.json and artifacts/<sha256> with matching checksums', () => {
    const store = openStore(':memory:')
    const saved = fillSession(store, 1000)
    const files = unpack(store.exportSession(saved.sessionId))
    expect(Object.keys(files)[0]).toBe('manifest.json')
    const manifest = parse<{ entries: Array<{ path: string; sha256: string; size: number }> } & Record<string, unknown>>(files['manifest.json'])
    expect(manifest).toMatchObject({ format: 'deberta-lab-session', formatVersion: 1, appVersion: APP_VERSION, sessionId: saved.sessionId })
    expect(Date.parse(manifest.createdAt as string)).not.toBeNaN()
    expect(Object.keys(files).sort()).toEqual(['manifest.json', 'session.json', ...[...saved.blobs.keys()].map((s) => `artifacts/${s}`)].sort())
    for (const entry of manifest.entries) {
      expect(sha256(files[entry.path]), entry.path).toBe(entry.sha256)
      expect(files[entry.path].byteLength).toBe(entry.size)
    }
    for (const [sha, data] of saved.blobs) expect(Buffer.from(files[`artifacts/${sha}`])).toEqual(Buffer.from(data))
    const session = parse<{ session: { id: string }; runs: unknown[]; metrics: Array<{ value: unknown }> }>(files['session.json'])
    expect(session.session.id).toBe(saved.sessionId)
    expect(session.runs).toHaveLength(3)
    expect(session.metrics.map((m) => m.value)).toContain('NaN')
    store.close()
  })
})

describe('.dlab import', () => {
  it('round-trips a session into another store exactly', () => {
    const source = openStore(':memory:')
    const saved = fillSession(source)
    const bytes = source.exportSession(saved.sessionId)
    source.close()

    const target = openStore(':memory:')
    const outcome = target.importSession(bytes)
    expect(outcome.mode).toBe('new')
    const imported = target.getSessionSnapshot(saved.sessionId)
    // The queued run cannot be queued in another store: it arrives interrupted. Everything else is equal.
    const expected = structuredClone(saved.snapshot)
    const queued = expected.runs[2]
    expect(imported.runs[2]).toMatchObject({ id: queued.id, status: 'interrupted', endedAt: queued.createdAt })
    expected.runs[2] = imported.runs[2]
    expect(imported).toEqual(expected)
    for (const [sha, data] of saved.blobs) expect(Buffer.from(target.getArtifactData(sha))).toEqual(Buffer.from(data))
    target.close()
  })

  it('does not duplicate a session imported twice: conflict, then replace or keep-both', () => {
    const store = openStore(':memory:')
    const saved = fillSession(store, 10)
    const bytes = store.exportSession(saved.sessionId)

    const conflict = importError(store, bytes)
    expect(conflict.code).toBe('IMPORT_CONFLICT')
    expect(conflict.details).toMatchObject({ sessionId: saved.sessionId })
    expect(store.listSessions()).toHaveLength(1)

    // Replace: local edits since the export are overwritten by the file's content.
    store.updateSession(saved.sessionId, { name: 'edited locally' })
    store.startRun({ sessionId: saved.sessionId, kind: 'experiment', name: 'local only', config: {} })
    const replaced = store.importSession(bytes, { mode: 'replace' })
    expect(replaced.mode).toBe('replace')
    expect(replaced.session).toMatchObject({ id: saved.sessionId, name: saved.snapshot.session.name, runCount: 3 })
    expect(store.listSessions()).toHaveLength(1)

    // Keep both: new session id, new run ids, "(imported)" name; the original stays.
    const both = store.importSession(bytes, { mode: 'keep-both' })
    expect(both.mode).toBe('keep-both')
    expect(both.session.id).not.toBe(saved.sessionId)
    expect(both.session.name).toBe(`${saved.snapshot.session.name} (imported)`)
    const copy = store.getSessionSnapshot(both.session.id)
    const originalRunIds = new Set(saved.snapshot.runs.map((r) => r.id))
    expect(copy.runs.every((r) => !originalRunIds.has(r.id))).toBe(true)
    expect(copy.workspaces.attention?.lastResult?.runId).toBe(copy.runs[0].id)
    expect(copy.metrics.every((m) => copy.runs.some((r) => r.id === m.runId))).toBe(true)
    expect(store.listSessions()).toHaveLength(2)
    // Artifacts are shared between the two, stored once.
    expect(store.listArtifacts(both.session.id).map((a) => a.sha256).sort()).toEqual(store.listArtifacts(saved.sessionId).map((a) => a.sha256).sort())
    store.close()
  })

  describe('refuses bad files without changing the store', () => {
    let dir: string
    let cleanup: () => void
    let path: string
    let store: ExperimentStore
    let good: Uint8Array
    let goodFiles: Files
    let before: Record<string, unknown[]>
    let beforeHash: string

    beforeAll(() => {
      ;({ dir, cleanup } = tempDir())
      path = join(dir, 'lab.sqlite')
      const source = openStore(':memory:')
      const saved = fillSession(source, 100)
      good = source.exportSession(saved.sessionId)
      goodFiles = unpack(good)
      source.close()
      // The store holds one unrelated session; every bad import must leave it exactly so.
      const setup = openStore(path)
      fillSession(setup, 10)
      setup.close()
      before = dumpDatabase(path)
      beforeHash = dumpHash(path)
      store = openStore(path)
    })
    afterAll(() => {
      if (store.isOpen) store.close()
      cleanup()
    })

    const bad = (name: string, code: string, make: () => Uint8Array, options?: Parameters<ExperimentStore['importSession']>[1], message?: RegExp): void => {
      it(`${name} → ${code}`, () => {
        const error = importError(store, make(), options)
        expect(error.code, error.message).toBe(code)
        if (message) expect(error.message).toMatch(message)
        expect(dumpHash(path), 'the store changed').toBe(beforeHash)
      })
    }

    // Not a session file at all
    bad('empty bytes', 'IMPORT_INVALID', () => new Uint8Array(0))
    bad('random bytes', 'IMPORT_INVALID', () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))
    bad('a zip without a manifest', 'IMPORT_INVALID', () => pack({ 'hello.txt': text('hi') }), undefined, /manifest/)
    bad('a manifest of another format', 'IMPORT_INVALID', () => pack(reseal(goodFiles, (m) => (m.format = 'other-app'))))

    // Truncation
    bad('the first half of a good file', 'IMPORT_INVALID', () => good.slice(0, Math.floor(good.length / 2)))
    bad('a good file missing its last byte', 'IMPORT_INVALID', () => good.slice(0, good.length - 1))
    bad('an entry listed in the manifest but missing', 'IMPORT_INVALID', () => {
      const files = { ...goodFiles }
      const artifact = Object.keys(files).find((n) => n.startsWith('artifacts/'))!
      delete files[artifact]
      return pack(files)
    }, undefined, /missing/)
    bad('truncated deflate data inside the archive', 'IMPORT_INVALID', () => {
      // Cut the session.json stream short but keep a valid directory: pack a shorter stream under the old sizes.
      const zip = pack({ ...goodFiles, 'session.json': goodFiles['session.json'].slice(0, 100) })
      return patchDeclaredSize(zip, 'session.json', goodFiles['session.json'].byteLength)
    })

    // Tampering
    bad('session.json edited after export (manifest checksum)', 'IMPORT_CHECKSUM', () => {
      const session = parse(goodFiles['session.json']) as { session: { name: string } }
      session.session.name = 'X' + session.session.name.slice(1) // same length: only the checksum can tell
      return pack({ ...goodFiles, 'session.json': json(session) })
    }, undefined, /checksum/)
    bad('an artifact whose bytes do not match its sha256 name', 'IMPORT_CHECKSUM', () => {
      const files = { ...goodFiles }
      const artifact = Object.keys(files).find((n) => n.startsWith('artifacts/'))!
      const flipped = files[artifact].slice()
      flipped[0] ^= 0xff
      files[artifact] = flipped
      return pack(reseal(files, (m) => (m.entries.find((e) => e.path === artifact)!.sha256 = artifact.slice('artifacts/'.length))))
    })
    bad('a flipped byte in a stored entry (CRC-32)', 'IMPORT_CHECKSUM', () => {
      const zip = pack(goodFiles, 0)
      const at = Buffer.from(zip).indexOf(Buffer.from('"runs":'))
      const out = zip.slice()
      out[at + 2] ^= 0x20
      return out
    })

    // Versions
    bad('formatVersion 2', 'IMPORT_FUTURE_FORMAT', () => pack(reseal(goodFiles, (m) => Object.assign(m, { formatVersion: 2, newField: { anything: true } }))), undefined, /version 2/)
    bad('formatVersion 0', 'IMPORT_INVALID', () => pack(reseal(goodFiles, (m) => (m.formatVersion = 0))))

    // Size limits, checked before inflating
    bad('an entry over the per-entry limit', 'IMPORT_TOO_LARGE', () => good, { limits: { maxEntryBytes: 10_000 } })
    bad('entries over the total limit', 'IMPORT_TOO_LARGE', () => good, { limits: { maxTotalBytes: 20_000 } })
    bad('more entries than allowed', 'IMPORT_TOO_LARGE', () => good, { limits: { maxEntries: 2 } })
    bad('a file over the file-size limit', 'IMPORT_TOO_LARGE', () => good, { limits: { maxFileBytes: 1000 } })
    bad('an entry declaring 3 GB (default limits)', 'IMPORT_TOO_LARGE', () => patchDeclaredSize(good, 'session.json', 3_000_000_000))
    it('a zip bomb lying about its size is stopped at the declared size → IMPORT_CHECKSUM (damaged or forged)', () => {
      // 64 MiB of zeros deflate to ~64 KiB; the headers and manifest claim the original 16 KiB artifact size.
      const files = { ...goodFiles }
      const artifact = Object.keys(files).find((n) => n.startsWith('artifacts/'))!
      const declared = files[artifact].byteLength
      files[artifact] = new Uint8Array(64 * 1024 * 1024)
      const bomb = patchDeclaredSize(pack(files, 1), artifact, declared)
      expect(bomb.byteLength).toBeLessThan(2 * 1024 * 1024)
      const started = performance.now()
      const error = importError(store, bomb)
      expect(error.code).toBe('IMPORT_CHECKSUM')
      expect(error.message).toMatch(/inflates past its declared .* damaged or forged/)
      // Stopped early: far less time than inflating 64 MiB and hashing it would take on a slow machine.
      expect(performance.now() - started).toBeLessThan(2000)
      expect(dumpHash(path), 'the store changed').toBe(beforeHash)
    })

    // Zip-slip
    for (const evil of ['../evil.sh', '/etc/passwd', 'artifacts/../../x', 'C:/Windows/x', 'c:evil', 'artifacts\\x', 'a/./b', 'nul\u0000byte']) {
      bad(`an entry named ${JSON.stringify(evil)}`, 'IMPORT_UNSAFE_PATH', () => pack({ ...goodFiles, [evil]: text('x') }))
    }
    bad('an unsafe path listed only in the manifest', 'IMPORT_UNSAFE_PATH', () =>
      pack(reseal(goodFiles, (m) => m.entries.push({ path: '../../outside', sha256: '0'.repeat(64), size: 1 }))),
    )

    // Forged session.json (resealed, so checksums pass and only the content is wrong)
    const forged = (name: string, change: (session: Record<string, unknown> & { session: Record<string, unknown>; runs: Array<Record<string, unknown>>; metrics: Array<Record<string, unknown>>; artifacts: Array<Record<string, unknown>> }) => void, message?: RegExp): void => {
      bad(`forged session.json: ${name}`, 'IMPORT_INVALID', () => {
        const session = parse(goodFiles['session.json']) as Parameters<typeof change>[0]
        change(session)
        return pack(reseal({ ...goodFiles, 'session.json': json(session) }))
      }, undefined, message)
    }
    forged('an unknown top-level key', (s) => (s.extra = 1))
    forged('an unknown session field', (s) => (s.session.admin = true))
    forged('a session id that is not a UUID', (s) => (s.session.id = 'x'), /session\.id/)
    forged('a name of the wrong type', (s) => (s.session.name = 42))
    forged('a run status that does not exist', (s) => (s.runs[0].status = 'pwned'))
    forged('a run without a config', (s) => delete s.runs[0].config)
    forged('a duplicate run id', (s) => s.runs.push({ ...s.runs[0] }), /twice/)
    forged('a metric of a run not in the file', (s) => (s.metrics[0].runId = '00000000-0000-4000-8000-000000000000'), /not in the file/)
    forged('an artifact whose bytes are not in the file', (s) => (s.artifacts[0].sha256 = 'e'.repeat(64)))
    forged('an artifact with a wrong size', (s) => (s.artifacts[0].size = 1))
    forged('a workspace state with a bad model', (s) => ((s.workspaces as Record<string, { model: unknown }>).attention.model = { kind: 'remote', url: 'http://x' }))
    forged('an unknown workspace', (s) => ((s.workspaces as Record<string, unknown>).hacking = {}))
    // Hostile shapes: written as text, so the depth does not depend on this test's own JSON.stringify.
    const deep = (levels: number): string => `${'{"x":'.repeat(levels)}1${'}'.repeat(levels)}`
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a forged file: any shape goes
    type Loose = Record<string, any>
    const forgedText = (name: string, change: (session: Loose) => void, placeholder: string, message: RegExp): void => {
      bad(`forged session.json: ${name}`, 'IMPORT_INVALID', () => {
        const session = parse(goodFiles['session.json'])
        change(session)
        const text_ = JSON.stringify(session).replace('"@@HERE@@"', placeholder)
        return pack(reseal({ ...goodFiles, 'session.json': text(text_) }))
      }, undefined, message)
    }
    for (const levels of [64, 3000, 9000, 100_000]) {
      forgedText(`a workspace state holding ${levels} more levels in its inputs`, (s) => (s.workspaces.attention.inputs = { deep: '@@HERE@@' }), deep(levels), /"attention" workspace state nests deeper than 64 levels/)
    }
    forgedText('a run config nested 9000 levels deep', (s) => (s.runs[0].config = '@@HERE@@'), deep(9000), /session\.json nests deeper than/)
    forgedText('a run result nested 3000 levels deep', (s) => (s.runs[1].result = '@@HERE@@'), deep(3000), /session\.json nests deeper than/)
    forgedText('a top-level "__proto__" key in a workspace state', (s) => (s.workspaces.attention.view = '@@HERE@@'), '{"__proto__":{"polluted":true}}', /"__proto__" key at view/)
    forgedText('a "__proto__" key at the top of a workspace state', (s) => (s.workspaces.attention['@@KEY@@'] = '@@HERE@@'), '1,"__proto__":{"x":1}', /"__proto__" key/)
    forgedText('a "__proto__" key in a run config', (s) => (s.runs[0].config = '@@HERE@@'), '{"a":{"__proto__":{}}}', /"__proto__" key at runs\.0\.config\.a/)

    bad('forged session.json: not JSON', 'IMPORT_INVALID', () => pack(reseal({ ...goodFiles, 'session.json': text('{"session": ') })))
    bad('a manifest naming another session', 'IMPORT_INVALID', () => pack(reseal(goodFiles, (m) => (m.sessionId = '00000000-0000-4000-8000-000000000000'))))
    bad('an extra entry the manifest does not list', 'IMPORT_INVALID', () => pack({ ...goodFiles, 'artifacts/readme.txt': text('x') }), undefined, /not listed/)

    it('holds exactly the rows it held before all of the above', () => {
      expect(dumpDatabase(path)).toEqual(before)
    })

    it('still imports the good file afterwards', () => {
      expect(store.importSession(good).mode).toBe('new')
      expect(store.listSessions()).toHaveLength(2)
      expect(store.integrityCheck()).toEqual([])
    })
  })

  it('rolls back a failure in the middle of writing the session (nothing half-imported)', () => {
    const { dir, cleanup } = tempDir()
    try {
      const path = join(dir, 'lab.sqlite')
      const source = openStore(':memory:')
      const bytes = source.exportSession(fillSession(source, 10).sessionId)
      source.close()
      const store = openStore(path)
      store.createSession({ name: 'already here' })
      const before = dumpDatabase(path)
      // Fail on the last kind of row written (artifact links), after session, states, runs and metrics.
      const db = (store as unknown as { ctx: { db: import('better-sqlite3').Database } }).ctx.db
      db.exec(`CREATE TEMP TRIGGER injected_failure BEFORE INSERT ON artifact_links BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
      expect(() => store.importSession(bytes)).toThrow(/injected failure/)
      expect(dumpDatabase(path)).toEqual(before)
      db.exec('DROP TRIGGER injected_failure')
      expect(store.importSession(bytes).session.runCount).toBe(3)
      store.close()
    } finally {
      cleanup()
    }
  })

  it('a failed import leaves the database file byte for byte unchanged', () => {
    const { dir, cleanup } = tempDir()
    try {
      const path = join(dir, 'lab.sqlite')
      const setup = openStore(path)
      const saved = fillSession(setup, 10)
      const bytes = setup.exportSession(saved.sessionId)
      setup.close()
      const hash = (): string => createHash('sha256').update(readFileSync(path)).digest('hex')
      const before = hash()
      const store = openStore(path)
      // A conflict fails inside the write transaction (after the file was fully validated): rolled back.
      expect(importError(store, bytes).code).toBe('IMPORT_CONFLICT')
      expect(importError(store, bytes.slice(0, 100)).code).toBe('IMPORT_INVALID')
      store.close()
      expect(hash()).toBe(before)
    } finally {
      cleanup()
    }
  })
})
