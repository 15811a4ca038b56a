// Sessions, their workspace states, runs, metrics, content-addressed artifacts and tags.
import type { Migration } from './types'

const WORKSPACES = `('problem', 'attention', 'relative', 'decoding', 'benchmarks', 'experiments')`

export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  up: `
CREATE TABLE sessions (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  notes       TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  app_version TEXT NOT NULL,
  deleted_at  TEXT
) STRICT;
CREATE INDEX sessions_by_updated_at ON sessions (updated_at);

CREATE TABLE session_tags (
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  tag        TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
  PRIMARY KEY (session_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX session_tags_by_tag ON session_tags (tag);

CREATE TABLE workspace_states (
  session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  workspace     TEXT NOT NULL CHECK (workspace IN ${WORKSPACES}),
  state_version INTEGER NOT NULL CHECK (state_version >= 1),
  state_json    TEXT NOT NULL CHECK (json_valid(state_json)),
  updated_at    TEXT NOT NULL,
  PRIMARY KEY (session_id, workspace)
) STRICT;

CREATE TABLE runs (
  id          TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('workspace', 'experiment', 'benchmark')),
  workspace   TEXT CHECK (workspace IS NULL OR workspace IN ${WORKSPACES}),
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  config_json TEXT NOT NULL CHECK (json_valid(config_json)),
  seed        INTEGER,
  backend     TEXT,
  model_json  TEXT CHECK (model_json IS NULL OR json_valid(model_json)),
  status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
  created_at  TEXT NOT NULL,
  started_at  TEXT,
  ended_at    TEXT,
  error       TEXT,
  result_json TEXT CHECK (result_json IS NULL OR json_valid(result_json))
) STRICT;
CREATE INDEX runs_by_session ON runs (session_id, created_at);
CREATE UNIQUE INDEX runs_by_session_and_id ON runs (session_id, id);

-- value NULL stands for NaN (SQLite stores NaN as NULL); ±Infinity are REALs.
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  key    TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  step   INTEGER NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, key, step)
) STRICT, WITHOUT ROWID;

-- The comparison tables read the value at the highest step of each (run, key).
CREATE VIEW run_metrics_latest AS
  SELECT m.run_id, m.key, m.step, m.value
  FROM metrics AS m
  WHERE m.step = (SELECT max(l.step) FROM metrics AS l WHERE l.run_id = m.run_id AND l.key = m.key);

-- Content-addressed bytes, stored once whatever links to them.
CREATE TABLE artifacts (
  sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
  size       INTEGER NOT NULL CHECK (size = length(data)),
  data       BLOB NOT NULL,
  created_at TEXT NOT NULL
) STRICT;

-- What an artifact is, per use: identical bytes may be a [2, 8] tensor here and a [4, 4] one there.
CREATE TABLE artifact_links (
  id         INTEGER PRIMARY KEY,
  sha256     TEXT NOT NULL REFERENCES artifacts (sha256),
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  run_id     TEXT,
  name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind       TEXT NOT NULL CHECK (kind IN ('tensor', 'chart-png', 'chart-svg', 'json', 'weights')),
  dtype      TEXT,
  shape_json TEXT CHECK (shape_json IS NULL OR json_valid(shape_json)),
  mime       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  FOREIGN KEY (session_id, run_id) REFERENCES runs (session_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX artifact_links_by_owner_and_name ON artifact_links (session_id, ifnull(run_id, ''), name);
CREATE INDEX artifact_links_by_run ON artifact_links (session_id, run_id);
CREATE INDEX artifact_links_by_sha256 ON artifact_links (sha256);
`,
}
