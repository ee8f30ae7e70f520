// Run page and "New local run" (offscreen), against runs launched for real.
#include "launch/launchhost.h"
#include "mainwindow.h"
#include "views/compareview.h"
#include "views/envelopechart.h"
#include "store/checkpoints.h"
#include "store/metricqueries.h"
#include "store/sqlite.h"
#include "store/supersededpoints.h"
#include "store/trackingstore.h"
#include "models/runtablemodel.h"
#include "support/testworkspace.h"
#include "views/composepanel.h"
#include "views/newrundialog.h"
#include "views/runpage.h"
#include "perf/profilerequest.h"
#include "views/tracesview.h"
#include "views/tracetimeline.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QFileSystemModel>
#include <QScopeGuard>
#include <QUrl>
#include <QDir>
#include <QTreeView>
#include <QDialogButtonBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QSignalSpy>
#include <QPushButton>
#include <QSpinBox>
#include <QRegularExpression>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QWheelEvent>

using namespace trainyard;

namespace {
const QString kPython = QStringLiteral("/usr/bin/python3");
const QString kScripts = QStringLiteral(TRAINYARD_FIXTURES_DIR "/scripts/");
} // namespace

class TestRunPage : public QObject {
    Q_OBJECT
public slots:
    // The desktop's "open this folder", caught (QDesktopServices::setUrlHandler) instead of starting a file manager.
    void folderOpened(const QUrl &url) { m_opened = url; }

private:
    QUrl m_opened;

private slots:
    void initTestCase()
    {
        QVERIFY(m_config.isValid());
        qputenv("XDG_CONFIG_HOME", m_config.path().toUtf8());
        qputenv("TRAINYARD_PYTHON_DIR", TRAINYARD_SOURCE_DIR "/resources/python");
    }

