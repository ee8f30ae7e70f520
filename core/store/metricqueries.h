// Read-only queries over a run's metric series.
#pragma once

#include "result.h"

#include <QList>
#include <QString>

#include <cstdint>
#include <optional>

namespace trainyard {

class SqliteConnection;
class SqliteStatement;

struct MetricPoint {
    std::int64_t step = 0;
    double value = 0; // NaN when the run logged NaN
    std::optional<std::int64_t> tsMs;
};

struct MetricKeySummary {
    QString key;
    std::int64_t points = 0;
    std::int64_t firstStep = 0;
    std::int64_t lastStep = 0;
    double lastValue = 0;
    double minValue = 0;
    double maxValue = 0;
};

namespace metricqueries {

// Every key of the run with its point count, step range, last, min and max value (one snapshot).
Result<QList<MetricKeySummary>> keySummaries(SqliteConnection &connection, const QString &runId);
// Every point of one key, in step order (then insertion order).
Result<QList<MetricPoint>> series(SqliteConnection &connection, const QString &runId, const QString &key);
Result<std::int64_t> pointCount(SqliteConnection &connection, const QString &runId);
// Decodes the chunk row the statement is on (columns 0, 1, 2: steps, vals, ts) onto the end of points.
Result<void> appendChunkPoints(SqliteStatement &statement, QList<MetricPoint> &points);

} // namespace metricqueries
} // namespace trainyard
