// The GPU layer without a GPU: bandwidth formulas against hand-computed values, and plain messages when the
// CUDA runtime, a device, NCCL or NVML is missing.
#include "gpu/bandwidth.h"
#include "gpu/gpuapi.h"
#include "gpu/gpuruntime.h"
#include "gpu/ncclpreflight.h"
#include "gpu/sharedlibrary.h"
#include "store/preflighthistory.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"

#include <QTest>

namespace {

// A preflight of `gpus` GPUs whose all_reduce reached `peakBusGBs` at 1 GiB.
trainyard::PreflightResult measuredPreflight(int gpus, double peakBusGBs, const trainyard::GpuLinkInfo &link)
{
    using namespace trainyard;
    PreflightResult result;
    result.startedAt = QDateTime(QDate(2026, 12, 1), QTime(9, 30), Qt::UTC);
    result.host = QStringLiteral("gpu-box-1");
    for (int gpu = 0; gpu < gpus; ++gpu)
        result.gpus << gpu, result.deviceNames << QStringLiteral("NVIDIA H100 80GB HBM3 (0000:%1:00.0)").arg(gpu + 10);
    result.link = link;
    for (std::int64_t bytes : {std::int64_t(1) << 20, std::int64_t(1) << 30}) {
        for (bool inPlace : {false, true}) {
            PreflightMeasurement m;
            m.op = CollectiveOp::AllReduce;
            m.bytes = bytes;
            m.elements = bytes / 4;
            m.inPlace = inPlace;
            m.busGBs = bytes == (std::int64_t(1) << 30) ? peakBusGBs : peakBusGBs / 4;
            m.algorithmGBs = gpus > 1 ? m.busGBs / busBandwidthFactor(m.op, gpus) : m.busGBs;
            m.seconds = double(bytes) / (m.algorithmGBs * 1e9);
            result.measurements << m;
        }
    }
    return result;
}

} // namespace

using namespace trainyard;

class TestGpu : public QObject {
    Q_OBJECT
private slots:
    void bandwidthMatchesNcclTestsDefinitions_data()
    {
        QTest::addColumn<QString>("op");
        QTest::addColumn<int>("ranks");
        QTest::addColumn<double>("bytes");
        QTest::addColumn<double>("seconds");
        QTest::addColumn<double>("algorithmGBs");
        QTest::addColumn<double>("busGBs");
        // S = 1e9 bytes in 10 ms: algbw 100 GB/s; busbw = 100 x factor.
        QTest::newRow("all_reduce, 8 ranks") << "all_reduce" << 8 << 1e9 << 0.01 << 100.0 << 175.0; // 2*7/8
        QTest::newRow("all_reduce, 2 ranks") << "all_reduce" << 2 << 1e9 << 0.01 << 100.0 << 100.0; // 2*1/2
        QTest::newRow("all_gather, 4 ranks") << "all_gather" << 4 << 1e9 << 0.01 << 100.0 << 75.0;  // 3/4
        QTest::newRow("reduce_scatter, 8 ranks") << "reduce_scatter" << 8 << 1e9 << 0.01 << 100.0 << 87.5;
        QTest::newRow("broadcast, 8 ranks") << "broadcast" << 8 << 1e9 << 0.01 << 100.0 << 100.0;
        QTest::newRow("all_reduce, 1 rank") << "all_reduce" << 1 << 8e6 << 0.001 << 8.0 << 0.0;
    }
    void bandwidthMatchesNcclTestsDefinitions()
    {
        QFETCH(QString, op);
        QFETCH(int, ranks);
        QFETCH(double, bytes);
        QFETCH(double, seconds);
        QFETCH(double, algorithmGBs);
        QFETCH(double, busGBs);
        const auto collective = parseCollective(op);
        QVERIFY(collective.has_value());
        QCOMPARE(collectiveName(*collective), op);
        QCOMPARE(algorithmBandwidth(bytes, seconds) / 1e9, algorithmGBs);
        QCOMPARE(busBandwidth(*collective, ranks, bytes, seconds) / 1e9, busGBs);
        QVERIFY(!parseCollective(QStringLiteral("scatter")).has_value());
    }

    void missingLibraryIsAnErrorNamingIt()
    {
        auto library = SharedLibrary::open({QStringLiteral("libtrainyard-does-not-exist.so.9")});
        QVERIFY(!library.ok());
        QVERIFY(library.error().contains(QStringLiteral("libtrainyard-does-not-exist.so.9")));
        auto libc = SharedLibrary::open({QStringLiteral("libc.so.6")});
        QVERIFY(libc.ok());
        QVERIFY(libc->resolve<int (*)()>("getpid").ok());
        auto missing = libc->resolve<int (*)()>("trainyard_no_such_symbol");
        QVERIFY(!missing.ok());
        QVERIFY(missing.error().contains(QStringLiteral("trainyard_no_such_symbol")));
    }

