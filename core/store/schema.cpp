// Schema migrations. Never edit a released migration: add a new one and bump kCurrentVersion.
#include "store/schema.h"

namespace trainyard::schema {

namespace {

// Version 1: runs, their params, tags, state-change events and metric points.
constexpr const char *kVersion1 = R"sql(
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    started_ms  INTEGER,
    ended_ms    INTEGER,
    command     TEXT NOT NULL,
    cwd         TEXT NOT NULL
);
CREATE INDEX runs_by_created ON runs(created_ms);
CREATE TABLE params (
    run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE tags (
    run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags(tag);
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    ts_ms        INTEGER NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL
);
CREATE TABLE metric_keys (
    id      INTEGER PRIMARY KEY,
    run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    UNIQUE (run_id, key)
);
CREATE TABLE metric_points (
    key_id  INTEGER NOT NULL REFERENCES metric_keys(id) ON DELETE CASCADE,
    step    INTEGER NOT NULL,
    value   REAL NOT NULL,
    ts_ms   INTEGER
);
CREATE INDEX metric_points_by_key_step ON metric_points(key_id, step);
)sql";

// Version 2: where a run ran (host, backend), why it ended (exit summary, JSON), event details,
// and an index for the per-run event timelines that throughput figures are computed from.
constexpr const char *kVersion2 = R"sql(
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN backend TEXT NOT NULL DEFAULT 'local';
ALTER TABLE runs ADD COLUMN exit_summary TEXT;
ALTER TABLE events ADD COLUMN detail TEXT;
CREATE INDEX events_by_run_time ON events(run_id, ts_ms);
CREATE INDEX runs_by_status ON runs(status);
)sql";

// Version 3: where ingestion stopped in each metrics or log file of a run, so it resumes after a crash
// without losing or doubling a point, and what it could not parse there. Metric values become nullable:
// SQLite stores NaN as NULL, and a NaN loss is a fact worth keeping.
constexpr const char *kVersion3 = R"sql(
CREATE TABLE metric_points_v3 (
    key_id  INTEGER NOT NULL REFERENCES metric_keys(id) ON DELETE CASCADE,
    step    INTEGER NOT NULL,
    value   REAL,
    ts_ms   INTEGER
);
INSERT INTO metric_points_v3 (key_id, step, value, ts_ms) SELECT key_id, step, value, ts_ms FROM metric_points;
DROP TABLE metric_points;
ALTER TABLE metric_points_v3 RENAME TO metric_points;
CREATE INDEX metric_points_by_key_step ON metric_points(key_id, step);
CREATE TABLE ingest_progress (
    run_id           TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    file             TEXT NOT NULL,
    byte_offset      INTEGER NOT NULL,
    line_number      INTEGER NOT NULL,
    points           INTEGER NOT NULL DEFAULT 0,
    malformed_lines  INTEGER NOT NULL DEFAULT 0,
    malformed_examples TEXT,
    PRIMARY KEY (run_id, file)
) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3},
};

static_assert(std::size(kMigrations) == kCurrentVersion, "one migration per schema version");

} // namespace

std::span<const Migration> migrations() { return kMigrations; }

} // namespace trainyard::schema
