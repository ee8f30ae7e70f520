// Envelope queries against a brute-force computation over the same points, and the spike that no zoom
// level may hide.
#include "store/metricchunk.h"
#include "store/metricenvelope.h"
#include "store/metricqueries.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"

#include <QRandomGenerator>
#include <QTest>

#include <cmath>

using namespace trainyard;

namespace {

struct Point {
    std::int64_t step;
    double value;
    std::int64_t tsMs;
};

bool sameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// The brute-force summary of the points (in write order) whose step is in [lo, hi].
BinSummary bruteForce(const std::vector<Point> &points, std::int64_t lo, std::int64_t hi)
{
    BinSummary s;
    bool haveFirst = false;
    for (const auto &p : points) {
        if (p.step < lo || p.step > hi)
            continue;
        ++s.count;
        if (!haveFirst || p.step < s.firstStep) { // strict: the earliest-written of equal steps stays first
            s.firstStep = p.step;
            s.firstValue = p.value;
            s.firstTs = p.tsMs;
            haveFirst = true;
        }
        if (s.count == 1 || p.step >= s.lastStep) { // the latest-written of equal steps is last
            s.lastStep = p.step;
            s.lastValue = p.value;
            s.lastTs = p.tsMs;
        }
        if (!std::isnan(p.value)) {
            s.minValue = s.finiteCount ? std::min(s.minValue, p.value) : p.value;
            s.maxValue = s.finiteCount ? std::max(s.maxValue, p.value) : p.value;
            s.sum += p.value;
            ++s.finiteCount;
        }
    }
    return s;
}

// Writes the points in chunks of random sizes, as ingestion batches of any size would.
void insertPoints(SqliteConnection &connection, std::int64_t keyId, const std::vector<Point> &points,
                  QRandomGenerator &random, int maxChunk)
{
    auto transaction = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Immediate);
    QVERIFY(transaction.ok());
    std::size_t next = 0;
    while (next < points.size()) {
        const std::size_t size = std::min(points.size() - next, std::size_t(1 + random.bounded(maxChunk)));
        std::vector<std::int64_t> steps, timestamps;
        std::vector<double> values;
        for (std::size_t i = next; i < next + size; ++i) {
            steps.push_back(points[i].step);
            values.push_back(points[i].value);
            timestamps.push_back(points[i].tsMs);
        }
        QVERIFY(insertMetricChunk(connection, keyId, steps, values, timestamps).ok());
        next += size;
    }
    QVERIFY(transaction->commit().ok());
}

void checkEnvelope(const MetricEnvelope &envelope, const std::vector<Point> &points, std::int64_t from, std::int64_t to,
                   int pixels, const QByteArray &context)
{
    QVERIFY2(envelope.buckets.size() <= std::size_t(pixels), context.constData());
    std::int64_t total = 0;
    std::int64_t previousHi = std::numeric_limits<std::int64_t>::min();
    for (const auto &bucket : envelope.buckets) {
        QVERIFY2(bucket.loStep <= bucket.hiStep && bucket.loStep > previousHi, context.constData());
        QVERIFY2(bucket.loStep >= from && bucket.hiStep <= to, context.constData());
        previousHi = bucket.hiStep;
        const BinSummary expected = bruteForce(points, bucket.loStep, bucket.hiStep);
        const BinSummary &actual = bucket.summary;
        const QByteArray where = context + " bucket [" + QByteArray::number(qint64(bucket.loStep)) + ", "
            + QByteArray::number(qint64(bucket.hiStep)) + "]";
        QVERIFY2(actual.count > 0, where.constData());
        QCOMPARE(actual.count, expected.count);
        QCOMPARE(actual.finiteCount, expected.finiteCount);
        QVERIFY2(sameValue(actual.minValue, expected.minValue), where.constData());
        QVERIFY2(sameValue(actual.maxValue, expected.maxValue), where.constData());
        QCOMPARE(actual.firstStep, expected.firstStep);
        QVERIFY2(sameValue(actual.firstValue, expected.firstValue), where.constData());
        QCOMPARE(actual.firstTs, expected.firstTs);
        QCOMPARE(actual.lastStep, expected.lastStep);
        QVERIFY2(sameValue(actual.lastValue, expected.lastValue), where.constData());
        QCOMPARE(actual.lastTs, expected.lastTs);
        QVERIFY2(std::abs(actual.sum - expected.sum) <= 1e-9 * (1 + std::abs(expected.sum)) * double(expected.count),
                 where.constData());
        total += actual.count;
        if (envelope.fullResolution)
            QCOMPARE(bucket.loStep, bucket.hiStep);
    }
    const std::int64_t inRange = bruteForce(points, from, to).count;
    QVERIFY2(total == inRange,
             (context + " total " + QByteArray::number(qint64(total)) + " of " + QByteArray::number(qint64(inRange)))
                 .constData());
    if (envelope.fullResolution)
        QVERIFY(inRange <= pixels);
    else
        QVERIFY2(inRange > pixels, context.constData());
}

