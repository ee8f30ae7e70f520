// Schema migrations. Never edit a released migration: add a new one and bump kCurrentVersion.
#include "store/schema.h"

#include "store/metricbins.h"
#include "store/metricchunk.h"
#include "store/runrecord.h"
#include "store/sqlite.h"

#include <cstring>
#include <limits>
#include <vector>

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

// Version 3: metric points move to chunks: one row holds many consecutive points of one key as packed
// arrays, with a summary (count, step range, finite min and max, last point). One row per point plus an
// index entry capped ingestion near 700,000 points/s; chunks are written in bulk and read in bulk.
// ingest_progress records where ingestion stopped in each metrics or log file of a run, committed with
// the points, so it resumes after a crash without losing or doubling a point.
constexpr const char *kVersion3 = R"sql(
CREATE TABLE metric_chunks (
    id           INTEGER PRIMARY KEY,
    key_id       INTEGER NOT NULL REFERENCES metric_keys(id) ON DELETE CASCADE,
    point_count  INTEGER NOT NULL,
    min_step     INTEGER NOT NULL,
    max_step     INTEGER NOT NULL,
    min_value    REAL,
    max_value    REAL,
    last_step    INTEGER NOT NULL,
    last_value   REAL,
    steps        BLOB NOT NULL,
    vals         BLOB NOT NULL,
    ts           BLOB
);
CREATE INDEX metric_chunks_by_key ON metric_chunks(key_id, min_step);
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

// Packs the version-2 metric_points rows of each key (in step order) into chunks, then drops the table.
Result<void> convertPointsToChunks(SqliteConnection &connection)
{
    constexpr std::size_t kPointsPerConvertedChunk = 4096;
    auto select =
        connection.prepare("SELECT key_id, step, value, ts_ms FROM metric_points ORDER BY key_id, step, rowid");
    if (!select)
        return fail(select.error());
    std::int64_t currentKey = -1;
    std::vector<std::int64_t> steps;
    std::vector<double> values;
    std::vector<std::int64_t> timestamps;
    const auto flush = [&]() -> Result<void> {
        auto inserted = insertMetricChunkRow(connection, currentKey, steps, values, timestamps);
        steps.clear();
        values.clear();
        timestamps.clear();
        return inserted;
    };
    for (;;) {
        auto row = select->step();
        if (!row)
            return fail(row.error());
        const bool done = !row.value();
        const std::int64_t key = done ? -1 : select->columnInt(0);
        if (!steps.empty() && (done || key != currentKey || steps.size() == kPointsPerConvertedChunk)) {
            if (auto flushed = flush(); !flushed)
                return flushed;
        }
        if (done)
            break;
        currentKey = key;
        steps.push_back(select->columnInt(1));
        values.push_back(select->isNull(2) ? std::numeric_limits<double>::quiet_NaN() : select->columnDouble(2));
        timestamps.push_back(select->isNull(3) ? kNoTimestamp : select->columnInt(3));
    }
    select = fail(QString()); // finalize before dropping the table it reads
    return connection.execute("DROP TABLE metric_points");
}

// Version 4: the metric pyramid (see metricbins.h and docs/STORAGE.md): step-aligned bins at several
// widths per key, so a chart's envelope over any range reads about one row per pixel; and an index that
// finds the chunks overlapping a step range without reading their blobs.
constexpr const char *kVersion4 = R"sql(
ALTER TABLE metric_keys ADD COLUMN bin_base INTEGER;
CREATE TABLE metric_bins (
    key_id       INTEGER NOT NULL REFERENCES metric_keys(id) ON DELETE CASCADE,
    level        INTEGER NOT NULL,
    bin          INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    finite_n     INTEGER NOT NULL,
    total        REAL,
    min_value    REAL,
    max_value    REAL,
    first_step   INTEGER NOT NULL,
    first_value  REAL,
    first_ts     INTEGER,
    last_step    INTEGER NOT NULL,
    last_value   REAL,
    last_ts      INTEGER,
    PRIMARY KEY (key_id, level, bin)
) WITHOUT ROWID;
CREATE INDEX metric_chunks_by_key_range ON metric_chunks(key_id, max_step, min_step);
)sql";

