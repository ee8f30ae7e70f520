// RunTableModel: model contract (QAbstractItemModelTester), incremental updates, sorting, colours.
#include "models/runfilterproxy.h"
#include "models/runtablemodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

#include <thread>

using namespace trainyard;

namespace {
const QDateTime kT0 = QDateTime::fromMSecsSinceEpoch(1764000000000, Qt::UTC);

RunRecord makeRun(const QString &id, const QString &name, RunStatus status, int startOffsetS, int durationS,
                  QStringList tags = {})
{
    RunRecord run;
    run.id = id;
    run.name = name;
    run.status = status;
    run.createdAt = kT0.addSecs(startOffsetS - 1);
    run.startedAt = kT0.addSecs(startOffsetS);
    if (isTerminal(status))
        run.endedAt = run.startedAt.addSecs(durationS);
    run.tags = std::move(tags);
    return run;
}
} // namespace

class TestRunTableModel : public QObject {
    Q_OBJECT
private slots:
    void passesModelTesterThroughUpdates()
    {
        RunTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRuns(
            {makeRun("a", "alpha", RunStatus::Succeeded, 0, 100), makeRun("b", "beta", RunStatus::Running, 50, 0)});
        model.setRuns(
            {makeRun("b", "beta", RunStatus::Failed, 50, 30), makeRun("c", "gamma", RunStatus::Queued, 90, 0)});
        model.setRuns({});
        QCOMPARE(model.rowCount(), 0);
    }

    void updatesAreIncrementalNeverResets()
    {
        RunTableModel model;
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        const RunRecord a = makeRun("a", "alpha", RunStatus::Running, 0, 0);
        const RunRecord b = makeRun("b", "beta", RunStatus::Queued, 10, 0);
        model.setRuns({a, b});
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(model.rowCount(), 2);

        // Same list again: nothing emitted.
        model.setRuns({a, b});
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(changed.size(), 0);

        // One run changes status: exactly its row changes.
        RunRecord aDone = a;
        aDone.status = RunStatus::Succeeded;
        aDone.endedAt = a.startedAt.addSecs(42);
        model.setRuns({aDone, b});
        QCOMPARE(changed.size(), 1);
        const QModelIndex topLeft = changed.at(0).at(0).value<QModelIndex>();
        QCOMPARE(topLeft.row(), 0);
        QCOMPARE(model.data(model.index(0, RunTableModel::StatusColumn)).toString(), QStringLiteral("succeeded"));
        QCOMPARE(model.data(model.index(0, RunTableModel::DurationColumn)).toString(), QStringLiteral("42s"));

        // A new run appears and one disappears.
        const RunRecord c = makeRun("c", "gamma", RunStatus::Starting, 20, 0);
        model.setRuns({c, aDone});
        QCOMPARE(removed.size(), 1);
        QCOMPARE(inserted.size(), 2);
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(resets.size(), 0);
    }

    // A watcher's change is applied by row: only the rows it names change, new runs are appended, removed runs go
    // (contiguous or not), and the run-to-row index stays right after each step.
    void appliesWatcherChangesByRow()
    {
        RunTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QList<RunRecord> runs;
        for (int i = 0; i < 10; ++i)
            runs << makeRun(QStringLiteral("r%1").arg(i), QStringLiteral("run %1").arg(i), RunStatus::Succeeded, i, 10);
        model.setRuns(runs);
        QCOMPARE(model.rowCount(), 10);

        RunListChange change;
        RunRecord failed = runs[7];
        failed.status = RunStatus::Failed;
        change.upserted = {failed, makeRun(QStringLiteral("new"), QStringLiteral("new"), RunStatus::Running, 99, 0)};
        change.removed = {QStringLiteral("r2"), QStringLiteral("r3"), QStringLiteral("r5"), QStringLiteral("unknown")};
        model.applyChange(change);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(model.rowCount(), 8);
        QCOMPARE(resets.size(), 0);
        for (int row = 0; row < model.rowCount(); ++row)
            QCOMPARE(model.rowOfRun(model.runAt(row).id), row);
        QCOMPARE(model.rowOfRun(QStringLiteral("r3")), -1);
        QVERIFY(model.runAt(model.rowOfRun(QStringLiteral("r7"))).status == RunStatus::Failed);
        QCOMPARE(model.runAt(model.rowCount() - 1).id, QStringLiteral("new"));

        // An empty change, and a change equal to what is shown, emit nothing.
        changed.clear();
        model.applyChange({});
        change.removed.clear();
        change.upserted = {failed};
        model.applyChange(change);
        QCOMPARE(changed.size(), 0);
    }