enum class Shape { Dense, Sparse, Restarted, Bursty };

std::vector<Point> makeSeries(Shape shape, int count, QRandomGenerator &random)
{
    std::vector<Point> points;
    points.reserve(std::size_t(count));
    std::int64_t step = std::int64_t(random.bounded(1000)) - 500; // negative steps are allowed too
    for (int i = 0; i < count; ++i) {
        switch (shape) {
        case Shape::Dense:
            step += 1;
            break;
        case Shape::Sparse:
            step += 1 + random.bounded(900);
            break;
        case Shape::Restarted: // resumed from a checkpoint: steps go back and repeat
            step += (i > 0 && random.bounded(2000) == 0) ? -std::int64_t(random.bounded(3000)) : 1;
            break;
        case Shape::Bursty:
            step += random.bounded(5) == 0 ? 0 : 1 + random.bounded(3);
            break; // repeated steps
        }
        double value = random.generateDouble() * 10 - 5;
        if (random.bounded(500) == 0)
            value = std::numeric_limits<double>::quiet_NaN();
        const std::int64_t ts = random.bounded(10) == 0 ? kNoTimestamp : 1'700'000'000'000 + i;
        points.push_back({step, value, ts});
    }
    return points;
}

} // namespace

class TestMetricEnvelope : public QObject {
    Q_OBJECT

private slots:
    void matchesBruteForce_data()
    {
        QTest::addColumn<int>("shape");
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("maxChunk");
        QTest::newRow("one point") << int(Shape::Dense) << 1 << 1;
        QTest::newRow("dense 1000, live-sized chunks") << int(Shape::Dense) << 1000 << 5;
        QTest::newRow("dense 200000") << int(Shape::Dense) << 200000 << 8192;
        QTest::newRow("sparse 30000") << int(Shape::Sparse) << 30000 << 8192;
        QTest::newRow("restarted 100000") << int(Shape::Restarted) << 100000 << 3000;
        QTest::newRow("bursty 100000") << int(Shape::Bursty) << 100000 << 8192;
    }

