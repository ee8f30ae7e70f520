// The compose panel: form and YAML kept in sync both ways, validation as you type with line and column,
// clone with changes showing what differs, templates in the workspace, and Launch (a run, or a sweep queued).
#include "mainwindow.h"
#include "launch/speclaunch.h"
#include "models/runtablemodel.h"
#include "queue/runqueue.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"
#include "models/queuemodel.h"
#include "views/backendsdialog.h"
#include "views/composepanel.h"
#include "views/queueview.h"
#include "views/parallelcoordinates.h"
#include "views/sweepscatter.h"
#include "views/sweepview.h"
#include "store/runqueries.h"
#include "store/sweepstate.h"
#include "spec/runspec.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>

#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QCheckBox>
#include <QTest>

using namespace trainyard;

namespace {

// A finished 4 x 3 grid sweep (lr 1e-4 to 1e-1, width 32 to 128) whose loss is log10(lr) + 5 + width / 1280: lr
// drives it, width barely. Returns the runs as the store lists them.
QList<RunRecord> seedGridSweep(test::TestWorkspace &workspace)
{
    auto spec = parseRunSpec("name: grid\ncommand: [/bin/true]\n"
                             "sweep: {grid: {lr: [0.0001, 0.001, 0.01, 0.1], width: [32, 64, 128]}}\n",
                             QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
    auto queued =
        runqueue::enqueueSweep(workspace.workspace(), workspace.writer(), spec.value(), "", QStringLiteral("grid"));
    if (!queued)
        return {};
    auto connection = workspace.workspace().database().connect();
    auto listed = runqueries::listRuns(connection.value());
    if (!listed)
        return {};
    for (const RunRecord &run : *listed) {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        (void)workspace.writer().recordStatus(run.id, RunStatus::Starting, now).get();
        (void)workspace.writer().recordStatus(run.id, RunStatus::Running, now).get();
        (void)workspace.writer().recordStatus(run.id, RunStatus::Succeeded, now).get();
        const double lr = run.params.value(QStringLiteral("lr")).toDouble();
        const double width = run.params.value(QStringLiteral("width")).toDouble();
        (void)workspace.addPoints(run.id, QStringLiteral("loss"), {0}, {std::log10(lr) + 5 + width / 1280});
    }
    listed = runqueries::listRuns(connection.value());
    return listed ? listed.value() : QList<RunRecord>{};
}

void sendMouse(QWidget *widget, QEvent::Type type, const QPointF &at, Qt::MouseButtons buttons)
{
    QMouseEvent event(type, at, widget->mapToGlobal(at), Qt::LeftButton, buttons, Qt::NoModifier);
    QCoreApplication::sendEvent(widget, &event);
}

} // namespace

class TestCompose : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY(m_config.isValid());
        qputenv("XDG_CONFIG_HOME", m_config.path().toUtf8());
    }

    void formAndYamlFollowEachOther()
    {
        QTemporaryDir workspace;
        ComposePanel panel(workspace.path());
        panel.show();
        auto *name = panel.findChildren<QLineEdit *>().at(0);
        name->setFocus();
        QTest::keyClicks(name, QStringLiteral("resnet"));
        QVERIFY2(panel.yaml().contains(QStringLiteral("name: resnet")), qPrintable(panel.yaml()));
        QVERIFY(panel.spec().has_value());

        // YAML -> form, once it parses.
        QString yaml = panel.yaml();
        yaml.replace(QStringLiteral("ranks_per_node: 1"), QStringLiteral("ranks_per_node: 4"));
        yaml += QStringLiteral("params: {lr: 0.001, opt: {type: choice, choices: [adam, sgd], value: sgd}}\n");
        panel.setYaml(yaml);
        QCOMPARE(panel.ranksBox()->value(), 4);
        QCOMPARE(panel.paramsTable()->rowCount(), 2);
        QCOMPARE(panel.paramsTable()->item(1, 2)->text(), QStringLiteral("sgd"));
        // The NCCL switches: set in the form, written as the spec's `nccl:` map; read back from the YAML.
        auto *level = panel.findChild<QComboBox *>(QStringLiteral("ncclDebug"));
        auto *p2p = panel.findChild<QCheckBox *>(QStringLiteral("ncclP2pDisable"));
        auto *ifname = panel.findChild<QLineEdit *>(QStringLiteral("ncclSocketIfname"));
        QVERIFY(level && p2p && ifname);
        level->setCurrentIndex(level->findText(QStringLiteral("INFO")));
        emit level->activated(level->currentIndex());
        p2p->click();
        ifname->setFocus();
        QTest::keyClicks(ifname, QStringLiteral("lo"));
        QVERIFY2(panel.spec().has_value(), qPrintable(panel.yaml()));
        QCOMPARE(panel.spec()->nccl.level, QStringLiteral("INFO"));
        QVERIFY(panel.spec()->nccl.p2pDisable);
        QCOMPARE(panel.spec()->nccl.socketIfname, QStringLiteral("lo"));
        yaml = panel.yaml();
        yaml.replace(QStringLiteral("debug: INFO"), QStringLiteral("debug: WARN"));
        panel.setYaml(yaml);
        QCOMPARE(level->currentText(), QStringLiteral("WARN"));
        QVERIFY(p2p->isChecked());
        // Form -> YAML -> form gives the same form.
        const SpecForm form = panel.form();
        panel.setYaml(QString::fromUtf8(applyForm({}, form).value()));
        QVERIFY(panel.form() == form);
    }

    void invalidYamlIsExplainedAndCannotLaunch()
    {
        QTemporaryDir workspace;
        ComposePanel panel(workspace.path());
        panel.setYaml(QStringLiteral("command: [python3, train.py]\nresources: {ranks_per_node: zero}\n"));
        QVERIFY(!panel.spec());
        QVERIFY2(panel.validationMessage().startsWith(
                     QStringLiteral("Line 2, column 29: 'resources.ranks_per_node' must be an integer")),
                 qPrintable(panel.validationMessage()));
        QVERIFY(!panel.launchButton()->isEnabled());
        panel.setYaml(QStringLiteral("command: [python3, train.py]\nparams: {lr: {type: float, value: fast}}\n"));
        QVERIFY2(panel.validationMessage().contains(QStringLiteral("must be of type float (got 'fast')")),
                 qPrintable(panel.validationMessage()));
        panel.setYaml(QStringLiteral("command: [python3, train.py]\n"));
        QVERIFY(panel.launchButton()->isEnabled());
        QCOMPARE(panel.launchButton()->text(), QStringLiteral("Launch"));
        panel.setYaml(QStringLiteral("command: [python3, train.py]\nsweep: {grid: {lr: [1, 2, 3]}, seeds: 2}\n"));
        QCOMPARE(panel.launchButton()->text(), QStringLiteral("Queue 6 runs"));
    }

    void sweepAxesEditorCountsRuns()
    {
        QTemporaryDir workspace;
        ComposePanel panel(workspace.path());
        panel.show();
        panel.setYaml(QStringLiteral("name: s\ncommand: [python3, train.py]\nparams: {lr: 0.1}\n"));
        QTableWidget *axes = panel.axesTable();
        const auto addAxis = [&](const QString &param, const QString &kind, const QString &values) {
            const int row = axes->rowCount();
            axes->insertRow(row);
            axes->setItem(row, 0, new QTableWidgetItem(param));
            axes->setItem(row, 1, new QTableWidgetItem(kind));
            axes->setItem(row, 2, new QTableWidgetItem(values)); // the last cell makes the axis count
        };
        addAxis(QStringLiteral("lr"), QStringLiteral("grid"), QStringLiteral("0.1, 0.01, 0.001"));
        QCOMPARE(panel.launchButton()->text(), QStringLiteral("Queue 3 runs"));
        addAxis(QStringLiteral("seed"), QStringLiteral("seeds"), QStringLiteral("1, 2"));
        QCOMPARE(panel.launchButton()->text(), QStringLiteral("Queue 6 runs"));
        addAxis(QStringLiteral("dropout"), QStringLiteral("uniform"), QStringLiteral("0, 0.5"));
        panel.samplesBox()->setValue(4);
        QCOMPARE(panel.launchButton()->text(), QStringLiteral("Queue 24 runs"));
        QVERIFY2(panel.yaml().contains(QStringLiteral("grid:")) && panel.yaml().contains(QStringLiteral("samples: 4")),
                 qPrintable(panel.yaml()));
        // And back: the YAML's sweep fills the axes table.
        ComposePanel other(workspace.path());
        other.setYaml(panel.yaml());
        QCOMPARE(other.axesTable()->rowCount(), 3);
        QVERIFY(other.form() == panel.form());
        // A value of the wrong type is caught: lr is a float param.
        axes->item(0, 2)->setText(QStringLiteral("0.1, fast"));
        QVERIFY2(panel.validationMessage().contains(
                     QStringLiteral("sweep value 'fast' of param 'lr' is not of its type float")),
                 qPrintable(panel.validationMessage()));
        QVERIFY(!panel.launchButton()->isEnabled());
    }

    void cloneWithChangesShowsWhatDiffers()
    {
        QTemporaryDir workspace;
        ComposePanel panel(workspace.path());
        panel.show();
        panel.cloneFrom(QStringLiteral("20261124-101500-abcdef"),
                        "name: base\ncommand: [python3, train.py]\nparams: {lr: 0.1, batch: 64}\nstrategy: zero2\n");
        QVERIFY(panel.changedFromParent().isEmpty());
        panel.paramsTable()->item(0, 2)->setText(QStringLiteral("0.01")); // lr (params keep the spec's order)
        QCOMPARE(panel.changedFromParent(), QStringList{QStringLiteral("params.lr")});
        const QLabel *diff = panel.findChild<QLabel *>(QStringLiteral("specDiff"));
        QCOMPARE(diff->text(), QStringLiteral("Changed from 20261124-101500-abcdef: params.lr"));
        QVERIFY(panel.yaml().contains(QStringLiteral("strategy: zero2"))); // what the form does not show is kept
    }

    void templatesLiveInTheWorkspace()
    {
        QTemporaryDir workspace;
        ComposePanel panel(workspace.path());
        panel.setYaml(QStringLiteral("name: base\ncommand: [python3, train.py]\n"));
        QVERIFY(panel.saveTemplate(QStringLiteral("my base")));
        QVERIFY(QFile::exists(workspace.path() + QStringLiteral("/templates/my_base.yaml")));
        panel.setYaml(QStringLiteral("name: other\ncommand: [x]\n"));
        ComposePanel another(workspace.path());
        QCOMPARE(another.templateNames(), QStringList{QStringLiteral("my_base")});
        QVERIFY(another.loadTemplate(QStringLiteral("my_base")));
        QCOMPARE(another.form().name, QStringLiteral("base"));
    }

    void launchFromTheWindowRunsOrQueues()
    {
        test::TestWorkspace workspace;
        MainWindow window(workspace.workspace());
        window.show();
        ComposePanel *panel = window.openCompose();
        // A sweep is queued.
        panel->setYaml(QStringLiteral("name: grid\ncommand: [/bin/true]\nsweep: {grid: {lr: [1, 2, 3]}, seeds: 2}\n"));
        QTest::mouseClick(panel->launchButton(), Qt::LeftButton);
        const auto queued = [&] {
            auto connection = workspace.workspace().database().connect();
            return runqueue::list(connection.value()).value().size();
        };
        QTRY_COMPARE_WITH_TIMEOUT(queued(), 6, 10000);

        // The Queue tab follows the store; its buttons change the queue.
        QueueModel *queueModel = window.queueModel();
        QAbstractItemModelTester tester(queueModel, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE_WITH_TIMEOUT(queueModel->rowCount(), 6, 10000);
        QTableView *table = window.queueView()->table();
        table->selectRow(2);
        table->setCurrentIndex(table->model()->index(2, 0));
        const QString third = table->model()->index(2, QueueModel::RunColumn).data().toString();
        window.queueView()->act(QueueView::Action::Up);
        QTRY_COMPARE_WITH_TIMEOUT(table->model()->index(1, QueueModel::RunColumn).data().toString(), third, 10000);
        table->setCurrentIndex(table->model()->index(1, 0));
        window.queueView()->act(QueueView::Action::Pause);
        QTRY_COMPARE_WITH_TIMEOUT(table->model()->index(1, QueueModel::StateColumn).data().toString(),
                                  QStringLiteral("paused"), 10000);
        window.queueView()->act(QueueView::Action::Cancel);
        QTRY_COMPARE_WITH_TIMEOUT(queueModel->rowCount(), 5, 10000);
        // One run is launched.
        panel->setYaml(QStringLiteral("name: once\ncommand: [/bin/true]\n"));
        QTest::mouseClick(panel->launchButton(), Qt::LeftButton);
        const auto once = [&] {
            for (const RunRef &run : window.runsModel()->runs())
                if (run->name == u"once")
                    return toString(run->status);
            return QString();
        };
        QTRY_COMPARE_WITH_TIMEOUT(once(), QStringLiteral("succeeded"), 20000);
    }

    // Issue 20, point 1: below the ranking, which params shape the metric, two ways; computed off the UI thread.
    void sweepsTabShowsWhichParamsMatter()
    {
        test::TestWorkspace workspace;
        auto spec = parseRunSpec("name: grid\ncommand: [/bin/true]\nparams: {batch: 64}\n"
                                 "sweep: {grid: {lr: [0.0001, 0.001, 0.01, 0.1], width: [32, 64, 128]}}\n",
                                 QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY(spec.ok());
        auto queued =
            runqueue::enqueueSweep(workspace.workspace(), workspace.writer(), spec.value(), "", QStringLiteral("grid"));
        QVERIFY(queued.ok());
        QCOMPARE(queued->runIds.size(), 12);
        auto connection = workspace.workspace().database().connect();
        auto listed = runqueries::listRuns(connection.value());
        QVERIFY(listed);
        // The loss follows log10(lr) alone; width is noise.
        for (const RunRecord &run : *listed) {
            const QDateTime now = QDateTime::currentDateTimeUtc();
            (void)workspace.writer().recordStatus(run.id, RunStatus::Starting, now).get();
            (void)workspace.writer().recordStatus(run.id, RunStatus::Running, now).get();
            (void)workspace.writer().recordStatus(run.id, RunStatus::Succeeded, now).get();
            const double loss = std::log10(run.params.value(QStringLiteral("lr")).toDouble()) + 5
                + 0.01 * run.params.value(QStringLiteral("width")).toDouble() / 128;
            QVERIFY(workspace.addPoints(run.id, QStringLiteral("loss"), {0, 1}, {loss + 1, loss}));
        }
        SweepView view;
        view.resize(900, 520);
        view.setRuns(runqueries::listRuns(connection.value()).value());
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputingImportance() && view.importanceTable()->rowCount() == 2, 10000);
        QTableWidget *table = view.importanceTable();
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("lr"));
        QCOMPARE(table->item(0, 4)->text(), QStringLiteral("lower"));
        QCOMPARE(table->item(0, 3)->text(), QStringLiteral("0.97")); // sqrt(135 / 143): three runs tie on each lr
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("width"));
        QVERIFY(table->item(0, 2)->text().remove('%').toInt() > 80);
        QVERIFY2(view.importanceText().contains(QStringLiteral("12 finished runs")), qPrintable(view.importanceText()));
        QVERIFY(view.importanceText().contains(QStringLiteral("Not varied: batch")));
        if (test::docsImagesWanted()) { // docs/images/sweep-importance.png
            view.show();
            QVERIFY(QTest::qWaitForWindowExposed(&view));
            QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("sweep-importance")));
        }
        // Maximising it instead: lr's direction flips.
        view.setMetric(QStringLiteral("loss"), QStringLiteral("min"), false);
        QTRY_VERIFY_WITH_TIMEOUT(!view.isComputingImportance() && view.importanceTable()->item(0, 4)
                                     && view.importanceTable()->item(0, 4)->text() == QStringLiteral("higher"),
                                 10000);
    }

    // Issue 20, point 2: a sweep with early stopping shows each run's rung in its table, read from the store: the
    // highest rung a run reached, and where the rule stopped one.
    void sweepTableShowsEachRunsRung()
    {
        test::TestWorkspace workspace;
        const QByteArray yaml = "name: asha\ncommand: [/bin/true]\nparams: {lr: 0.1}\nsweep:\n  grid: {lr: [0.1, 0.01, "
                                "0.001]}\n  early_stop: {metric: loss, mode: min, rungs: [10, 30], reduction: 2}\n";
        auto spec = parseRunSpec(yaml, QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY(spec.ok());
        auto queued = runqueue::enqueueSweep(workspace.workspace(), workspace.writer(), spec.value(), yaml,
                                             QStringLiteral("asha"));
        QVERIFY(queued.ok());
        const QStringList ids = queued->runIds;
        const QString sweepId = queued->sweepId;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        // Run 1 reached both rungs and finished; run 2 was stopped at the first; run 3 has reached none yet.
        QVERIFY(workspace.writer()
                    .submit<void>([&](SqliteConnection &connection) -> Result<void> {
                        for (const auto &[run, rung, step, value] :
                             {std::tuple{0, 0, 10, 0.5}, std::tuple{0, 1, 30, 0.3}, std::tuple{1, 0, 10, 0.9}})
                            if (auto recorded = sweepstate::recordRung(connection, sweepId, ids[run], rung, step, value,
                                                                       now.toMSecsSinceEpoch());
                                !recorded)
                                return fail(recorded.error());
                        return {};
                    })
                    .get());
        for (int i = 0; i < 2; ++i) {
            (void)workspace.writer().recordStatus(ids[i], RunStatus::Starting, now).get();
            (void)workspace.writer().recordStatus(ids[i], RunStatus::Running, now).get();
            (void)workspace.writer()
                .recordStatus(ids[i], i == 0 ? RunStatus::Succeeded : RunStatus::StoppedEarly, now)
                .get();
        }
        // The losses they logged up to where they are.
        QVERIFY(workspace.addPoints(ids[0], QStringLiteral("loss"), {0, 10, 30, 59}, {1.0, 0.5, 0.3, 0.2}));
        QVERIFY(workspace.addPoints(ids[1], QStringLiteral("loss"), {0, 10, 14}, {1.0, 0.9, 0.88}));
        auto connection = workspace.workspace().database().connect();
        SweepView view;
        view.setDatabasePath(workspace.workspace().database().path());
        view.setRuns(runqueries::listRuns(connection.value()).value());
        QTRY_VERIFY_WITH_TIMEOUT(!view.isReadingRungs() && !view.rungText(ids[0]).isEmpty(), 10000);
        QCOMPARE(view.rungText(ids[0]), QStringLiteral("2/2 (step 30)"));
        QCOMPARE(view.rungText(ids[1]), QStringLiteral("stopped at 1/2 (step 10)"));
        QCOMPARE(view.rungText(ids[2]), QString());
        QAbstractItemModel *model = view.table()->model();
        QCOMPARE(model->headerData(3, Qt::Horizontal).toString(), QStringLiteral("Rung"));
        QCOMPARE(model->rowCount(), 3);
        QMap<QString, QString> cells;
        for (int row = 0; row < model->rowCount(); ++row)
            cells.insert(model->index(row, 0).data().toString().remove(QStringLiteral("★ ")),
                         model->index(row, 3).data().toString());
        QCOMPARE(cells.value(ids[0]), QStringLiteral("2/2 (step 30)"));
        QCOMPARE(cells.value(ids[1]), QStringLiteral("stopped at 1/2 (step 10)"));
        QCOMPARE(cells.value(ids[2]), QStringLiteral("—"));
        int stoppedRows = 0;
        for (int row = 0; row < model->rowCount(); ++row)
            stoppedRows += model->index(row, 2).data().toString() == u"stopped-early";
        QCOMPARE(stoppedRows, 1);
        if (test::docsImagesWanted()) { // docs/images/sweep-rungs.png
            view.resize(900, 560);
            view.show();
            QVERIFY(QTest::qWaitForWindowExposed(&view));
            QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("sweep-rungs")));
        }
    }

    // Issue 20, point 3: a tpe sweep says on the Sweeps tab how many trials were proposed and, when its Optuna helper
    // stopped, that it is paused and why.
    void sweepsTabSaysWhyABayesianSweepIsPaused()
    {
        test::TestWorkspace workspace;
        const QByteArray yaml = "name: search\ncommand: [/bin/true]\nparams: {lr: 0.1}\nsweep:\n  method: tpe\n"
                                "  trials: 4\n  params: {lr: {distribution: log_uniform, min: 0.001, max: 1}}\n"
                                "  metric: {key: loss, mode: min}\n";
        auto spec = parseRunSpec(yaml, QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY2(spec, spec ? "" : qPrintable(spec.error()));
        auto sweepId = runqueue::createSweep(workspace.writer(), QStringLiteral("search"), yaml);
        QVERIFY(sweepId);
        LocalLaunch launch = localLaunchFor(spec.value());
        launch.name = QStringLiteral("search-01");
        auto runId = runqueue::enqueue(workspace.workspace(), workspace.writer(), launch, sweepId.value());
        QVERIFY(runId);
        QVERIFY(workspace.writer()
                    .submit<void>([&](SqliteConnection &connection) -> Result<void> {
                        if (auto marked = sweepstate::setMethod(connection, *sweepId, QStringLiteral("tpe")); !marked)
                            return marked;
                        if (auto recorded = sweepstate::recordTrial(connection, *sweepId, 0, *runId); !recorded)
                            return recorded;
                        return sweepstate::setState(connection, *sweepId, QStringLiteral("paused"),
                                                    QStringLiteral("the Optuna helper stopped (exit code 3): boom"));
                    })
                    .get());
        auto connection = workspace.workspace().database().connect();
        SweepView view;
        view.setDatabasePath(workspace.workspace().database().path());
        view.setRuns(runqueries::listRuns(connection.value()).value());
        QTRY_VERIFY_WITH_TIMEOUT(!view.isReadingRungs() && !view.searchText().isEmpty(), 10000);
        QCOMPARE(view.searchText(),
                 QStringLiteral("Bayesian search (Optuna TPE): 1 of 4 trials proposed; paused: the "
                                "Optuna helper stopped (exit code 3): boom (trainyard sweep resume "
                                "search goes on)"));
    }

    // Issue 20, point 1: the scatter plot places each finished run by its param (log axis for lr) and its metric,
    // colours it by the metric, names it on hover and opens it on a click; two params with the metric as colour.
    void sweepScatterPlacesRunsAndOpensThem()
    {
        test::TestWorkspace workspace;
        const QList<RunRecord> listed = seedGridSweep(workspace);
        QCOMPARE(listed.size(), 12);
        auto connection = workspace.workspace().database().connect();
        QString best, worst;
        for (const RunRecord &run : listed) {
            if (run.params.value(QStringLiteral("lr")) == u"0.0001"
                && run.params.value(QStringLiteral("width")) == u"32")
                best = run.id; // loss 1.025
            if (run.params.value(QStringLiteral("lr")) == u"0.1" && run.params.value(QStringLiteral("width")) == u"128")
                worst = run.id; // loss 4.1
        }
        SweepView view;
        view.resize(900, 700);
        view.setRuns(runqueries::listRuns(connection.value()).value());
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.findChild<QTabWidget *>(QStringLiteral("sweepAnalysis"))->setCurrentIndex(1);
        SweepScatter *scatter = view.scatter();
        QTRY_VERIFY(scatter->isVisible());
        QCOMPARE(scatter->points().size(), 12);
        QCOMPARE(scatter->xAxis().title, QStringLiteral("lr"));
        QVERIFY(scatter->xAxis().log); // 1e-4 to 1e-1: three decades
        QCOMPARE(scatter->yAxis().title, QStringLiteral("loss (min)"));
        // Positions: a tenfold lr is one step to the right, equal on the log axis; the lowest loss is lowest.
        QMap<QString, QPointF> at;
        for (const SweepScatter::Point &point : scatter->points())
            at.insert(point.runId, *scatter->pointPosition(point.runId));
        QVERIFY(at[best].x() < at[worst].x() && at[best].y() > at[worst].y());
        QMap<double, double> columnOfLr; // the width-32 runs, by lr
        for (const RunRecord &run : listed)
            if (run.params.value(QStringLiteral("width")) == u"32")
                columnOfLr.insert(run.params.value(QStringLiteral("lr")).toDouble(), at[run.id].x());
        const QList<double> columns = columnOfLr.values();
        QCOMPARE(columns.size(), 4);
        for (int i = 1; i < 3; ++i)
            QVERIFY2(
                qAbs((columns[i + 1] - columns[i]) - (columns[i] - columns[i - 1])) < 0.5,
                qPrintable(
                    QStringLiteral("%1 %2 %3 %4").arg(columns[0]).arg(columns[1]).arg(columns[2]).arg(columns[3])));
        // Colours: the best run yellow, the worst dark purple (viridis' ends), read off the drawn pixels.
        const QImage image = scatter->grab().toImage();
        // (The worst point's neighbour, width 64, is drawn over part of it, one shade lighter: hence the tolerance.)
        const auto near = [](const QColor &a, const QColor &b) {
            return qAbs(a.red() - b.red()) + qAbs(a.green() - b.green()) + qAbs(a.blue() - b.blue()) < 60;
        };
        const qreal dpr = image.devicePixelRatio();
        QVERIFY2(near(image.pixelColor((at[best] * dpr).toPoint()), QColor(0xfd, 0xe7, 0x25)),
                 qPrintable(image.pixelColor((at[best] * dpr).toPoint()).name()));
        QVERIFY2(near(image.pixelColor((at[worst] * dpr).toPoint()), QColor(0x44, 0x01, 0x54)),
                 qPrintable(image.pixelColor((at[worst] * dpr).toPoint()).name()));
        // Hover names the run; a click opens it.
        QCOMPARE(scatter->runAt(at[best].toPoint()).value_or(QString()), best);
        QVERIFY2(scatter->hoverText(best).contains(QStringLiteral("grid-01"))
                     && scatter->hoverText(best).contains(QStringLiteral("lr: 0.0001"))
                     && scatter->hoverText(best).contains(QStringLiteral("loss: 1.025")),
                 qPrintable(scatter->hoverText(best)));
        QSignalSpy opened(&view, &SweepView::runActivated);
        QTest::mouseClick(scatter, Qt::LeftButton, {}, at[worst].toPoint());
        QCOMPARE(opened.size(), 1);
        QCOMPARE(opened.at(0).at(0).toString(), worst);
        QVERIFY(!scatter->runAt(QPoint(2, 2)));
        // The colour bar runs from the best colour at its top to the worst at its bottom.
        const QRect plot = scatter->rect().adjusted(70, 28, -86, -46);
        QVERIFY(near(image.pixelColor(QPoint(plot.right() + 23, plot.top() + 3) * dpr), QColor(0xfd, 0xe7, 0x25)));
        QVERIFY(near(image.pixelColor(QPoint(plot.right() + 23, plot.bottom() - 3) * dpr), QColor(0x44, 0x01, 0x54)));
        if (test::docsImagesWanted()) { // docs/images/sweep-scatter.png
            QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("sweep-scatter")));
        }
        // CSV: the points drawn.
        const QList<QByteArray> lines = scatter->toCsv().trimmed().split('\n');
        QCOMPARE(lines.size(), 13);
        QCOMPARE(lines[0], QByteArray("run_id,name,lr,loss (min),loss"));
        // PNG and SVG exports, written whole off the UI thread.
        QTemporaryDir exports;
        QVERIFY(scatter->exportTo(exports.filePath("s.png"), SweepScatter::ExportFormat::Png).result().isEmpty());
        QVERIFY(scatter->exportTo(exports.filePath("s.svg"), SweepScatter::ExportFormat::Svg).result().isEmpty());
        QCOMPARE(QImage(exports.filePath("s.png")).size(), scatter->size() * 2);
        QFile svg(exports.filePath("s.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly) && svg.readAll().contains("<title>loss (min) against lr</title>"));
        // Two params, the metric as colour: width on y, linear (32 to 128 is not two decades).
        view.setScatterParams(QStringLiteral("lr"), QStringLiteral("width"));
        QCOMPARE(scatter->yAxis().title, QStringLiteral("width"));
        QVERIFY(!scatter->yAxis().log && !scatter->yAxis().categorical);
        QVERIFY(scatter->hoverText(best).contains(QStringLiteral("width: 32")));
        QVERIFY(scatter->pointPosition(best)->y() > scatter->pointPosition(worst)->y()); // width 32 below 128
        // A choice gets one slot per value; nothing finished, nothing drawn and said so.
        const SweepScatter::Axis choice = scatterAxisFor(
            QStringLiteral("optimizer"), {QStringLiteral("sgd"), QStringLiteral("adam"), QStringLiteral("sgd")});
        QVERIFY(choice.categorical);
        QCOMPARE(choice.categories, (QStringList{"adam", "sgd"}));
        scatter->setData({}, QStringLiteral("loss"), QStringLiteral("min"), true, QStringLiteral("lr"));
        QCOMPARE(scatter->emptyText(), QStringLiteral("No finished run with loss yet"));
    }

    // Issue 20, point 1: parallel coordinates; brushing a range on an axis selects exactly the runs inside every
    // brushed range in the runs table; a click clears an axis's brush; axes move by their titles.
    void parallelCoordinatesBrushingSelectsTheRunsInRange()
    {
        test::TestWorkspace workspace;
        const QList<RunRecord> runs = seedGridSweep(workspace);
        QCOMPARE(runs.size(), 12);
        MainWindow window(workspace.workspace());
        window.resize(1100, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.findChild<QTabWidget *>(QStringLiteral("tabs"))->setCurrentWidget(window.sweepView());
        window.sweepView()->findChild<QTabWidget *>(QStringLiteral("sweepAnalysis"))->setCurrentIndex(2);
        ParallelCoordinates *parallel = window.sweepView()->parallelCoordinates();
        QTRY_COMPARE_WITH_TIMEOUT(parallel->runIds().size(), 12, 10000);
        QCOMPARE(parallel->axisTitles(), (QStringList{"lr", "width", "loss (min)"}));
        QVERIFY(parallel->axis(0).log && !parallel->axis(1).log);
        const auto idsWhere = [&](const std::function<bool(double lr, double width)> &keep) {
            QStringList ids;
            for (const RunRecord &run : runs)
                if (keep(run.params.value(QStringLiteral("lr")).toDouble(),
                         run.params.value(QStringLiteral("width")).toDouble()))
                    ids << run.id;
            ids.sort();
            return ids;
        };
        const auto sorted = [](QStringList ids) {
            ids.sort();
            return ids;
        };
        // Drag along the lr axis from 0.02 down to 0.0005: lr 0.001 and 0.01, six runs, selected in the runs table.
        QSignalSpy brushed(parallel, &ParallelCoordinates::brushChanged);
        const double x = parallel->axisX(0);
        sendMouse(parallel, QEvent::MouseButtonPress, {x, parallel->valueY(0, 0.02)}, Qt::LeftButton);
        sendMouse(parallel, QEvent::MouseMove, {x + 1, parallel->valueY(0, 0.003)}, Qt::LeftButton);
        sendMouse(parallel, QEvent::MouseMove, {x + 1, parallel->valueY(0, 0.0005)}, Qt::LeftButton);
        sendMouse(parallel, QEvent::MouseButtonRelease, {x + 1, parallel->valueY(0, 0.0005)}, Qt::NoButton);
        QCOMPARE(brushed.size(), 1);
        const QStringList middle = idsWhere([](double lr, double) { return lr == 0.001 || lr == 0.01; });
        QCOMPARE(sorted(parallel->brushedRunIds()), middle);
        QCOMPARE(sorted(window.selectedRunIds()), middle);
        // A second brush, on width 60..130: their intersection.
        parallel->setBrush(1, std::pair{60.0, 130.0});
        const QStringList both =
            idsWhere([](double lr, double width) { return (lr == 0.001 || lr == 0.01) && width > 60; });
        QCOMPARE(both.size(), 4);
        QCOMPARE(sorted(parallel->brushedRunIds()), both);
        QCOMPARE(parallel->toCsv().count(",1\n"), 4);
        if (test::docsImagesWanted()) { // docs/images/parallel-coordinates.png
            QTest::qWait(200);
            QVERIFY(test::saveDocsImage(window.sweepView()->grab().toImage(), QStringLiteral("parallel-coordinates")));
        }
        // Brushed runs keep their colour, the others go faint: read off the pixels on the width axis.
        const QImage image = parallel->grab().toImage();
        const qreal dpr = image.devicePixelRatio();
        const QColor outside =
            image.pixelColor(QPointF(parallel->axisX(1) + 30, parallel->valueY(1, 32)).toPoint() * dpr);
        QVERIFY2(outside.saturation() < 40, qPrintable(outside.name())); // width-32 lines: faint grey
        // A click on the lr axis clears its brush: the width brush alone remains.
        sendMouse(parallel, QEvent::MouseButtonPress, {x, parallel->valueY(0, 0.01)}, Qt::LeftButton);
        sendMouse(parallel, QEvent::MouseButtonRelease, {x, parallel->valueY(0, 0.01)}, Qt::NoButton);
        QCOMPARE(brushed.size(), 2);
        QCOMPARE(sorted(brushed.last().at(0).toStringList()),
                 idsWhere([](double, double width) { return width > 60; }));
        QCOMPARE(sorted(window.selectedRunIds()), idsWhere([](double, double width) { return width > 60; }));
        // Drag the metric's axis by its title to the front; the CSV follows the order.
        sendMouse(parallel, QEvent::MouseButtonPress, {parallel->axisX(2), 20}, Qt::LeftButton);
        sendMouse(parallel, QEvent::MouseMove, {parallel->axisX(0) + 2, 20}, Qt::LeftButton);
        sendMouse(parallel, QEvent::MouseButtonRelease, {parallel->axisX(0) + 2, 20}, Qt::NoButton);
        QCOMPARE(parallel->axisTitles(), (QStringList{"loss (min)", "lr", "width"}));
        QVERIFY(parallel->toCsv().startsWith("run_id,name,loss (min),lr,width,in_brush\n"));
        QTemporaryDir exports;
        QVERIFY(
            parallel->exportTo(exports.filePath("p.csv"), ParallelCoordinates::ExportFormat::Csv).result().isEmpty());
        QVERIFY(
            parallel->exportTo(exports.filePath("p.png"), ParallelCoordinates::ExportFormat::Png).result().isEmpty());
        QCOMPARE(QImage(exports.filePath("p.png")).size(), parallel->size() * 2);
        QFile csv(exports.filePath("p.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(csv.readAll(), parallel->toCsv());
        QCOMPARE(sorted(parallel->brushedRunIds()), idsWhere([](double, double width) { return width > 60; }));
    }

    void sweepTableRanksRunsAndMarksTheBest()
    {
        test::TestWorkspace workspace;
        auto spec = parseRunSpec(
            "name: lrs\ncommand: [/bin/true]\nparams: {batch: 64}\nsweep: {grid: {lr: [0.1, 0.01, 0.001]}}\n",
            QStringLiteral("s.yaml"), QStringLiteral("/tmp"));
        QVERIFY(spec.ok());
        auto queued =
            runqueue::enqueueSweep(workspace.workspace(), workspace.writer(), spec.value(), "", QStringLiteral("x"));
        QVERIFY(queued.ok());
        QCOMPARE(queued->runIds.size(), 3);
        // Losses: lr 0.01 is best; the run with lr 0.001 failed with an even lower loss (not "best": it did not finish).
        const QList<double> minima = {0.9, 0.2, 0.1};
        for (int i = 0; i < 3; ++i) {
            const QDateTime now = QDateTime::currentDateTimeUtc();
            (void)workspace.writer().recordStatus(queued->runIds[i], RunStatus::Starting, now).get();
            (void)workspace.writer().recordStatus(queued->runIds[i], RunStatus::Running, now).get();
            (void)workspace.writer()
                .recordStatus(queued->runIds[i], i == 2 ? RunStatus::Failed : RunStatus::Succeeded, now)
                .get();
            QVERIFY(workspace.addPoints(queued->runIds[i], QStringLiteral("loss"), {0, 1}, {1.0, minima[i]}));
        }
        auto connection = workspace.workspace().database().connect();
        SweepView view;
        view.setRuns(runqueries::listRuns(connection.value()).value());
        QAbstractItemModel *model = view.table()->model();
        QCOMPARE(model->rowCount(), 3);
        QCOMPARE(model->columnCount(), 5); // run, name, status, lr (batch does not vary), loss (min)
        QCOMPARE(model->headerData(3, Qt::Horizontal).toString(), QStringLiteral("lr"));
        QCOMPARE(model->headerData(4, Qt::Horizontal).toString(), QStringLiteral("loss (min)"));
        QCOMPARE(model->index(0, 3).data().toString(), QStringLiteral("0.001")); // sorted: lowest loss first
        QCOMPARE(model->index(1, 3).data().toString(), QStringLiteral("0.01"));
        QCOMPARE(view.bestRunId(), queued->runIds[1]);
        QVERIFY(model->index(1, 0).data().toString().startsWith(QStringLiteral("★ ")));
        // Two finished runs: too few to say which params matter, and said so.
        QTRY_VERIFY_WITH_TIMEOUT(view.importanceText().contains(QStringLiteral("not enough data: 2 finished runs")),
                                 10000);
        QVERIFY(view.importanceTable()->isHidden());
        if (test::docsImagesWanted()) { // docs/images/sweeps.png
            view.resize(900, 560);
            view.show();
            QVERIFY(QTest::qWaitForWindowExposed(&view));
            QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("sweeps")));
        }
        view.setMetric(QStringLiteral("loss"), QStringLiteral("min"), false); // higher is better
        QCOMPARE(model->index(0, 3).data().toString(), QStringLiteral("0.1"));
        QCOMPARE(view.bestRunId(), queued->runIds[0]);
    }

    void planIsShownLiveAndWarnsBeforeLaunch()
    {
        QTemporaryDir workspace;
        ComposePanel panel(workspace.path());
        QSignalSpy launched(&panel, &ComposePanel::launchRequested);
        QStringList warnings;
        bool answer = false;
        panel.setLaunchConfirmation([&](const QString &warning) {
            warnings << warning;
            return answer;
        });
        QVERIFY2(panel.planText().contains(QStringLiteral("add a 'model:' section")), qPrintable(panel.planText()));

        // 7.5e9 parameters with Adam in bf16 on one 80 GiB GPU: 16 bytes a parameter is 112 GiB of model states.
        panel.setYaml(
            QStringLiteral("name: big\ncommand: [/usr/bin/python3, train.py]\nresources: {ranks_per_node: 1}\n"
                           "model: {params: 7.5e9, gpu_memory: 80GiB}\n"));
        QTRY_VERIFY(panel.spec().has_value());
        QVERIFY2(!panel.planFits(), qPrintable(panel.planText()));
        QVERIFY2(panel.planText().contains(QStringLiteral("will NOT fit")), qPrintable(panel.planText()));
        QVERIFY2(panel.planText().contains(QStringLiteral("under ddp on 1 node(s) x 1 rank(s)")),
                 qPrintable(panel.planText()));
        QTest::mouseClick(panel.launchButton(), Qt::LeftButton);
        QCOMPARE(warnings.size(), 1);
        QCOMPARE(launched.count(), 0); // declined: nothing launched
        answer = true;
        QTest::mouseClick(panel.launchButton(), Qt::LeftButton);
        QCOMPARE(warnings.size(), 2);
        QCOMPARE(launched.count(), 1); // launching anyway is the user's call

        // Sharding over 8 ranks with ZeRO-3 brings it under 80 GiB: the plan follows the edit and stops warning.
        panel.setYaml(
            QStringLiteral("name: big\ncommand: [/usr/bin/python3, train.py]\nresources: {ranks_per_node: 8}\n"
                           "strategy: zero3\nmodel: {params: 7.5e9, gpu_memory: 80GiB}\n"));
        QTRY_VERIFY(panel.planFits());
        QVERIFY2(panel.planText().contains(QStringLiteral(": fits.")), qPrintable(panel.planText()));
        QTest::mouseClick(panel.launchButton(), Qt::LeftButton);
        QCOMPARE(warnings.size(), 2); // not asked again
        QCOMPARE(launched.count(), 2);
    }

    void backendChoicesComeFromTheWorkspace()
    {
        QTemporaryDir workspace;
        BackendProfile lab;
        lab.name = QStringLiteral("lab");
        lab.url = QStringLiteral("http://127.0.0.1:9");
        lab.user = QStringLiteral("alice");
        lab.tokenFile = workspace.filePath(QStringLiteral("lab.token"));
        QVERIFY(upsertBackendProfile(workspace.path(), lab));
        ComposePanel panel(workspace.path());
        QTRY_VERIFY(panel.backendBox()->findText(QStringLiteral("lab")) >= 0);
        panel.backendBox()->setCurrentIndex(panel.backendBox()->findText(QStringLiteral("lab")));
        emit panel.backendBox()->activated(panel.backendBox()->currentIndex());
        panel.nodesBox()->setValue(2);
        QVERIFY2(panel.yaml().contains(QStringLiteral("backend: lab")), qPrintable(panel.yaml()));
        QVERIFY2(panel.yaml().contains(QStringLiteral("nodes: 2")), qPrintable(panel.yaml()));
        QVERIFY(panel.spec().has_value());
        QCOMPARE(panel.spec()->backend, QStringLiteral("lab"));
        QCOMPARE(localLaunchFor(*panel.spec()).request.nnodes, 2);
        // Back to local with one node: the keys go away again.
        panel.nodesBox()->setValue(1);
        panel.backendBox()->setCurrentIndex(0);
        emit panel.backendBox()->activated(0);
        QVERIFY2(!panel.yaml().contains(QStringLiteral("backend:")) && !panel.yaml().contains(QStringLiteral("nodes:")),
                 qPrintable(panel.yaml()));
    }

    void backendsDialogListsTestsAndSavesProfiles()
    {
        QTemporaryDir workspace;
        const QString tokenPath = workspace.filePath(QStringLiteral("lab.token"));
        QVERIFY(writeTokenFile(tokenPath, "eyJ.secret.sig"));
        BackendProfile nowhere;
        nowhere.name = QStringLiteral("nowhere");
        nowhere.url = QStringLiteral("http://127.0.0.1:9");
        nowhere.user = QStringLiteral("alice");
        nowhere.tokenFile = tokenPath;
        QVERIFY(upsertBackendProfile(workspace.path(), nowhere));

        BackendsDialog dialog(workspace.path());
        QTRY_COMPARE(dialog.table()->rowCount(), 1);
        QCOMPARE(dialog.table()->item(0, 0)->text(), QStringLiteral("nowhere"));
        QCOMPARE(dialog.table()->item(0, 1)->text(), QStringLiteral("http://127.0.0.1:9"));
        dialog.test(QStringLiteral("nowhere"));
        QTRY_VERIFY_WITH_TIMEOUT(dialog.statusText().contains(QStringLiteral("cannot be reached")), 15000);
        QVERIFY(!dialog.statusText().contains(QStringLiteral("secret")));

        // The editor checks the form; a pasted token is kept in the workspace, mode 0600.
        BackendProfile fresh;
        BackendEditor editor(fresh);
        editor.nameEdit()->setText(QStringLiteral("lab"));
        editor.userEdit()->setText(QStringLiteral("bob"));
        editor.tokenEdit()->setText(QStringLiteral("eyJ.pasted.sig"));
        editor.urlEdit()->setText(QStringLiteral("login1:6820"));
        QVERIFY2(editor.problem(workspace.path()).contains(QStringLiteral("is not an http(s) address")),
                 qPrintable(editor.problem(workspace.path())));
        editor.urlEdit()->setText(QStringLiteral("http://login1:6820"));
        editor.sbatchEdit()->setPlainText(QStringLiteral("--qos=high\n--exclusive"));
        QVERIFY2(editor.problem(workspace.path()).contains(QStringLiteral("--exclusive")),
                 qPrintable(editor.problem(workspace.path())));
        editor.sbatchEdit()->setPlainText(QStringLiteral("--qos=high"));
        QCOMPARE(editor.problem(workspace.path()), QString());
        dialog.save(editor.profile(), editor.pastedToken());
        QTRY_COMPARE(dialog.table()->rowCount(), 2);
        const auto saved = findBackendProfile(workspace.path(), QStringLiteral("lab"));
        QVERIFY(saved);
        QCOMPARE(saved->tokenFile, storedTokenPath(workspace.path(), QStringLiteral("lab")));
        QCOMPARE(saved->job.sbatchOptions, QStringList{QStringLiteral("--qos=high")});
        QCOMPARE(QFileInfo(saved->tokenFile).permissions() & (QFile::ReadGroup | QFile::ReadOther),
                 QFile::Permissions());
        QCOMPARE(*readBackendToken(*saved), QByteArray("eyJ.pasted.sig"));

        dialog.remove(QStringLiteral("nowhere"));
        QTRY_COMPARE(dialog.table()->rowCount(), 1);
        QCOMPARE(dialog.profiles().first().name, QStringLiteral("lab"));
    }

private:
    QTemporaryDir m_config;
};

QTEST_MAIN(TestCompose)
#include "tst_compose.moc"
