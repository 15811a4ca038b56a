// .dlab limits that keep an import (and the server doing it) alive: session.json is capped before it is
// parsed (declared size, then while inflating), its JSON values are counted before JSON.parse builds them, and
// large inline run results are moved into "result.json" artifacts on import as on save.
import { createHash, randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { LabError } from '../../src/common/errors'
import { isStoredResultRef } from '../../src/common/sessions'
import { openStore, type ExperimentStore } from '../../src/store'
import { exportSessionFile } from '../../src/store/dlab/export'
import { countJsonValues } from '../../src/store/dlab/import'
import { extractEntry, readZipDirectory } from '../../src/store/dlab/zip'
import type { PortableSession } from '../../src/store/snapshot'
import { json, pack, parse, patchDeclaredSize, reseal, unpack } from './helpers/zip-tools'

const NOW = '2026-01-02T03:04:05.000Z'

/** A one-run session file whose run result is `result`, inline in session.json (a hand-made or old file). */
function sessionFileWith(result: unknown): { bytes: Uint8Array; sessionId: string; runId: string } {
  const sessionId = randomUUID()
  const runId = randomUUID()
  const portable: PortableSession = {
    session: { id: sessionId, name: 'big results', notes: '', tags: [], createdAt: NOW, updatedAt: NOW, appVersion: '0.1.0' },
    workspaces: {},
    runs: [
      { id: runId, kind: 'workspace', workspace: 'attention', name: 'r', config: {}, seed: null, backend: null, model: null, status: 'done', createdAt: NOW, startedAt: NOW, endedAt: NOW, error: null, result },
    ],
    metrics: [],
    artifacts: [],
  }
  return { bytes: exportSessionFile(portable, new Map(), NOW), sessionId, runId }
}

function importError(store: ExperimentStore, bytes: Uint8Array, options?: Parameters<ExperimentStore['importSession']>[1]): LabError {
  try {
    store.importSession(bytes, options)
  } catch (error) {
    if (error instanceof LabError) return error
    throw error
  }
  throw new Error('the import succeeded')
}

describe('session.json caps', () => {
  it('refuses a session.json over its cap before inflating it (declared size)', () => {
    const { bytes } = sessionFileWith('x'.repeat(3000))
    const store = openStore(':memory:')
    const error = importError(store, bytes, { limits: { maxSessionJsonBytes: 2000 } })
    expect(error.code).toBe('IMPORT_TOO_LARGE')
    expect(error.message).toMatch(/session\.json declares \d+ bytes \(limit 2000\)/)
    expect(store.listSessions()).toEqual([])
    store.close()
  })

  it('refuses a forged 480 MB session.json (consistent manifest, tiny stream) by the default cap', () => {
    const { bytes } = sessionFileWith('small')
    const files = unpack(bytes)
    const manifest = parse<{ entries: Array<{ path: string; size: number }> }>(files['manifest.json'])
    for (const e of manifest.entries) if (e.path === 'session.json') e.size = 480_000_000
    const forged = patchDeclaredSize(pack({ 'manifest.json': json(manifest), 'session.json': files['session.json'] }), 'session.json', 480_000_000)
    const store = openStore(':memory:')
    const error = importError(store, forged)
    expect(error.code).toBe('IMPORT_TOO_LARGE')
    expect(error.message).toMatch(/session\.json declares 480000000 bytes \(limit 67108864\)/)
    store.close()
  })

  it('stops inflating an entry at the cap it is given, whatever the header says', () => {
    const { bytes } = sessionFileWith('y'.repeat(100_000))
    const entry = readZipDirectory(bytes, 10).find((e) => e.name === 'session.json')!
    expect(() => extractEntry(bytes, entry, 50_000)).toThrow(expect.objectContaining({ code: 'IMPORT_TOO_LARGE' }))
    expect(extractEntry(bytes, entry, entry.size).byteLength).toBe(entry.size)
  })

  it('counts JSON values before parsing and refuses more than the budget', () => {
    // 1 + each '[', '{' and ',' outside strings: an upper bound on the values JSON.parse creates
    expect(countJsonValues(new TextEncoder().encode('[{},{},[1,2]]'), 100)).toBe(8)
    // commas and brackets inside strings (with escaped quotes) are not values
    expect(countJsonValues(new TextEncoder().encode('["a,[{\\",b", "ü,"]'), 100)).toBe(3)
    const { bytes } = sessionFileWith(Array.from({ length: 50_000 }, () => ({})))
    const store = openStore(':memory:')
    const error = importError(store, bytes, { limits: { maxSessionJsonValues: 60_000 } })
    expect(error.code).toBe('IMPORT_TOO_LARGE')
    expect(error.message).toMatch(/session\.json holds more than 60000 JSON values/)
    store.close()
  })
})

describe('large inline results are moved out on import', () => {
  it('stores a result over largeResultBytes as the run\'s result.json artifact, as finishRun does', () => {
    const result = { matrix: Array.from({ length: 3000 }, (_, i) => i / 7), label: 'attention' }
    const { bytes, sessionId, runId } = sessionFileWith(result)
    const store = openStore(':memory:', { largeResultBytes: 10_000 })
    store.importSession(bytes)
    const [run] = store.listRuns(sessionId)
    expect(isStoredResultRef(run.result)).toBe(true)
    expect(store.getRunResult(runId)).toEqual(result)
    const artifacts = store.listArtifacts(sessionId)
    expect(artifacts).toEqual([expect.objectContaining({ runId, name: 'result.json', kind: 'json', mime: 'application/json' })])
    // and it travels on as an artifact: export → import elsewhere gives the same result
    const again = openStore(':memory:', { largeResultBytes: 10_000 })
    again.importSession(store.exportSession(sessionId))
    expect(again.getRunResult(runId)).toEqual(result)
    store.close()
    again.close()
  })

  it('keeps NaN and Infinity in a moved result', () => {
    const result = { values: [...Array.from({ length: 3000 }, (_, i) => i), NaN, Infinity, -Infinity] }
    const { bytes, runId } = sessionFileWith(result)
    const store = openStore(':memory:', { largeResultBytes: 10_000 })
    store.importSession(bytes)
    expect(store.getRunResult(runId)).toEqual(result)
    store.close()
  })

  it('leaves small results inline', () => {
    const { bytes, sessionId } = sessionFileWith({ small: [1, 2, 3] })
    const store = openStore(':memory:', { largeResultBytes: 10_000 })
    store.importSession(bytes)
    expect(store.listRuns(sessionId)[0].result).toEqual({ small: [1, 2, 3] })
    expect(store.listArtifacts(sessionId)).toEqual([])
    store.close()
  })

  it('refuses a run with both a large inline result and a result.json artifact', () => {
    const { bytes, runId } = sessionFileWith({ big: 'z'.repeat(20_000) })
    const files = unpack(bytes)
    const session = parse<{ artifacts: unknown[] }>(files['session.json'])
    const blob = json({ other: true })
    const sha = createHash('sha256').update(blob).digest('hex')
    session.artifacts.push({ sha256: sha, runId, name: 'result.json', kind: 'json', dtype: null, shape: null, mime: 'application/json', size: blob.byteLength, createdAt: NOW })
    const forged = pack(reseal({ 'manifest.json': files['manifest.json'], 'session.json': json(session), [`artifacts/${sha}`]: blob }))
    const store = openStore(':memory:', { largeResultBytes: 10_000 })
    const error = importError(store, forged)
    expect(error.code).toBe('IMPORT_INVALID')
    expect(error.message).toMatch(/has an inline result of \d+ characters and a result\.json artifact/)
    store.close()
  })

  it('refuses a result nested deeper than the stack with IMPORT_INVALID, before anything is stored', () => {
    const { bytes, runId } = sessionFileWith('PLACEHOLDER')
    const files = unpack(bytes)
    const deep = '['.repeat(200_000) + ']'.repeat(200_000)
    const sessionText = new TextDecoder().decode(files['session.json']).replace('"PLACEHOLDER"', deep)
    const forged = pack(reseal({ 'manifest.json': files['manifest.json'], 'session.json': new TextEncoder().encode(sessionText) }))
    const store = openStore(':memory:')
    const error = importError(store, forged)
    expect(error.code).toBe('IMPORT_INVALID')
    // the whole session.json is depth-checked (at most 128 levels) before its runs are read
    expect(error.message).toMatch(/session\.json nests deeper than \d+ levels|the result of run [0-9a-f-]+ cannot be stored: it is nested too deeply/)
    expect(runId).toMatch(/^[0-9a-f-]{36}$/)
    expect(store.listSessions()).toEqual([])
    store.close()
  })
})
