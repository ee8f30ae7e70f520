// The leads' page offscreen: the report of a generated team workspace, its group table under
// QAbstractItemModelTester through grouping changes and refreshes, the stacked bars per day, the runs behind a
// bar, CSV and PNG export, and a screenshot (docs/images/throughput.png, with TRAINYARD_DOCS_IMAGES).
#include "mainwindow.h"
#include "models/reportmodel.h"
#include "support/teamworkspace.h"
#include "support/testworkspace.h"
#include "views/throughputview.h"

#include <QAbstractItemModelTester>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFile>
#include <QImage>
#include <QListWidget>
#include <QSignalSpy>
#include <QStackedBarSeries>
#include <QValueAxis>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace trainyard;

namespace {
const QDateTime kStart(QDate(2026, 10, 5), QTime(0, 0), Qt::UTC);
}

class TestThroughput : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY(m_config.isValid());
        qputenv("XDG_CONFIG_HOME", m_config.path().toUtf8());
        QVERIFY(m_workspace.isValid());
        m_runs = test::generateTeamRuns(m_workspace.writer(), 1500, 7, kStart);
        m_workspace.writer().flush();
    }

    void pageShowsTheReportAndTheRunsBehindABar()
    {
        ThroughputView view(m_workspace.root());
        QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        view.resize(1400, 900);
        view.show();
        QSignalSpy ready(&view, &ThroughputView::reportReady);
        view.setRange(kStart.date(), kStart.date().addDays(27));
        QTRY_VERIFY_WITH_TIMEOUT(view.report().total.launched == qint64(m_runs.size()), 15000);

        // The group table: everyone first, then each project.
        QCOMPARE(view.model()->rowCount(), 1 + 3);
        QCOMPARE(view.model()->index(0, ReportModel::LaunchedColumn).data().toLongLong(), qint64(m_runs.size()));
        std::int64_t perGroup = 0;
        for (int row = 1; row < view.model()->rowCount(); ++row)
            perGroup += view.model()->index(row, ReportModel::LaunchedColumn).data().toLongLong();
        QCOMPARE(perGroup, qint64(m_runs.size()));

        // The stacked bars: one category a day, and the outcome sets add up to the runs launched that day.
        auto *stacked = qobject_cast<QStackedBarSeries *>(view.outcomesChart()->chart()->series().value(0));
        QVERIFY(stacked);
        QCOMPARE(stacked->barSets().size(), 5);
        const QList<ReportPeriod> days = view.report().days;
        QCOMPARE(stacked->barSets().first()->count(), int(days.size()));
        for (int i = 0; i < days.size(); ++i) {
            double sum = 0;
            for (QBarSet *set : stacked->barSets())
                sum += set->at(i);
            QCOMPARE(qint64(sum), days.at(i).figures.launched);
        }

        // The count axis: whole, round ticks from 0 (no label twice), its top at or above the tallest day.
        auto *counts = qobject_cast<QValueAxis *>(view.outcomesChart()->chart()->axes(Qt::Vertical).value(0));
        QVERIFY(counts);
        QCOMPARE(counts->tickType(), QValueAxis::TicksDynamic);
        QCOMPARE(counts->min(), 0.0);
        QVERIFY(counts->tickInterval() >= 1 && counts->tickInterval() == std::round(counts->tickInterval()));
        QCOMPARE(counts->labelFormat(), QStringLiteral("%.0f"));
        std::int64_t tallest = 0;
        for (const ReportPeriod &day : days)
            tallest = std::max(tallest, day.figures.launched);
        QVERIFY(counts->max() >= double(tallest) && counts->max() < double(tallest) + counts->tickInterval());

        // A click on the "failed" part of a day's bar lists that day's failed runs.
        QSignalSpy listed(&view, &ThroughputView::runsBehindReady);
        emit stacked->barSets().at(1)->clicked(3);
        QTRY_COMPARE_WITH_TIMEOUT(listed.count(), 1, 10000);
        QCOMPARE(view.runsList()->count(), int(days.at(3).figures.failed));

        // Another grouping is a new data set; the same grouping again updates rows in place.
        view.setGrouping(ReportGrouping::Tag);
        QTRY_COMPARE_WITH_TIMEOUT(view.model()->rowCount(), 1 + 4, 15000); // three tags and "(no tag)"
        const int before = ready.count();
        view.setRange(kStart.date().addDays(7), kStart.date().addDays(13));
        QTRY_VERIFY_WITH_TIMEOUT(ready.count() > before, 15000);
        QVERIFY(view.model()->index(0, ReportModel::LaunchedColumn).data().toLongLong() < qint64(m_runs.size()));
        QCOMPARE(view.report().days.size(), 7);

        QTemporaryDir out;
        QCOMPARE(view.exportCsv(out.filePath(QStringLiteral("report.csv"))).result(), QString());
        QFile csv(out.filePath(QStringLiteral("report.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(csv.readAll());
        QVERIFY2(text.startsWith(QStringLiteral("group,launched,")) && text.contains(QStringLiteral("\nablation,"))
                     && text.contains(QStringLiteral("\nday,")),
                 qPrintable(text.left(400)));
        QCOMPARE(view.exportPng(out.filePath(QStringLiteral("charts.png"))).result(), QString());
        const QImage charts(out.filePath(QStringLiteral("charts.png")));
        QVERIFY(!charts.isNull() && charts.width() > 600);
        if (test::docsImagesWanted()) { // docs/images/throughput.png
            view.setGrouping(ReportGrouping::User);
            view.setRange(kStart.date(), kStart.date().addDays(27));
            QTest::qWait(1500);
            QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("throughput")));
        }
        // An unwritable path (its parent is a file) gets the writer's message, naming the file, in the view.
        const QString unwritable = out.filePath(QStringLiteral("report.csv/again.csv"));
        const QString error = view.exportCsv(unwritable).result();
        QVERIFY2(error.contains(unwritable), qPrintable(error));
        QTRY_COMPARE(view.exportStatus(), QStringLiteral("Export failed: %1").arg(error));
        const QString pngError = view.exportPng(out.filePath(QStringLiteral("report.csv/charts.png"))).result();
        QVERIFY2(pngError.contains(QStringLiteral("report.csv/charts.png")), qPrintable(pngError));
    }

    // A range without runs: each chart says what is missing instead of drawing empty axes.
    void emptyRangeSaysSo()
    {
        ThroughputView view(m_workspace.root());
        view.resize(1400, 900);
        view.show();
        QSignalSpy ready(&view, &ThroughputView::reportReady);
        view.setRange(QDate(2001, 1, 1), QDate(2001, 1, 7));
        QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() && view.report().query.since.date() == QDate(2001, 1, 1), 15000);
        QCOMPARE(view.report().total.launched, 0);
        QCOMPARE(view.outcomesChart()->chart()->title(),
                 QStringLiteral("Runs launched per day, by outcome: no runs in this range"));
        QVERIFY(view.outcomesChart()->chart()->series().isEmpty());
        QVERIFY(view.outcomesChart()->chart()->axes().isEmpty());
        const QList<QChartView *> charts = view.findChildren<QChartView *>();
        QCOMPARE(charts.size(), 4);
        for (QChartView *chart : charts)
            QVERIFY2(chart->chart()->title().contains(QStringLiteral(" in this range")),
                     qPrintable(chart->chart()->title()));
    }

    void windowOpensThePageAndARunFromIt()
    {
        MainWindow window(m_workspace.workspace());
        window.show();
        ThroughputView *view = window.openThroughput();
        QVERIFY(view);
        QCOMPARE(window.openThroughput(), view); // brought forward, not opened twice
        QSignalSpy opened(view, &ThroughputView::openRunRequested);
        // The page opens on the last four weeks of today; the generated runs are of a fixed past month.
        view->setRange(kStart.date(), kStart.date().addDays(27));
        view->showRunsBehind({}, QStringLiteral("succeeded"), {});
        QTRY_VERIFY_WITH_TIMEOUT(view->runsList()->count() > 0, 10000);
        emit view->runsList()->itemDoubleClicked(view->runsList()->item(0));
        QCOMPARE(opened.count(), 1);
    }

private:
    QTemporaryDir m_config;
    test::TestWorkspace m_workspace;
    std::vector<test::GeneratedRun> m_runs;
};

QTEST_MAIN(TestThroughput)
#include "tst_throughput.moc"