// Version 5: the local run queue (runs waiting for GPUs or CPU slots, in order, persisted so the queue
// survives a restart) and sweeps, the parents of the runs a sweep spec makes.
constexpr const char *kVersion5 = R"sql(
CREATE TABLE sweeps (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);
ALTER TABLE runs ADD COLUMN sweep_id TEXT REFERENCES sweeps(id);
CREATE INDEX runs_by_sweep ON runs(sweep_id);
CREATE TABLE queue (
    run_id       TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    gpus         INTEGER NOT NULL,
    paused       INTEGER NOT NULL DEFAULT 0,
    enqueued_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX queue_by_position ON queue(position);
)sql";

// Version 6: what the throughput review needs per run, kept current by the writer from the state changes it
// records (so the report reads one row per run, not every event): who launched it and for which project, how
// many GPUs it held, when it first queued and first became active, its active time so far (restarts
// included) and the start of its current active span, its restarts, and the time of its first metric point.
constexpr const char *kVersion6 = R"sql(
ALTER TABLE runs ADD COLUMN user TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN project TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN gpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN queued_ms INTEGER;
ALTER TABLE runs ADD COLUMN first_active_ms INTEGER;
ALTER TABLE runs ADD COLUMN active_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN active_since_ms INTEGER;
ALTER TABLE runs ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN first_metric_ms INTEGER;
CREATE INDEX metric_keys_by_key ON metric_keys(key, run_id);
)sql";

// Fills the version-6 columns of existing runs from their recorded events and metric pyramids.
Result<void> computeRunTimelines(SqliteConnection &connection)
{
    auto select = connection.prepare("SELECT run_id, ts_ms, to_status FROM events ORDER BY run_id, ts_ms, id");
    auto update = connection.prepare("UPDATE runs SET queued_ms = ?2, first_active_ms = ?3, active_ms = ?4, "
                                     "active_since_ms = ?5, restarts = ?6 WHERE id = ?1");
    if (!select || !update)
        return fail(!select ? select.error() : update.error());
    RunTimeline timeline;
    QString current;
    const auto flush = [&]() -> Result<void> {
        if (current.isEmpty())
            return {};
        update->bind(1, current);
        const auto bindOptional = [&](int index, std::optional<std::int64_t> value) {
            if (value)
                update->bind(index, *value);
            else
                update->bindNull(index);
        };
        bindOptional(2, timeline.queuedMs);
        bindOptional(3, timeline.firstActiveMs);
        update->bind(4, timeline.activeMs);
        bindOptional(5, timeline.activeSinceMs);
        update->bind(6, std::int64_t(timeline.restarts));
        return update->run();
    };
    if (auto stepped = select->forEachRow([&]() -> Result<void> {
            const QString runId = select->columnText(0);
            if (runId != current) {
                if (auto flushed = flush(); !flushed)
                    return flushed;
                current = runId;
                timeline = {};
            }
            if (const auto status = runStatusFromString(select->columnText(2)))
                timeline.apply(*status, select->columnInt(1));
            return {};
        });
        !stepped)
        return stepped;
    if (auto flushed = flush(); !flushed)
        return flushed;
    return connection.execute("UPDATE runs SET first_metric_ms = (SELECT min(b.first_ts) FROM metric_bins b JOIN "
                              "metric_keys k ON k.id = b.key_id"
                              " WHERE k.run_id = runs.id AND k.key NOT LIKE 'sys/%' AND b.first_ts IS NOT NULL)");
}

// Version 7: each run's GPU utilisation samples (their sum and count, over every sys/gpu<N>/util... key), kept
// current by the writer as telemetry chunks arrive, so the throughput review reads them with the run's row
// instead of seeking every telemetry key's pyramid (60 ms of a 230 ms report at 100,000 runs, bench_report).
// The index version 6 made to find those keys has no reader left.
constexpr const char *kVersion7 = R"sql(
ALTER TABLE runs ADD COLUMN gpu_util_sum REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN gpu_util_samples INTEGER NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS metric_keys_by_key;
)sql";

// Fills the version-7 columns of existing runs from the top level of their GPU telemetry keys' pyramids.
Result<void> computeRunGpuUtilization(SqliteConnection &connection)
{
    auto update = connection.prepare(
        "UPDATE runs SET gpu_util_sum = u.total, gpu_util_samples = u.samples FROM ("
        " SELECT k.run_id, coalesce(sum(b.total), 0) AS total, sum(b.finite_n) AS samples FROM metric_keys k"
        " JOIN metric_bins b ON b.key_id = k.id AND b.level = (SELECT max(level) FROM metric_bins WHERE key_id = k.id)"
        " WHERE k.key LIKE ?1 GROUP BY k.run_id) AS u WHERE u.run_id = runs.id");
    if (!update)
        return fail(update.error());
    update->bind(1, QString::fromLatin1(kGpuUtilizationKeyPattern));
    return update->run();
}

