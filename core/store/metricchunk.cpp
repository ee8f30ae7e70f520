// Packing points into chunk rows: one SQLite row per up to thousands of points, instead of one per point
// plus an index entry, is what lets ingestion keep up with millions of points per second.
#include "store/metricchunk.h"

#include "store/metricbins.h"
#include "store/sqlite.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include <sqlite3.h>

namespace trainyard {

static_assert(std::endian::native == std::endian::little, "chunks are stored little-endian");

namespace {
const QString &gpuUtilizationPattern()
{
    static const QString pattern = QString::fromLatin1(kGpuUtilizationKeyPattern);
    return pattern;
}
} // namespace

Result<void> insertMetricChunk(SqliteConnection &connection, std::int64_t keyId, std::span<const std::int64_t> steps,
                               std::span<const double> values, std::span<const std::int64_t> tsMs)
{
    if (auto inserted = insertMetricChunkRow(connection, keyId, steps, values, tsMs); !inserted)
        return inserted;
    // The run's first training metric (system metrics aside): the throughput review's time to first step.
    std::int64_t firstTs = std::numeric_limits<std::int64_t>::max();
    for (std::int64_t ts : tsMs)
        if (ts != kNoTimestamp)
            firstTs = std::min(firstTs, ts);
    if (firstTs != std::numeric_limits<std::int64_t>::max()) {
        auto cachedStatement = connection.cached("UPDATE runs SET first_metric_ms = ?2 WHERE id = (SELECT run_id FROM "
                                                 "metric_keys WHERE id = ?1 AND key NOT LIKE 'sys/%')"
                                                 " AND (first_metric_ms IS NULL OR first_metric_ms > ?2)");
        if (!cachedStatement)
            return fail(cachedStatement.error());
        SqliteStatement *update = cachedStatement.value();
        update->bind(1, keyId);
        update->bind(2, firstTs);
        if (auto updated = update->run(); !updated)
            return updated;
    }
    // A GPU utilisation key's samples add to its run's sum and count (NaN is no sample, as in the pyramid).
    double sum = 0;
    std::int64_t samples = 0;
    for (double value : values)
        if (!std::isnan(value))
            sum += value, ++samples;
    if (samples > 0) {
        auto cachedStatement = connection.cached(
            "UPDATE runs SET gpu_util_sum = gpu_util_sum + ?2, gpu_util_samples = gpu_util_samples + ?3"
            " WHERE id = (SELECT run_id FROM metric_keys WHERE id = ?1 AND key LIKE ?4)");
        if (!cachedStatement)
            return fail(cachedStatement.error());
        SqliteStatement *update = cachedStatement.value();
        update->bind(1, keyId);
        update->bind(2, sum);
        update->bind(3, samples);
        update->bind(4, gpuUtilizationPattern());
        if (auto updated = update->run(); !updated)
            return updated;
    }
    return updateMetricBins(connection, keyId, steps, values, tsMs);
}

Result<void> insertMetricChunkRow(SqliteConnection &connection, std::int64_t keyId, std::span<const std::int64_t> steps,
                                  std::span<const double> values, std::span<const std::int64_t> tsMs)
{
    if (steps.empty())
        return {};
    std::int64_t minStep = steps[0], maxStep = steps[0];
    double minValue = std::numeric_limits<double>::infinity(), maxValue = -std::numeric_limits<double>::infinity();
    bool anyFinite = false;
    bool anyTimestamp = false;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        minStep = std::min(minStep, steps[i]);
        maxStep = std::max(maxStep, steps[i]);
        if (!std::isnan(values[i])) {
            minValue = std::min(minValue, values[i]);
            maxValue = std::max(maxValue, values[i]);
            anyFinite = true;
        }
        anyTimestamp = anyTimestamp || tsMs[i] != kNoTimestamp;
    }
    auto cachedStatement = connection.cached("INSERT INTO metric_chunks (key_id, point_count, min_step, max_step, "
                                             "min_value, max_value, last_step, last_value,"
                                             " steps, vals, ts) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    if (!cachedStatement)
        return fail(cachedStatement.error());
    SqliteStatement *statement = cachedStatement.value();
    statement->bind(1, keyId);
    statement->bind(2, std::int64_t(steps.size()));
    statement->bind(3, minStep);
    statement->bind(4, maxStep);
    if (anyFinite) {
        statement->bind(5, minValue);
        statement->bind(6, maxValue);
    } else {
        statement->bindNull(5);
        statement->bindNull(6);
    }
    statement->bind(7, steps.back());
    statement->bind(8, values.back()); // NaN binds as NULL
    statement->bindBlob(9, steps.data(), int(steps.size_bytes()));
    statement->bindBlob(10, values.data(), int(values.size_bytes()));
    if (anyTimestamp)
        statement->bindBlob(11, tsMs.data(), int(tsMs.size_bytes()));
    else
        statement->bindNull(11);
    return statement->run();
}

Result<void> insertMetricPoints(SqliteConnection &connection, std::int64_t keyId, const MetricChunkPoints &points)
{
    for (std::size_t start = 0; start < points.steps.size(); start += kMaxPointsPerChunk) {
        const std::size_t count = std::min(kMaxPointsPerChunk, points.steps.size() - start);
        if (auto inserted = insertMetricChunk(connection, keyId, std::span(points.steps).subspan(start, count),
                                              std::span(points.values).subspan(start, count),
                                              std::span(points.tsMs).subspan(start, count));
            !inserted)
            return inserted;
    }
    return {};
}

Result<std::int64_t> metricKeyId(SqliteConnection &connection, const QString &runId, const QString &key)
{
    // Cached: the tracking API looks keys up on every request.
    auto insert = connection.cached("INSERT OR IGNORE INTO metric_keys (run_id, key) VALUES (?, ?)");
    if (!insert)
        return fail(insert.error());
    (*insert)->bind(1, runId);
    (*insert)->bind(2, key);
    if (auto inserted = (*insert)->run(); !inserted)
        return fail(inserted.error());
    auto select = connection.cached("SELECT id FROM metric_keys WHERE run_id = ? AND key = ?");
    if (!select)
        return fail(select.error());
    SqliteStatement &statement = **select;
    statement.bind(1, runId);
    statement.bind(2, key);
    auto found = statement.step();
    if (!found)
        return fail(found.error());
    if (!found.value())
        return fail(QStringLiteral("cannot find metric key %1 of run %2").arg(key, runId));
    const std::int64_t id = statement.columnInt(0);
    statement.reset();
    return id;
}

void decodeMetricChunk(const void *steps, int stepsBytes, const void *values, int valuesBytes, const void *tsMs,
                       int tsBytes, QList<MetricPoint> &out)
{
    const std::size_t count = std::size_t(std::min(stepsBytes, valuesBytes)) / 8;
    const bool hasTs = tsMs && std::size_t(tsBytes) / 8 >= count;
    const auto *stepBytes = static_cast<const unsigned char *>(steps);
    const auto *valueBytes = static_cast<const unsigned char *>(values);
    const auto *tsBytesPtr = static_cast<const unsigned char *>(tsMs);
    out.reserve(out.size() + qsizetype(count));
    for (std::size_t i = 0; i < count; ++i) {
        MetricPoint point;
        std::memcpy(&point.step, stepBytes + i * 8, 8);
        std::memcpy(&point.value, valueBytes + i * 8, 8);
        if (hasTs) {
            std::int64_t ts = 0;
            std::memcpy(&ts, tsBytesPtr + i * 8, 8);
            if (ts != kNoTimestamp)
                point.tsMs = ts;
        }
        out << point;
    }
}

} // namespace trainyard
