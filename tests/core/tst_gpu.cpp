// The GPU layer without a GPU: bandwidth formulas against hand-computed values, and plain messages when the
// CUDA runtime, a device, NCCL or NVML is missing.
#include "gpu/bandwidth.h"
#include "gpu/gpuruntime.h"
#include "gpu/sharedlibrary.h"

#include <QTest>

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
        QTest::newRow("all_reduce, 8 ranks") << "all_reduce" << 8 << 1e9 << 0.01 << 100.0 << 175.0;  // 2*7/8
        QTest::newRow("all_reduce, 2 ranks") << "all_reduce" << 2 << 1e9 << 0.01 << 100.0 << 100.0;  // 2*1/2
        QTest::newRow("all_gather, 4 ranks") << "all_gather" << 4 << 1e9 << 0.01 << 100.0 << 75.0;   // 3/4
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

    void probeSaysPlainlyWhatIsMissing()
    {
        const GpuStatus status = probeGpus();
        QVERIFY(!status.cudaRuntime.isEmpty() && !status.nccl.isEmpty() && !status.nvml.isEmpty());
        if (status.cudaAvailable) {
            QVERIFY(status.deviceCount > 0);
            QSKIP("this machine has a CUDA device; the no-device messages are checked on machines without one");
        }
        QCOMPARE(status.deviceCount, 0);
        QVERIFY2(status.deviceMessage.startsWith(QStringLiteral("no CUDA device found")), qPrintable(status.deviceMessage));
        if (!status.ncclAvailable)
            QVERIFY2(status.nccl.startsWith(QStringLiteral("NCCL not found: install")) || status.nccl.contains(QStringLiteral("too old")),
                     qPrintable(status.nccl));
        if (!status.nvmlAvailable)
            QVERIFY2(status.nvml.startsWith(QStringLiteral("NVML")), qPrintable(status.nvml));
    }
};

QTEST_GUILESS_MAIN(TestGpu)
#include "tst_gpu.moc"