    // Above its synchronous limit the proxy sorts and filters off the UI thread: the rows shown stay as they were until
    // the result is applied, a change that arrives meanwhile is placed after it, and the model tester sees every step.
    void bigTablesSortAndFilterOffTheUiThread()
    {
        RunTableModel model;
        RunFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.setSynchronousLimit(100);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QList<RunRecord> runs;
        for (int i = 0; i < 3000; ++i) {
            RunRecord run = makeRun(QStringLiteral("r%1").arg(i, 4, 10, QLatin1Char('0')),
                                    QStringLiteral("n%1").arg((i * 7919) % 3000, 4, 10, QLatin1Char('0')),
                                    i % 3 ? RunStatus::Succeeded : RunStatus::Failed, i, 10);
            run.params.insert(QStringLiteral("lr"), QString::number(0.0001 * ((i * 31) % 1000)));
            runs << run;
        }
        model.setRuns(runs);
        QCOMPARE(proxy.rowCount(), 3000); // shown at once, unsorted
        QSignalSpy updating(&proxy, &RunFilterProxy::updatingChanged);
        QTRY_VERIFY(!proxy.isUpdating());

        proxy.sort(RunTableModel::NameColumn, Qt::AscendingOrder);
        QVERIFY(proxy.isUpdating());
        // A run renamed while the worker sorts its snapshot: placed where its new name goes once the sort is applied.
        RunListChange renamed;
        renamed.upserted = {runs[5]};
        renamed.upserted[0].name = QStringLiteral("a-first");
        model.applyChange(renamed);
        QTRY_VERIFY(!proxy.isUpdating());
        QVERIFY(updating.size() >= 2);
        QCOMPARE(proxy.index(0, RunTableModel::NameColumn).data().toString(), QStringLiteral("a-first"));
        for (int row = 1; row < proxy.rowCount(); ++row)
            QVERIFY(proxy.index(row - 1, 0).data().toString() <= proxy.index(row, 0).data().toString());

        // A filter: only failed runs, still by name.
        QVERIFY(proxy.setQuery(QStringLiteral("status:failed")));
        QTRY_VERIFY(!proxy.isUpdating());
        QCOMPARE(proxy.rowCount(), 1000);
        for (int row = 0; row < proxy.rowCount(); ++row)
            QCOMPARE(proxy.index(row, RunTableModel::StatusColumn).data().toString(), QStringLiteral("failed"));
        // One run's status changes: shown or hidden at once, in its place.
        RunListChange failedNow;
        failedNow.upserted = {runs[1]};
        failedNow.upserted[0].status = RunStatus::Failed;
        failedNow.upserted[0].name = QStringLiteral("zz-last");
        model.applyChange(failedNow);
        QVERIFY(!proxy.isUpdating());
        QCOMPARE(proxy.rowCount(), 1001);
        QCOMPARE(proxy.index(1000, RunTableModel::NameColumn).data().toString(), QStringLiteral("zz-last"));

        // CSV of what is shown, from a snapshot, on another thread.
        const RunFilterProxy::CsvSnapshot snapshot = proxy.csvSnapshot();
        QByteArray csv;
        std::thread worker([&] { csv = snapshot.toCsv(); });
        worker.join();
        QCOMPARE(csv.count('\n'), 1002);
        QVERIFY(csv.split('\n').at(1001).contains("zz-last"));
    }

