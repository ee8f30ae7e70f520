// Metric queries. NULL values are NaN points (SQLite cannot store NaN).
#include "store/metricqueries.h"

#include "store/sqlite.h"

#include <limits>

namespace trainyard::metricqueries {

namespace {
double valueOrNaN(const SqliteStatement &statement, int column)
{
    return statement.isNull(column) ? std::numeric_limits<double>::quiet_NaN() : statement.columnDouble(column);
}
} // namespace

Result<QList<MetricKeySummary>> keySummaries(SqliteConnection &connection, const QString &runId)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    auto statement = connection.prepare(
        "SELECT k.key, count(p.step), min(p.step), max(p.step), min(p.value), max(p.value),"
        " (SELECT value FROM metric_points WHERE key_id = k.id ORDER BY step DESC, rowid DESC LIMIT 1)"
        " FROM metric_keys k JOIN metric_points p ON p.key_id = k.id WHERE k.run_id = ? GROUP BY k.id ORDER BY k.key");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    QList<MetricKeySummary> summaries;
    for (;;) {
        auto row = statement->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return summaries;
        MetricKeySummary summary;
        summary.key = statement->columnText(0);
        summary.points = statement->columnInt(1);
        summary.firstStep = statement->columnInt(2);
        summary.lastStep = statement->columnInt(3);
        summary.minValue = valueOrNaN(statement.value(), 4);
        summary.maxValue = valueOrNaN(statement.value(), 5);
        summary.lastValue = valueOrNaN(statement.value(), 6);
        summaries << summary;
    }
}

Result<QList<MetricPoint>> series(SqliteConnection &connection, const QString &runId, const QString &key)
{
    auto statement = connection.prepare(
        "SELECT p.step, p.value, p.ts_ms FROM metric_points p JOIN metric_keys k ON k.id = p.key_id"
        " WHERE k.run_id = ? AND k.key = ? ORDER BY p.step, p.rowid");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    statement->bind(2, key);
    QList<MetricPoint> points;
    for (;;) {
        auto row = statement->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return points;
        MetricPoint point;
        point.step = statement->columnInt(0);
        point.value = valueOrNaN(statement.value(), 1);
        if (!statement->isNull(2))
            point.tsMs = statement->columnInt(2);
        points << point;
    }
}

Result<std::int64_t> pointCount(SqliteConnection &connection, const QString &runId)
{
    auto statement = connection.prepare(
        "SELECT count(*) FROM metric_points WHERE key_id IN (SELECT id FROM metric_keys WHERE run_id = ?)");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    auto row = statement->step();
    if (!row)
        return fail(row.error());
    return statement->columnInt(0);
}

} // namespace trainyard::metricqueries
