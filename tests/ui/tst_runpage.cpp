// Run page and "New local run" (offscreen), against runs launched for real.
#include "launch/launchhost.h"
#include "mainwindow.h"
#include "views/compareview.h"
#include "views/envelopechart.h"
#include "store/metricqueries.h"
#include "store/sqlite.h"
#include "store/trackingstore.h"
#include "models/runtablemodel.h"
#include "support/testworkspace.h"
#include "views/newrundialog.h"
#include "views/runpage.h"

#include <QComboBox>
#include <QDir>
#include <QTreeView>
#include <QDialogButtonBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QSignalSpy>
#include <QPushButton>
#include <QRegularExpression>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace trainyard;

namespace {
const QString kPython = QStringLiteral("/usr/bin/python3");
const QString kScripts = QStringLiteral(TRAINYARD_FIXTURES_DIR "/scripts/");
} // namespace

class TestRunPage : public QObject {
    Q_OBJECT
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
        if (test::docsImagesWanted()) { // docs/images/run-performance.png
            window.resize(1240, 680);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            auto sideTabs = page->findChild<QTabWidget *>(QStringLiteral("runSideTabs"));
            sideTabs->setCurrentIndex(sideTabs->count() - 1);
            QTest::qWait(300);
            QVERIFY(test::saveDocsImage(window.grab().toImage(), QStringLiteral("run-performance")));
        }
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