// Version 8: the machine's preflight results (trainyard preflight), whole as JSON, with what the history lists.
constexpr const char *kVersion8 = R"sql(
CREATE TABLE preflight_results (
    id          INTEGER PRIMARY KEY,
    started_ms  INTEGER NOT NULL,
    host        TEXT NOT NULL,
    healthy     INTEGER NOT NULL,
    verdict     TEXT NOT NULL,
    result      TEXT NOT NULL
);
CREATE INDEX preflight_results_by_time ON preflight_results(started_ms);
)sql";

// Version 9: open ingestion. MLflow experiments (an experiment is a Trainyard project: runs.project holds its
// name), MLflow's key-value run tags (the `tags` table keeps Trainyard's plain tags), and where an imported run
// came from (a TensorBoard folder, an MLflow run folder), so importing the same history again finds its run, and how far
// each tracking server's metric journal is committed (core/tracking/metricjournal.h).
constexpr const char *kVersion9 = R"sql(
CREATE TABLE experiments (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    artifact_location  TEXT NOT NULL DEFAULT '',
    lifecycle_stage    TEXT NOT NULL DEFAULT 'active',
    created_ms         INTEGER NOT NULL,
    updated_ms         INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
    experiment_id  INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE TABLE run_tags (
    run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE tracking_journals (
    name              TEXT PRIMARY KEY,
    committed_offset  INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE runs ADD COLUMN source TEXT;
CREATE UNIQUE INDEX runs_by_source ON runs(source) WHERE source IS NOT NULL;
CREATE INDEX runs_by_project ON runs(project);
INSERT INTO experiments (id, name, created_ms, updated_ms)
    VALUES (0, 'Default', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
INSERT OR IGNORE INTO experiments (name, created_ms, updated_ms)
    SELECT project, min(created_ms), max(created_ms) FROM runs WHERE project <> '' GROUP BY project;
)sql";

// Version 10: the run list's change sequence, so a watcher reads only the runs changed since its last read instead
// of every run at every commit (at 100,000 runs a full read is seconds). change_sequences holds monotonic counters:
// `run_list` is bumped by any change to what the run list shows (a run's own list columns, its tags, params, mlflow.*
// tags and the top level of its metric pyramids, whence the summaries come) and stamped into runs.list_seq; a run
// deleted leaves its id in run_list_removals with the sequence of its removal. `queue` is bumped by any change to
// the queue. Triggers keep both current whichever process writes; a commit that touches no list column (telemetry
// sums, first_metric_ms, lower pyramid levels) bumps nothing. 24 = kBinLevelStride * (kBinLevelCount - 1): the top level.
static_assert(kBinLevelStride * (kBinLevelCount - 1) == 24,
              "version 10's triggers name the top pyramid level as bin_base + 24");
constexpr const char *kVersion10 = R"sql(
CREATE TABLE change_sequences (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO change_sequences (name, value) VALUES ('run_list', 0), ('queue', 0);
ALTER TABLE runs ADD COLUMN list_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_by_list_seq ON runs(list_seq);
CREATE TABLE run_list_removals (
    seq     INTEGER PRIMARY KEY,
    run_id  TEXT NOT NULL
);
CREATE TRIGGER run_list_run_inserted AFTER INSERT ON runs BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.id;
END;
CREATE TRIGGER run_list_run_updated AFTER UPDATE OF id, name, status, created_ms, started_ms, ended_ms, command, cwd,
        host, backend, exit_summary, sweep_id ON runs BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.id;
END;
CREATE TRIGGER run_list_run_deleted AFTER DELETE ON runs BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    INSERT INTO run_list_removals (seq, run_id) SELECT value, OLD.id FROM change_sequences WHERE name = 'run_list';
END;
CREATE TRIGGER run_list_tag_inserted AFTER INSERT ON tags BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.run_id;
END;
CREATE TRIGGER run_list_tag_deleted AFTER DELETE ON tags BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = OLD.run_id;
END;
CREATE TRIGGER run_list_param_inserted AFTER INSERT ON params BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.run_id;
END;
CREATE TRIGGER run_list_param_updated AFTER UPDATE ON params BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.run_id;
END;
CREATE TRIGGER run_list_param_deleted AFTER DELETE ON params BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = OLD.run_id;
END;
CREATE TRIGGER run_list_system_tag_inserted AFTER INSERT ON run_tags WHEN NEW.key LIKE 'mlflow.%' BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.run_id;
END;
CREATE TRIGGER run_list_system_tag_updated AFTER UPDATE ON run_tags WHEN NEW.key LIKE 'mlflow.%' BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.run_id;
END;
CREATE TRIGGER run_list_system_tag_deleted AFTER DELETE ON run_tags WHEN OLD.key LIKE 'mlflow.%' BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = OLD.run_id;
END;
CREATE TRIGGER run_list_summary_inserted AFTER INSERT ON metric_bins
        WHEN NEW.level = (SELECT bin_base + 24 FROM metric_keys WHERE id = NEW.key_id) BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list')
        WHERE id = (SELECT run_id FROM metric_keys WHERE id = NEW.key_id);
END;
CREATE TRIGGER run_list_summary_updated AFTER UPDATE ON metric_bins
        WHEN NEW.level = (SELECT bin_base + 24 FROM metric_keys WHERE id = NEW.key_id) BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list')
        WHERE id = (SELECT run_id FROM metric_keys WHERE id = NEW.key_id);
END;
CREATE TRIGGER run_list_summary_rebased AFTER UPDATE OF bin_base ON metric_keys BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.run_id;
END;
CREATE TRIGGER run_list_summary_key_deleted AFTER DELETE ON metric_keys BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = OLD.run_id;
END;
CREATE TRIGGER queue_row_inserted AFTER INSERT ON queue BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'queue';
END;
CREATE TRIGGER queue_row_updated AFTER UPDATE ON queue BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'queue';
END;
CREATE TRIGGER queue_row_deleted AFTER DELETE ON queue BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'queue';
END;
)sql";

// Version 11: run housekeeping and alerts. A run archived (`trainyard archive`, Run > Archive) keeps every row but
// leaves the default run list; archived_ms is when, NULL while it is not. `alerts` is the JSON array of the alert
// rules the run broke (the spec's `alerts:`), in order. The run list's update trigger gains both columns, so archiving
// and a broken rule are seen live by every window. (Renames, tags and notes were list changes already: name, tags and
// the mlflow.note.content run tag.)
constexpr const char *kVersion11 = R"sql(
ALTER TABLE runs ADD COLUMN archived_ms INTEGER;
ALTER TABLE runs ADD COLUMN alerts TEXT;
DROP TRIGGER run_list_run_updated;
CREATE TRIGGER run_list_run_updated AFTER UPDATE OF id, name, status, created_ms, started_ms, ended_ms, command, cwd,
        host, backend, exit_summary, sweep_id, archived_ms, alerts ON runs BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.id;
END;
)sql";

// Version 12: checkpoints (issue 19). One row per checkpoint of a run, keyed by its path: its step (NULL when its
// name holds none), size, when it was found complete, who said so (the client, the checkpoint folder's watch, the
// MLflow API), and the metrics the client gave with it. Deleting a run deletes its rows.
constexpr const char *kVersion12 = R"sql(
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    step       INTEGER,
    bytes      INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    source     TEXT NOT NULL,
    rank       INTEGER NOT NULL DEFAULT -1,
    metrics    TEXT,
    UNIQUE (run_id, path)
);
CREATE INDEX checkpoints_by_step ON checkpoints(run_id, step);
)sql";

