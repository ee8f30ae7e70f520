// Profiler traces (issue 18, point 3): the Chrome trace parser on the shapes torch writes (its legacy profiler's bare
// list, Kineto's object with metadata, begin/end pairs), with nesting, self times, steps and operators checked against
// a known answer; every kind of bad file refused with a message that says what is wrong; and the profile request
// files: rank lists, refusals, and reading the ranks' answers.
#include "perf/chrometrace.h"
#include "perf/profilerequest.h"
#include "store/runrecord.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace trainyard;

namespace {

// What torch 1.13's profiler (without Kineto) writes: a bare list, pid a string, ts from the profiler's start.
const char *kLegacyTrace = R"([
{"name": "ProfilerStep#7", "ph": "X", "ts": 100, "dur": 1000, "tid": 1, "pid": "CPU functions", "args": {}},
{"name": "aten::linear", "ph": "X", "ts": 110, "dur": 500, "tid": 1, "pid": "CPU functions", "args": {}},
{"name": "aten::addmm", "ph": "X", "ts": 120, "dur": 300, "tid": 1, "pid": "CPU functions", "args": {}},
{"name": "aten::t", "ph": "X", "ts": 430, "dur": 50, "tid": 1, "pid": "CPU functions", "args": {}},
{"name": "aten::relu", "ph": "X", "ts": 700, "dur": 200, "tid": 1, "pid": "CPU functions", "args": {}},
{"name": "ProfilerStep#8", "ph": "X", "ts": 1100, "dur": 900, "tid": 1, "pid": "CPU functions", "args": {}},
{"name": "aten::linear", "ph": "X", "ts": 1150, "dur": 400, "tid": 1, "pid": "CPU functions", "args": {}},
{"name": "AddmmBackward0", "ph": "X", "ts": 1200, "dur": 100, "tid": 2, "pid": "CPU functions", "args": {}}
]
)";

// Kineto's shape: an object, metadata naming the process and threads, a CUDA stream, B/E pairs, a counter, args.
const char *kKinetoTrace = R"({"schemaVersion": 1, "deviceProperties": [], "traceEvents": [
{"ph": "M", "name": "process_name", "pid": 4242, "tid": 0, "args": {"name": "python3 train.py"}},
{"ph": "M", "name": "thread_name", "pid": 4242, "tid": 4242, "args": {"name": "main thread"}},
{"ph": "M", "name": "process_name", "pid": 0, "tid": 0, "args": {"name": "GPU 0"}},
{"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#3", "pid": 4242, "tid": 4242, "ts": 1796255440000100.5, "dur": 2000},
{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 4242, "tid": 4242, "ts": 1796255440000200.5, "dur": 800, "args": {"External id": 12, "Input Dims": [[32, 64], [64, 64]]}},
{"ph": "B", "cat": "cpu_op", "name": "aten::copy_", "pid": 4242, "tid": 4242, "ts": 1796255440001100.5},
{"ph": "E", "pid": 4242, "tid": 4242, "ts": 1796255440001300.5},
{"ph": "X", "cat": "kernel", "name": "ampere_sgemm_64x64_nn", "pid": 0, "tid": "stream 7", "ts": 1796255440000300.5, "dur": 600, "args": {"stream": 7}},
{"ph": "C", "name": "GPU Memory", "pid": 0, "ts": 1796255440000300.5, "args": {"bytes": 1024}},
{"ph": "i", "name": "marker", "pid": 4242, "tid": 4242, "ts": 1796255440001500.5, "s": "t"}
], "displayTimeUnit": "ms"})";

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    QFile file(dir.filePath(name));
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(content);
    return file.fileName();
}

RunRecord runWithStatus(RunStatus status)
{
    RunRecord run;
    run.id = QStringLiteral("20261202-000000-abcdef");
    run.name = QStringLiteral("demo");
    run.status = status;
    return run;
}

} // namespace

