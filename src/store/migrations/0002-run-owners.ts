// Which process owns a queued/running run, so that opening the store marks as interrupted only the runs
// of processes that are gone — never those of a live CLI or app sharing the store.
import type { Migration } from './types'

export const migration0002: Migration = {
  version: 2,
  name: 'run-owners',
  up: `
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE runs ADD COLUMN owner_token TEXT;
CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running');
`,
}