// Version 13: lineage, disk use and superseded points (issue 19). A run forked or resumed from another run's checkpoint
// names its parent and the step it started from; disk_bytes is what the run's folder (and a checkpoint folder of its
// own outside it) held when last measured, NULL until then. A metric key with superseded_attempt set holds the points
// a failed attempt logged past the checkpoint the next attempt resumed from: they are kept, apart from the series the
// run followed (key `superseded/attempt<N>/<key>`), and left out of the run's summaries. The run list's update trigger
// gains the new run columns.
constexpr const char *kVersion13 = R"sql(
ALTER TABLE runs ADD COLUMN parent_run_id TEXT;
ALTER TABLE runs ADD COLUMN parent_step INTEGER;
ALTER TABLE runs ADD COLUMN disk_bytes INTEGER;
CREATE INDEX runs_by_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;
ALTER TABLE metric_keys ADD COLUMN superseded_attempt INTEGER;
DROP TRIGGER run_list_run_updated;
CREATE TRIGGER run_list_run_updated AFTER UPDATE OF id, name, status, created_ms, started_ms, ended_ms, command, cwd,
        host, backend, exit_summary, sweep_id, archived_ms, alerts, parent_run_id, parent_step, disk_bytes ON runs BEGIN
    UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';
    UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.id;
