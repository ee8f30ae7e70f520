// Envelope queries over the metric pyramid. A range is answered from the level whose bins are at most one
// pixel wide (so at most 4 bins per pixel are read), its partial edge bins from the points themselves, so
// every bucket is exact; ranges small enough to hold fewer than 64 points per pixel come from the points.
#include "store/metricenvelope.h"

#include "store/metricchunk.h"
#include "store/sqlite.h"

#include <algorithm>
#include <cstring>

namespace trainyard::metricqueries {

namespace {

struct RawPoint {
    std::int64_t step;
    double value;
    std::int64_t tsMs;
};

std::int64_t timestampOrNone(const SqliteStatement &statement, int column)
{
    return statement.isNull(column) ? kNoTimestamp : statement.columnInt(column);
}

// Points of the key with a step in [lo, hi], by step and then in the order they were written. Reuses one
// buffer per thread: allocating megabytes afresh per query cost more in page faults than the query itself.
Result<const std::vector<RawPoint> *> readPoints(SqliteConnection &connection, std::int64_t keyId, std::int64_t lo,
                                                 std::int64_t hi)
{
    thread_local std::vector<RawPoint> points;
    points.clear();
    auto select = connection.prepare(
        "SELECT steps, vals, ts FROM metric_chunks WHERE key_id = ? AND max_step >= ? AND min_step <= ? ORDER BY id");
    if (!select)
        return fail(select.error());
    select->bind(1, keyId);
    select->bind(2, lo);
    select->bind(3, hi);
    if (auto stepped = select->forEachRow([&]() -> Result<void> {
            int stepBytes = 0, valueBytes = 0, tsBytes = 0;
            const auto *steps = static_cast<const char *>(select->columnBlob(0, stepBytes));
            const auto *values = static_cast<const char *>(select->columnBlob(1, valueBytes));
            const auto *timestamps = static_cast<const char *>(select->columnBlob(2, tsBytes));
            if (!steps || !values || stepBytes != valueBytes || stepBytes % 8 != 0)
                return fail(QStringLiteral("a metric chunk of key %1 is damaged").arg(keyId));
            const std::size_t count = std::size_t(stepBytes) / 8;
            const bool hasTs = timestamps && std::size_t(tsBytes) >= count * 8;
            for (std::size_t i = 0; i < count; ++i) {
                RawPoint point;
                std::memcpy(&point.step, steps + i * 8, 8);
                if (point.step < lo || point.step > hi)
                    continue;
                std::memcpy(&point.value, values + i * 8, 8);
                point.tsMs = kNoTimestamp;
                if (hasTs)
                    std::memcpy(&point.tsMs, timestamps + i * 8, 8);
                points.push_back(point);
            }
            return {};
        });
        !stepped)
        return fail(stepped.error());
    const auto byStep = [](const RawPoint &a, const RawPoint &b) { return a.step < b.step; };
    if (!std::is_sorted(points.begin(), points.end(), byStep))
        std::stable_sort(points.begin(), points.end(), byStep);
    return &points;
}

// Builds buckets from units (points or whole bins) given in step order: consecutive units whose first
// step falls in the same pixel share a bucket.
class BucketBuilder {
public:
    BucketBuilder(MetricEnvelope &envelope, int pixels) : m_envelope(envelope), m_pixels(pixels) { }

    void add(std::int64_t lo, std::int64_t hi, const BinSummary &summary)
    {
        const int pixel = pixelOfStep(lo, m_envelope.fromStep, m_envelope.toStep, m_pixels);
        auto &buckets = m_envelope.buckets;
        if (!buckets.empty() && pixel == m_lastPixel) {
            buckets.back().hiStep = hi;
            buckets.back().summary.merge(summary);
            return;
        }
        buckets.push_back({lo, hi, summary});
        m_lastPixel = pixel;
    }

