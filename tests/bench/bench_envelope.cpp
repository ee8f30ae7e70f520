// Envelope benchmark: a 2,000-pixel chart's envelope of one series of 1e5, 1e6 and 1e7 points, warm, from
// the pyramid (metricqueries::envelope) against a full scan of the same series (every chunk read and
// decoded, points bucketed per pixel) in the same run.
//   build/ci/tests/bench/bench_envelope [MAX_POINTS]
#include "store/metricchunk.h"
#include "store/metricenvelope.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace trainyard;

namespace {

constexpr int kPixels = 2000;

// The baseline: read every chunk of the key, decode every point, bucket it by pixel (min, max, last).
std::size_t fullScanEnvelope(SqliteConnection &connection, std::int64_t keyId, std::int64_t from, std::int64_t to)
{
    struct Bucket {
        double minValue = INFINITY, maxValue = -INFINITY, last = 0;
        std::int64_t count = 0;
    };
    std::vector<Bucket> buckets(kPixels);
    auto select = connection.prepare("SELECT steps, vals FROM metric_chunks WHERE key_id = ? ORDER BY id");
    select->bind(1, keyId);
    while (select->step().value()) {
        int stepBytes = 0, valueBytes = 0;
        const auto *steps = static_cast<const char *>(select->columnBlob(0, stepBytes));
        const auto *values = static_cast<const char *>(select->columnBlob(1, valueBytes));
        for (int i = 0; i < stepBytes / 8; ++i) {
            std::int64_t step;
            double value;
            std::memcpy(&step, steps + i * 8, 8);
            std::memcpy(&value, values + i * 8, 8);
            if (step < from || step > to)
                continue;
            Bucket &bucket = buckets[std::size_t(metricqueries::pixelOfStep(step, from, to, kPixels))];
            bucket.minValue = std::min(bucket.minValue, value);
            bucket.maxValue = std::max(bucket.maxValue, value);
            bucket.last = value;
            ++bucket.count;
        }
    }
    return std::size_t(std::count_if(buckets.begin(), buckets.end(), [](const Bucket &b) { return b.count > 0; }));
}

template <typename F>
double medianMs(int repeats, F &&work)
{
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        QElapsedTimer timer;
        timer.start();
        work(i);
        times.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const std::int64_t maxPoints = argc > 1 ? std::atoll(argv[1]) : 10'000'000;
    QTemporaryDir dir;
    auto workspace = Workspace::open(dir.path());
    if (!workspace) {
        std::fprintf(stderr, "%s\n", qPrintable(workspace.error()));
        return 1;
    }
    auto writer = StoreWriter::start(workspace->database());
    NewRun run;
    run.name = QStringLiteral("bench");
    const QString runId = writer.value()->createRun(run).get().value();
    writer.value().reset();
    auto connection = workspace->database().connect();

    std::printf("%-10s %-28s %10s %10s %8s\n", "points", "query", "pyramid ms", "scan ms", "buckets");
    QRandomGenerator random(7);
    for (std::int64_t points = 100'000; points <= maxPoints; points *= 10) {
        auto keyId = metricKeyId(connection.value(), runId, QStringLiteral("loss.%1").arg(points)).value();
        {
            auto transaction = SqliteTransaction::begin(connection.value(), SqliteTransaction::Kind::Immediate);
            std::vector<std::int64_t> steps(8192), timestamps(8192);
            std::vector<double> values(8192);
            for (std::int64_t start = 0; start < points; start += 8192) {
                const std::size_t size = std::size_t(std::min<std::int64_t>(8192, points - start));
                for (std::size_t i = 0; i < size; ++i) {
                    steps[i] = start + std::int64_t(i);
                    values[i] = std::exp(-double(steps[i]) / double(points)) + 0.05 * random.generateDouble();
                    timestamps[i] = 1'700'000'000'000 + steps[i] * 100;
                }
                (void)insertMetricChunk(connection.value(), keyId, std::span(steps).first(size),
                                        std::span(values).first(size), std::span(timestamps).first(size));
            }
            (void)transaction->commit();
        }
        struct Case {
            const char *name;
            std::int64_t from, to;
        };
        const Case cases[] = {{"whole series", 0, points - 1},
                              {"middle 10% (zoomed in)", points * 45 / 100, points * 55 / 100},
                              {"odd range 1/3..2/3", points / 3 + 17, 2 * points / 3 - 5}};
        for (const Case &c : cases) {
            std::size_t pyramidBuckets = 0, scanBuckets = 0;
            (void)metricqueries::envelope(connection.value(), keyId, EnvelopeRequest{c.from, c.to, kPixels}); // warm
            const double pyramid = medianMs(15, [&](int) {
                pyramidBuckets =
                    metricqueries::envelope(connection.value(), keyId, EnvelopeRequest{c.from, c.to, kPixels})
                        ->buckets.size();
            });
            const double scan = medianMs(points >= 10'000'000 ? 3 : 7, [&](int) {
                scanBuckets = fullScanEnvelope(connection.value(), keyId, c.from, c.to);
            });
            std::printf("%-10lld %-28s %10.2f %10.2f %4zu/%zu\n", static_cast<long long>(points), c.name, pyramid, scan,
                        pyramidBuckets, scanBuckets);
        }
        // Panning: 30 windows of 5% of the series sliding right, each at a new offset.
        const std::int64_t window = points / 20;
        const double pan = medianMs(30, [&](int i) {
            const std::int64_t from = std::int64_t(i) * points / 40;
            (void)metricqueries::envelope(connection.value(), keyId, EnvelopeRequest{from, from + window, kPixels});
        });
        std::printf("%-10lld %-28s %10.2f\n", static_cast<long long>(points), "pan, 5% windows", pan);
    }
    return 0;
}
