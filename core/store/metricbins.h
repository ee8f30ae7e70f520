// The metric pyramid: for every key, summaries of the points in step-aligned bins at several widths, so
// that any visible range is answered by about as many rows as the chart has pixels (see docs/STORAGE.md).
//
// Level L holds bins of 2^L steps: bin b covers steps [b * 2^L, (b + 1) * 2^L - 1]. A key's levels are
// base, base + 2, ..., base + 2 * (kBinLevelCount - 1), where the base is chosen from the key's first
// chunk so that a base bin holds about kPointsPerBaseBin points. Bins are merged on write (an upsert),
// so points may arrive in any step order, in chunks of any size, and every bin stays exact.
#pragma once

#include "result.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace trainyard {

class SqliteConnection;

inline constexpr int kBinLevelCount = 13;
inline constexpr int kBinLevelStride = 2; // each level's bins are 4 times as wide as the one below
inline constexpr double kPointsPerBaseBin = 64;
inline constexpr int kMaxBinLevel = 62;

// Summary of the points of one key whose steps fall in one interval. first/last follow the order the
// series is read in: by step, and for equal steps by the order the points were written.
struct BinSummary {
    std::int64_t count = 0;
    std::int64_t finiteCount = 0; // points that are not NaN (min, max and sum are over these)
    double sum = 0;
    double minValue = std::numeric_limits<double>::quiet_NaN();
    double maxValue = std::numeric_limits<double>::quiet_NaN();
    std::int64_t firstStep = 0;
    double firstValue = 0;
    std::int64_t firstTs = 0; // kNoTimestamp when the point had none
    std::int64_t lastStep = 0;
    double lastValue = 0;
    std::int64_t lastTs = 0;

    // Adds one point written after every point already in the summary.
    void add(std::int64_t step, double value, std::int64_t tsMs);
    // Merges a summary of points written after (later) those in this one.
    void merge(const BinSummary &later);
    double mean() const { return finiteCount ? sum / double(finiteCount) : std::numeric_limits<double>::quiet_NaN(); }
};

// The first step of bin `bin` at `level`, and the bin a step falls in (floor division, negative steps too).
inline std::int64_t binFirstStep(std::int64_t bin, int level) { return bin * (std::int64_t(1) << level); }
inline std::int64_t binOfStep(std::int64_t step, int level) { return step >> level; }

// The base level for a key whose first points span `stepSpan` steps with `points` points.
int chooseBaseBinLevel(std::int64_t points, std::int64_t stepSpan);

// Folds a chunk's points into the key's bins at every level (choosing the key's base level on its first
// chunk). Called in the same transaction as the chunk insert.
Result<void> updateMetricBins(SqliteConnection &connection, std::int64_t keyId, std::span<const std::int64_t> steps,
                              std::span<const double> values, std::span<const std::int64_t> tsMs);

// The base level of a key, or -1 when it has no bins yet.
Result<int> metricBaseBinLevel(SqliteConnection &connection, std::int64_t keyId);

} // namespace trainyard