    void linkExpectationsFromTheirSpeeds()
    {
        // NVLink 4 (H100 SXM): 18 links of 25 GB/s one way; NVLink 3 (A100): 12 links.
        QCOMPARE(nvLinkInfo(4, 18).expectedBusGBs, 450.0);
        QCOMPARE(nvLinkInfo(3, 12).expectedBusGBs, 300.0);
        QCOMPARE(nvLinkInfo(5, 18).expectedBusGBs, 900.0);
        QCOMPARE(nvLinkInfo(4, 18).description, QStringLiteral("NVLink 4, 18 links per GPU"));
        // PCIe: lanes x the generation's usable lane speed (128b/130b coding from Gen3 on).
        QCOMPARE(pcieLinkInfo(4, 16).expectedBusGBs, 1.969 * 16);
        QCOMPARE(pcieLinkInfo(3, 16).expectedBusGBs, 0.985 * 16);
        QCOMPARE(pcieLinkInfo(5, 8).expectedBusGBs, 3.938 * 8);
        QCOMPARE(pcieLinkInfo(4, 16).description, QStringLiteral("PCIe Gen4 x16"));
    }

    void sizesDoubleAsInNcclTests()
    {
        const QList<std::int64_t> sizes = preflightSizes(8, std::int64_t(1) << 30);
        QCOMPARE(sizes.size(), 28); // 2^3 .. 2^30
        QCOMPARE(sizes.first(), std::int64_t(8));
        QCOMPARE(sizes.last(), std::int64_t(1) << 30);
        QCOMPARE(preflightSizes(1 << 20, 1 << 20), QList<std::int64_t>{1 << 20});
        QVERIFY(preflightSizes(1 << 20, 1 << 19).isEmpty());
    }

    void verdictFromResultsAndLink_data()
    {
        QTest::addColumn<int>("gpus");
        QTest::addColumn<double>("peakBusGBs");
        QTest::addColumn<QString>("link");
        QTest::addColumn<qint64>("wrongElements");
        QTest::addColumn<QString>("error");
        QTest::addColumn<bool>("healthy");
        QTest::addColumn<QString>("verdictStart");
        QTest::addColumn<QString>("verdictContains");
        QTest::newRow("NVLink at 82% of 450")
            << 8 << 370.0 << "nvlink" << qint64(0) << "" << true
            << "healthy: correct results; peak bus bandwidth 370.0 GB/s (all_reduce, 1 GiB)"
            << "NVLink 4, 18 links per GPU (at least 225 GB/s)";
        QTest::newRow("NVLink slow") << 8 << 40.0 << "nvlink" << qint64(0) << "" << false
                                     << "slow: peak bus bandwidth 40.0 GB/s"
                                     << "below the 225 GB/s expected of NVLink 4";
        QTest::newRow("PCIe Gen4 x16 at 40%") << 2 << 12.7 << "pcie" << qint64(0) << "" << true << "healthy"
                                              << "PCIe Gen4 x16 (at least 13 GB/s)";
        QTest::newRow("PCIe Gen4 x16 slow") << 2 << 5.0 << "pcie" << qint64(0) << "" << false << "slow"
                                            << "NCCL_P2P_DISABLE";
        QTest::newRow("wrong results") << 4 << 370.0 << "nvlink" << qint64(12) << "" << false
                                       << "wrong results: all_reduce of 1 MiB gave 12 wrong element(s) over 4 GPU(s)"
                                       << "";
        QTest::newRow("a hang") << 4 << 0.0 << "nvlink" << qint64(0)
                                << "GPU 2 (rank 2): all_reduce of 67108864 bytes did not complete within 30 s" << false
                                << "failed: GPU 2 (rank 2): all_reduce"
                                << "within 30 s";
        QTest::newRow("one GPU") << 1 << 0.0 << "none" << qint64(0) << "" << true
                                 << "healthy: every collective gave correct results on one GPU"
                                 << "no link";
        QTest::newRow("link unknown") << 2 << 20.0 << "unknown" << qint64(0) << "" << true
                                      << "correct results; peak bus bandwidth 20.0 GB/s"
                                      << "no expectation";
    }
    void verdictFromResultsAndLink()
    {
        QFETCH(int, gpus);
        QFETCH(double, peakBusGBs);
        QFETCH(QString, link);
        QFETCH(qint64, wrongElements);
        QFETCH(QString, error);
        QFETCH(bool, healthy);
        QFETCH(QString, verdictStart);
        QFETCH(QString, verdictContains);
        GpuLinkInfo info;
        if (link == QLatin1String("nvlink"))
            info = nvLinkInfo(4, 18);
        else if (link == QLatin1String("pcie"))
            info = pcieLinkInfo(4, 16);
        else if (link == QLatin1String("none"))
            info.kind = GpuLinkInfo::Kind::None, info.description = QStringLiteral("one GPU");
        else
            info.description = QStringLiteral("unknown (NVML not found)");
        PreflightResult result = measuredPreflight(gpus, peakBusGBs, info);
        result.measurements[0].wrongElements = wrongElements;
        result.error = error;
        judgePreflight(result);
        QCOMPARE(result.healthy, healthy);
        QVERIFY2(result.verdict.startsWith(verdictStart), qPrintable(result.verdict));
        QVERIFY2(result.verdict.contains(verdictContains), qPrintable(result.verdict));
    }