class TestTraces : public QObject {
    Q_OBJECT

private slots:
    void legacyTorchTraceNestsIntoRowsWithSelfTimes()
    {
        auto trace = ChromeTrace::parse(kLegacyTrace, QStringLiteral("rank0.json"));
        QVERIFY2(trace, trace ? "" : qPrintable(trace.error()));
        QCOMPARE(trace->events().size(), std::size_t(8));
        QCOMPARE(trace->lanes().size(), std::size_t(2)); // threads 1 and 2 of "CPU functions"
        QCOMPARE(trace->lanes()[0].label(), QStringLiteral("CPU functions · thread 1"));
        QCOMPARE(trace->lanes()[0].depthCount, 3); // step > linear > addmm
        QCOMPARE(trace->durationUs(), 1900.0);     // from the first event (ts 100) to the last end (2000)
        // The steps the client marked, in order.
        QCOMPARE(trace->steps().size(), std::size_t(2));
        QCOMPARE(trace->steps()[0].step, std::int64_t(7));
        QCOMPARE(trace->steps()[1].startUs, 1000.0);
        // Operators: self time is the duration less the direct children's; the step markers are not operators.
        const QList<TraceOperator> operators = trace->operators();
        QCOMPARE(operators.size(), 5);
        QCOMPARE(operators[0].name, QStringLiteral("aten::linear")); // 500-300-50 + 400 = 550 self
        QCOMPARE(operators[0].calls, std::int64_t(2));
        QCOMPARE(operators[0].selfUs, 550.0);
        QCOMPARE(operators[0].totalUs, 900.0);
        QCOMPARE(operators[1].name, QStringLiteral("aten::addmm"));
        QCOMPARE(operators[1].selfUs, 300.0);
        // Hit testing: what lies under a time on a row.
        const std::int64_t hit = trace->eventAt(0, 2, 300 - 100); // addmm runs 120..420, origin 100
        QVERIFY(hit >= 0);
        QCOMPARE(trace->name(trace->events()[std::size_t(hit)].name), QStringLiteral("aten::addmm"));
        QCOMPARE(trace->eventAt(0, 2, 1890), std::int64_t(-1));
    }

    void kinetoTraceHasNamedLanesArgsAndPairedEvents()
    {
        auto trace = ChromeTrace::parse(kKinetoTrace, QStringLiteral("rank1.json"));
        QVERIFY2(trace, trace ? "" : qPrintable(trace.error()));
        QStringList labels;
        for (const TraceLane &lane : trace->lanes())
            labels << lane.label();
        QCOMPARE(
            labels,
            (QStringList{QStringLiteral("python3 train.py · main thread"), QStringLiteral("GPU 0 · thread stream 7")}));
        // X, the B/E pair, the kernel and the instant; the counter is not drawn.
        QCOMPARE(trace->events().size(), std::size_t(5));
        QCOMPARE(trace->skippedEvents(), std::int64_t(1));
        QCOMPARE(trace->originUs(), 1796255440000100.5);
        bool sawCopy = false, sawMm = false;
        for (const TraceEvent &event : trace->events()) {
            const QString name = trace->name(event.name);
            if (name == QLatin1String("aten::copy_")) {
                sawCopy = true;
                QCOMPARE(event.durationUs, 200.0);
                QCOMPARE(event.depth, 1); // inside the step
            }
            if (name == QLatin1String("aten::mm")) {
                sawMm = true;
                QCOMPARE(trace->name(event.category), QStringLiteral("cpu_op"));
                const QJsonObject args = QJsonDocument::fromJson(trace->args(event).toUtf8()).object();
                QCOMPARE(args[QStringLiteral("External id")].toInt(), 12);
            }
        }
        QVERIFY(sawCopy && sawMm);
        QCOMPARE(trace->steps().size(), std::size_t(1));
        QCOMPARE(trace->steps()[0].step, std::int64_t(3));
    }

