// The MLflow tracking API's SQL: experiments, run tags, write-once params and metric points through the chunks.
#include "store/trackingstore.h"

#include "store/metricchunk.h"
#include "store/sqlite.h"
#include "store/storewriter.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <limits>
#include <vector>

namespace trainyard {

Error failWithCode(const char *code, const QString &message)
{
    return fail(QLatin1String(code) + QStringLiteral(": ") + message);
}

namespace trackingstore {

namespace {

Error runNotFound(const QString &runId)
{
    return failWithCode(mlflowcode::kResourceDoesNotExist, QStringLiteral("Run '%1' not found").arg(runId));
}

Result<QList<KeyValue>> readPairs(SqliteConnection &connection, const char *sql, const QString &runId)
{
    auto select = connection.prepare(sql);
    if (!select)
        return fail(select.error());
    select->bind(1, runId);
    QList<KeyValue> pairs;
    if (auto stepped = select->forEachRow([&] {
            pairs.append({select->columnText(0), select->columnText(1)});
        });
        !stepped)
        return fail(stepped.error());
    return pairs;
}

constexpr const char *kExperimentColumns =
    "SELECT id, name, artifact_location, lifecycle_stage, created_ms, updated_ms FROM experiments";

Result<QList<TrackingExperiment>> readExperiments(SqliteStatement &select)
{
    QList<TrackingExperiment> found;
    if (auto stepped = select.forEachRow([&] {
            TrackingExperiment experiment;
            experiment.id = select.columnInt(0);
            experiment.name = select.columnText(1);
            experiment.artifactLocation = select.columnText(2);
            experiment.lifecycleStage = select.columnText(3);
            experiment.createdMs = select.columnInt(4);
            experiment.updatedMs = select.columnInt(5);
            found.append(experiment);
        });
        !stepped)
        return fail(stepped.error());
    return found;
}

Result<QList<TrackingExperiment>> withTags(SqliteConnection &connection, Result<QList<TrackingExperiment>> experiments)
{
    if (!experiments)
        return experiments;
    auto tags = connection.prepare("SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key");
    if (!tags)
        return fail(tags.error());
    for (TrackingExperiment &experiment : *experiments) {
        tags->bind(1, experiment.id);
        if (auto stepped = tags->forEachRow([&] {
                experiment.tags.append({tags->columnText(0), tags->columnText(1)});
            });
            !stepped)
            return fail(stepped.error());
        tags->reset();
    }
    return experiments;
}

Result<std::optional<TrackingExperiment>> firstOf(Result<QList<TrackingExperiment>> experiments)
{
    if (!experiments)
        return fail(experiments.error());
    if (experiments->isEmpty())
        return std::optional<TrackingExperiment>();
    return std::optional<TrackingExperiment>(experiments->first());
}

constexpr const char *kRunColumns = "SELECT r.id, r.name, r.status, r.backend, r.user, coalesce(e.id, 0), "
                                    "coalesce(r.started_ms, r.created_ms), r.ended_ms"
                                    " FROM runs r LEFT JOIN experiments e ON e.name = r.project";

// Fills a run's params, tags and latest metrics.
Result<void> readRunData(SqliteConnection &connection, TrackedRun &run)
{
    auto params = readPairs(connection, "SELECT key, value FROM params WHERE run_id = ? ORDER BY key", run.id);
    if (!params)
        return fail(params.error());
    run.params = std::move(params).value();
    auto tags = readPairs(connection, "SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key", run.id);
    if (!tags)
        return fail(tags.error());
    run.tags = std::move(tags).value();
    // A launched run's plain tags (no "=") are tags with an empty value to the API.
    auto plain =
        readPairs(connection, "SELECT tag, '' FROM tags WHERE run_id = ? AND instr(tag, '=') = 0 ORDER BY tag", run.id);
    if (!plain)
        return fail(plain.error());
    QSet<QString> keys;
    for (const KeyValue &tag : run.tags)
        keys.insert(tag.key);
    for (const KeyValue &tag : *plain)
        if (!keys.contains(tag.key))
            run.tags.append(tag);

    // The latest point of each key is the last of its pyramid's highest, right-most bin.
    auto latest = connection.prepare(
        "SELECT k.key, b.last_value, b.last_step, b.last_ts FROM metric_keys k JOIN metric_bins b ON b.key_id = k.id"
        " WHERE k.run_id = ? AND k.superseded_attempt IS NULL AND (b.level, b.bin) = (SELECT level, bin FROM "
        "metric_bins WHERE key_id = k.id"
        " ORDER BY level DESC, bin DESC LIMIT 1) ORDER BY k.key");
    if (!latest)
        return fail(latest.error());
    latest->bind(1, run.id);
    if (auto stepped = latest->forEachRow([&] {
            run.metrics.append({latest->columnText(0), latest->columnDoubleOrNaN(1),
                                latest->isNull(3) ? 0 : latest->columnInt(3), latest->columnInt(2)});
        });
        !stepped)
        return fail(stepped.error());
    return {};
}

Result<QList<TrackedRun>> readRuns(SqliteConnection &connection, SqliteStatement &select)
{
    QList<TrackedRun> runs;
    if (auto stepped = select.forEachRow([&] {
            TrackedRun run;
            run.id = select.columnText(0);
            run.name = select.columnText(1);
            run.status = runStatusFromString(select.columnText(2)).value_or(RunStatus::Lost);
            run.backend = select.columnText(3);
            run.user = select.columnText(4);
            run.experimentId = select.columnInt(5);
            run.startMs = select.columnInt(6);
            if (!select.isNull(7))
                run.endMs = select.columnInt(7);
            runs.append(run);
        });
        !stepped)
        return fail(stepped.error());
    for (TrackedRun &run : runs)
        if (auto data = readRunData(connection, run); !data)
            return fail(data.error());
    return runs;
}

// Removes a tag whether or not it exists (setTags replaces a value with it).
Result<void> removeTag(SqliteConnection &connection, const QString &runId, const QString &key);

} // namespace

Result<std::optional<TrackingExperiment>> experimentByName(SqliteConnection &connection, const QString &name)
{
    auto select = connection.prepare(QByteArray(kExperimentColumns).append(" WHERE name = ?").constData());
    if (!select)
        return fail(select.error());
    select->bind(1, name);
    return firstOf(withTags(connection, readExperiments(*select)));
}

Result<std::optional<TrackingExperiment>> experimentById(SqliteConnection &connection, std::int64_t id)
{
    auto select = connection.prepare(QByteArray(kExperimentColumns).append(" WHERE id = ?").constData());
    if (!select)
        return fail(select.error());
    select->bind(1, id);
    return firstOf(withTags(connection, readExperiments(*select)));
}

Result<QList<TrackingExperiment>> listExperiments(SqliteConnection &connection)
{
    auto select = connection.prepare(QByteArray(kExperimentColumns).append(" ORDER BY id").constData());
    if (!select)
        return fail(select.error());
    return withTags(connection, readExperiments(*select));
}

Result<std::optional<TrackedRun>> findTrackedRun(SqliteConnection &connection, const QString &runId)
{
    auto select = connection.prepare(QByteArray(kRunColumns).append(" WHERE r.id = ?").constData());
    if (!select)
        return fail(select.error());
    select->bind(1, runId);
    auto runs = readRuns(connection, *select);
    if (!runs)
        return fail(runs.error());
    if (runs->isEmpty())
        return std::optional<TrackedRun>();
    return std::optional<TrackedRun>(runs->first());
}

Result<QList<TrackedRun>> runsOfExperiments(SqliteConnection &connection, std::span<const std::int64_t> experimentIds)
{
    if (experimentIds.empty())
        return QList<TrackedRun>();
    QByteArray sql(kRunColumns);
    sql.append(" WHERE coalesce(e.id, 0) IN (");
    for (std::size_t i = 0; i < experimentIds.size(); ++i)
        sql.append(i ? ",?" : "?");
    sql.append(") ORDER BY r.created_ms DESC, r.id DESC");
    auto select = connection.prepare(sql.constData());
    if (!select)
        return fail(select.error());
    for (std::size_t i = 0; i < experimentIds.size(); ++i)
        select->bind(int(i) + 1, experimentIds[i]);
    return readRuns(connection, *select);
}

Result<std::int64_t> ensureExperiment(SqliteConnection &connection, const QString &name, std::int64_t nowMs)
{
    auto insert = connection.cached(
        "INSERT INTO experiments (name, created_ms, updated_ms) VALUES (?1, ?2, ?2) ON CONFLICT (name) DO NOTHING");
    if (!insert)
        return fail(insert.error());
    (*insert)->bind(1, name);
    (*insert)->bind(2, nowMs);
    if (auto inserted = (*insert)->run(); !inserted)
        return fail(inserted.error());
    auto select = connection.cached("SELECT id FROM experiments WHERE name = ?");
    if (!select)
        return fail(select.error());
    SqliteStatement &statement = **select;
    statement.bind(1, name);
    auto row = statement.step();
    if (!row)
        return fail(row.error());
    if (!row.value())
        return fail(QStringLiteral("experiment %1 vanished while it was created").arg(name));
    const std::int64_t id = statement.columnInt(0);
    statement.reset();
    return id;
}

Result<std::int64_t> createExperiment(SqliteConnection &connection, const QString &name,
                                      const QString &artifactLocation, const QList<KeyValue> &tags, std::int64_t nowMs)
{
    if (name.trimmed().isEmpty())
        return failWithCode(mlflowcode::kInvalidParameterValue,
                            QStringLiteral("Invalid experiment name: '%1'").arg(name));
    auto insert = connection.prepare(
        "INSERT INTO experiments (name, artifact_location, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3)"
        " ON CONFLICT (name) DO NOTHING");
    if (!insert)
        return fail(insert.error());
    insert->bind(1, name);
    insert->bind(2, artifactLocation);
    insert->bind(3, nowMs);
    if (auto inserted = insert->run(); !inserted)
        return fail(inserted.error());
    if (connection.changes() != 1)
        return failWithCode(mlflowcode::kResourceAlreadyExists,
                            QStringLiteral("Experiment '%1' already exists.").arg(name));
    const std::int64_t id = connection.lastInsertRowId();
    auto insertTag =
        connection.prepare("INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)");
    if (!insertTag)
        return fail(insertTag.error());
    for (const KeyValue &tag : tags) {
        insertTag->bind(1, id);
        insertTag->bind(2, tag.key);
        insertTag->bind(3, tag.value);
        if (auto inserted = insertTag->run(); !inserted)
            return fail(inserted.error());
    }
    return id;
}

Result<QString> createTrackedRun(SqliteConnection &connection, const NewRun &run, const QList<KeyValue> &tags)
{
    auto id = insertNewRun(connection, run);
    if (!id)
        return id;
    if (auto set = setTags(connection, *id, tags); !set)
        return fail(set.error());
    return id;
}

Result<QString> requireRun(SqliteConnection &connection, const QString &runId)
{
    auto select = connection.cached("SELECT backend FROM runs WHERE id = ?");
    if (!select)
        return fail(select.error());
    SqliteStatement &statement = **select;
    statement.bind(1, runId);
    auto row = statement.step();
    if (!row)
        return fail(row.error());
    if (!row.value())
        return runNotFound(runId);
    const QString backend = statement.columnText(0);
    statement.reset();
    return backend;
}

Result<void> logParams(SqliteConnection &connection, const QString &runId, const QList<KeyValue> &params)
{
    auto select = connection.cached("SELECT value FROM params WHERE run_id = ? AND key = ?");
    auto insert = connection.cached("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)");
    if (!select || !insert)
        return fail(!select ? select.error() : insert.error());
    for (const KeyValue &param : params) {
        SqliteStatement &existing = **select;
        existing.bind(1, runId);
        existing.bind(2, param.key);
        auto row = existing.step();
        if (!row)
            return fail(row.error());
        const std::optional<QString> stored =
            row.value() ? std::optional<QString>(existing.columnText(0)) : std::nullopt;
        existing.reset();
        if (stored) {
            if (*stored == param.value)
                continue;
            return failWithCode(
                mlflowcode::kInvalidParameterValue,
                QStringLiteral("Changing param values is not allowed. Param with key='%1' was already logged "
                               "with value='%2' for run ID='%3'. Attempted logging new value '%4'.")
                    .arg(param.key, *stored, runId, param.value));
        }
        (*insert)->bind(1, runId);
        (*insert)->bind(2, param.key);
        (*insert)->bind(3, param.value);
        if (auto inserted = (*insert)->run(); !inserted)
            return fail(inserted.error());
    }
    return {};
}

Result<void> replaceParams(SqliteConnection &connection, const QString &runId, const QList<KeyValue> &params)
{
    auto upsert = connection.cached("INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)");
    if (!upsert)
        return fail(upsert.error());
    for (const KeyValue &param : params) {
        (*upsert)->bind(1, runId);
        (*upsert)->bind(2, param.key);
        (*upsert)->bind(3, param.value);
        if (auto stored = (*upsert)->run(); !stored)
            return stored;
    }
    return {};
}

Result<std::optional<QString>> runIdForSource(SqliteConnection &connection, const QString &source)
{
    auto select = connection.prepare("SELECT id FROM runs WHERE source = ?");
    if (!select)
        return fail(select.error());
    select->bind(1, source);
    auto row = select->step();
    if (!row)
        return fail(row.error());
    if (!row.value())
        return std::optional<QString>();
    return std::optional<QString>(select->columnText(0));
}

Result<void> renameRun(SqliteConnection &connection, const QString &runId, const QString &name)
{
    auto update = connection.prepare("UPDATE runs SET name = ? WHERE id = ?");
    if (!update)
        return fail(update.error());
    update->bind(1, name);
    update->bind(2, runId);
    return update->run();
}

Result<void> setTags(SqliteConnection &connection, const QString &runId, const QList<KeyValue> &tags)
{
    for (const KeyValue &tag : tags) {
        if (tag.key == QLatin1String("mlflow.runName") && !tag.value.isEmpty()) {
            if (auto renamed = renameRun(connection, runId, tag.value); !renamed)
                return renamed;
        }
        // A tag set again replaces its value, in run_tags and in the mirrored plain tag.
        if (auto removed = removeTag(connection, runId, tag.key); !removed)
            return removed;
        auto insert = connection.cached("INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)");
        if (!insert)
            return fail(insert.error());
        (*insert)->bind(1, runId);
        (*insert)->bind(2, tag.key);
        (*insert)->bind(3, tag.value);
        if (auto inserted = (*insert)->run(); !inserted)
            return fail(inserted.error());
        if (tag.key.startsWith(QLatin1String("mlflow.")))
            continue; // system tags are kept apart, not among the run's tags
        auto mirror = connection.cached("INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)");
        if (!mirror)
            return fail(mirror.error());
        (*mirror)->bind(1, runId);
        (*mirror)->bind(2, tag.value.isEmpty() ? tag.key : tag.key + QLatin1Char('=') + tag.value);
        if (auto inserted = (*mirror)->run(); !inserted)
            return fail(inserted.error());
    }
    return {};
}

Result<void> deleteTag(SqliteConnection &connection, const QString &runId, const QString &key)
{
    auto exists = connection.prepare("SELECT 1 FROM run_tags WHERE run_id = ? AND key = ?");
    if (!exists)
        return fail(exists.error());
    exists->bind(1, runId);
    exists->bind(2, key);
    auto row = exists->step();
    if (!row)
        return fail(row.error());
    if (!row.value())
        return failWithCode(mlflowcode::kResourceDoesNotExist,
                            QStringLiteral("No tag with name: %1 in run with id %2").arg(key, runId));
    return removeTag(connection, runId, key);
}

Result<void> changeRunStatus(SqliteConnection &connection, const QString &runId, RunStatus status, std::int64_t atMs)
{
    auto current = connection.prepare("SELECT status FROM runs WHERE id = ?");
    if (!current)
        return fail(current.error());
    current->bind(1, runId);
    auto row = current->step();
    if (!row)
        return fail(row.error());
    if (!row.value())
        return runNotFound(runId);
    if (runStatusFromString(current->columnText(0)) == status)
        return {};
    return applyRunStatus(connection, runId, status, atMs);
}

namespace {
Result<void> removeTag(SqliteConnection &connection, const QString &runId, const QString &key)
{
    auto removeKeyed = connection.cached("DELETE FROM run_tags WHERE run_id = ? AND key = ?");
    auto removePlain = connection.cached(
        "DELETE FROM tags WHERE run_id = ?1 AND (tag = ?2 OR substr(tag, 1, length(?2) + 1) = ?2 || '=')");
    if (!removeKeyed || !removePlain)
        return fail(!removeKeyed ? removeKeyed.error() : removePlain.error());
    for (SqliteStatement *statement : {*removeKeyed, *removePlain}) {
        statement->bind(1, runId);
        statement->bind(2, key);
        if (auto removed = statement->run(); !removed)
            return removed;
    }
    return {};
}
} // namespace

Result<void> logMetrics(SqliteConnection &connection, const QString &runId, std::span<const TrackedMetric> metrics)
{
    // Group by key in first-seen order; each key's points keep the order they were logged in.
    QHash<QString, int> seriesOfKey;
    std::vector<MetricChunkPoints> series;
    QStringList keys;
    for (const TrackedMetric &metric : metrics) {
        auto found = seriesOfKey.constFind(metric.key);
        if (found == seriesOfKey.constEnd()) {
            found = seriesOfKey.insert(metric.key, int(series.size()));
            series.emplace_back();
            keys.append(metric.key);
        }
        MetricChunkPoints &points = series[std::size_t(*found)];
        points.steps.push_back(metric.step);
        points.values.push_back(metric.value);
        points.tsMs.push_back(metric.tsMs);
    }
    for (std::size_t i = 0; i < series.size(); ++i) {
        auto keyId = metricKeyId(connection, runId, keys[qsizetype(i)]);
        if (!keyId)
            return fail(keyId.error());
        if (auto inserted = insertMetricPoints(connection, *keyId, series[i]); !inserted)
            return inserted;
    }
    return {};
}

Result<std::int64_t> journalOffset(SqliteConnection &connection, const QString &journal)
{
    auto select = connection.prepare("SELECT committed_offset FROM tracking_journals WHERE name = ?");
    if (!select)
        return fail(select.error());
    select->bind(1, journal);
    auto row = select->step();
    if (!row)
        return fail(row.error());
    return row.value() ? select->columnInt(0) : std::int64_t(0);
}

Result<void> saveJournalOffset(SqliteConnection &connection, const QString &journal, std::int64_t offset)
{
    auto upsert = connection.cached(
        "INSERT INTO tracking_journals (name, committed_offset) VALUES (?1, ?2)"
        " ON CONFLICT (name) DO UPDATE SET committed_offset = max(committed_offset, excluded.committed_offset)");
    if (!upsert)
        return fail(upsert.error());
    (*upsert)->bind(1, journal);
    (*upsert)->bind(2, offset);
    return (*upsert)->run();
}

Result<void> forgetJournal(SqliteConnection &connection, const QString &journal)
{
    auto remove = connection.prepare("DELETE FROM tracking_journals WHERE name = ?");
    if (!remove)
        return fail(remove.error());
    remove->bind(1, journal);
    return remove->run();
}

} // namespace trackingstore
} // namespace trainyard