    void resultSurvivesJsonAndTheHistory()
    {
        PreflightResult result = measuredPreflight(8, 370, nvLinkInfo(4, 18));
        judgePreflight(result);
        auto back = PreflightResult::fromJson(result.toJson());
        QVERIFY2(back.ok(), back ? "" : qPrintable(back.error()));
        QCOMPARE(back->toJson(), result.toJson());
        QCOMPARE(back->measurements.size(), 4);
        QCOMPARE(back->measurements.last().busGBs, 370.0);
        QCOMPARE(back->link.kind, GpuLinkInfo::Kind::NvLink);
        QVERIFY(!PreflightResult::fromJson(QJsonObject{{QStringLiteral("host"), QStringLiteral("x")}}).ok());

        // Stored in the workspace: newest first, the verdict and health readable without parsing the result.
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection.ok());
        PreflightResult older = measuredPreflight(2, 5, pcieLinkInfo(4, 16));
        older.startedAt = result.startedAt.addDays(-3);
        judgePreflight(older);
        QVERIFY(savePreflightRecord(*connection, result.toJson()).ok());
        QVERIFY(
            storePreflightRecord(workspace.workspace().database(), older.toJson()).ok()); // through a writer of its own
        auto refused = savePreflightRecord(*connection, QJsonObject{{QStringLiteral("host"), QStringLiteral("x")}});
        QVERIFY(!refused.ok());
        QVERIFY2(refused.error().contains(QStringLiteral("started_at")), qPrintable(refused.error()));
        auto records = loadPreflightRecords(*connection);
        QVERIFY2(records.ok(), records ? "" : qPrintable(records.error()));
        QCOMPARE(records->size(), 2);
        QCOMPARE(records->at(0).startedAt, result.startedAt);
        QVERIFY(records->at(0).healthy);
        QVERIFY(!records->at(1).healthy);
        QVERIFY(records->at(1).verdict.startsWith(QStringLiteral("slow")));
        QCOMPARE(records->at(1).result, older.toJson());
    }

    void preflightWithoutADeviceSaysSo()
    {
        if (probeGpus().cudaAvailable)
            QSKIP("this machine has a CUDA device; the no-device answer is checked on machines without one");
        auto result = runNcclPreflight(PreflightOptions{});
        QVERIFY(!result.ok());
        QVERIFY2(result.error().startsWith(QStringLiteral("no CUDA device found")), qPrintable(result.error()));
        // Each API loads or names what is missing; NVML is part of the driver, which this machine lacks.
        auto nvml = NvmlApi::load();
        if (!nvml)
            QVERIFY2(nvml.error().startsWith(QStringLiteral("NVML")), qPrintable(nvml.error()));
        if (auto nccl = NcclApi::load())
            QVERIFY(nccl->versionCode() >= 21400);
        else
            QVERIFY2(nccl.error().startsWith(QStringLiteral("NCCL")), qPrintable(nccl.error()));
    }

    void probeSaysPlainlyWhatIsMissing()
    {
        const GpuStatus status = probeGpus();
        QVERIFY(!status.cudaRuntime.isEmpty() && !status.nccl.isEmpty() && !status.nvml.isEmpty());
        if (status.cudaAvailable) {
            QVERIFY(status.deviceCount > 0);
            QSKIP("this machine has a CUDA device; the no-device messages are checked on machines without one");
        }
        QCOMPARE(status.deviceCount, 0);
        QVERIFY2(status.deviceMessage.startsWith(QStringLiteral("no CUDA device found")),
                 qPrintable(status.deviceMessage));
        if (!status.ncclAvailable)
            QVERIFY2(status.nccl.startsWith(QStringLiteral("NCCL not found: install"))
                         || status.nccl.contains(QStringLiteral("too old")),
                     qPrintable(status.nccl));
        if (!status.nvmlAvailable)
            QVERIFY2(status.nvml.startsWith(QStringLiteral("NVML")), qPrintable(status.nvml));
    }
};

QTEST_GUILESS_MAIN(TestGpu)
#include "tst_gpu.moc"
