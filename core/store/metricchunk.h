// MetricChunk: a run of consecutive points of one metric key, stored as one row of metric_chunks with
// packed arrays and a summary (count, step range, finite min/max, last point).
#pragma once

#include "store/metricqueries.h"

#include <QByteArray>

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace trainyard {

class SqliteConnection;

inline constexpr std::int64_t kNoTimestamp = std::numeric_limits<std::int64_t>::min();
// The LIKE pattern of GPU utilisation keys (sys/gpu<N>/utilization_percent from GPU telemetry), whose samples
// each run's row sums for the throughput review (runs.gpu_util_sum, runs.gpu_util_samples).
inline constexpr const char *kGpuUtilizationKeyPattern = "sys/gpu%/util%";

// The most points one chunk row holds: bigger series are stored as several consecutive chunks.
inline constexpr std::size_t kMaxPointsPerChunk = 8192;

struct MetricChunkPoints {
    std::vector<std::int64_t> steps;
    std::vector<double> values;     // NaN kept as NaN (the packed form stores doubles bit for bit)
    std::vector<std::int64_t> tsMs; // kNoTimestamp where a point has none
};

// Inserts the points (in their order) as one chunk row of key_id and folds them into the key's pyramid; keeps
// the run's first training-metric time and, for a GPU utilisation key, its utilisation sum and count.
Result<void> insertMetricChunk(SqliteConnection &connection, std::int64_t keyId, std::span<const std::int64_t> steps,
                               std::span<const double> values, std::span<const std::int64_t> tsMs);
// Inserts one key's points (in their order) as consecutive chunks of at most kMaxPointsPerChunk points each.
Result<void> insertMetricPoints(SqliteConnection &connection, std::int64_t keyId, const MetricChunkPoints &points);
// The chunk row alone, as schema version 3 knew it (its migration converts with this).
Result<void> insertMetricChunkRow(SqliteConnection &connection, std::int64_t keyId, std::span<const std::int64_t> steps,
                                  std::span<const double> values, std::span<const std::int64_t> tsMs);

// The id of a run's metric key, creating the key when it is new.
Result<std::int64_t> metricKeyId(SqliteConnection &connection, const QString &runId, const QString &key);

// Decodes the packed columns of a chunk row.
void decodeMetricChunk(const void *steps, int stepsBytes, const void *values, int valuesBytes, const void *tsMs,
                       int tsBytes, QList<MetricPoint> &out);

} // namespace trainyard
