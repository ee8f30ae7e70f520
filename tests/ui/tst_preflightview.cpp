// The GPU preflight page offscreen: the history of a workspace holding two sample results (an 8-GPU NVLink box
// that is healthy, a 2-GPU PCIe box that is slow), the chart of the one picked (a series per collective, the
// link's expected and healthy levels), its verdict and details; Run preflight on this machine, which has no
// GPU, saying so; a bad GPU list refused; the window's page opened once. TRAINYARD_DOCS_IMAGES=DIR saves the
// page (docs/images/preflight.png: sample data, not a measurement).
#include "gpu/gpuruntime.h"
#include "gpu/ncclpreflight.h"
#include "mainwindow.h"
#include "store/preflighthistory.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"
#include "views/preflightview.h"

#include <QChart>
#include <QChartView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace trainyard;

namespace {

// A plausible bandwidth curve: small sizes are latency-bound, large ones approach the peak.
PreflightResult sampleResult(const QDateTime &at, int gpus, const GpuLinkInfo &link, double peakBusGBs)
{
    PreflightResult result;
    result.startedAt = at;
    result.host = QStringLiteral("gpu-box-1");
    for (int gpu = 0; gpu < gpus; ++gpu)
        result.gpus << gpu,
            result.deviceNames
            << QStringLiteral("NVIDIA H100 80GB HBM3 (00000000:%1:00.0)").arg(0x18 + 0x10 * gpu, 2, 16);
    result.nccl = QStringLiteral("NCCL 2.28.9 (libnccl.so.2)");
    result.link = link;
    const QList<QPair<CollectiveOp, double>> peaks = {{CollectiveOp::AllReduce, 1.0},
                                                      {CollectiveOp::AllGather, 0.93},
                                                      {CollectiveOp::ReduceScatter, 0.95},
                                                      {CollectiveOp::Broadcast, 0.82}};
    for (const auto &[op, share] : peaks) {
        for (std::int64_t bytes : preflightSizes(1024, std::int64_t(1) << 30)) {
            for (bool inPlace : {false, true}) {
                PreflightMeasurement m;
                m.op = op;
                m.bytes = bytes;
                m.elements = bytes / 4;
                m.inPlace = inPlace;
                m.busGBs = peakBusGBs * share * double(bytes) / (double(bytes) + double(8 << 20));
                m.algorithmGBs = m.busGBs / busBandwidthFactor(op, gpus);
                m.seconds = double(bytes) / (m.algorithmGBs * 1e9);
                result.measurements << m;
            }
        }
    }
    judgePreflight(result);
    return result;
}

const QDateTime kFirst(QDate(2026, 11, 20), QTime(9, 30), Qt::UTC);

} // namespace

