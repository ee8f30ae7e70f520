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
        const PerfSummary summary =
            perf::summarizeSeries(timing(4, 20, 100, 100.0, 3, 124.0, 5), perf::simpleContext(4, false));
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
        const PerfSummary close =
            perf::summarizeSeries(timing(4, 20, 100, 100.0, 3, 108.0, 0), perf::simpleContext(4, false));
        QVERIFY(!close.straggler.applies);
        // A stricter threshold names it.
        PerfThresholds strict;
        strict.stragglerPercent = 5;
        QVERIFY(perf::summarizeSeries(timing(4, 20, 100, 100.0, 3, 108.0, 0), perf::simpleContext(4, false), strict)
                    .straggler.applies);
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
        const PerfSummary summary = perf::summarizeSeries(series, perf::simpleContext(4, false));
        QVERIFY(summary.straggler.applies);
        QCOMPARE(summary.straggler.ranks, QList<int>({2}));
        QCOMPARE(summary.straggler.basis, QStringLiteral("step time less the sync phase"));
        QCOMPARE(*summary.ranks[2].ownMedianMs, 129.0);
        QVERIFY(std::abs(summary.straggler.slowerPercent - (129.0 / 99.0 - 1) * 100) < 1e-9); // 129 against 99
    }

    void oneRankOrNoTimingGivesNoVerdictAndSaysWhy()
    {
        const PerfSummary one = perf::summarizeSeries(timing(1, 5, 10, 50.0), perf::simpleContext(1, false));
        QVERIFY(!one.straggler.applies);
        QCOMPARE(one.straggler.reason, QStringLiteral("one rank: nothing to compare it with"));
        const PerfSummary none = perf::summarizeSeries({}, perf::simpleContext(2, false));
        QVERIFY(none.isEmpty());
        QVERIFY(none.straggler.reason.startsWith(QStringLiteral("no step timing")));
        // Two ranks of four report: the others are named.
        const PerfSummary partial = perf::summarizeSeries(timing(2, 5, 10, 50.0), perf::simpleContext(4, false));
        QCOMPARE(partial.ranksWithoutTiming, QList<int>({2, 3}));
        QVERIFY(partial.sentences().join('\n').contains(QStringLiteral("rank 2 never reported step timing")));
    }

    void inputBoundThroughputAndMfu()
    {
        auto series = timing(2, 10, 10, 100.0, -1, 0, 0, 45.0); // 45 of 100 ms in the data phase
        for (int w = 0; w < 10; ++w)
            series[QStringLiteral("tokens")] << MetricPoint{10 * (w + 1), 2048.0, {}};
        series[QStringLiteral("tokens")] << MetricPoint{200, -5.0, {}} << MetricPoint{201, 1e15, {}};
        const PerfSummary summary = perf::summarizeSeries(series, perf::simpleContext(2, false));
        QVERIFY(summary.inputBound.applies);
        QCOMPARE(summary.inputBound.dataShare, 0.45);
        QCOMPARE(*summary.ranks[0].dataShare, 0.45);
        QVERIFY(summary.throughput.tokensPerSecond);
        QCOMPARE(*summary.throughput.tokensPerSecond, 20480.0); // 2048 tokens per 0.1 s step
        QVERIFY(!summary.throughput.samplesPerSecond);
        QVERIFY2(summary.throughput.reason.contains(QStringLiteral("2 tokens value(s) set aside")),
                 qPrintable(summary.throughput.reason));
        QCOMPARE(summary.mfu.reason, QStringLiteral("not applicable: a CPU run"));
        QVERIFY(summary.toJson()[QStringLiteral("mfu")].toObject()[QStringLiteral("value")].isNull());

        const PerfSummary quick =
            perf::summarizeSeries(timing(2, 10, 10, 100.0, -1, 0, 0, 10.0), perf::simpleContext(2, true));
        QVERIFY(!quick.inputBound.applies);
        QVERIFY(quick.throughput.reason.contains(QStringLiteral("neither samples nor tokens")));
        // A GPU run without the model's size: MFU says what it needs, never a number.
        QVERIFY(!quick.mfu.value);
        QVERIFY2(quick.mfu.reason.startsWith(QStringLiteral("needs the model's size")), qPrintable(quick.mfu.reason));
    }

    void thePeakTableKnowsTheNamesNvmlReports_data()
    {
        QTest::addColumn<QString>("nvmlName");
        QTest::addColumn<QString>("model");
        QTest::addColumn<double>("bf16");
        QTest::newRow("H100 SXM") << "NVIDIA H100 80GB HBM3"
                                  << "H100 SXM5" << 989.5;
        QTest::newRow("H100 PCIe") << "NVIDIA H100 PCIe"
                                   << "H100 PCIe" << 756.5;
        QTest::newRow("H200") << "NVIDIA H200"
                              << "H200 SXM" << 989.5;
        QTest::newRow("GH200 is not H200") << "NVIDIA GH200 480GB"
                                           << "GH200" << 989.5;
        QTest::newRow("A100 SXM") << "NVIDIA A100-SXM4-80GB"
                                  << "A100" << 312.0;
        QTest::newRow("A100 PCIe") << "NVIDIA A100 80GB PCIe"
                                   << "A100" << 312.0;
        QTest::newRow("A10 is not A100") << "NVIDIA A10"
                                         << "A10" << 125.0;
        QTest::newRow("L40S before L40") << "NVIDIA L40S"
                                         << "L40S" << 362.05;
        QTest::newRow("L4") << "NVIDIA L4"
                            << "L4" << 121.0;
        QTest::newRow("RTX 6000 Ada") << "NVIDIA RTX 6000 Ada Generation"
                                      << "RTX 6000 Ada Generation" << 364.2;
        QTest::newRow("RTX 4090") << "NVIDIA GeForce RTX 4090"
                                  << "GeForce RTX 4090" << 165.2;
    }

    void thePeakTableKnowsTheNamesNvmlReports()
    {
        QFETCH(QString, nvmlName);
        QFETCH(QString, model);
        QFETCH(double, bf16);
        const auto peak = gpupeaks::find(nvmlName);
        QVERIFY(peak.has_value());
        QCOMPARE(peak->model, model);
        QCOMPARE(peak->at(PeakPrecision::Bf16).value_or(0), bf16);
        QVERIFY(!peak->source.isEmpty());
    }

    void mfuFromTheModelTokensAndThePeak()
    {
        // 8 ranks on 8 H100 SXM GPUs, 0.5 s a step, 8 x 4096 x 4 tokens a step: 262,144 tokens/s.
        auto series = timing(8, 10, 10, 500.0);
        for (int w = 0; w < 10; ++w)
            series[QStringLiteral("tokens")] << MetricPoint{10 * (w + 1), 131072.0, {}};
        PerfContext context = perf::simpleContext(8, true);
        context.parameters = 1.0e9;
        for (int gpu = 0; gpu < 8; ++gpu)
            context.gpuIdentities.append(
                {gpu, QStringLiteral("NVIDIA H100 80GB HBM3"), QStringLiteral("00000000:%1:00.0").arg(gpu)});
        const PerfSummary summary = perf::summarizeSeries(series, context);
        QVERIFY2(summary.mfu.value, qPrintable(summary.mfu.reason));
        // 262,144 tokens/s x 6e9 FLOPs/token / (8 x 989.5e12) = 0.19869...
        QVERIFY(std::abs(*summary.mfu.value - 262144.0 * 6e9 / (8 * 989.5e12)) < 1e-12);
        QCOMPARE(summary.mfu.gpuModel, QStringLiteral("H100 SXM5"));
        QCOMPARE(summary.mfu.gpuCount, 8);
        QVERIFY2(summary.sentences().join('\n').contains(QStringLiteral(
                     "MFU: 19.9% (262,144 tokens/s x 6e+09 FLOPs/token, over 8 x 989.5 TFLOPS bf16: H100 SXM5")),
                 qPrintable(summary.sentences().join('\n')));
        QCOMPARE(summary.toJson()[QStringLiteral("mfu")].toObject()[QStringLiteral("gpus")].toInt(), 8);

        // The transformer shape adds attention's 12 x layers x hidden x seq_len per token.
        TransformerShape shape;
        shape.layers = 24;
        shape.hidden = 2048;
        shape.heads = 16;
        shape.vocab = 50000;
        shape.seqLen = 4096;
        shape.microBatch = 4;
        context.parameters.reset();
        context.shape = shape;
        const PerfSummary withShape = perf::summarizeSeries(series, context);
        QVERIFY(withShape.mfu.attentionTerm);
        QCOMPARE(withShape.mfu.flopsPerToken, 6 * shape.parameterCount() + 12.0 * 24 * 2048 * 4096);

        // --peak-tflops overrides the table; a GPU not in the table, or no recorded names, says what to do.
        context.peakTflopsPerGpu = 500;
        QCOMPARE(perf::summarizeSeries(series, context).mfu.peakTflopsPerGpu, 500.0);
        context.peakTflopsPerGpu.reset();
        for (GpuIdentity &identity : context.gpuIdentities)
            identity.name = QStringLiteral("NVIDIA Quantum Accelerator 9000");
        QVERIFY(perf::summarizeSeries(series, context)
                    .mfu.reason.contains(QStringLiteral("'NVIDIA Quantum Accelerator 9000' is not in the peak table")));
        context.gpuIdentities.clear();
        QVERIFY(perf::summarizeSeries(series, context).mfu.reason.contains(QStringLiteral("pass --peak-tflops")));

        // No tokens logged: the spec's micro_batch x seq_len on every rank gives them.
        series.remove(QStringLiteral("tokens"));
        context.peakTflopsPerGpu = 989.5;
        const PerfSummary fromSpec = perf::summarizeSeries(series, context);
        QVERIFY(fromSpec.throughput.fromSpec);
        QCOMPARE(*fromSpec.throughput.tokensPerSecond, 4.0 * 8 * 4096 / 0.5);
        QVERIFY(fromSpec.mfu.value.has_value());
    }

    void theStragglersGpuIsNamedWithItsClocksAndThrottling()
    {
        // Rank 1 of 2 is 30% slower from step 31 on; its GPU's clock dropped and NVML flagged thermal slowdown.
        auto series = timing(2, 10, 10, 100.0, 1, 130.0, 3);
        for (int rank = 0; rank < 2; ++rank)
            for (MetricPoint &point : series[QStringLiteral("perf/rank%1/step_time_ms").arg(rank)])
                point.tsMs = 1000 * point.step;
        for (std::int64_t second = 0; second <= 100; ++second) {
            const bool hot = second >= 30;
            series[QStringLiteral("sys/gpu0/sm_clock_mhz")] << MetricPoint{second, 1980.0, 1000 * second};
            series[QStringLiteral("sys/gpu1/sm_clock_mhz")]
                << MetricPoint{second, hot ? 1410.0 : 1980.0, 1000 * second};
            series[QStringLiteral("sys/gpu0/temperature_c")] << MetricPoint{second, 65.0, 1000 * second};
            series[QStringLiteral("sys/gpu1/temperature_c")] << MetricPoint{second, hot ? 87.0 : 66.0, 1000 * second};
            series[QStringLiteral("sys/gpu1/throttle_reasons")] << MetricPoint{second, hot ? 64.0 : 0.0, 1000 * second};
        }
        PerfContext context = perf::simpleContext(2, true);
        context.gpuIdentities = {{0, QStringLiteral("NVIDIA H100 80GB HBM3"), QStringLiteral("00000000:18:00.0")},
                                 {1, QStringLiteral("NVIDIA H100 80GB HBM3"), QStringLiteral("00000000:2A:00.0")}};
        const PerfSummary summary = perf::summarizeSeries(series, context);
        QVERIFY(summary.straggler.applies);
        QCOMPARE(summary.straggler.sinceStep, std::int64_t(31));
        QVERIFY(summary.straggler.gpu.has_value());
        QCOMPARE(summary.straggler.gpu->gpu, 1);
        QCOMPARE(summary.straggler.gpu->pciBusId, QStringLiteral("00000000:2A:00.0"));
        QCOMPARE(summary.straggler.gpu->smClockMHz.value_or(0), 1410.0); // since it fell behind, not the whole run
        QCOMPARE(summary.straggler.gpu->othersSmClockMHz.value_or(0), 1980.0);
        QCOMPARE(summary.straggler.gpu->throttleReasons, QStringList{QStringLiteral("hardware thermal slowdown")});
        const QString text = summary.sentences().join('\n');
        QVERIFY2(
            text.contains(QStringLiteral("its GPU: gpu 1 (00000000:2A:00.0) ran at 1,410 MHz against 1,980 MHz on "
                                         "the others, 87 °C against 65 °C on the others; NVML says its clocks were "
                                         "held down by: hardware thermal slowdown")),
            qPrintable(text));
    }

    void withoutADataPhaseIdleGpusAndBusyCpusAreInputBound()
    {
        auto series = timing(2, 10, 10, 100.0);
        for (std::int64_t second = 0; second < 30; ++second) {
            series[QStringLiteral("sys/gpu0/utilization_percent")] << MetricPoint{second, 31.0, 1000 * second};
            series[QStringLiteral("sys/gpu1/utilization_percent")] << MetricPoint{second, 35.0, 1000 * second};
            series[QStringLiteral("sys/rank0/cpu_percent")] << MetricPoint{second, 99.0, 1000 * second};
            series[QStringLiteral("sys/rank1/cpu_percent")] << MetricPoint{second, 97.0, 1000 * second};
        }
        const PerfSummary starved = perf::summarizeSeries(series, perf::simpleContext(2, true));
        QVERIFY(starved.inputBound.applies);
        QCOMPARE(starved.inputBound.basis, QStringLiteral("GPU utilisation and CPU"));
        QCOMPARE(starved.inputBound.gpuUtilizationPercent.value_or(0), 33.0);
        QVERIFY2(
            starved.sentences().join('\n').contains(QStringLiteral("input: GPUs 33% busy while the ranks use 98% CPU")),
            qPrintable(starved.sentences().join('\n')));
        // Busy GPUs: not input-bound.
        for (MetricPoint &point : series[QStringLiteral("sys/gpu0/utilization_percent")])
            point.value = 97;
        for (MetricPoint &point : series[QStringLiteral("sys/gpu1/utilization_percent")])
            point.value = 98;
        QVERIFY(!perf::summarizeSeries(series, perf::simpleContext(2, true)).inputBound.applies);
    }
};

QTEST_GUILESS_MAIN(TestPerf)
#include "tst_perf.moc"