    void badTracesAreRefusedWithWhatIsWrong_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not JSON") << QByteArray(R"([{"name": "a", "ph": X}])") << QStringLiteral("is not valid JSON");
        QTest::newRow("plain text") << QByteArray("this is not json") << QStringLiteral("is not a Chrome trace");
        QTest::newRow("cut in the middle of an event")
            << QByteArray(kLegacyTrace).left(300) << QStringLiteral("is truncated: it ends at byte 300");
        QTest::newRow("cut after an event")
            << QByteArray(R"([{"name": "a", "ph": "X", "ts": 1, "dur": 2, "pid": 1, "tid": 1})")
            << QStringLiteral("is truncated");
        QTest::newRow("empty") << QByteArray("  \n") << QStringLiteral("is empty");
        QTest::newRow("an object without events")
            << QByteArray(R"({"a": 1})") << QStringLiteral("is not a Chrome trace: its object has no traceEvents");
        QTest::newRow("events not a list") << QByteArray(R"({"traceEvents": 3})")
                                           << QStringLiteral("is not a Chrome trace: traceEvents is not a list");
        QTest::newRow("a number") << QByteArray("42") << QStringLiteral("is not a Chrome trace");
    }

    void badTracesAreRefusedWithWhatIsWrong()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = writeFile(dir, QStringLiteral("rank3.json"), content);
        auto trace = ChromeTrace::load(path);
        QVERIFY(!trace);
        QVERIFY2(trace.error().contains(expected), qPrintable(trace.error()));
        QVERIFY2(trace.error().contains(path), qPrintable(trace.error())); // names the file
        QVERIFY(!ChromeTrace::load(dir.filePath(QStringLiteral("missing.json"))));
    }

    void eventsWithoutTimesAreSkippedNotGuessed()
    {
        auto trace = ChromeTrace::parse(R"([{"name": "a", "ph": "X", "dur": 2, "pid": 1, "tid": 1},
            {"name": "b", "ph": "X", "ts": 5, "dur": 2, "pid": 1, "tid": 1}, 17,
            {"ph": "E", "ts": 9, "pid": 1, "tid": 1}])",
                                        QStringLiteral("t"));
        QVERIFY2(trace, trace ? "" : qPrintable(trace.error()));
        QCOMPARE(trace->events().size(), std::size_t(1));
        QCOMPARE(trace->skippedEvents(), std::int64_t(3)); // no ts, not an object, an end without a begin
    }

    void rankListsAreCheckedAgainstTheRun()
    {
        QCOMPARE(profiling::parseRankList(QString(), 4).value(), QList<int>{});
        QCOMPARE(profiling::parseRankList(QStringLiteral("all"), 4).value(), QList<int>{});
        QCOMPARE(profiling::parseRankList(QStringLiteral("3, 0-1,1"), 4).value(), (QList<int>{0, 1, 3}));
        auto outside = profiling::parseRankList(QStringLiteral("0,5"), 4);
        QVERIFY(!outside);
        QCOMPARE(outside.error(), QStringLiteral("rank 5 is not a rank of this run (it has 4: 0-3)"));
        QVERIFY(
            profiling::parseRankList(QStringLiteral("two"), 4).error().contains(QStringLiteral("'two' is not a rank")));
        QVERIFY(profiling::parseRankList(QStringLiteral("3-1"), 4).error().contains(QStringLiteral("runs backwards")));
        QCOMPARE(profiling::parseRankList(QStringLiteral("9"), 0).value(), QList<int>{9}); // rank count unknown
    }

    void aRequestIsRefusedUnlessTheRunIsRunning()
    {
        QTemporaryDir dir;
        auto ended =
            profiling::request(runWithStatus(RunStatus::Succeeded), dir.path(), 2, 5, {}, std::chrono::seconds(60));
        QVERIFY(!ended);
        QCOMPARE(ended.error(),
                 QStringLiteral("run demo is succeeded, not running: a profile is taken from a live run"));
        auto tooMany =
            profiling::request(runWithStatus(RunStatus::Running), dir.path(), 2, 5000, {}, std::chrono::seconds(60));
        QVERIFY(!tooMany);
        QVERIFY(tooMany.error().contains(QStringLiteral("--steps must be from 1 to 1000")));
        QVERIFY(!QDir(dir.filePath(QStringLiteral("profile"))).exists()); // nothing written
    }

    void requestAndAnswersRoundTrip()
    {
        QTemporaryDir dir;
        auto request =
            profiling::request(runWithStatus(RunStatus::Running), dir.path(), 3, 4, {}, std::chrono::seconds(60));
        QVERIFY2(request, request ? "" : qPrintable(request.error()));
        QCOMPARE(request->ranks, (QList<int>{0, 1, 2})); // every rank, written out
        // The file the ranks read.
        QFile file(dir.filePath(QStringLiteral("profile/request.json")));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject written = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(written[QStringLiteral("id")].toString(), request->id);
        QCOMPARE(written[QStringLiteral("steps")].toInt(), 4);
        QCOMPARE(written[QStringLiteral("expires_ms")].toInteger()
                     - written[QStringLiteral("requested_ms")].toInteger(),
                 qint64(60000));

        // Rank 0 done, rank 1 failed, rank 2 silent; rank 0's status names a trace that exists.
        const QString folder = dir.filePath(QStringLiteral("profile/") + request->id);
        QFile trace(folder + QStringLiteral("/rank0.json"));
        QVERIFY(trace.open(QIODevice::WriteOnly));
        trace.write(kLegacyTrace);
        trace.close();
        const auto writeStatus = [&](int rank, const QJsonObject &status) {
            QFile out(folder + QStringLiteral("/rank%1.status.json").arg(rank));
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(QJsonDocument(status).toJson());
        };
        writeStatus(0,
                    {{"state", "done"}, {"trace", "rank0.json"}, {"first_step", 7}, {"last_step", 10}, {"bytes", 900}});
        writeStatus(1, {{"state", "failed"}, {"error", "torch.profiler is not available in this rank's Python"}});
        auto session = profiling::readSession(dir.path(), request->id);
        QVERIFY2(session, session ? "" : qPrintable(session.error()));
        QCOMPARE(session->ranks.size(), 3);
        QVERIFY(session->ranks[0].state == RankProfile::State::Done);
        QCOMPARE(session->ranks[0].tracePath, folder + QStringLiteral("/rank0.json"));
        QCOMPARE(session->ranks[0].firstStep, std::int64_t(7));
        QVERIFY(session->ranks[1].state == RankProfile::State::Failed);
        QVERIFY(session->ranks[1].error.contains(QStringLiteral("torch.profiler is not available")));
        QVERIFY(session->ranks[2].state == RankProfile::State::Waiting);
        QVERIFY(!session->allAnswered());
        QCOMPARE(session->tracedRanks(), QList<int>{0});

        // A status naming a file outside its folder is not followed.
        writeStatus(2, {{"state", "done"}, {"trace", "../../etc/passwd"}});
        session = profiling::readSession(dir.path(), request->id);
        QVERIFY(session->ranks[2].state == RankProfile::State::Failed);
        QVERIFY(session->allAnswered());

        // Sessions list the newest first.
        QTest::qWait(5);
        auto second =
            profiling::request(runWithStatus(RunStatus::Running), dir.path(), 3, 1, {1}, std::chrono::seconds(60));
        QVERIFY(second);
        auto sessions = profiling::sessions(dir.path());
        QVERIFY2(sessions, sessions ? "" : qPrintable(sessions.error()));
        QCOMPARE(sessions->size(), 2);
        QCOMPARE(sessions->at(0).request.id, second->id);
        QCOMPARE(sessions->at(0).request.ranks, QList<int>{1});

        QVERIFY(profiling::silentRankMessage(2, false, std::chrono::seconds(30))
                    .startsWith(QStringLiteral("rank 2 has no Trainyard client; add `import trainyard_log`")));
        QVERIFY(
            profiling::silentRankMessage(2, true, std::chrono::seconds(30)).contains(QStringLiteral("within 30 s")));
    }
};

QTEST_GUILESS_MAIN(TestTraces)
#include "tst_traces.moc"