    void showsStatusFailureLogsAndChartsOfAFinishedRun()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        QProcess launch;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("FAIL_RANK"), QStringLiteral("1"));
        environment.insert(QStringLiteral("FAIL_STEP"), QStringLiteral("4"));
        launch.setProcessEnvironment(environment);
        launch.start(QStringLiteral(TRAINYARD_BINARY),
                     {"launch", "--workspace", workspace.root(), "--quiet", "--grace", "1", "--nproc-per-node", "2",
                      "--", kPython, kScripts + "fail_at_step.py"});
        QVERIFY(launch.waitForFinished(60000));
        const QString runId = QRegularExpression(QStringLiteral("^run (\\S+?):"))
                                  .match(QString::fromUtf8(launch.readAllStandardOutput()))
                                  .captured(1);
        QVERIFY(!runId.isEmpty());

        MainWindow window(workspace.workspace());
        window.show();
        RunPage *page = window.openRunPage(runId);
        QVERIFY(page);
        QTRY_VERIFY_WITH_TIMEOUT(page->statusText().startsWith(QStringLiteral("failed")), 5000);
        QTRY_VERIFY(page->failureText().contains(QStringLiteral("ValueError: bad batch at step 4")));
        QVERIFY(page->failureText().contains(QStringLiteral("rank 1")));
        // Logs of both ranks, interleaved and prefixed; the chart from rank 0's stdout (no metrics file).
        QTRY_VERIFY(page->visibleLogText().contains(QStringLiteral("[0] "))
                    && page->visibleLogText().contains(QStringLiteral("[1] ")));
        const auto trainingKeys = [page] {
            QStringList keys = page->chartKeys();
            keys.removeIf([](const QString &key) { return key.startsWith(QLatin1String("sys/")); });
            return keys;
        };
        QTRY_COMPARE(trainingKeys(), QStringList{QStringLiteral("loss")});
        // Every stored point is charted (how many rank 0 printed before teardown depends on scheduling).
        auto connection = workspace.workspace().database().connect();
        auto stored = metricqueries::series(connection.value(), runId, QStringLiteral("loss"));
        QVERIFY(stored.ok() && !stored->isEmpty());
        QTRY_COMPARE(page->chartPointCount(QStringLiteral("loss")), int(stored->size()));
        // The charts are the compare view's (one component for both), its system telemetry collapsed.
        auto *metrics = page->findChild<CompareView *>(QStringLiteral("runMetrics"));
        QVERIFY(metrics);
        QVERIFY(metrics->chart(QStringLiteral("loss")) && metrics->chart(QStringLiteral("loss"))->isVisible());
        QVERIFY(metrics->isSectionCollapsed(QStringLiteral("sys/")));
        for (const QString &key : page->chartKeys())
            if (key.startsWith(QLatin1String("sys/")))
                QVERIFY2(!metrics->chart(key)->isVisible(), qPrintable(key));

        // The run was launched from this test's folder: when that is inside a git work tree, the page says which commit.
        if (QFile::exists(workspace.workspace().runDir(runId) + QStringLiteral("/provenance.json")))
            QTRY_VERIFY(page->provenanceText().startsWith(QStringLiteral("git ")));

        page->setRankFilter(1);
        QVERIFY(!page->visibleLogText().contains(QStringLiteral("[0] ")));
        QVERIFY(page->visibleLogText().contains(QStringLiteral("Traceback")));
        page->setRankFilter(-1);
        page->setSearchText(QStringLiteral("ValueError"));
        const QStringList matching = page->visibleLogText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY(!matching.isEmpty());
        for (const QString &line : matching)
            QVERIFY2(line.contains(QStringLiteral("ValueError")), qPrintable(line));

        // docs/images/run-page.png (test::saveDocsImage).
        if (test::docsImagesWanted()) {
            window.resize(1280, 720);
            page->setSearchText(QString());
            QTest::qWait(300); // let the chart re-layout at the new size
            QVERIFY(test::saveDocsImage(window.grab().toImage(), QStringLiteral("run-page")));
        }

        // NCCL debug files (NCCL_DEBUG_FILE) show beside the rank logs, marked as such.
        QFile ncclLog(workspace.workspace().runDir(runId) + QStringLiteral("/nccl.rank1.log"));
        QVERIFY(ncclLog.open(QIODevice::WriteOnly));
        ncclLog.write("vm:4242:4242 [1] NCCL INFO Bootstrap : Using lo:127.0.0.1<0>\n");
        ncclLog.close();
        page->setSearchText(QString());
        QTRY_VERIFY(page->visibleLogText().contains(QStringLiteral("nccl] ")));
        QVERIFY(page->visibleLogText().contains(QStringLiteral("NCCL INFO Bootstrap")));

        // Opening the same run again brings its page forward instead of a second one.
        QCOMPARE(window.openRunPage(runId), page);
    }

    // A run logged through the MLflow API: its mlflow.* tags shown apart from its tags, its artifacts listed.
    void mlflowSystemTagsAndArtifactsAreShown()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("api-run"), RunStatus::Succeeded);
        QVERIFY(workspace.writer()
                    .submit<void>([runId](SqliteConnection &connection) {
                        return trackingstore::setTags(
                            connection, runId,
                            {{QStringLiteral("mlflow.user"), QStringLiteral("alice")},
                             {QStringLiteral("mlflow.source.name"), QStringLiteral("train.py")},
                             {QStringLiteral("team"), QStringLiteral("vision")}});
                    })
                    .get());
        const QString artifacts = workspace.workspace().runDir(runId) + QStringLiteral("/artifacts");
        QVERIFY(QDir().mkpath(artifacts + QStringLiteral("/plots")));
        QFile model(artifacts + QStringLiteral("/model.pt"));
        QVERIFY(model.open(QIODevice::WriteOnly));
        model.write("weights");
        model.close();

        MainWindow window(workspace.workspace());
        window.show();
        RunPage *page = window.openRunPage(runId);
        QVERIFY(page);
        auto *systemTags = page->findChild<QLabel *>(QStringLiteral("runSystemTags"));
        QVERIFY(systemTags);
        QTRY_VERIFY_WITH_TIMEOUT(systemTags->text().contains(QStringLiteral("mlflow.user=alice")), 5000);
        QVERIFY(systemTags->text().contains(QStringLiteral("mlflow.source.name=train.py")));
        QVERIFY(!systemTags->text().contains(QStringLiteral("team")));
        auto *view = page->findChild<QTreeView *>(QStringLiteral("runArtifacts"));
        QVERIFY(view);
        QTRY_COMPARE_WITH_TIMEOUT(view->model()->rowCount(view->rootIndex()), 2, 5000);
        QStringList names;
        for (int row = 0; row < 2; ++row)
            names << view->model()->index(row, 0, view->rootIndex()).data().toString();
        names.sort();
        QCOMPARE(names, (QStringList{QStringLiteral("model.pt"), QStringLiteral("plots")}));
    }

    // Issue 15, defect 1: a run whose points a store error kept out says so on its page.
    // The Performance tab (issue 18): the verdicts in words, from the ranks' step timing in the store.
    void performanceTabSaysWhichRankIsSlow()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("timed"), RunStatus::Succeeded);
        QVERIFY(workspace.addPoints(runId, QStringLiteral("perf/rank0/step_time_ms"), {10, 20, 30}, {100, 100, 100}));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("perf/rank1/step_time_ms"), {10, 20, 30}, {101, 99, 100}));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("perf/rank2/step_time_ms"), {10, 20, 30}, {150, 150, 150}));
        QVERIFY(workspace.addPoints(runId, QStringLiteral("perf/rank2/data_ms"), {10, 20, 30}, {60, 60, 60}));
        MainWindow window(workspace.workspace());
        RunPage *page = window.openRunPage(runId);
        QTRY_VERIFY_WITH_TIMEOUT(page->performanceText().contains(QStringLiteral("straggler: rank 2 is 50% slower")),
                                 15000);
        QVERIFY2(page->performanceText().contains(QStringLiteral("rank 0 100.0 ms")),
                 qPrintable(page->performanceText()));
        QVERIFY(page->performanceText().contains(QStringLiteral("MFU: not applicable: a CPU run")));
        // Step time per rank as one chart: a line a rank, with each rank's points.
        QTRY_COMPARE_WITH_TIMEOUT(page->stepTimeChart()->series().size(), 3, 15000);
        QCOMPARE(page->stepTimeChart()->series()[2].label, QStringLiteral("rank 2"));
        QCOMPARE(page->stepTimeChart()->series()[2].envelope.buckets.size(), std::size_t(3));
        QCOMPARE(page->stepTimeChart()->series()[2].envelope.buckets[0].summary.maxValue, 150.0);
        if (test::docsImagesWanted()) { // docs/images/run-performance.png
            window.resize(1240, 680);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            page->showTab(page->stepTimeChart());
            QTest::qWait(300);
            QVERIFY(test::saveDocsImage(window.grab().toImage(), QStringLiteral("run-performance")));
        }
    }

    // The Traces tab (issue 18, point 3): the profiles a run's ranks wrote, two ranks side by side aligned at the
    // step both profiled, the top operators of a rank, hover details, and a rank whose trace is cut short said so
    // while the others open.
    void tracesTabShowsRanksSideBySide()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("profiled"), RunStatus::Succeeded);
        const QString folder = workspace.workspace().runDir(runId) + QStringLiteral("/profile/p1796255440000");
        QVERIFY(QDir().mkpath(folder));
        const auto write = [&](const QString &name, const QByteArray &content) {
            QFile file(folder + QLatin1Char('/') + name);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(content);
        };
        write(
            QStringLiteral("request.json"),
            R"({"id": "p1796255440000", "steps": 2, "ranks": [0, 1, 2], "requested_ms": 1796255440000, "expires_ms": 1796255560000})");
        // Rank 1 does the same work as rank 0, but its matmul takes three times as long; its profiler started
        // earlier, so its step 41 starts later in its own trace: alignment puts both steps at 0.
        const auto trace = [](double stepStart, double mmDuration) {
            QByteArray text = "[\n";
            double at = stepStart;
            for (int step = 41; step <= 42; ++step) {
                const double linear = mmDuration + 100;
                text +=
                    QString::fromLatin1(
                        R"({"name": "ProfilerStep#%1", "ph": "X", "ts": %2, "dur": %3, "tid": 1, "pid": "CPU functions", "args": {}},)"
                        "\n")
                        .arg(step)
                        .arg(at)
                        .arg(linear + 300)
                        .toUtf8();
                text +=
                    QString::fromLatin1(
                        R"({"name": "aten::linear", "ph": "X", "ts": %1, "dur": %2, "tid": 1, "pid": "CPU functions", "args": {}},)"
                        "\n")
                        .arg(at + 10)
                        .arg(linear)
                        .toUtf8();
                text +=
                    QString::fromLatin1(
                        R"({"name": "aten::mm", "ph": "X", "ts": %1, "dur": %2, "tid": 1, "pid": "CPU functions", "args": {"Input Dims": [[32, 64]]}},)"
                        "\n")
                        .arg(at + 20)
                        .arg(mmDuration)
                        .toUtf8();
                text +=
                    QString::fromLatin1(
                        R"({"name": "aten::relu", "ph": "X", "ts": %1, "dur": 150, "tid": 1, "pid": "CPU functions", "args": {}},)"
                        "\n")
                        .arg(at + linear + 40)
                        .toUtf8();
                text +=
                    QString::fromLatin1(
                        R"({"name": "AccumulateGrad", "ph": "X", "ts": %1, "dur": 40, "tid": 2, "pid": "CPU functions", "args": {}})"
                        "%2\n")
                        .arg(at + 50)
                        .arg(step == 42 ? "" : ",")
                        .toUtf8();
                at += linear + 400;
            }
            return text + "]\n";
        };
        write(QStringLiteral("rank0.json"), trace(100, 400));
        write(QStringLiteral("rank1.json"), trace(5000, 1200));
        write(QStringLiteral("rank2.json"), trace(100, 400).left(250)); // cut short
        for (int rank = 0; rank < 3; ++rank)
            write(QStringLiteral("rank%1.status.json").arg(rank),
                  QStringLiteral(R"({"state": "done", "trace": "rank%1.json", "first_step": 41, "last_step": 42})")
                      .arg(rank)
                      .toUtf8());

        MainWindow window(workspace.workspace());
        RunPage *page = window.openRunPage(runId);
        TracesView *traces = page->tracesView();
        QTRY_COMPARE_WITH_TIMEOUT(traces->timeline()->traces().size(), 2, 15000);
        QCOMPARE(traces->sessionLabels().size(), 1);
        QVERIFY2(traces->sessionLabels()[0].contains(QStringLiteral("2 steps (41–42) · ranks 0,1,2")),
                 qPrintable(traces->sessionLabels()[0]));
        // The cut trace is named with what is wrong; the two others are open.
        QVERIFY2(traces->statusText().contains(QStringLiteral("rank2.json is truncated")),
                 qPrintable(traces->statusText()));
        QCOMPARE(traces->timeline()->laneLabels(),
                 (QStringList{QStringLiteral("rank 0 · CPU functions · thread 1"),
                              QStringLiteral("rank 0 · CPU functions · thread 2"),
                              QStringLiteral("rank 1 · CPU functions · thread 1"),
                              QStringLiteral("rank 1 · CPU functions · thread 2")}));
        QCOMPARE(traces->timeline()->alignedStep(), std::optional<std::int64_t>(41));
        // Rank 0's operators by self time: mm (2 x 400), relu (2 x 150), linear (2 x 100), AccumulateGrad.
        QCOMPARE(traces->operatorRank(), 0);
        QCOMPARE(traces->operatorNames(4),
                 (QStringList{QStringLiteral("aten::mm"), QStringLiteral("aten::relu"), QStringLiteral("aten::linear"),
                              QStringLiteral("AccumulateGrad")}));

        // Side by side: the same step's mm starts at the same x in both ranks, and rank 1's is three times as wide.
        window.resize(1240, 680);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        page->showTab(traces);
        TraceTimeline *timeline = traces->timeline();
        QTRY_VERIFY(timeline->isVisible() && timeline->width() > 300);
        const auto mmOf = [&](int traceIndex) -> TraceTimeline::Hit {
            const ChromeTrace &t = timeline->traces()[traceIndex].trace;
            for (std::uint32_t i = 0; i < t.events().size(); ++i)
                if (t.name(t.events()[i].name) == QLatin1String("aten::mm"))
                    return {traceIndex, i};
            return {};
        };
        const ChromeTrace &rank0 = timeline->traces()[0].trace;
        const ChromeTrace &rank1 = timeline->traces()[1].trace;
        const TraceEvent &mm0 = rank0.events()[mmOf(0).event];
        const TraceEvent &mm1 = rank1.events()[mmOf(1).event];
        QCOMPARE(mm0.startUs - rank0.steps()[0].startUs, mm1.startUs - rank1.steps()[0].startUs);
        QCOMPARE(mm1.durationUs, 3 * mm0.durationUs);
        const auto point = timeline->pointOf(mmOf(1));
        QVERIFY(point.has_value());
        const auto hit = timeline->eventAt(*point);
        QVERIFY(hit.has_value());
        QCOMPARE(hit->trace, 1);
        const QString hover = timeline->describe(*hit);
        QVERIFY2(hover.startsWith(QStringLiteral("aten::mm\n1.200 ms (self 1.200 ms)")), qPrintable(hover));
        QVERIFY2(hover.contains(QStringLiteral("rank 1 · CPU functions · thread 1")), qPrintable(hover));
        QVERIFY2(hover.contains(QStringLiteral("Input Dims")), qPrintable(hover));

        // Zoom with the wheel around the pointer, as on the charts; a double click shows everything again.
        const double span = timeline->timeTo() - timeline->timeFrom();
        QWheelEvent wheel(QPointF(*point), timeline->mapToGlobal(QPointF(*point)), QPoint(), QPoint(0, 240),
                          Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(timeline, &wheel);
        QVERIFY(timeline->timeTo() - timeline->timeFrom() < span * 0.7);
        QVERIFY(timeline->eventAt(*point).has_value()); // still under the pointer
        if (test::docsImagesWanted()) {                 // docs/images/run-traces.png
            QTest::mouseDClick(timeline, Qt::LeftButton, Qt::NoModifier, *point);
            QTest::qWait(300);
            QVERIFY(test::saveDocsImage(window.grab().toImage(), QStringLiteral("run-traces")));
        }
        QTest::mouseDClick(timeline, Qt::LeftButton, Qt::NoModifier, *point);
        QCOMPARE(timeline->timeTo() - timeline->timeFrom(), span);
        // The profile button asks only a running run.
        auto button = traces->findChild<QPushButton *>(QStringLiteral("profileButton"));
        QVERIFY(!button->isEnabled());
    }

    // The same tab on traces real torch wrote: two ranks' clients answer a request (as under `trainyard launch`, with
    // the run folder in TRAINYARD_RUN_DIR) and the tab opens both, with torch's operators.
    void tracesTabOpensTracesTorchWrote()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("live"), RunStatus::Running);
        const QString runDir = workspace.workspace().runDir(runId);
        QVERIFY(QDir().mkpath(runDir));
        // The page asks, as a user does: "Profile next 3 steps" while the run is running.
        RunPage page(workspace.workspace().database().path(), runId, runDir);
        TracesView *traces = page.tracesView();
        auto button = traces->findChild<QPushButton *>(QStringLiteral("profileButton"));
        QTRY_VERIFY_WITH_TIMEOUT(button->isEnabled(), 10000);
        traces->findChild<QSpinBox *>(QStringLiteral("profileSteps"))->setValue(3);
        QCOMPARE(button->text(), QStringLiteral("Profile next 3 steps"));
        button->click();
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(runDir + QStringLiteral("/profile/request.json")), 10000);
        QTRY_VERIFY(traces->statusText().startsWith(QStringLiteral("Asked for 3 steps")));
        const QString script = QStringLiteral("import time, torch, trainyard_log\n"
                                              "model = torch.nn.Linear(32, 32)\n"
                                              "for step in range(60):\n"
                                              "    loss = model(torch.randn(8, 32)).pow(2).mean()\n"
                                              "    loss.backward()\n"
                                              "    time.sleep(0.02)\n"
                                              "    trainyard_log.log({'loss': float(loss)}, step=step)\n");
        std::vector<std::unique_ptr<QProcess>> ranks;
        for (int rank = 0; rank < 2; ++rank) {
            auto process = std::make_unique<QProcess>();
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            environment.insert(QStringLiteral("RANK"), QString::number(rank));
            environment.insert(QStringLiteral("TRAINYARD_RUN_DIR"), runDir);
            environment.insert(QStringLiteral("TRAINYARD_METRICS_FILE"),
                               runDir + QStringLiteral("/metrics.rank%1.jsonl").arg(rank));
            environment.insert(QStringLiteral("PYTHONPATH"), QStringLiteral(TRAINYARD_SOURCE_DIR "/resources/python"));
            process->setProcessEnvironment(environment);
            process->setProcessChannelMode(QProcess::MergedChannels);
            process->start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), script});
            ranks.push_back(std::move(process));
        }
        for (auto &process : ranks) {
            QVERIFY(process->waitForFinished(60000));
            QVERIFY2(process->exitCode() == 0, process->readAll().constData());
        }

        // The tab looks for answers while the run runs.
        QTRY_COMPARE_WITH_TIMEOUT(traces->timeline()->traces().size(), 2, 15000);
        QCOMPARE(traces->timeline()->laneLabels().first(), QStringLiteral("rank 0 · CPU functions · thread 1"));
        QVERIFY(traces->timeline()->alignedStep().has_value()); // both ranks marked their steps
        QCOMPARE(traces->timeline()->traces()[1].trace.steps().size(), std::size_t(3));
        const QStringList operators = traces->operatorNames(200);
        QVERIFY2(operators.contains(QStringLiteral("aten::addmm")), qPrintable(operators.join(' ')));
        QVERIFY2(traces->statusText().contains(QStringLiteral("2 ranks traced")), qPrintable(traces->statusText()));
    }

    // Issue 19, point 2: the run page lists the run's checkpoints with the metrics at their step and marks each on
    // the charts' step axis.
    void checkpointsAreListedAndMarkedOnTheCharts()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("saving"), RunStatus::Succeeded);
        QVERIFY(workspace.addPoints(runId, QStringLiteral("loss"), {0, 10, 20, 30}, {1.0, 0.5, 0.25, 0.125}));
        const auto write = [&](const CheckpointRecord &record) {
            return workspace.writer()
                .submit<void>([record](SqliteConnection &c) { return checkpoints::record(c, record); })
                .get()
                .ok();
        };
        const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
        QVERIFY(
            write({runId, QStringLiteral("/ck/step_15.pt"), 15, 2048, now - 60000, QStringLiteral("folder"), -1, {}}));
        QVERIFY(
            write({runId, QStringLiteral("/ck/last.ckpt"), std::nullopt, 1024, now, QStringLiteral("folder"), -1, {}}));
        MainWindow window(workspace.workspace());
        RunPage *page = window.openRunPage(runId);
        QTRY_COMPARE_WITH_TIMEOUT(page->checkpointRows().size(), 2, 15000);
        const QStringList first = page->checkpointRows()[0];
        QCOMPARE(first[0], QStringLiteral("15"));
        QCOMPARE(first[1], QStringLiteral("2.0 KiB"));
        QCOMPARE(first[3], QStringLiteral("loss=0.5")); // the last point at or before step 15
        QCOMPARE(first[4], QStringLiteral("/ck/step_15.pt"));
        QCOMPARE(page->checkpointRows()[1][0], QStringLiteral("-")); // no step: listed, not marked
        QTRY_VERIFY(page->charts()->chart(QStringLiteral("loss")) != nullptr);
        QTRY_COMPARE(page->charts()->chart(QStringLiteral("loss"))->stepMarkers(), QList<double>{15.0});

        // "Resume from here…": enabled on a checkpoint with a step; the compose panel opens with the run's spec and
        // that checkpoint set, as a clone of the run.
        QFile spec(workspace.workspace().runDir(runId) + QStringLiteral("/spec.yaml"));
        QVERIFY(QDir().mkpath(workspace.workspace().runDir(runId)) && spec.open(QIODevice::WriteOnly));
        spec.write("name: saving\ncommand: [python3, train.py]\nparams: {lr: {type: float, value: 0.003}}\n");
        spec.close();
        QVERIFY(!page->resumeButton()->isEnabled());
        page->selectCheckpointRow(1); // no step: nothing to resume from
        QVERIFY(!page->resumeButton()->isEnabled());
        page->selectCheckpointRow(0);
        QVERIFY(page->resumeButton()->isEnabled());
        page->resumeButton()->click();
        ComposePanel *compose = nullptr;
        QTRY_VERIFY((compose = window.findChild<ComposePanel *>()) != nullptr);
        QTRY_VERIFY(compose->yaml().contains(QStringLiteral("resume_from: %1@15").arg(runId)));
        QVERIFY(compose->yaml().contains(QStringLiteral("name: saving@15")));
        QTRY_VERIFY(compose->spec().has_value());
        QCOMPARE(compose->spec()->resumeFrom->step, std::int64_t(15));
        QVERIFY2(compose->changedFromParent().contains(QStringLiteral("resume_from")),
                 qPrintable(compose->changedFromParent().join(',')));

        // Lineage and disk use in the runs table, read from the store: a child forked from step 15, measured on disk.
        NewRun childRow;
        childRow.name = QStringLiteral("saving@15");
        childRow.parentRunId = runId;
        childRow.parentStep = 15;
        childRow.initialStatus = RunStatus::Running;
        auto childId = workspace.writer().createRun(childRow).get();
        QVERIFY(childId);
        QVERIFY(workspace.writer()
                    .submit<void>([id = childId.value()](SqliteConnection &c) -> Result<void> {
                        return c.execute(QStringLiteral("UPDATE runs SET disk_bytes = 3145728 WHERE id = '%1'")
                                             .arg(id)
                                             .toUtf8()
                                             .constData());
                    })
                    .get());
        QAbstractItemModel *runs = window.runsView()->model();
        const auto rowOf = [&](const QString &id) {
            for (int row = 0; row < runs->rowCount(); ++row)
                if (runs->index(row, 0).data(RunTableModel::RunIdRole).toString() == id)
                    return row;
            return -1;
        };
        QTRY_VERIFY_WITH_TIMEOUT(rowOf(childId.value()) >= 0, 10000);
        QCOMPARE(runs->index(rowOf(childId.value()), RunTableModel::ParentColumn).data().toString(),
                 runId + QStringLiteral("@15"));
        QCOMPARE(runs->index(rowOf(childId.value()), RunTableModel::DiskColumn).data().toString(),
                 QStringLiteral("3.0 MiB"));
        if (test::docsImagesWanted()) { // docs/images/runs-lineage.png
            window.resize(1240, 400);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            window.findChild<QTabWidget *>(QStringLiteral("tabs"))->setCurrentIndex(0); // Runs
            window.runsView()->resizeColumnsToContents();
            QTest::qWait(300);
            QVERIFY(test::saveDocsImage(window.grab().toImage(), QStringLiteral("runs-lineage")));
        }
        window.openRunPage(runId);
        if (test::docsImagesWanted()) { // docs/images/run-checkpoints.png
            window.resize(1240, 680);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            page->showTab(page->findChild<QTableWidget *>(QStringLiteral("runCheckpoints")));
            QTest::qWait(300);
            QVERIFY(test::saveDocsImage(window.grab().toImage(), QStringLiteral("run-checkpoints")));
        }
    }

    // Issue 19, point 4: a restarted run's charts show the series it followed; "Discarded tails" adds, faint, what the
    // failed attempt logged past the checkpoint the restart resumed from.
    void discardedTailsAreDrawnFaintOnRequest()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("restarted"), RunStatus::Succeeded);
        std::vector<std::int64_t> steps;
        std::vector<double> values;
        for (int step = 0; step < 70; ++step) {
            steps.push_back(step);
            values.push_back(step < 60 ? 1.0 - step * 0.01 : 0.4 + (step - 59) * 0.05); // attempt 1 diverged
        }
        QVERIFY(workspace.addPoints(runId, QStringLiteral("loss"), steps, values, 1'700'000'000'000));
        SupersedeRequest request{runId, 59, 1'800'000'000'000, 0, {}};
        QVERIFY(workspace.writer()
                    .submit<std::int64_t>([request](SqliteConnection &c) { return supersedePoints(c, request); })
                    .get());
        std::vector<std::int64_t> resumed;
        std::vector<double> resumedValues;
        for (int step = 60; step < 100; ++step) {
            resumed.push_back(step);
            resumedValues.push_back(0.4 - (step - 60) * 0.005);
        }
        QVERIFY(workspace.addPoints(runId, QStringLiteral("loss"), resumed, resumedValues));

        RunPage page(workspace.workspace().database().path(), runId, workspace.workspace().runDir(runId));
        page.resize(1200, 700);
        page.show();
        CompareView *charts = page.charts();
        QTRY_VERIFY(charts->chart(QStringLiteral("loss")) != nullptr);
        EnvelopeChart *chart = charts->chart(QStringLiteral("loss"));
        QVERIFY(!charts->chartKeys().contains(QStringLiteral("superseded/attempt1/loss"))); // no chart of its own
        QTRY_VERIFY(!charts->supersededBox()->isHidden());
        QCOMPARE(chart->series().size(), 1);
        QTRY_VERIFY(!chart->series().first().envelope.buckets.empty());
        QCOMPARE(chart->series().first().envelope.toStep, std::int64_t(99));
        QVERIFY(!chart->toCsv().contains("discarded"));

        charts->supersededBox()->setChecked(true);
        QTRY_COMPARE(chart->series().size(), 2);
        const ChartSeries tail = chart->series().at(1);
        QCOMPARE(tail.label, QStringLiteral("restarted (attempt 1, discarded)"));
        QVERIFY(tail.color.alpha() < 255);
        QCOMPARE(tail.color.rgb(), chart->series().first().color.rgb()); // the run's colour, faint
        QTRY_VERIFY(!chart->series().at(1).envelope.buckets.empty());
        QCOMPARE(chart->series().at(1).envelope.fromStep, std::int64_t(60));
        QCOMPARE(chart->series().at(1).envelope.toStep, std::int64_t(69));
        // Drawn: at a step of the tail, the faint line is the discarded value (0.7 at 65), above the followed series.
        chart->setHoverX(65);
        QVERIFY2(chart->hoverLines().contains(QStringLiteral("restarted (attempt 1, discarded): 0.7")),
                 qPrintable(chart->hoverLines().join('|')));
        if (test::docsImagesWanted()) { // docs/images/run-discarded-tail.png
            chart->setHoverX(std::nullopt);
            QTest::qWait(300);
            QVERIFY(test::saveDocsImage(chart->grab().toImage(), QStringLiteral("run-discarded-tail")));
        }
        charts->setShowSuperseded(false);
        QCOMPARE(chart->series().size(), 1);
    }

    // Issue 19, point 6: the Artifacts tab opens the folder holding the chosen artifact.
    void artifactsOpenTheirContainingFolder()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString runId = workspace.addRun(QStringLiteral("kept"), RunStatus::Succeeded);
        const QString artifacts = workspace.workspace().runDir(runId) + QStringLiteral("/artifacts");
        QVERIFY(QDir().mkpath(artifacts + QStringLiteral("/plots")));
        QFile plot(artifacts + QStringLiteral("/plots/loss.svg"));
        QVERIFY(plot.open(QIODevice::WriteOnly));
        plot.write("<svg/>");
        plot.close();
        QDesktopServices::setUrlHandler(QStringLiteral("file"), this, "folderOpened");
        const auto unregister = qScopeGuard([] { QDesktopServices::unsetUrlHandler(QStringLiteral("file")); });
        RunPage page(workspace.workspace().database().path(), runId, workspace.workspace().runDir(runId));
        auto button = page.findChild<QPushButton *>(QStringLiteral("openArtifactsFolder"));
        QVERIFY(button);
        m_opened.clear();
        button->click();
        QCOMPARE(m_opened, QUrl::fromLocalFile(artifacts)); // nothing chosen: the artifacts folder
        auto view = page.findChild<QTreeView *>(QStringLiteral("runArtifacts"));
        auto model = qobject_cast<QFileSystemModel *>(view->model());
        QTRY_VERIFY(model->index(artifacts + QStringLiteral("/plots/loss.svg")).isValid());
        view->setCurrentIndex(model->index(artifacts + QStringLiteral("/plots/loss.svg")));
        button->click();
        QCOMPARE(m_opened, QUrl::fromLocalFile(artifacts + QStringLiteral("/plots")));
    }

    void incompleteMetricsAreShownOnTheRunPage()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("partly-stored"), RunStatus::Succeeded);
        const QString summary = QStringLiteral(
            "{\"status\":\"succeeded\",\"ingest\":{\"points\":120,\"incomplete\":{\"stored\":120,\"total\":500,"
            "\"reason\":\"database or disk is full\"}}}");
        QVERIFY(workspace.writer().setExitSummary(runId, summary).get().ok());
        // The page alone: a window would first repair the run (every Trainyard that writes does, at its start).
        auto page = std::make_unique<RunPage>(workspace.workspace().database().path(), runId,
                                              workspace.workspace().runDir(runId));
        page->show();
        auto *note = page->findChild<QLabel *>(QStringLiteral("runMetricsIncomplete"));
        QVERIFY(note);
        QTRY_VERIFY_WITH_TIMEOUT(!note->isHidden(), 5000);
        QVERIFY2(note->text().contains(
                     QStringLiteral("metrics incomplete: 120 of 500 points stored (database or disk is full)")),
                 qPrintable(note->text()));
        QVERIFY(note->text().contains(QStringLiteral("trainyard repair ") + runId));
    }

    // Issue 20: a run its sweep's rule stopped says so where a failure would, with the rung and the comparison, in the
    // status colour of its own.
    void aRunStoppedEarlySaysWhichRuleStoppedIt()
    {
        test::TestWorkspace workspace;
        const QString runId = workspace.addRun(QStringLiteral("asha-07"), RunStatus::StoppedEarly);
        const QString comparison =
            QStringLiteral("loss 2.73 at step 12 ranks 7th of 7 runs at rung 1 (step 10); ASHA keeps the best 3 (1/2)");
        const QJsonObject stopped{{"method", "asha"},
                                  {"rung", 1},
                                  {"rungs", 2},
                                  {"rung_step", 10},
                                  {"step", 12},
                                  {"value", 2.73},
                                  {"comparison", comparison},
                                  {"message", QStringLiteral("stopped early at rung 1 of 2 (step 10): ") + comparison}};
        const QJsonObject summary{{"status", "stopped-early"}, {"stopped_early", stopped}};
        QVERIFY(workspace.writer()
                    .setExitSummary(runId, QString::fromUtf8(QJsonDocument(summary).toJson(QJsonDocument::Compact)))
                    .get()
                    .ok());
        auto page = std::make_unique<RunPage>(workspace.workspace().database().path(), runId,
                                              workspace.workspace().runDir(runId));
        page->show();
        QTRY_VERIFY_WITH_TIMEOUT(page->statusText().startsWith(QStringLiteral("stopped-early")), 5000);
        QTRY_VERIFY(page->failureText().startsWith(
            QStringLiteral("Stopped by its sweep's early-stopping rule — stopped early at rung 1 of 2 (step 10): ")
            + comparison));
        // Neither a failure's red nor a cancel's brown.
        const QColor colour = RunTableModel::statusColor(RunStatus::StoppedEarly);
        QVERIFY(colour != RunTableModel::statusColor(RunStatus::Failed));
        QVERIFY(colour != RunTableModel::statusColor(RunStatus::Canceled));
    }

    void newRunDialogValidatesAsYouType()
    {
        NewRunDialog dialog;
        QPushButton *launchButton = dialog.findChild<QPushButton *>(QStringLiteral("launchButton"));
        QVERIFY(launchButton);
        QVERIFY(!launchButton->isEnabled()); // no command yet
        QVERIFY(dialog.launch().error().startsWith(QStringLiteral("Command")));
        dialog.setCommand(QStringLiteral("/usr/bin/python3 \"my script.py\" --lr 0.1"));
        dialog.setRanks(3);
        QVERIFY(launchButton->isEnabled());
        auto launch = dialog.launch();
        QVERIFY(launch.ok());
        QCOMPARE(launch->request.command, (QStringList{"/usr/bin/python3", "my script.py", "--lr", "0.1"}));
        QCOMPARE(launch->request.nprocPerNode, 3);
        auto *gpus = dialog.findChild<QLineEdit *>(QStringLiteral("gpus"));
        QVERIFY(gpus);
        gpus->setText(QStringLiteral("0,1"));
        QVERIFY(!launchButton->isEnabled());
        QVERIFY2(dialog.launch().error().startsWith(QStringLiteral("Ranks: 3 ranks for 2 GPUs")),
                 qPrintable(dialog.launch().error()));
        gpus->clear();
        // Strategy and NCCL debugging reach the launch.
        auto *strategy = dialog.findChild<QComboBox *>(QStringLiteral("strategy"));
        auto *ncclDebug = dialog.findChild<QComboBox *>(QStringLiteral("ncclDebug"));
        QVERIFY(strategy && ncclDebug);
        strategy->setCurrentText(QStringLiteral("fsdp-hybrid-shard"));
        ncclDebug->setCurrentText(QStringLiteral("INFO"));
        auto withOptions = dialog.launch();
        QVERIFY(withOptions.ok());
        QCOMPARE(strategyName(withOptions->strategy.strategy), QStringLiteral("fsdp-hybrid-shard"));
        QCOMPARE(withOptions->request.nccl.level, QStringLiteral("INFO"));
    }

    void launchFromTheWindowShowsTheRunLiveAndCancelsIt()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        MainWindow window(workspace.workspace());
        window.show();
        QSignalSpy launched(window.launchHost(), &LaunchHost::launched);
        LocalLaunch launch;
        launch.name = QStringLiteral("from-gui");
        launch.request.command = {kPython, kScripts + QStringLiteral("sleep_forever.py")};
        launch.request.nprocPerNode = 2;
        launch.request.graceMs = 1000;
        launch.request.env.insert(QStringLiteral("POINTS"), QStringLiteral("5"));
        window.launchHost()->launch(launch);
        QVERIFY(launched.wait(10000));
        const QString runId = launched.at(0).at(0).toString();

        // The table shows it live; its page opened by itself and charts the points as they arrive.
        QTRY_COMPARE_WITH_TIMEOUT(window.runsModel()->rowCount(), 1, 5000);
        RunPage *page = window.openRunPage(runId);
        QTRY_VERIFY_WITH_TIMEOUT(page->statusText().startsWith(QStringLiteral("running")), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(page->chartPointCount(QStringLiteral("loss")), 5, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(page->visibleLogText().count(QStringLiteral("ready")) == 2, 10000);

        QSignalSpy finished(window.launchHost(), &LaunchHost::runFinished);
        window.requestCancel(runId);
        QVERIFY(finished.wait(15000));
        QCOMPARE(toString(finished.at(0).at(1).value<RunStatus>()), toString(RunStatus::Canceled));
        QTRY_VERIFY_WITH_TIMEOUT(page->statusText().startsWith(QStringLiteral("canceled")), 5000);
        QTRY_COMPARE(window.runsView()->model()->index(0, RunTableModel::StatusColumn).data().toString(),
                     QStringLiteral("canceled"));
    }

private:
    QTemporaryDir m_config;
};

QTEST_MAIN(TestRunPage)
#include "tst_runpage.moc"
