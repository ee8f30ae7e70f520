// MetricIngester: tailing growing files, partial lines, big files in several batches, and exact resume.
#include "ingest/metricingester.h"
#include "store/metricqueries.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QTest>

using namespace trainyard;

namespace {
void append(const QString &path, const QByteArray &data)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::Append));
    file.write(data);
}

std::int64_t storedPoints(test::TestWorkspace &workspace, const QString &runId)
{
    auto connection = workspace.workspace().database().connect();
    if (!connection)
        return -1;
    auto count = metricqueries::pointCount(connection.value(), runId);
    return count ? count.value() : -1;
}
} // namespace

class TestMetricIngester : public QObject {
    Q_OBJECT
private slots:
    void tailsGrowingFilesLineByLine()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running);
        const QString dir = workspace.workspace().runDir(runId);
        QVERIFY(QDir().mkpath(dir));
        const QString metrics = dir + QStringLiteral("/metrics.rank0.jsonl");
        MetricIngester ingester(runId, dir, workspace.writer());
        QVERIFY(ingester.resume(workspace.workspace().database()).ok());

        append(metrics, "{\"step\": 0, \"loss\": 1.0}\n{\"step\": 1, \"loss\": 0.5");
        QCOMPARE(ingester.poll().value(), std::int64_t(1)); // the second line is not finished
        append(metrics, "}\n");
        QCOMPARE(ingester.poll().value(), std::int64_t(1));
        QCOMPARE(ingester.poll().value(), std::int64_t(0));
        // A second rank's file: its keys are prefixed.
        append(dir + QStringLiteral("/metrics.rank1.jsonl"), "{\"step\": 0, \"loss\": 2.0}\n");
        QCOMPARE(ingester.poll().value(), std::int64_t(1));
        QVERIFY(ingester.waitForWrites().ok());
        auto connection = workspace.workspace().database().connect();
        auto summaries = metricqueries::keySummaries(connection.value(), runId);
        QVERIFY(summaries.ok());
        QCOMPARE(summaries->size(), 2);
        QCOMPARE(summaries->at(0).key, QStringLiteral("loss"));
        QCOMPARE(summaries->at(0).points, std::int64_t(2));
        QCOMPARE(summaries->at(0).lastValue, 0.5);
        QCOMPARE(summaries->at(1).key, QStringLiteral("rank1/loss"));
        QCOMPARE(ingester.stats().latestStep, std::int64_t(1));
    }

    // One out-of-range number costs its member, not its line: the line's good members are stored and the bad one is
    // counted as malformed, named with file and line.
    void outOfRangeMemberDropsOnlyItself()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running);
        const QString dir = workspace.workspace().runDir(runId);
        QVERIFY(QDir().mkpath(dir));
        MetricIngester ingester(runId, dir, workspace.writer());
        QVERIFY(ingester.resume(workspace.workspace().database()).ok());
        append(dir + QStringLiteral("/metrics.rank0.jsonl"),
               "{\"step\": 13, \"big\": 1.0}\n{\"step\": 14, \"big\": 1e308, \"huge\": 1e400}\n");
        QCOMPARE(ingester.poll().value(), std::int64_t(2));
        QVERIFY(ingester.waitForWrites().ok());
        QCOMPARE(storedPoints(workspace, runId), std::int64_t(2));
        auto connection = workspace.workspace().database().connect();
        auto summaries = metricqueries::keySummaries(connection.value(), runId);
        QVERIFY(summaries.ok());
        QCOMPARE(summaries->size(), 1);
        QCOMPARE(summaries->at(0).key, QStringLiteral("big"));
        QCOMPARE(summaries->at(0).lastValue, 1e308);
        const auto stats = ingester.stats();
        QCOMPARE(stats.malformedLines, std::int64_t(1));
        QCOMPARE(stats.malformedExamples.size(), 1);
        QVERIFY2(stats.malformedExamples.first().startsWith(
                     QStringLiteral("metrics.rank0.jsonl:2: \"huge\": 1e400 is out of range")),
                 qPrintable(stats.malformedExamples.first()));
    }

    // A line longer than a whole read stalled ingestion of its file for good; it is skipped and counted.
    void lineLongerThanAReadIsSkippedAndCounted()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running);
        const QString dir = workspace.workspace().runDir(runId);
        QVERIFY(QDir().mkpath(dir));
        MetricIngester ingester(runId, dir, workspace.writer());
        QVERIFY(ingester.resume(workspace.workspace().database()).ok());
        const QString metrics = dir + QStringLiteral("/metrics.rank0.jsonl");
        const QByteArray longLine = "{\"step\": 1, \"pad\": \"" + QByteArray(MetricIngester::kMaxReadBytes + 1000, 'x');
        append(metrics, "{\"step\": 0, \"loss\": 1.0}\n" + longLine);
        QCOMPARE(ingester.poll().value(), std::int64_t(1)); // the long line is still being written
        QCOMPARE(ingester.stats().malformedLines, std::int64_t(0));
        append(metrics, "\"}\n{\"step\": 2, \"loss\": 0.25}\n");
        QCOMPARE(ingester.poll().value(), std::int64_t(1));
        QVERIFY(ingester.waitForWrites().ok());
        QCOMPARE(storedPoints(workspace, runId), std::int64_t(2));
        const auto stats = ingester.stats();
        QCOMPARE(stats.malformedLines, std::int64_t(1));
        QVERIFY2(stats.malformedExamples.value(0).startsWith(
                     QStringLiteral("metrics.rank0.jsonl:2: line of %1 bytes").arg(longLine.size() + 2)),
                 qPrintable(stats.malformedExamples.value(0)));
        QCOMPARE(stats.latestStep, std::int64_t(2));
    }

    void bigFileSpansSeveralBatchesAndResumesExactly()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running);
        const QString dir = workspace.workspace().runDir(runId);
        QVERIFY(QDir().mkpath(dir));
        const QString metrics = dir + QStringLiteral("/metrics.rank0.jsonl");
        constexpr int kLines = 150000; // 3 keys each: 450,000 points, more than two batches
        QByteArray data;
        for (int step = 0; step < kLines; ++step)
            data += QStringLiteral("{\"step\":%1,\"loss\":%2,\"lr\":0.001,\"acc\":%3}\n")
                        .arg(step)
                        .arg(1.0 / (step + 1))
                        .arg(step % 100)
                        .toUtf8();
        append(metrics, data.left(data.size() / 2 + 7)); // stop in the middle of a line
        {
            MetricIngester first(runId, dir, workspace.writer());
            QVERIFY(first.resume(workspace.workspace().database()).ok());
            QVERIFY(first.poll().ok());
            QVERIFY(first.waitForWrites().ok());
            // "Crash": the first ingester is gone without a final poll.
        }
        const std::int64_t afterFirst = storedPoints(workspace, runId);
        QVERIFY(afterFirst > 0 && afterFirst % 3 == 0);
        append(metrics, data.mid(data.size() / 2 + 7));

        MetricIngester second(runId, dir, workspace.writer());
        QVERIFY(second.resume(workspace.workspace().database()).ok());
        QCOMPARE(second.stats().points, afterFirst);
        QVERIFY(second.poll(true).ok());
        QVERIFY(second.waitForWrites().ok());
        QCOMPARE(storedPoints(workspace, runId), std::int64_t(kLines) * 3);
        QCOMPARE(second.stats().points, std::int64_t(kLines) * 3);

        // Every step exactly once.
        auto connection = workspace.workspace().database().connect();
        auto loss = metricqueries::series(connection.value(), runId, QStringLiteral("loss"));
        QVERIFY(loss.ok());
        QCOMPARE(loss->size(), kLines);
        for (int step = 0; step < kLines; ++step)
            QCOMPARE(loss->at(step).step, std::int64_t(step));
    }

    void shrunkFileIsAnError()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("r"), RunStatus::Running);
        const QString dir = workspace.workspace().runDir(runId);
        QVERIFY(QDir().mkpath(dir));
        const QString metrics = dir + QStringLiteral("/metrics.rank0.jsonl");
        append(metrics, "{\"step\": 0, \"loss\": 1.0}\n{\"step\": 1, \"loss\": 1.0}\n");
        MetricIngester ingester(runId, dir, workspace.writer());
        QVERIFY(ingester.poll().ok());
        QFile::resize(metrics, 5);
        auto polled = ingester.poll();
        QVERIFY(!polled.ok());
        QVERIFY2(polled.error().contains(metrics) && polled.error().contains(QStringLiteral("shrank")),
                 qPrintable(polled.error()));
    }
};

QTEST_GUILESS_MAIN(TestMetricIngester)
#include "tst_metricingester.moc"
