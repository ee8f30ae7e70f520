// Writing the metric pyramid. A chunk's points are summarised per base bin in memory, the coarser levels
// are merged from those, and each touched bin is upserted once: about points/64 + 13 rows per chunk.
#include "store/metricbins.h"

#include "store/metricchunk.h"
#include "store/sqlite.h"

#include <algorithm>
#include <map>
#include <vector>

namespace trainyard {

void BinSummary::add(std::int64_t step, double value, std::int64_t tsMs)
{
    if (count == 0 || step < firstStep) {
        firstStep = step;
        firstValue = value;
        firstTs = tsMs;
    }
    if (count == 0 || step >= lastStep) { // equal steps: the later-written point is the last
        lastStep = step;
        lastValue = value;
        lastTs = tsMs;
    }
    ++count;
    if (!std::isnan(value)) {
        if (finiteCount == 0 || value < minValue)
            minValue = value;
        if (finiteCount == 0 || value > maxValue)
            maxValue = value;
        sum += value;
        ++finiteCount;
    }
}

void BinSummary::merge(const BinSummary &later)
{
    if (later.count == 0)
        return;
    if (count == 0) {
        *this = later;
        return;
    }
    if (later.firstStep < firstStep) {
        firstStep = later.firstStep;
        firstValue = later.firstValue;
        firstTs = later.firstTs;
    }
    if (later.lastStep >= lastStep) {
        lastStep = later.lastStep;
        lastValue = later.lastValue;
        lastTs = later.lastTs;
    }
    count += later.count;
    if (later.finiteCount) {
        minValue = finiteCount ? std::min(minValue, later.minValue) : later.minValue;
        maxValue = finiteCount ? std::max(maxValue, later.maxValue) : later.maxValue;
        sum += later.sum;
        finiteCount += later.finiteCount;
    }
}

int chooseBaseBinLevel(std::int64_t points, std::int64_t stepSpan)
{
    constexpr int kDefaultLevel = 6; // one point per step is the common case
    if (points < 2 || stepSpan < 2)
        return kDefaultLevel;
    const double stepsPerPoint = double(stepSpan) / double(points);
    const int level = int(std::ceil(std::log2(std::max(1.0, stepsPerPoint * kPointsPerBaseBin))));
    return std::clamp(level, 0, kMaxBinLevel - kBinLevelStride * (kBinLevelCount - 1));
}

Result<int> metricBaseBinLevel(SqliteConnection &connection, std::int64_t keyId)
{
    auto cachedSelect = connection.cached("SELECT bin_base FROM metric_keys WHERE id = ?");
    if (!cachedSelect)
        return fail(cachedSelect.error());
    SqliteStatement &select = *cachedSelect.value();
    select.bind(1, keyId);
    auto row = select.step();
    if (!row)
        return fail(row.error());
    const int level = !row.value() || select.isNull(0) ? -1 : int(select.columnInt(0));
    select.reset(); // a cached statement left on a row would keep its read open
    return level;
}

namespace {

void bindValue(SqliteStatement &statement, int position, double value)
{
    if (std::isnan(value))
        statement.bindNull(position);
    else
        statement.bind(position, value);
}

void bindTimestamp(SqliteStatement &statement, int position, std::int64_t tsMs)
{
    if (tsMs == kNoTimestamp)
        statement.bindNull(position);
    else
        statement.bind(position, tsMs);
}

} // namespace

Result<void> updateMetricBins(SqliteConnection &connection, std::int64_t keyId, std::span<const std::int64_t> steps,
                              std::span<const double> values, std::span<const std::int64_t> tsMs)
{
    if (steps.empty())
        return {};
    auto base = metricBaseBinLevel(connection, keyId);
    if (!base)
        return fail(base.error());
    int baseLevel = base.value();
    if (baseLevel < 0) {
        const auto [minStep, maxStep] = std::minmax_element(steps.begin(), steps.end());
        baseLevel = chooseBaseBinLevel(std::int64_t(steps.size()), *maxStep - *minStep + 1);
        auto update = connection.prepare("UPDATE metric_keys SET bin_base = ? WHERE id = ?");
        if (!update)
            return fail(update.error());
        update->bind(1, std::int64_t(baseLevel));
        update->bind(2, keyId);
        if (auto updated = update->run(); !updated)
            return updated;
    }

    // Base-level bins of this chunk. Points usually arrive in step order, so the previous bin is the
    // likely one; the map keeps bins in step order for the merges above.
    std::map<std::int64_t, BinSummary> bins;
    auto current = bins.end();
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::int64_t bin = binOfStep(steps[i], baseLevel);
        if (current == bins.end() || current->first != bin)
            current = bins.try_emplace(bin).first;
        current->second.add(steps[i], values[i], tsMs[i]);
    }