    void matchesBruteForce()
    {
        QFETCH(int, shape);
        QFETCH(int, count);
        QFETCH(int, maxChunk);
        QRandomGenerator random(quint32(0x5eed + count + shape));
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running);
        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection.ok());
        auto keyId = metricKeyId(connection.value(), runId, QStringLiteral("loss"));
        QVERIFY(keyId.ok());
        const std::vector<Point> points = makeSeries(Shape(shape), count, random);
        insertPoints(connection.value(), keyId.value(), points, random, maxChunk);
        std::int64_t first = points[0].step, last = points[0].step;
        for (const auto &p : points) {
            first = std::min(first, p.step);
            last = std::max(last, p.step);
        }

        // The whole series at several widths.
        for (int pixels : {1, 7, 640, 2000}) {
            auto whole = metricqueries::envelope(connection.value(), runId, QStringLiteral("loss"),
                                                 EnvelopeRequest{{}, {}, pixels});
            QVERIFY(whole.ok());
            QCOMPARE(whole->seriesFirstStep, first);
            QCOMPARE(whole->seriesLastStep, last);
            checkEnvelope(whole.value(), points, first, last, pixels, "whole at " + QByteArray::number(pixels));
            if (QTest::currentTestFailed())
                return;
        }
        // Random ranges: wide, narrow, inside one chunk, one step, and past the ends.
        bool pyramidUsed = false, pointsUsed = false;
        for (int trial = 0; trial < 60; ++trial) {
            const std::int64_t span = last - first + 1;
            std::int64_t from = first + std::int64_t(random.bounded(quint64(span)));
            std::int64_t width =
                trial % 4 == 0 ? span : std::int64_t(random.bounded(quint64(trial % 3 == 0 ? 50 : span))) + 1;
            if (trial % 10 == 9)
                from -= 1000; // starts before the series
            const std::int64_t to = from + width - 1;
            const int pixels = std::array{3, 100, 800, 2000}[trial % 4];
            auto result = metricqueries::envelope(connection.value(), keyId.value(), EnvelopeRequest{from, to, pixels});
            QVERIFY(result.ok());
            QCOMPARE(result->fromStep, from);
            QCOMPARE(result->toStep, to);
            checkEnvelope(result.value(), points, from, to, pixels,
                          "range [" + QByteArray::number(qint64(from)) + ", " + QByteArray::number(qint64(to)) + "] at "
                              + QByteArray::number(pixels));
            if (QTest::currentTestFailed())
                return;
            pyramidUsed = pyramidUsed || result->level >= 0;
            pointsUsed = pointsUsed || result->level < 0;
        }
        if (count >= 100000)
            QVERIFY2(pyramidUsed, "large series must be answered from the pyramid for wide ranges");
        QVERIFY(pointsUsed);
    }

    void unknownKeyAndEmptyRange()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running);
        auto connection = workspace.workspace().database().connect();
        auto none = metricqueries::envelope(connection.value(), runId, QStringLiteral("nope"), EnvelopeRequest{});
        QVERIFY(none.ok());
        QVERIFY(none->empty());
        auto keyId = metricKeyId(connection.value(), runId, QStringLiteral("loss"));
        QRandomGenerator random(1);
        insertPoints(connection.value(), keyId.value(), {{10, 1.0, kNoTimestamp}, {20, 2.0, kNoTimestamp}}, random, 1);
        auto outside = metricqueries::envelope(connection.value(), keyId.value(), EnvelopeRequest{100, 200, 50});
        QVERIFY(outside.ok());
        QVERIFY(outside->empty());
        auto reversed = metricqueries::envelope(connection.value(), keyId.value(), EnvelopeRequest{20, 10, 50});
        QVERIFY(reversed.ok());
        QVERIFY(reversed->empty());
    }

    // The runs list carries params and whole-run metric summaries (from the pyramid's top level).
    void runListCarriesParamsAndSummaries()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running, {}, {},
                                               {{QStringLiteral("lr"), QStringLiteral("0.001")}});
        std::vector<std::int64_t> steps;
        std::vector<double> values;
        for (int i = 0; i < 20000; ++i) {
            steps.push_back(i);
            values.push_back(i == 20000 - 1 ? std::numeric_limits<double>::quiet_NaN() : 10.0 - i * 0.0001);
        }
        values[123] = -7.5;
        QVERIFY(workspace.addPoints(runId, QStringLiteral("loss"), steps, values));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("acc"), {0, 1}, {0.5, 0.75}));
        auto connection = workspace.workspace().database().connect();
        auto runs = runqueries::listRuns(connection.value());
        QVERIFY(runs.ok());
        QCOMPARE(runs->size(), 1);
        const RunRecord &run = runs->at(0);
        QCOMPARE(run.params.value(QStringLiteral("lr")), QStringLiteral("0.001"));
        QCOMPARE(run.metrics.size(), 2);
        const RunMetricSummary loss = run.metrics.value(QStringLiteral("loss"));
        QCOMPARE(loss.count, std::int64_t(20000));
        QVERIFY(std::isnan(loss.last));
        QCOMPARE(loss.min, -7.5);
        QCOMPARE(loss.max, 10.0);
        QCOMPARE(run.metrics.value(QStringLiteral("acc")).last, 0.75);
        auto found = runqueries::findRun(connection.value(), runId);
        QVERIFY(found.ok());
        QVERIFY(found->metrics == run.metrics);
    }

    // One spike among ten million points shows at every zoom level, from the whole series to a few steps.
    void spikeVisibleAtEveryZoom()
    {
        constexpr std::int64_t kPoints = 10'000'000;
        constexpr std::int64_t kSpikeStep = 7'654'321;
        constexpr double kSpike = 1000.0;
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("long"), RunStatus::Running);
        auto connection = workspace.workspace().database().connect();
        auto keyId = metricKeyId(connection.value(), runId, QStringLiteral("loss"));
        QVERIFY(keyId.ok());
        {
            auto transaction = SqliteTransaction::begin(connection.value(), SqliteTransaction::Kind::Immediate);
            std::vector<std::int64_t> steps(8192), timestamps(8192, kNoTimestamp);
            std::vector<double> values(8192);
            for (std::int64_t start = 0; start < kPoints; start += 8192) {
                const std::size_t size = std::size_t(std::min<std::int64_t>(8192, kPoints - start));
                for (std::size_t i = 0; i < size; ++i) {
                    const std::int64_t step = start + std::int64_t(i);
                    steps[i] = step;
                    values[i] = step == kSpikeStep ? kSpike : 0.5 + 0.4 * std::sin(double(step) * 0.001);
                }
                QVERIFY(insertMetricChunk(connection.value(), keyId.value(), std::span(steps).first(size),
                                          std::span(values).first(size), std::span(timestamps).first(size))
                            .ok());
            }
            QVERIFY(transaction->commit().ok());
        }
        struct Zoom {
            std::int64_t from, to;
            int pixels;
        };
        std::vector<Zoom> zooms = {{0, kPoints - 1, 2000}, {0, kPoints - 1, 300}, {0, kPoints - 1, 1}};
        for (std::int64_t width = kPoints / 2; width >= 4; width /= 3) {
            zooms.push_back({kSpikeStep - width / 2, kSpikeStep + width / 2, 2000}); // centred
            zooms.push_back({kSpikeStep - 1, kSpikeStep - 1 + width, 1500});         // spike at the left edge
            zooms.push_back({kSpikeStep - width + 1, kSpikeStep, 1000});             // spike at the right edge
        }
        for (const Zoom &zoom : zooms) {
            auto result = metricqueries::envelope(connection.value(), keyId.value(),
                                                  EnvelopeRequest{zoom.from, zoom.to, zoom.pixels});
            QVERIFY(result.ok());
            int holding = 0;
            double highestElsewhere = 0;
            for (const auto &bucket : result->buckets) {
                if (bucket.loStep <= kSpikeStep && kSpikeStep <= bucket.hiStep) {
                    ++holding;
                    QCOMPARE(bucket.summary.maxValue, kSpike);
                } else {
                    highestElsewhere = std::max(highestElsewhere, bucket.summary.maxValue);
                }
            }
            const QByteArray context =
                "zoom [" + QByteArray::number(qint64(zoom.from)) + ", " + QByteArray::number(qint64(zoom.to)) + "]";
            QVERIFY2(holding == 1, context.constData());
            QVERIFY2(highestElsewhere < 1.0, context.constData());
            QVERIFY2(result->buckets.size() <= std::size_t(zoom.pixels), context.constData());
        }
    }
};

QTEST_GUILESS_MAIN(TestMetricEnvelope)
#include "tst_metricenvelope.moc"