    void addPoints(const std::vector<RawPoint> &points)
    {
        for (const auto &point : points) {
            BinSummary single;
            single.add(point.step, point.value, point.tsMs);
            add(point.step, point.step, single);
        }
    }

private:
    MetricEnvelope &m_envelope;
    int m_pixels;
    int m_lastPixel = -1;
};

Result<void> readBins(SqliteConnection &connection, std::int64_t keyId, int level, std::int64_t firstBin,
                      std::int64_t lastBin, const MetricEnvelope &envelope, BucketBuilder &builder)
{
    auto select = connection.prepare(
        "SELECT bin, n, finite_n, total, min_value, max_value, first_step, first_value, first_ts, last_step, "
        "last_value,"
        " last_ts FROM metric_bins WHERE key_id = ? AND level = ? AND bin BETWEEN ? AND ? ORDER BY bin");
    if (!select)
        return fail(select.error());
    select->bind(1, keyId);
    select->bind(2, std::int64_t(level));
    select->bind(3, firstBin);
    select->bind(4, lastBin);
    return select->forEachRow([&] {
        const std::int64_t bin = select->columnInt(0);
        BinSummary summary;
        summary.count = select->columnInt(1);
        summary.finiteCount = select->columnInt(2);
        summary.sum = select->isNull(3) ? 0 : select->columnDouble(3);
        summary.minValue = select->columnDoubleOrNaN(4);
        summary.maxValue = select->columnDoubleOrNaN(5);
        summary.firstStep = select->columnInt(6);
        summary.firstValue = select->columnDoubleOrNaN(7);
        summary.firstTs = timestampOrNone(select.value(), 8);
        summary.lastStep = select->columnInt(9);
        summary.lastValue = select->columnDoubleOrNaN(10);
        summary.lastTs = timestampOrNone(select.value(), 11);
        const std::int64_t lo = std::max(envelope.fromStep, binFirstStep(bin, level));
        const std::int64_t hi = std::min(envelope.toStep, binFirstStep(bin + 1, level) - 1);
        builder.add(lo, hi, summary);
    });
}

Result<void> fillEnvelope(SqliteConnection &connection, std::int64_t keyId, const EnvelopeRequest &request,
                          MetricEnvelope &envelope)
{
    auto base = metricBaseBinLevel(connection, keyId);
    if (!base)
        return fail(base.error());
    if (base.value() < 0)
        return {}; // no points yet
    const int baseLevel = base.value();
    const int topLevel = baseLevel + kBinLevelStride * (kBinLevelCount - 1);

    auto range =
        connection.prepare("SELECT min(first_step), max(last_step) FROM metric_bins WHERE key_id = ? AND level = ?");
    if (!range)
        return fail(range.error());
    range->bind(1, keyId);
    range->bind(2, std::int64_t(topLevel));
    if (auto row = range->step(); !row)
        return fail(row.error());
    if (range->isNull(0))
        return {};
    envelope.seriesFirstStep = range->columnInt(0);
    envelope.seriesLastStep = range->columnInt(1);
    envelope.fromStep = request.fromStep.value_or(envelope.seriesFirstStep);
    envelope.toStep = request.toStep.value_or(envelope.seriesLastStep);
    if (envelope.toStep < envelope.fromStep)
        return {};

    const int pixels = std::max(1, request.pixels);
    const double stepsPerPixel = (double(envelope.toStep) - double(envelope.fromStep) + 1) / pixels;
    int level = -1;
    for (int candidate = baseLevel; candidate <= topLevel; candidate += kBinLevelStride) {
        if (std::ldexp(1.0, candidate) <= stepsPerPixel)
            level = candidate;
    }
    BucketBuilder builder(envelope, pixels);
    if (level >= 0) {
        const std::int64_t firstBin = binOfStep(envelope.fromStep, level);
        const std::int64_t lastBin = binOfStep(envelope.toStep, level);
        const std::int64_t firstWhole = binFirstStep(firstBin, level) == envelope.fromStep ? firstBin : firstBin + 1;
        const std::int64_t lastWhole = binFirstStep(lastBin + 1, level) - 1 == envelope.toStep ? lastBin : lastBin - 1;
        if (firstWhole <= lastWhole) {
            envelope.level = level;
            if (firstWhole > firstBin) {
                auto edge = readPoints(connection, keyId, envelope.fromStep, binFirstStep(firstWhole, level) - 1);
                if (!edge)
                    return fail(edge.error());
                builder.addPoints(*edge.value());
            }
            if (auto bins = readBins(connection, keyId, level, firstWhole, lastWhole, envelope, builder); !bins)
                return bins;
            if (lastWhole < lastBin) {
                auto edge = readPoints(connection, keyId, binFirstStep(lastWhole + 1, level), envelope.toStep);
                if (!edge)
                    return fail(edge.error());
                builder.addPoints(*edge.value());
            }
            return {};
        }
    }
    auto points = readPoints(connection, keyId, envelope.fromStep, envelope.toStep);
    if (!points)
        return fail(points.error());
    if (points.value()->size() <= std::size_t(pixels)) {
        envelope.fullResolution = true;
        envelope.buckets.reserve(points.value()->size());
        for (const auto &point : *points.value()) {
            if (envelope.buckets.empty() || envelope.buckets.back().loStep != point.step)
                envelope.buckets.push_back({point.step, point.step, {}});
            envelope.buckets.back().summary.add(point.step, point.value, point.tsMs); // equal steps share one
        }
        return {};
    }
    builder.addPoints(*points.value());
    return {};
}

} // namespace

// Steps span the whole int64 range, so offset * pixels needs 128 bits (a GCC and Clang extension).
__extension__ using Int128 = __int128;

int pixelOfStep(std::int64_t step, std::int64_t fromStep, std::int64_t toStep, int pixels)
{
    const Int128 offset = Int128(step) - fromStep;
    const Int128 width = Int128(toStep) - fromStep + 1;
    if (offset <= 0 || width <= 0)
        return 0;
    return int(std::min<Int128>(pixels - 1, offset * pixels / width));
}

Result<MetricEnvelope> envelope(SqliteConnection &connection, std::int64_t keyId, const EnvelopeRequest &request)
{
    // One snapshot, so the bins and the chunks read agree while a writer commits.
    auto snapshot = SqliteTransaction::snapshot(connection);
    if (!snapshot)
        return fail(snapshot.error());
    MetricEnvelope result;
    if (auto filled = fillEnvelope(connection, keyId, request, result); !filled)
        return fail(filled.error());
    return result;
}

Result<MetricEnvelope> envelope(SqliteConnection &connection, const QString &runId, const QString &key,
                                const EnvelopeRequest &request)
{
    auto select = connection.prepare("SELECT id FROM metric_keys WHERE run_id = ? AND key = ?");
    if (!select)
        return fail(select.error());
    select->bind(1, runId);
    select->bind(2, key);
    auto row = select->step();
    if (!row)
        return fail(row.error());
    if (!row.value())
        return MetricEnvelope{};
    return envelope(connection, select->columnInt(0), request);
}

} // namespace trainyard::metricqueries