    auto cachedUpsert = connection.cached(
        "INSERT INTO metric_bins (key_id, level, bin, n, finite_n, total, min_value, max_value,"
        " first_step, first_value, first_ts, last_step, last_value, last_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (key_id, level, bin) DO UPDATE SET"
        " n = n + excluded.n,"
        " finite_n = finite_n + excluded.finite_n,"
        " total = coalesce(total, 0) + coalesce(excluded.total, 0),"
        " min_value = CASE WHEN min_value IS NULL OR excluded.min_value < min_value THEN excluded.min_value ELSE "
        "min_value END,"
        " max_value = CASE WHEN max_value IS NULL OR excluded.max_value > max_value THEN excluded.max_value ELSE "
        "max_value END,"
        " first_step = CASE WHEN excluded.first_step < first_step THEN excluded.first_step ELSE first_step END,"
        " first_value = CASE WHEN excluded.first_step < first_step THEN excluded.first_value ELSE first_value END,"
        " first_ts = CASE WHEN excluded.first_step < first_step THEN excluded.first_ts ELSE first_ts END,"
        " last_step = CASE WHEN excluded.last_step >= last_step THEN excluded.last_step ELSE last_step END,"
        " last_value = CASE WHEN excluded.last_step >= last_step THEN excluded.last_value ELSE last_value END,"
        " last_ts = CASE WHEN excluded.last_step >= last_step THEN excluded.last_ts ELSE last_ts END");
    if (!cachedUpsert)
        return fail(cachedUpsert.error());
    SqliteStatement &upsert = *cachedUpsert.value();

    std::vector<std::pair<std::int64_t, BinSummary>> level(bins.begin(), bins.end());
    for (int j = 0; j < kBinLevelCount; ++j) {
        const int levelNumber = baseLevel + kBinLevelStride * j;
        if (j > 0) {
            // Bins of one level hold disjoint step ranges in ascending order, so merging neighbours
            // left to right keeps first/last exact.
            std::vector<std::pair<std::int64_t, BinSummary>> coarser;
            for (const auto &[bin, summary] : level) {
                const std::int64_t parent = bin >> kBinLevelStride;
                if (coarser.empty() || coarser.back().first != parent)
                    coarser.emplace_back(parent, summary);
                else
                    coarser.back().second.merge(summary);
            }
            level = std::move(coarser);
        }
        for (const auto &[bin, s] : level) {
            upsert.bind(1, keyId);
            upsert.bind(2, std::int64_t(levelNumber));
            upsert.bind(3, bin);
            upsert.bind(4, s.count);
            upsert.bind(5, s.finiteCount);
            if (s.finiteCount)
                bindValue(upsert, 6, s.sum);
            else
                upsert.bindNull(6);
            bindValue(upsert, 7, s.finiteCount ? s.minValue : std::numeric_limits<double>::quiet_NaN());
            bindValue(upsert, 8, s.finiteCount ? s.maxValue : std::numeric_limits<double>::quiet_NaN());
            upsert.bind(9, s.firstStep);
            bindValue(upsert, 10, s.firstValue);
            bindTimestamp(upsert, 11, s.firstTs);
            upsert.bind(12, s.lastStep);
            bindValue(upsert, 13, s.lastValue);
            bindTimestamp(upsert, 14, s.lastTs);
            if (auto written = upsert.run(); !written)
                return written;
        }
    }
    return {};
}

} // namespace trainyard
