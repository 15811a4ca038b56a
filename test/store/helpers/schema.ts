// The schema as text: every CREATE statement in creation order, then the user_version.
import type Database from 'better-sqlite3'

export const GOLDEN_HEADER = `-- The experiment store's schema (src/store/migrations), as a fresh store holds it.
-- Checked by test/store/schema.test.ts. After adding a migration, regenerate with:
--   UPDATE_GOLDEN=1 npx vitest run test/store/schema.test.ts
`

export function schemaText(db: Database.Database): string {
  const rows = db
    .prepare(`SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid`)
    .pluck()
    .all() as string[]
  const version = db.pragma('user_version', { simple: true }) as number
  return `${GOLDEN_HEADER}\n${rows.map((sql) => `${sql.trim()};`).join('\n\n')}\n\nPRAGMA user_version = ${version};\n`
}
