// The performance summary (issue 18, point 2) on step-timing series with a known answer: the straggler named with
// how much slower and since when, no verdict for one rank or none, the input-bound share, throughput from logged
// tokens with absurd values set aside, and MFU never made up on a CPU run.
#include "perf/perfsummary.h"

#include <QtTest>

#include <cmath>

using namespace trainyard;

namespace {

// Windows of `steps` steps each, ending at steps, 2*steps, ...; rank `slowRank` takes `slowMs` from `slowFrom` on.
QMap<QString, QList<MetricPoint>> timing(int ranks, int windows, std::int64_t steps, double ms, int slowRank = -1,
                                         double slowMs = 0, int slowFromWindow = 0, double dataMs = -1)
{
    QMap<QString, QList<MetricPoint>> series;
    for (int rank = 0; rank < ranks; ++rank) {
        const QString prefix = QStringLiteral("perf/rank%1/").arg(rank);
        for (int w = 0; w < windows; ++w) {
            const std::int64_t last = steps * (w + 1);
            const double mean = rank == slowRank && w >= slowFromWindow ? slowMs : ms;
            series[prefix + QStringLiteral("step_time_ms")] << MetricPoint{last, mean, {}};
            series[prefix + QStringLiteral("steps")] << MetricPoint{last, double(steps), {}};
            if (dataMs >= 0)
                series[prefix + QStringLiteral("data_ms")] << MetricPoint{last, dataMs, {}};
        }
    }
    return series;
}

} // namespace

class TestPerf : public QObject {
    Q_OBJECT

private slots:
    void aSlowRankIsNamedWithHowMuchAndSinceWhen()
    {
        // Rank 3 of 4 takes 124 ms instead of 100 from its 6th window (steps 501-600) on.
        const PerfSummary summary = perf::summarizeSeries(timing(4, 20, 100, 100.0, 3, 124.0, 5), 4, false);
        QCOMPARE(summary.ranks.size(), 4);
        QCOMPARE(summary.ranks[0].medianMs, 100.0);
        QCOMPARE(summary.ranks[3].steps, std::int64_t(2000));
        QCOMPARE(summary.ranks[3].p90Ms, 124.0);
        QVERIFY(summary.straggler.applies);
        QCOMPARE(summary.straggler.ranks, QList<int>({3}));
        QCOMPARE(summary.straggler.othersMedianMs, 100.0);
        QCOMPARE(summary.straggler.sinceStep, std::int64_t(501));
        QVERIFY(std::abs(summary.straggler.slowerPercent - 24.0) < 1e-9);
        QVERIFY2(
            summary.sentences().join('\n').contains(QStringLiteral(
                "straggler: rank 3 is 24% slower than the others (step time: their median 100.0 ms) since step 501")),
            qPrintable(summary.sentences().join('\n')));
        const QJsonObject json = summary.toJson();
        QCOMPARE(json[QStringLiteral("straggler")].toObject()[QStringLiteral("since_step")].toInt(), 501);

        // Under the threshold (10%): no straggler.
        const PerfSummary close = perf::summarizeSeries(timing(4, 20, 100, 100.0, 3, 108.0, 0), 4, false);
        QVERIFY(!close.straggler.applies);
        // A stricter threshold names it.
        PerfThresholds strict;
        strict.stragglerPercent = 5;
        QVERIFY(perf::summarizeSeries(timing(4, 20, 100, 100.0, 3, 108.0, 0), 4, false, strict).straggler.applies);
    }

    // Synchronous data parallelism: every rank's step takes as long as the slowest's; the ranks that wait for it mark
    // the wait (a `sync` phase), and the rank that waits least is the straggler.
    void inLockStepTheRankThatWaitsLeastIsTheStraggler()
    {
        auto series = timing(4, 10, 10, 130.0); // every rank: 130 ms a step
        for (int rank = 0; rank < 4; ++rank)
            for (int w = 0; w < 10; ++w)
                series[QStringLiteral("perf/rank%1/sync_ms").arg(rank)]
                    << MetricPoint{10 * (w + 1), rank == 2 ? 1.0 : 31.0, {}}; // rank 2 barely waits
        const PerfSummary summary = perf::summarizeSeries(series, 4, false);
        QVERIFY(summary.straggler.applies);
        QCOMPARE(summary.straggler.ranks, QList<int>({2}));
        QCOMPARE(summary.straggler.basis, QStringLiteral("step time less the sync phase"));
        QCOMPARE(*summary.ranks[2].ownMedianMs, 129.0);
        QVERIFY(std::abs(summary.straggler.slowerPercent - (129.0 / 99.0 - 1) * 100) < 1e-9); // 129 against 99
    }

    void oneRankOrNoTimingGivesNoVerdictAndSaysWhy()
    {
        const PerfSummary one = perf::summarizeSeries(timing(1, 5, 10, 50.0), 1, false);
        QVERIFY(!one.straggler.applies);
        QCOMPARE(one.straggler.reason, QStringLiteral("one rank: nothing to compare it with"));
        const PerfSummary none = perf::summarizeSeries({}, 2, false);
        QVERIFY(none.isEmpty());
        QVERIFY(none.straggler.reason.startsWith(QStringLiteral("no step timing")));
        // Two ranks of four report: the others are named.
        const PerfSummary partial = perf::summarizeSeries(timing(2, 5, 10, 50.0), 4, false);
        QCOMPARE(partial.ranksWithoutTiming, QList<int>({2, 3}));
        QVERIFY(partial.sentences().join('\n').contains(QStringLiteral("rank 2 never reported step timing")));
    }

    void inputBoundThroughputAndMfu()
    {
        auto series = timing(2, 10, 10, 100.0, -1, 0, 0, 45.0); // 45 of 100 ms in the data phase
        for (int w = 0; w < 10; ++w)
            series[QStringLiteral("tokens")] << MetricPoint{10 * (w + 1), 2048.0, {}};
        series[QStringLiteral("tokens")] << MetricPoint{200, -5.0, {}} << MetricPoint{201, 1e15, {}};
        const PerfSummary summary = perf::summarizeSeries(series, 2, false);
        QVERIFY(summary.inputBound.applies);
        QCOMPARE(summary.inputBound.dataShare, 0.45);
        QCOMPARE(*summary.ranks[0].dataShare, 0.45);
        QVERIFY(summary.throughput.tokensPerSecond);
        QCOMPARE(*summary.throughput.tokensPerSecond, 20480.0); // 2048 tokens per 0.1 s step
        QVERIFY(!summary.throughput.samplesPerSecond);
        QVERIFY2(summary.throughput.reason.contains(QStringLiteral("2 tokens value(s) set aside")),
                 qPrintable(summary.throughput.reason));
        QCOMPARE(summary.mfu, QStringLiteral("not applicable: a CPU run"));
        QVERIFY(summary.toJson()[QStringLiteral("mfu")].toObject()[QStringLiteral("value")].isNull());

        const PerfSummary quick = perf::summarizeSeries(timing(2, 10, 10, 100.0, -1, 0, 0, 10.0), 2, true);
        QVERIFY(!quick.inputBound.applies);
        QVERIFY(quick.throughput.reason.contains(QStringLiteral("neither samples nor tokens")));
        QVERIFY(quick.mfu.startsWith(QStringLiteral("not computed yet")));
    }
};

QTEST_GUILESS_MAIN(TestPerf)
#include "tst_perf.moc"