END;
)sql";

// Version 14: sweeps that stop runs early and propose trials (issue 20). A sweep's method (grid: every run queued at
// once; tpe: trials proposed one by one by Optuna) and, for a tpe sweep, whether the queue drives it (active), holds it
// (paused, with the message that says why) or is done. sweep_rungs holds the value each run of a sweep with early
// stopping had when it reached each rung (the first point of the rule's metric at or past the rung's step; NULL for
// NaN): the queue judges new arrivals against them, and a restarted queue goes on from them. sweep_trials ties a tpe
// sweep's Optuna trials to its runs, with what the study was told of each.
constexpr const char *kVersion14 = R"sql(
ALTER TABLE sweeps ADD COLUMN method TEXT NOT NULL DEFAULT 'grid';
ALTER TABLE sweeps ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE sweeps ADD COLUMN message TEXT NOT NULL DEFAULT '';
CREATE TABLE sweep_rungs (
    run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    rung      INTEGER NOT NULL,
    sweep_id  TEXT NOT NULL REFERENCES sweeps(id),
    step      INTEGER NOT NULL,
    value     REAL,
    at_ms     INTEGER NOT NULL,
    PRIMARY KEY (run_id, rung)
) WITHOUT ROWID;
CREATE INDEX sweep_rungs_by_sweep ON sweep_rungs(sweep_id, rung);
CREATE TABLE sweep_trials (
    sweep_id  TEXT NOT NULL REFERENCES sweeps(id),
    trial     INTEGER NOT NULL,
    run_id    TEXT REFERENCES runs(id) ON DELETE SET NULL,
    state     TEXT NOT NULL,
    value     REAL,
    PRIMARY KEY (sweep_id, trial)
) WITHOUT ROWID;
CREATE INDEX sweep_trials_by_run ON sweep_trials(run_id);
)sql";

// Builds the pyramid of every existing key from its chunks, in the order they were written.
Result<void> buildMetricBins(SqliteConnection &connection)
{
    auto select = connection.prepare("SELECT key_id, steps, vals, ts FROM metric_chunks ORDER BY key_id, id");
    if (!select)
        return fail(select.error());
    std::vector<std::int64_t> steps;
    std::vector<double> values;
    std::vector<std::int64_t> timestamps;
    return select->forEachRow([&]() -> Result<void> {
        int stepBytes = 0, valueBytes = 0, tsBytes = 0;
        const auto *stepData = static_cast<const char *>(select->columnBlob(1, stepBytes));
        const auto *valueData = static_cast<const char *>(select->columnBlob(2, valueBytes));
        const auto *tsData = static_cast<const char *>(select->columnBlob(3, tsBytes));
        const std::size_t count = std::size_t(std::min(stepBytes, valueBytes)) / 8;
        steps.resize(count);
        values.resize(count);
        timestamps.assign(count, kNoTimestamp);
        if (count) {
            std::memcpy(steps.data(), stepData, count * 8);
            std::memcpy(values.data(), valueData, count * 8);
            if (tsData && std::size_t(tsBytes) >= count * 8)
                std::memcpy(timestamps.data(), tsData, count * 8);
        }
        return updateMetricBins(connection, select->columnInt(0), steps, values, timestamps);
    });
}

constexpr Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3, convertPointsToChunks},
    {4, kVersion4, buildMetricBins},
    {5, kVersion5},
    {6, kVersion6, computeRunTimelines},
    {7, kVersion7, computeRunGpuUtilization},
    {8, kVersion8},
    {9, kVersion9},
    {10, kVersion10},
    {11, kVersion11},
    {12, kVersion12},
    {13, kVersion13},
    {14, kVersion14},
};

static_assert(std::size(kMigrations) == kCurrentVersion, "one migration per schema version");

} // namespace

std::span<const Migration> migrations() { return kMigrations; }

} // namespace trainyard::schema
