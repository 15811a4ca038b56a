// The schema's history, oldest first. Add a file NNNN-what.ts and append it here; never edit a shipped one.
import { migration0001 } from './0001-initial'
import { migration0002 } from './0002-run-owners'
import type { Migration } from './types'

export type { Migration } from './types'

export const MIGRATIONS: readonly Migration[] = [migration0001, migration0002]

/** The user_version this build writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version