class TestPreflightView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY(m_config.isValid());
        qputenv("XDG_CONFIG_HOME", m_config.path().toUtf8());
        QVERIFY(m_workspace.isValid());
        auto connection = m_workspace.workspace().database().connect();
        QVERIFY(connection.ok());
        m_slow = sampleResult(kFirst, 2, pcieLinkInfo(4, 16), 4.8);
        m_healthy = sampleResult(kFirst.addDays(5), 8, nvLinkInfo(4, 18), 372);
        QVERIFY(!m_slow.healthy && m_healthy.healthy);
        QVERIFY(savePreflightRecord(*connection, m_slow.toJson()).ok());
        QVERIFY(savePreflightRecord(*connection, m_healthy.toJson()).ok());
    }

    void historyChartAndVerdictOfEachResult()
    {
        PreflightView view(m_workspace.root());
        view.resize(1300, 760);
        view.show();
        QTRY_COMPARE_WITH_TIMEOUT(view.historyList()->count(), 2, 10000);
        QVERIFY2(view.historyList()->item(0)->text().contains(QStringLiteral("8 GPU(s)  healthy")),
                 qPrintable(view.historyList()->item(0)->text()));
        QVERIFY(view.historyList()->item(1)->text().contains(QStringLiteral("NOT HEALTHY")));

        // The newest is shown: one series per collective plus the expected and healthy levels of NVLink 4 x 18.
        QCOMPARE(view.verdictLabel()->text(), m_healthy.verdict);
        QStringList names;
        for (QAbstractSeries *series : view.chart()->chart()->series())
            names << series->name();
        QCOMPARE(names.size(), 6);
        QVERIFY(names.contains(QStringLiteral("all_reduce")) && names.contains(QStringLiteral("broadcast")));
        QVERIFY2(names.contains(QStringLiteral("link: 450 GB/s")), qPrintable(names.join('|')));
        QVERIFY2(names.contains(QStringLiteral("healthy from 225 GB/s")), qPrintable(names.join('|')));
        auto *allReduce = qobject_cast<QLineSeries *>(view.chart()->chart()->series().at(0));
        QVERIFY(allReduce);
        QCOMPARE(allReduce->count(), int(preflightSizes(1024, std::int64_t(1) << 30).size())); // out of place only
        QCOMPARE(allReduce->at(allReduce->count() - 1).x(), 30.0);                             // log2 of 1 GiB
        QCOMPARE(allReduce->at(allReduce->count() - 1).y(),
                 m_healthy.measurements.at(2 * 20).busGBs); // 1 GiB, out of place
        QVERIFY(view.detailsLabel()->text().contains(QStringLiteral("Link: NVLink 4, 18 links per GPU")));
        QVERIFY2(view.detailsLabel()->text().contains(QStringLiteral("GPUs: 8 × NVIDIA H100 80GB HBM3")),
                 qPrintable(view.detailsLabel()->text()));
        QVERIFY(view.detailsLabel()->text().contains(QStringLiteral("NCCL 2.28.9")));

        if (test::docsImagesWanted()) { // docs/images/preflight.png
            QTest::qWait(300);
            QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("preflight")));
        }

        // The older, slow PCIe result: its verdict says what to check.
        view.historyList()->setCurrentRow(1);
        QCOMPARE(view.verdictLabel()->text(), m_slow.verdict);
        QVERIFY2(view.verdictLabel()->text().startsWith(QStringLiteral("slow:")),
                 qPrintable(view.verdictLabel()->text()));
        QVERIFY(view.detailsLabel()->text().contains(QStringLiteral("Link: PCIe Gen4 x16")));
    }

    void runningWithoutAGpuSaysSoAndStoresNothing()
    {
        if (probeGpus().cudaAvailable)
            QSKIP("this machine has a CUDA device; the page's no-device answer is checked on machines without one");
        PreflightView view(m_workspace.root());
        QSignalSpy loaded(&view, &PreflightView::historyLoaded);
        QVERIFY(loaded.wait(10000));
        QSignalSpy finished(&view, &PreflightView::preflightFinished);
        view.runPreflight();
        QVERIFY(finished.wait(30000));
        QCOMPARE(finished.first().first().toBool(), false);
        QVERIFY2(view.verdictLabel()->text().startsWith(QStringLiteral("No preflight ran: no CUDA device found")),
                 qPrintable(view.verdictLabel()->text()));
        auto connection = m_workspace.workspace().database().connect();
        QCOMPARE(loadPreflightRecords(*connection)->size(), 2);

        view.gpusEdit()->setText(QStringLiteral("zero"));
        view.runPreflight();
        QCOMPARE(finished.count(), 2);
        QCOMPARE(finished.last().first().toBool(), false);
        QVERIFY(view.verdictLabel()->text().contains(QStringLiteral("'zero' is not a list of GPU numbers")));
    }

    void windowOpensThePageOnce()
    {
        MainWindow window(m_workspace.workspace());
        window.show();
        PreflightView *page = window.openPreflight();
        QVERIFY(page);
        QCOMPARE(window.openPreflight(), page);
        QTRY_COMPARE_WITH_TIMEOUT(page->historyList()->count(), 2, 10000);
    }

private:
    QTemporaryDir m_config;
    test::TestWorkspace m_workspace;
    PreflightResult m_slow, m_healthy;
};

QTEST_MAIN(TestPreflightView)
#include "tst_preflightview.moc"
