#include "store/checkpoints.h"

#include "store/metricqueries.h"
#include "store/sqlite.h"

#include <QFileInfo>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>

namespace trainyard::checkpoints {

Result<void> record(SqliteConnection &connection, const CheckpointRecord &checkpoint)
{
    // A path seen again: the size and time follow the newest sighting; a step and metrics, once known, stay unless
    // the new sighting brings its own (the client's).
    auto statement = connection.prepare(
        "INSERT INTO checkpoints (run_id, path, step, bytes, created_ms, source, rank, metrics) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (run_id, path) DO UPDATE SET "
        "  step = coalesce(excluded.step, checkpoints.step), bytes = excluded.bytes, "
        "  source = CASE WHEN excluded.source = 'client' THEN 'client' ELSE checkpoints.source END, "
        "  rank = CASE WHEN excluded.rank >= 0 THEN excluded.rank ELSE checkpoints.rank END, "
        "  metrics = CASE WHEN excluded.metrics IS NOT NULL THEN excluded.metrics ELSE checkpoints.metrics END");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, checkpoint.runId);
    statement->bind(2, checkpoint.path);
    if (checkpoint.step)
        statement->bind(3, *checkpoint.step);
    else
        statement->bindNull(3);
    statement->bind(4, checkpoint.bytes);
    statement->bind(5, checkpoint.createdMs);
    statement->bind(6, checkpoint.source);
    statement->bind(7, std::int64_t(checkpoint.rank));
    if (checkpoint.metrics.isEmpty())
        statement->bindNull(8);
    else
        statement->bind(8, QString::fromUtf8(QJsonDocument(checkpoint.metrics).toJson(QJsonDocument::Compact)));
    return statement->run();
}

Result<QList<CheckpointRecord>> list(SqliteConnection &connection, const QString &runId)
{
    auto statement = connection.prepare("SELECT path, step, bytes, created_ms, source, rank, metrics FROM checkpoints "
                                        "WHERE run_id = ? ORDER BY step IS NULL, step, created_ms, path");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    QList<CheckpointRecord> found;
    auto read = statement->forEachRow([&] {
        CheckpointRecord checkpoint;
        checkpoint.runId = runId;
        checkpoint.path = statement->columnText(0);
        if (!statement->isNull(1))
            checkpoint.step = statement->columnInt(1);
        checkpoint.bytes = statement->columnInt(2);
        checkpoint.createdMs = statement->columnInt(3);
        checkpoint.source = statement->columnText(4);
        checkpoint.rank = int(statement->columnInt(5));
        if (!statement->isNull(6))
            checkpoint.metrics = QJsonDocument::fromJson(statement->columnText(6).toUtf8()).object();
        found.append(checkpoint);
    });
    if (!read)
        return fail(read.error());
    return found;
}

Result<CheckpointRecord> resumableAt(SqliteConnection &connection, const QString &runId, std::int64_t step)
{
    auto known = connection.prepare("SELECT count(*) FROM runs WHERE id = ?");
    if (!known)
        return fail(known.error());
    known->bind(1, runId);
    if (auto row = known->step(); !row)
        return fail(row.error());
    if (known->columnInt(0) == 0)
        return fail(QStringLiteral("run %1 is not in this workspace (`trainyard ls` lists its runs)").arg(runId));
    auto all = list(connection, runId);
    if (!all)
        return fail(all.error());
    QStringList steps;
    QStringList gone;
    for (const CheckpointRecord &checkpoint : *all) {
        if (!checkpoint.step)
            continue;
        steps << QString::number(*checkpoint.step);
        if (*checkpoint.step != step)
            continue;
        if (QFileInfo::exists(checkpoint.path))
            return checkpoint;
        gone << checkpoint.path;
    }
    if (!gone.isEmpty())
        return fail(QStringLiteral("the checkpoint of run %1 at step %2, %3, no longer exists (deleted by retention "
                                   "or by hand)")
                        .arg(runId)
                        .arg(step)
                        .arg(gone.join(QStringLiteral(", "))));
    steps.removeDuplicates();
    return fail(
        QStringLiteral("run %1 has no checkpoint at step %2 (%3)")
            .arg(runId)
            .arg(step)
            .arg(steps.isEmpty()
                     ? QStringLiteral("it has none with a step")
                     : QStringLiteral("its checkpoints are at steps %1").arg(steps.join(QStringLiteral(", ")))));
}

