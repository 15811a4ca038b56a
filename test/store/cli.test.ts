// `deberta-lab sessions …`: in-process through main(), and once as a real child process.
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index'
import { openStore } from '../../src/store'
import { SCHEMA_VERSION } from '../../src/store/migrations'
import { runTs, tempDir } from './helpers/fixtures'
import { fillSession } from './helpers/session'

let dir: string
let cleanup: () => void
let path: string
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('dlab-cli-'))
  path = join(dir, 'lab.sqlite')
})
afterEach(() => cleanup())

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(['sessions', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) })
  return { code, stdout, stderr }
}

/** JSON as the CLI prints it: non-finite numbers spelled as strings. */
const asPrinted = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)))

function seed(): { full: string; empty: string } {
  const store = openStore(path)
  const full = fillSession(store, 10).sessionId
  const empty = store.createSession({ name: 'empty one' }).id
  store.close()
  return { full, empty }
}

describe('deberta-lab sessions (in-process through main)', () => {
  it('list --json prints [{id, name, createdAt, updatedAt, runCount}], newest first', async () => {
    const { full, empty } = seed()
    const r = await cli('list', '--json', '--store', path)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>
    expect(list.map((s) => Object.keys(s).sort())).toEqual([
      ['createdAt', 'id', 'name', 'runCount', 'updatedAt'],
      ['createdAt', 'id', 'name', 'runCount', 'updatedAt'],
    ])
    expect(list.map((s) => [s.id, s.runCount])).toEqual([
      [empty, 0],
      [full, 3],
    ])
  })

  it('list prints a table', async () => {
    seed()
    const r = await cli('list', '--store', path)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+NAME\s+RUNS\s+UPDATED\s+CREATED$/)
    expect(lines).toHaveLength(4)
    expect(lines[2]).toContain('empty one')
    expect(lines[3]).toMatch(/Round trip ✓ .* 3 /)
  })

  it('show --json prints the whole session; a unique id prefix is enough', async () => {
    const { full } = seed()
    const r = await cli('show', full.slice(0, 8), '--json', '--store', path)
    expect(r.code).toBe(0)
    const store = openStore(path)
    const snapshot = store.getSessionSnapshot(full)
    store.close()
    expect(JSON.parse(r.stdout)).toEqual(asPrinted(snapshot))
  })

  it('show prints workspaces, runs with latest metrics, and artifacts', async () => {
    const { full } = seed()
    const r = await cli('show', full, '--store', path)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`id       ${full}`)
    expect(r.stdout).toContain('Workspaces (6)')
    expect(r.stdout).toContain('Runs (3)')
    expect(r.stdout).toMatch(/workspace\/attention\s+runAttention\s+done .*acc=0\.00200401 loss=0\.002/)
    expect(r.stdout).toMatch(/failed: SEQUENCE_TOO_LONG: 4096 > 512/)
    expect(r.stdout).toMatch(/chart-png\s+attention\/heatmap\.png/)
    expect(r.stdout).toContain('float32[64×64]')
  })

  it('exports, imports into another store, refuses a second import without --mode, keeps both with it', async () => {
    const { full } = seed()
    const file = join(dir, 'out', '..', 'session.dlab')
    const exported = await cli('export', full, file, '--store', path)
    expect(exported.code).toBe(0)
    expect(exported.stdout).toMatch(/^exported session .* to .*session\.dlab/)
    expect(existsSync(file)).toBe(true)

    const other = join(dir, 'other.sqlite')
    const first = await cli('import', file, '--store', other)
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout).toContain(`imported session ${full}`)

    const again = await cli('import', file, '--store', other)
    expect(again.code).toBe(1)
    expect(again.stdout).toBe('')
    expect(again.stderr).toMatch(/^error \[IMPORT_CONFLICT\]: .*--mode replace or --mode keep-both/)

    const both = await cli('import', file, '--mode', 'keep-both', '--json', '--store', other)
    expect(both.code).toBe(0)
    expect(JSON.parse(both.stdout)).toMatchObject({ mode: 'keep-both', session: { name: expect.stringMatching(/\(imported\)$/) } })
    const replaced = await cli('import', file, '--mode', 'replace', '--store', other)
    expect(replaced.stdout).toContain('— replace')
    expect(JSON.parse((await cli('list', '--json', '--store', other)).stdout)).toHaveLength(2)
  })

  it('deletes to the trash, restores, purges', async () => {
    const { full, empty } = seed()
    const deleted = await cli('delete', empty, '--store', path)
    expect(deleted.stdout).toContain(`undo: deberta-lab sessions restore ${empty}`)
    expect(JSON.parse((await cli('list', '--json', '--store', path)).stdout).map((s: { id: string }) => s.id)).toEqual([full])
    const all = await cli('list', '--all', '--store', path)
    expect(all.stderr).toBe('')
    expect(all.stdout).toContain('DELETED')
    expect((await cli('restore', empty, '--store', path)).code).toBe(0)
    expect(JSON.parse((await cli('list', '--json', '--store', path)).stdout)).toHaveLength(2)
    expect((await cli('delete', full, '--purge', '--store', path)).stdout).toBe(`purged session ${full}\n`)
    expect((await cli('restore', full, '--store', path)).stderr).toMatch(/^error \[SESSION_NOT_FOUND\]/)
  })

  it('fails with a reason on stderr and a non-zero exit code', async () => {
    seed()
    const cases: Array<[string[], RegExp]> = [
      [['show', 'no-such-id', '--store', path], /^error \[SESSION_NOT_FOUND\]: no session no-such-id/],
      [['show', '--store', path], /^error \[BAD_REQUEST\]: sessions show expects a session <id>/],
      [['frobnicate', '--store', path], /^error \[BAD_REQUEST\]: unknown sessions command "frobnicate"/],
      [[], /^error \[BAD_REQUEST\]: missing command/],
      [['list', '--colour', '--store', path], /^error \[BAD_REQUEST\]: Unknown option '--colour'/],
      [['import', join(dir, 'x.dlab'), '--mode', 'merge', '--store', path], /^error \[BAD_REQUEST\]: --mode must be replace or keep-both/],
      [['import', join(dir, 'missing.dlab'), '--store', path], /^error \[NOT_FOUND\]: the session file .*missing\.dlab does not exist/],
      [['import', dir, '--store', path], /^error \[IMPORT_INVALID\]: the session file .* is a folder/],
      [['export', 'no-such-id', join(dir, 'nowhere', 'x.dlab'), '--store', path], /^error \[SESSION_NOT_FOUND\]/],
    ]
    for (const [args, stderr] of cases) {
      const r = await cli(...args)
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr, args.join(' ')).toMatch(stderr)
      expect(r.stdout).toBe('')
    }
    writeFileSync(join(dir, 'bad.dlab'), 'not a zip')
    const bad = await cli('import', join(dir, 'bad.dlab'), '--store', path)
    expect(bad).toMatchObject({ code: 1, stdout: '' })
    expect(bad.stderr).toMatch(/^error \[IMPORT_INVALID\]/)
  })

  it('refuses a store from a newer app, and recovers a damaged one with a note', async () => {
    const newer = join(dir, 'newer.sqlite')
    const db = new Database(newer)
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    const r = await cli('list', '--store', newer)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error \[STORE_NEWER_VERSION\]/)

    const damaged = join(dir, 'damaged.sqlite')
    writeFileSync(damaged, 'garbage'.repeat(1000))
    const recovered = await cli('list', '--store', damaged)
    expect(recovered.code).toBe(0)
    expect(recovered.stderr).toMatch(/^note: the store at .*damaged\.sqlite was damaged .*moved to .*damaged\.sqlite\.corrupt-/)
    expect(recovered.stdout).toBe('no sessions\n')
  })
})

describe('deberta-lab sessions (child process)', () => {
  it('runs as a real process: JSON on stdout and exit 0; a failure exits 1 with the reason on stderr', { timeout: 60_000 }, async () => {
    const { full } = seed()
    const ok = await runTs('test/store/helpers/cli.ts', ['sessions', 'list', '--json'], { DEBERTA_LAB_STORE: path })
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect((JSON.parse(ok.stdout) as Array<{ id: string }>).map((s) => s.id)).toContain(full)

    const failed = await runTs('test/store/helpers/cli.ts', ['sessions', 'show', 'nope', '--store', path])
    expect(failed.code).toBe(1)
    expect(failed.stdout).toBe('')
    expect(failed.stderr).toBe('error [SESSION_NOT_FOUND]: no session nope\n')
  })
})