    void showsColumnsAndStatusColours()
    {
        RunTableModel model;
        model.setRuns({makeRun("a", "alpha", RunStatus::Failed, 0, 3725, {"amp", "baseline"})});
        QCOMPARE(model.data(model.index(0, RunTableModel::NameColumn)).toString(), QStringLiteral("alpha"));
        QCOMPARE(model.data(model.index(0, RunTableModel::TagsColumn)).toString(), QStringLiteral("amp, baseline"));
        QCOMPARE(model.data(model.index(0, RunTableModel::DurationColumn)).toString(), QStringLiteral("1h 02m"));
        QCOMPARE(model.data(model.index(0, RunTableModel::DurationColumn), RunTableModel::SortRole).toLongLong(), 3725);
        QCOMPARE(model.data(model.index(0, RunTableModel::StatusColumn), Qt::DecorationRole).value<QColor>(),
                 RunTableModel::statusColor(RunStatus::Failed));
        QCOMPARE(model.data(model.index(0, RunTableModel::NameColumn), RunTableModel::RunIdRole).toString(),
                 QStringLiteral("a"));
        QCOMPARE(model.headerData(RunTableModel::StatusColumn, Qt::Horizontal).toString(), QStringLiteral("Status"));
        QVERIFY(RunTableModel::statusColor(RunStatus::Failed) != RunTableModel::statusColor(RunStatus::Succeeded));

        // A run whose points a store error kept out says so in the table too (issue 15), as `ls` does; it sorts as
        // its status.
        RunRecord partial = makeRun("p", "partly", RunStatus::Succeeded, 0, 10);
        partial.exitSummary = QStringLiteral(
            "{\"ingest\":{\"points\":1,\"incomplete\":{\"stored\":1,\"total\":9,\"reason\":\"disk full\"}}}");
        model.setRuns({partial});
        const QModelIndex status = model.index(0, RunTableModel::StatusColumn);
        QCOMPARE(model.data(status).toString(), QStringLiteral("succeeded (metrics incomplete)"));
        QCOMPARE(model.data(status, RunTableModel::SortRole).toString(), QStringLiteral("succeeded"));
        QVERIFY(model.data(status, Qt::ToolTipRole)
                    .toString()
                    .startsWith(QStringLiteral("metrics incomplete: 1 of 9 points stored (disk full)")));

        // Lineage and disk use (issue 19): a fork shows its parent and step; disk use sorts by bytes; a run never
        // measured shows nothing.
        RunRecord child = makeRun("c", "child", RunStatus::Succeeded, 0, 10);
        child.parentRunId = QStringLiteral("20261203-000000-aaaaaa");
        child.parentStep = 59;
        child.diskBytes = 1536 * 1024;
        model.setRuns({child, makeRun("o", "older", RunStatus::Succeeded, 0, 10)});
        QCOMPARE(model.headerData(RunTableModel::ParentColumn, Qt::Horizontal).toString(), QStringLiteral("Parent"));
        QCOMPARE(model.headerData(RunTableModel::DiskColumn, Qt::Horizontal).toString(), QStringLiteral("Disk"));
        QCOMPARE(model.data(model.index(0, RunTableModel::ParentColumn)).toString(),
                 QStringLiteral("20261203-000000-aaaaaa@59"));
        QCOMPARE(model.data(model.index(0, RunTableModel::ParentColumn), Qt::ToolTipRole).toString(),
                 QStringLiteral("Forked from run 20261203-000000-aaaaaa at step 59"));
        QCOMPARE(model.data(model.index(0, RunTableModel::DiskColumn)).toString(), QStringLiteral("1.5 MiB"));
        QCOMPARE(model.data(model.index(0, RunTableModel::DiskColumn), RunTableModel::SortRole).toLongLong(),
                 1536 * 1024);
        QCOMPARE(model.data(model.index(1, RunTableModel::ParentColumn)).toString(), QString());
        QCOMPARE(model.data(model.index(1, RunTableModel::DiskColumn)).toString(), QString());
        QVERIFY(!model.data(model.index(1, RunTableModel::DiskColumn), RunTableModel::SortRole).isValid());
    }

    void activeRunDurationRunsOnTheClock()
    {
        RunTableModel model;
        model.setNow(kT0.addSecs(75));
        model.setRuns(
            {makeRun("a", "alpha", RunStatus::Running, 0, 0), makeRun("q", "queued", RunStatus::Queued, 0, 0)});
        QCOMPARE(model.data(model.index(0, RunTableModel::DurationColumn)).toString(), QStringLiteral("1m 15s"));
        RunRecord queued = makeRun("q", "queued", RunStatus::Queued, 0, 0);
        queued.startedAt = {};
        model.setRuns({makeRun("a", "alpha", RunStatus::Running, 0, 0), queued});
        QCOMPARE(model.data(model.index(1, RunTableModel::DurationColumn)).toString(), QString());
        // Durations of active runs tick without any new data.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QVERIFY(changed.wait(2500));
        QCOMPARE(changed.at(0).at(0).value<QModelIndex>().column(), int(RunTableModel::DurationColumn));
    }

    void sortsByEveryColumnThroughSortRole_data()
    {
        QTest::addColumn<int>("column");
        QTest::addColumn<QStringList>("ascendingNames");
        QTest::newRow("name") << int(RunTableModel::NameColumn) << QStringList{"alpha", "beta", "gamma"};
        QTest::newRow("status") << int(RunTableModel::StatusColumn) << QStringList{"gamma", "beta", "alpha"};
        QTest::newRow("started") << int(RunTableModel::StartedColumn) << QStringList{"beta", "gamma", "alpha"};
        QTest::newRow("duration") << int(RunTableModel::DurationColumn) << QStringList{"gamma", "alpha", "beta"};
    }
    void sortsByEveryColumnThroughSortRole()
    {
        QFETCH(int, column);
        QFETCH(QStringList, ascendingNames);
        RunTableModel model;
        // Durations 9 s and 100 s: text would sort "100s" before "9s"; the sort role must not.
        model.setRuns({makeRun("a", "alpha", RunStatus::Succeeded, 300, 9),
                       makeRun("b", "beta", RunStatus::Running, 0, 0),
                       makeRun("c", "gamma", RunStatus::Failed, 100, 5)});
        model.setNow(kT0.addSecs(100));
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(RunTableModel::SortRole);
        proxy.sort(column, Qt::AscendingOrder);
        QStringList names;
        for (int row = 0; row < proxy.rowCount(); ++row)
            names << proxy.index(row, RunTableModel::NameColumn).data().toString();
        QCOMPARE(names, ascendingNames);
    }
};

QTEST_MAIN(TestRunTableModel)
#include "tst_runtablemodel.moc"