Result<QMultiMap<std::int64_t, QString>> children(SqliteConnection &connection, const QString &runId)
{
    auto statement = connection.prepare(
        "SELECT parent_step, id FROM runs WHERE parent_run_id = ? AND parent_step IS NOT NULL ORDER BY created_ms, id");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    QMultiMap<std::int64_t, QString> found;
    if (auto read = statement->forEachRow([&] { found.insert(statement->columnInt(0), statement->columnText(1)); });
        !read)
        return fail(read.error());
    return found;
}

Result<QSet<QString>> pathsChildrenStartedFrom(SqliteConnection &connection, const QString &runId,
                                               const QList<CheckpointRecord> &checkpoints)
{
    auto forks = children(connection, runId);
    if (!forks)
        return fail(forks.error());
    QSet<QString> paths;
    for (const CheckpointRecord &checkpoint : checkpoints)
        if (checkpoint.step && forks->contains(*checkpoint.step))
            paths.insert(checkpoint.path);
    return paths;
}

Result<void> forget(SqliteConnection &connection, const QString &runId, const QString &path)
{
    auto statement = connection.prepare("DELETE FROM checkpoints WHERE run_id = ? AND path = ?");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    statement->bind(2, path);
    return statement->run();
}

Result<QMap<std::int64_t, QJsonObject>> metricsAtSteps(SqliteConnection &connection, const QString &runId,
                                                       const QList<std::int64_t> &steps, const QString &onlyKey)
{
    QMap<std::int64_t, QJsonObject> metrics;
    if (steps.isEmpty())
        return metrics;
    auto keys = metricqueries::keySummaries(connection, runId);
    if (!keys)
        return fail(keys.error());
    for (const MetricKeySummary &key : *keys) {
        if (key.key.startsWith(QLatin1String("sys/")) || key.key.startsWith(QLatin1String("perf/")))
            continue;
        if (!onlyKey.isEmpty() && key.key != onlyKey)
            continue;
        auto points = metricqueries::series(connection, runId, key.key);
        if (!points)
            return fail(points.error());
        std::stable_sort(points->begin(), points->end(),
                         [](const MetricPoint &a, const MetricPoint &b) { return a.step < b.step; });
        for (std::int64_t step : steps) {
            // The last point at or before the step (points are in step order).
            const auto after =
                std::upper_bound(points->begin(), points->end(), step,
                                 [](std::int64_t s, const MetricPoint &point) { return s < point.step; });
            if (after == points->begin())
                continue;
            const double value = std::prev(after)->value;
            metrics[step].insert(key.key, std::isfinite(value) ? QJsonValue(value) : QJsonValue(QStringLiteral("nan")));
        }
    }
    return metrics;
}

QJsonObject metricsOf(const CheckpointRecord &checkpoint, const QMap<std::int64_t, QJsonObject> &metricsAtSteps)
{
    QJsonObject metrics = checkpoint.step ? metricsAtSteps.value(*checkpoint.step) : QJsonObject();
    for (auto it = checkpoint.metrics.constBegin(); it != checkpoint.metrics.constEnd(); ++it)
        metrics.insert(it.key(), it.value());
    return metrics;
}

QStringList describeMetrics(const QJsonObject &metrics, int precision)
{
    QStringList items;
    for (auto it = metrics.constBegin(); it != metrics.constEnd(); ++it)
        items << it.key() + QLatin1Char('=')
                + (it.value().isDouble() ? QString::number(it.value().toDouble(), 'g', precision)
                                         : it.value().toVariant().toString());
    return items;
}

} // namespace trainyard::checkpoints
