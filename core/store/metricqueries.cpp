// Metric queries. NULL values are NaN points (SQLite cannot store NaN).
#include "store/metricqueries.h"

#include "store/metricchunk.h"
#include "store/sqlite.h"

#include <algorithm>

#include <limits>

namespace trainyard::metricqueries {

Result<QList<MetricKeySummary>> keySummaries(SqliteConnection &connection, const QString &runId)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    // From the chunk summaries alone. The last value is that of the chunk holding the highest step (the
    // newest such chunk); min and max skip NaN, and are NaN when every point is.
    auto statement = connection.prepare(
        "SELECT k.key, sum(c.point_count), min(c.min_step), max(c.max_step), min(c.min_value), max(c.max_value),"
        " (SELECT last_value FROM metric_chunks WHERE key_id = k.id ORDER BY last_step DESC, id DESC LIMIT 1)"
        " FROM metric_keys k JOIN metric_chunks c ON c.key_id = k.id WHERE k.run_id = ? AND k.superseded_attempt IS "
        "NULL"
        " GROUP BY k.id ORDER BY k.key");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    QList<MetricKeySummary> summaries;
    if (auto stepped = statement->forEachRow([&] {
            MetricKeySummary summary;
            summary.key = statement->columnText(0);
            summary.points = statement->columnInt(1);
            summary.firstStep = statement->columnInt(2);
            summary.lastStep = statement->columnInt(3);
            summary.minValue = statement->columnDoubleOrNaN(4);
            summary.maxValue = statement->columnDoubleOrNaN(5);
            summary.lastValue = statement->columnDoubleOrNaN(6);
            summaries << summary;
        });
        !stepped)
        return fail(stepped.error());
    return summaries;
}

Result<void> appendChunkPoints(SqliteStatement &statement, QList<MetricPoint> &points)
{
    int stepBytes = 0, valueBytes = 0, tsBytes = 0;
    const void *steps = statement.columnBlob(0, stepBytes);
    const void *values = statement.columnBlob(1, valueBytes);
    const void *timestamps = statement.columnBlob(2, tsBytes);
    if (!steps || !values || stepBytes != valueBytes || stepBytes % 8 != 0)
        return fail(QStringLiteral("a metric chunk is damaged (steps %1 bytes, values %2 bytes)")
                        .arg(stepBytes)
                        .arg(valueBytes));
    decodeMetricChunk(steps, stepBytes, values, valueBytes, timestamps, tsBytes, points);
    return {};
}

Result<QList<MetricPoint>> series(SqliteConnection &connection, const QString &runId, const QString &key)
{
    auto statement =
        connection.prepare("SELECT c.steps, c.vals, c.ts FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id"
                           " WHERE k.run_id = ? AND k.key = ? ORDER BY c.id");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    statement->bind(2, key);
    QList<MetricPoint> points;
    if (auto stepped = statement->forEachRow([&] { return appendChunkPoints(statement.value(), points); }); !stepped)
        return fail(stepped.error());
    // Step order; points of one step keep the order they were written in.
    std::stable_sort(points.begin(), points.end(),
                     [](const MetricPoint &a, const MetricPoint &b) { return a.step < b.step; });
    return points;
}

Result<std::int64_t> pointCount(SqliteConnection &connection, const QString &runId)
{
    auto statement = connection.prepare("SELECT coalesce(sum(point_count), 0) FROM metric_chunks WHERE key_id IN "
                                        "(SELECT id FROM metric_keys WHERE run_id = ?)");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    auto row = statement->step();
    if (!row)
        return fail(row.error());
    return statement->columnInt(0);
}

} // namespace trainyard::metricqueries
