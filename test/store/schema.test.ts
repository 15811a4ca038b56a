// The schema golden file: a migration that changes the schema must change test/golden/schema.sql with it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/store/db'
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations'
import { ROOT } from './helpers/fixtures'
import { schemaText } from './helpers/schema'

const GOLDEN = join(ROOT, 'test/golden/schema.sql')
const REGENERATE = 'UPDATE_GOLDEN=1 npx vitest run test/store/schema.test.ts'

describe('store schema (golden file)', () => {
  it('matches test/golden/schema.sql', () => {
    const db = openDatabase(':memory:')
    const actual = schemaText(db)
    db.close()
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, actual)
    expect(existsSync(GOLDEN), `no golden schema: create it with\n  ${REGENERATE}`).toBe(true)
    const golden = readFileSync(GOLDEN, 'utf8')
    expect(actual, `the schema differs from test/golden/schema.sql. If the change is intended, regenerate it with\n  ${REGENERATE}\nand commit the new golden file with the migration.`).toBe(golden)
  })

  it('declares every table STRICT and names every index', () => {
    const db = openDatabase(':memory:')
    const tables = db.prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'table'`).all() as Array<{ name: string; sql: string }>
    const autoIndexes = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NULL`).pluck().all() as string[]
    const named = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL`).pluck().all() as string[]
    db.close()
    expect(tables.map((t) => t.name).sort()).toEqual(['artifact_links', 'artifacts', 'metrics', 'runs', 'session_tags', 'sessions', 'workspace_states'])
    for (const t of tables) expect(t.sql, t.name).toMatch(/\)\s*STRICT(, WITHOUT ROWID)?$/)
    // Only primary-key autoindexes are unnamed.
    for (const name of autoIndexes) expect(name).toMatch(/^sqlite_autoindex_(sessions|runs|artifacts|workspace_states)_1$/)
    expect(named.length).toBeGreaterThanOrEqual(8)
  })

  it('numbers its migrations 1, 2, … and sets user_version to the last', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1))
    const db = openDatabase(':memory:')
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    db.close()
  })
})
