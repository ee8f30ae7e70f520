// The compare view: charts per key with one colour per run, zoom re-queries, hover, groups, live tails,
// exports, the params diff and the runs table's extra columns and filter box.
#include "mainwindow.h"
#include "models/paramdiffmodel.h"
#include "models/runfilterproxy.h"
#include "models/runtablemodel.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"
#include "views/compareview.h"
#include <QTableWidget>
#include "views/parallelcoordinates.h"
#include "views/sweepscatter.h"
#include "views/sweepview.h"
#include "views/envelopechart.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QSet>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QScrollArea>
#include <QToolButton>

#include <cmath>
#include <limits>
#include <vector>

using namespace trainyard;

namespace {

QList<RunRecord> loadRuns(test::TestWorkspace &workspace, const QStringList &ids)
{
    auto connection = workspace.workspace().database().connect();
    auto all = runqueries::listRuns(connection.value());
    QList<RunRecord> runs;
    for (const QString &id : ids)
        for (const RunRecord &run : all.value())
            if (run.id == id)
                runs << run;
    return runs;
}

void waitForLoads(CompareView &view)
{
    QTRY_VERIFY_WITH_TIMEOUT(!view.isLoading(), 20000);
    QCoreApplication::processEvents();
}

// Shows the view at 1300 x 900 with these runs, their envelopes loaded; false if the window never showed.
bool showLoaded(CompareView &view, test::TestWorkspace &workspace, const QStringList &ids)
{
    view.resize(1300, 900);
    view.show();
    if (!QTest::qWaitForWindowExposed(&view))
        return false;
    view.setRuns(loadRuns(workspace, ids));
    waitForLoads(view);
    return true;
}

// Pixels whose colour is within a small distance of `color`.
int pixelsNear(const QImage &image, const QColor &color)
{
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        const QRgb *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        for (int x = 0; x < image.width(); ++x) {
            const QColor c(line[x]);
            if (std::abs(c.red() - color.red()) + std::abs(c.green() - color.green())
                    + std::abs(c.blue() - color.blue())
                < 40)
                ++count;
        }
    }
    return count;
}

// Three runs with distinct curves: 20,000 steps each, a loss and an accuracy; params lr and optimizer.
struct ThreeRuns {
    test::TestWorkspace workspace;
    QStringList ids;
    ThreeRuns()
    {
        const QList<QList<QPair<QString, QString>>> params = {
            {{"lr", "0.1"}, {"optimizer", "sgd"}, {"seed", "1"}},
            {{"lr", "0.01"}, {"optimizer", "sgd"}, {"seed", "1"}},
            {{"lr", "0.001"}, {"optimizer", "adam"}, {"seed", "1"}},
        };
        for (int r = 0; r < 3; ++r) {
            const QString id = workspace.addRun(QStringLiteral("run-%1").arg(r), RunStatus::Succeeded,
                                                {r == 2 ? "b" : "a"}, {}, params[r]);
            std::vector<std::int64_t> steps;
            std::vector<double> loss, acc;
            for (int i = 0; i < 20000; ++i) {
                steps.push_back(i);
                loss.push_back((3 - r) * std::exp(-i / 4000.0) + 0.2 * r + 0.05 * std::sin(i * 0.01));
                acc.push_back(1 - std::exp(-i / (3000.0 * (r + 1))));
            }
            workspace.addPoints(id, QStringLiteral("loss"), steps, loss, 1'700'000'000'000);
            workspace.addPoints(id, QStringLiteral("acc"), steps, acc, 1'700'000'000'000);
            ids << id;
        }
    }
};

} // namespace

class TestCompareView : public QObject {
    Q_OBJECT

private slots:
    // 200 runs in one chart (the compare view's cap) get 200 colours no two of which are within a small perceptual
    // distance (CIE76 >= 10), all readable on white; the first ten are Tableau 10, and the 201st starts again.
    void twoHundredRunsGetDistinguishableColours()
    {
        QCOMPARE(seriesColor(0), QColor(0x4e79a7));
        QCOMPARE(seriesColor(9), QColor(0xbab0ac));
        QSet<QRgb> distinct;
        double closest = std::numeric_limits<double>::infinity();
        for (int i = 0; i < CompareView::kMaxRuns; ++i) {
            distinct.insert(seriesColor(i).rgb());
            QVERIFY2(seriesColor(i).lightness() < 235, qPrintable(seriesColor(i).name())); // not lost on white
            for (int j = 0; j < i; ++j)
                closest = std::min(closest, perceptualDistance(seriesColor(i), seriesColor(j)));
        }
        QCOMPARE(distinct.size(), CompareView::kMaxRuns);
        QVERIFY2(closest >= kMinSeriesColorDistance, qPrintable(QString::number(closest)));
        qInfo("closest pair of the 200 colours: CIE76 %.1f", closest);
        QCOMPARE(seriesColor(CompareView::kMaxRuns), seriesColor(0));

        // Their legend is one line that ends in "+N more", never a wall of text; a 10,000-character name is cut.
        QStringList labels;
        for (int i = 0; i < CompareView::kMaxRuns; ++i)
            labels << QStringLiteral("run-%1").arg(i);
        labels[0] = QString(10000, QLatin1Char('x'));
        const QFontMetrics metrics(QApplication::font());
        const LegendLayout legend = layOutLegend(labels, metrics, 1200);
        QVERIFY(!legend.labels.isEmpty());
        QVERIFY(legend.hidden > 150);
        QCOMPARE(legend.labels.size() + legend.hidden, CompareView::kMaxRuns);
        QVERIFY(metrics.horizontalAdvance(legend.labels[0]) <= kLongestLegendLabel);
        QVERIFY(legend.labels[0].contains(QChar(0x2026)));
        int width = 0;
        for (const QString &label : legend.labels)
            width += metrics.horizontalAdvance(label) + 22;
        QVERIFY(width <= 1200);
    }

    void initTestCase()
    {
        QVERIFY(m_config.isValid());
        qputenv("XDG_CONFIG_HOME", m_config.path().toUtf8());
    }

    // Above 32 runs a chart's runs are drawn by workers, each into a layer laid over the chart in order: every run's
    // line is on the picture in its own colour, and where two lines coincide the later run is the one seen.
    // Issue 20, point 1: the sweep analysis views for any selection of runs, sweep or not: the compare view's Analysis
    // tab finds the param that drives the loss among the compared runs, plots them, and opens one on a click.
    void analysisTabAnalysesTheComparedRuns()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        QStringList ids;
        const QStringList rates{"0.0001", "0.001", "0.01", "0.1"};
        for (int r = 0; r < 12; ++r) {
            NewRun run;
            run.name = QStringLiteral("hand-%1").arg(r);
            run.initialStatus = RunStatus::Succeeded;
            const QString lr = rates[r % 4];
            const QString width = QString::number(32 << (r / 4));
            run.params = {{QStringLiteral("lr"), lr}, {QStringLiteral("width"), width}};
            auto created = workspace.writer().createRun(run).get();
            QVERIFY(created);
            ids << created.value();
            const double loss = std::log10(lr.toDouble()) + 5 + 0.01 * width.toDouble() / 128;
            QVERIFY(workspace.addPoints(ids.last(), QStringLiteral("loss"), {0, 1}, {loss + 1, loss}));
        }
        CompareView view(workspace.workspace().database().path());
        view.resize(1300, 900);
        view.show();
        view.setRuns(loadRuns(workspace, ids));
        view.showAnalysis();
        SweepView *analysis = view.analysis();
        QVERIFY(analysis->isSelectionMode());
        QTRY_VERIFY_WITH_TIMEOUT(!analysis->isComputingImportance() && analysis->importanceTable()->rowCount() == 2,
                                 10000);
        QCOMPARE(analysis->importanceTable()->item(0, 0)->text(), QStringLiteral("lr"));
        QCOMPARE(analysis->importanceTable()->item(0, 3)->text(), QStringLiteral("0.97"));
        QCOMPARE(analysis->table()->model()->rowCount(), 12);
        QCOMPARE(analysis->scatter()->points().size(), 12);
        QCOMPARE(analysis->parallelCoordinates()->axisCount(), 3); // lr, width and the loss
        if (test::docsImagesWanted()) {                            // docs/images/compare-analysis.png
            waitForLoads(view);
            QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("compare-analysis")));
        }
        // Comparing fewer runs analyses fewer.
        view.setRuns(loadRuns(workspace, ids.mid(0, 4)));
        QTRY_COMPARE(analysis->table()->model()->rowCount(), 4);
        QTRY_VERIFY_WITH_TIMEOUT(!analysis->isComputingImportance(), 10000);
        QVERIFY2(analysis->importanceText().contains(QStringLiteral("not enough data")),
                 qPrintable(analysis->importanceText()));
        // A click on a point opens its run.
        QSignalSpy opened(&view, &CompareView::runActivated);
        QTRY_VERIFY(!analysis->scatter()->points().isEmpty());
        analysis->setScatterParams(QStringLiteral("lr"));
        const QString clicked = analysis->scatter()->points().first().runId;
        const auto position = analysis->scatter()->pointPosition(clicked);
        QVERIFY(position.has_value());
        QTest::mouseClick(analysis->scatter(), Qt::LeftButton, {}, position->toPoint());
        QCOMPARE(opened.size(), 1);
        QCOMPARE(opened.first().first().toString(), clicked);
    }

    void manyRunsAreDrawnInLayersInOrder()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        constexpr int kRuns = 40;
        QStringList ids;
        std::vector<std::int64_t> steps(200);
        for (int i = 0; i < 200; ++i)
            steps[std::size_t(i)] = i;
        for (int r = 0; r < kRuns; ++r) {
            ids << workspace.addRun(QStringLiteral("flat-%1").arg(r), RunStatus::Succeeded);
            // Flat lines, one a run, except that run 30 lies exactly on run 5 (they are in different layers).
            const double level = r == 30 ? 5.0 : double(r);
            QVERIFY(workspace.addPoints(ids.last(), QStringLiteral("loss"), steps, std::vector<double>(200, level)));
        }
        CompareView view(workspace.workspace().database().path());
        view.resize(1300, 900);
        view.show();
        view.setRuns(loadRuns(workspace, ids));
        waitForLoads(view);
        QCOMPARE(view.visibleCharts().size(), 1);
        const QImage image = view.visibleCharts().first()->grab().toImage().convertToFormat(QImage::Format_RGB32);
        const auto exactPixels = [&](const QColor &color) {
            int count = 0;
            for (int y = 0; y < image.height(); ++y) {
                const QRgb *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
                for (int x = 0; x < image.width(); ++x)
                    count += qRgb(qRed(line[x]), qGreen(line[x]), qBlue(line[x])) == color.rgb() ? 1 : 0;
            }
            return count;
        };
        for (int r = 0; r < kRuns; ++r) {
            if (r == 5)
                continue;
            const int pixels = exactPixels(view.runColors().value(ids[r]));
            QVERIFY2(pixels > 200, qPrintable(QStringLiteral("run %1: %2 pixels").arg(r).arg(pixels)));
        }
        // Run 5's line is covered by run 30's (its legend swatch may remain: a few pixels at most).
        QVERIFY2(exactPixels(view.runColors().value(ids[5])) < 150,
                 qPrintable(QString::number(exactPixels(view.runColors().value(ids[5])))));
    }

    void chartsShowEveryRunInItsOwnColour()
    {
        ThreeRuns data;
        CompareView view(data.workspace.workspace().database().path());
        view.resize(1300, 900);
        view.show();
        QSignalSpy colors(&view, &CompareView::runColorsChanged);
        view.setRuns(loadRuns(data.workspace, data.ids));
        waitForLoads(view);
        QCOMPARE(colors.count(), 1);
        QCOMPARE(view.runColors().size(), 3);
        QCOMPARE(QSet<QRgb>({view.runColors().value(data.ids[0]).rgb(), view.runColors().value(data.ids[1]).rgb(),
                             view.runColors().value(data.ids[2]).rgb()})
                     .size(),
                 3);
        // One chart per key, in the order the keys were first logged (loss, then acc); every run in each, with its
        // colour.
        const QList<EnvelopeChart *> charts = view.visibleCharts();
        QCOMPARE(charts.size(), 2);
        QCOMPARE(charts[0]->title(), QStringLiteral("loss"));
        QCOMPARE(charts[1]->title(), QStringLiteral("acc"));
        for (EnvelopeChart *chart : charts) {
            QCOMPARE(chart->series().size(), 3);
            for (const ChartSeries &series : chart->series()) {
                QCOMPARE(series.color, view.runColors().value(series.id));
                QVERIFY(!series.envelope.empty());
                QCOMPARE(series.envelope.seriesLastStep, std::int64_t(19999));
            }
        }
        QVERIFY(test::saveDocsImage(view.grab().toImage(), QStringLiteral("compare-view")));
        // The pixels: each run's colour is drawn, in quantity, in the loss chart.
        const QImage image = view.grab().toImage();
        for (const QString &id : data.ids) {
            const int pixels = pixelsNear(image, view.runColors().value(id));
            QVERIFY2(pixels > 300, qPrintable(QStringLiteral("%1: %2 pixels").arg(id).arg(pixels)));
        }

        // The key search hides charts; a pinned key comes first.
        view.setKeyFilter(QStringLiteral("LOS"));
        QCOMPARE(view.visibleCharts().size(), 1);
        view.setKeyFilter(QString());
        view.setPinned(QStringLiteral("loss"), true);
        QCOMPARE(view.visibleCharts().at(0)->title(), QStringLiteral("loss"));
        QVERIFY(view.visibleCharts().at(0)->isPinned());
        view.setPinned(QStringLiteral("loss"), false);
    }

    // Charts sit in sections by key prefix, system telemetry collapsed; pinned keys first, then the order first
    // logged; the grid reflows with the width and never scrolls sideways.
    void chartsSitInSectionsAndReflow()
    {
        test::TestWorkspace workspace;
        const QString id = workspace.addRun(QStringLiteral("sections"), RunStatus::Succeeded);
        const std::vector<std::int64_t> steps = {0, 1, 2, 3};
        const std::vector<double> values = {4, 3, 2, 1};
        const QStringList logged = {"train/loss",  "sys/rank0/rss_mib", "lr",        "eval/acc", "train/grad_norm",
                                    "perf/step_s", "sys/gpu0/util",     "train/acc", "epoch"};
        for (const QString &key : logged)
            workspace.addPoints(id, key, steps, values, 1'700'000'000'000);
        CompareView view(workspace.workspace().database().path());
        QVERIFY(showLoaded(view, workspace, {id}));
        const auto titles = [&view] {
            QStringList shown;
            for (EnvelopeChart *chart : view.visibleCharts())
                shown << chart->title();
            return shown;
        };
        // train/, eval/, perf/, then the others, each in logged order; sys/ collapsed.
        QCOMPARE(titles(),
                 (QStringList{"train/loss", "train/grad_norm", "train/acc", "eval/acc", "perf/step_s", "lr", "epoch"}));
        QVERIFY(view.isSectionCollapsed(QStringLiteral("sys/")));
        auto *sysHeader = view.findChild<QToolButton *>(QStringLiteral("section:sys/"));
        QVERIFY(sysHeader && sysHeader->isVisible());
        QVERIFY2(sysHeader->text().contains(QStringLiteral("(2)")), qPrintable(sysHeader->text()));
        QVERIFY(!view.chart(QStringLiteral("sys/gpu0/util"))->isVisible());
        // A click on the header opens it; a search finds charts in a collapsed section.
        sysHeader->click();
        QCOMPARE(titles().mid(7), (QStringList{"sys/rank0/rss_mib", "sys/gpu0/util"}));
        sysHeader->click();
        QVERIFY(view.isSectionCollapsed(QStringLiteral("sys/")));
        view.setKeyFilter(QStringLiteral("gpu0"));
        QCOMPARE(titles(), QStringList{"sys/gpu0/util"});
        view.setKeyFilter(QString());
        // A pinned key comes first in its section.
        view.setPinned(QStringLiteral("train/grad_norm"), true);
        QCOMPARE(titles().mid(0, 2), (QStringList{"train/grad_norm", "train/loss"}));
        view.setPinned(QStringLiteral("train/grad_norm"), false);

        // Reflow: three columns at 1300 pixels (the train/ section fills three), one at 500; no chart ever runs past the
        // visible width. A section with fewer charts than fit does not leave columns empty: the two found by a search,
        // one in each section, take the whole width each.
        QTRY_COMPARE(view.chartColumns(), 3);
        const auto fitsTheWidth = [&view] {
            const QScrollArea *scroll = view.findChild<QScrollArea *>();
            for (EnvelopeChart *chart : view.visibleCharts())
                if (chart->mapTo(scroll->viewport(), QPoint(chart->width(), 0)).x() > scroll->viewport()->width())
                    return false;
            return scroll->horizontalScrollBarPolicy() == Qt::ScrollBarAlwaysOff;
        };
        QTRY_VERIFY(fitsTheWidth());
        view.resize(500, 900);
        QTRY_COMPARE(view.chartColumns(), 1);
        QTRY_VERIFY(fitsTheWidth());
        view.resize(1300, 900);
        QTRY_COMPARE(view.chartColumns(), 3);
        view.setKeyFilter(QStringLiteral("acc"));
        QCOMPARE(view.chartColumns(), 1);
        QTRY_VERIFY(view.chart(QStringLiteral("train/acc"))->width() > 1000);
        view.setKeyFilter(QString());
    }

    // Axes: round ticks, none alike, no negative tick for a metric that never goes below 0, whole steps on the step
    // axis; a range without points says so.
    void axesAreRoundAndSayWhenEmpty()
    {
        test::TestWorkspace workspace;
        const QString id = workspace.addRun(QStringLiteral("axes"), RunStatus::Succeeded);
        const std::vector<std::int64_t> steps = {0, 1, 2, 3, 4};
        workspace.addPoints(id, QStringLiteral("lr"), steps, {3e-3, 2.5e-3, 1.5e-3, 5e-4, 1e-4}, 1'700'000'000'000);
        workspace.addPoints(id, QStringLiteral("loss"), steps, {1000.0001, 1000.0002, 1000.0003, 1000.0004, 1000.0005},
                            1'700'000'000'000);
        CompareView view(workspace.workspace().database().path());
        QVERIFY(showLoaded(view, workspace, {id}));
        for (const char *key : {"lr", "loss"}) {
            EnvelopeChart *chart = view.chart(QLatin1String(key));
            const QStringList y = chart->yTickLabels();
            QVERIFY2(y.size() >= 3 && QSet<QString>(y.cbegin(), y.cend()).size() == y.size(),
                     qPrintable(y.join(QLatin1Char(' '))));
            for (const QString &label : y)
                QVERIFY2(!label.startsWith(QLatin1Char('-')), qPrintable(y.join(QLatin1Char(' '))));
            const QStringList x = chart->xTickLabels();
            QCOMPARE(x.first(), QStringLiteral("0"));
            for (const QString &label : x)
                QVERIFY2(!label.contains(QLatin1Char('.')), qPrintable(x.join(QLatin1Char(' ')))); // whole steps
            QCOMPARE(chart->emptyText(), QString());
        }
        EnvelopeChart *lr = view.chart(QStringLiteral("lr"));
        lr->zoomTo(100, 200);
        QTRY_COMPARE(lr->emptyText(), QStringLiteral("No points in this range"));
    }

    void zoomRequeriesAtTheNewRange()
    {
        ThreeRuns data;
        CompareView view(data.workspace.workspace().database().path());
        view.resize(1300, 900);
        view.show();
        view.setRuns(loadRuns(data.workspace, data.ids));
        waitForLoads(view);
        EnvelopeChart *loss = view.chart(QStringLiteral("loss"));
        const ChartSeries before = loss->series().at(0);
        QVERIFY(!before.envelope.fullResolution); // 20,000 points do not fit a chart's width
        loss->zoomTo(5000, 5200);
        QVERIFY(!loss->followsData());
        QTRY_VERIFY_WITH_TIMEOUT(loss->series().at(0).envelope.fullResolution, 10000);
        waitForLoads(view);
        for (const ChartSeries &series : loss->series()) {
            const MetricEnvelope &envelope = series.envelope;
            QVERIFY(envelope.fromStep <= 5000 && envelope.toStep >= 5200);
            QVERIFY(envelope.toStep - envelope.fromStep < 1000); // the new range, not the whole series
            QVERIFY(envelope.fullResolution);
        }
        // Hover: every run's value at the line, exactly the logged one at full resolution.
        loss->setHoverX(5100);
        const QStringList lines = loss->hoverLines();
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[0], QStringLiteral("step 5100"));
        const double expected = 3 * std::exp(-5100 / 4000.0) + 0.05 * std::sin(5100 * 0.01);
        QCOMPARE(lines[1], QStringLiteral("run-0: %1").arg(QString::number(expected, 'g', 6)));
        // Double-click's reset goes back to the whole series.
        loss->fitAll();
        emit loss->xRangeChanged(loss->xRange().first, loss->xRange().second);
        QTRY_VERIFY_WITH_TIMEOUT(!loss->series().at(0).envelope.fullResolution, 10000);
    }

    void timeAxesMapTimeRangesToSteps()
    {
        ThreeRuns data; // point i of every run was logged at 1,700,000,000,000 ms + i seconds
        CompareView view(data.workspace.workspace().database().path());
        view.resize(1300, 900);
        view.show();
        view.setRuns(loadRuns(data.workspace, data.ids));
        waitForLoads(view);
        view.setXAxisMode(XAxisMode::WallTime);
        waitForLoads(view);
        EnvelopeChart *loss = view.chart(QStringLiteral("loss"));
        const auto extent = loss->dataExtent();
        QVERIFY(extent);
        QCOMPARE(extent->first, 1'700'000'000'000.0);
        QCOMPARE(extent->second, 1'700'000'000'000.0 + 19999 * 1000.0);
        // Ten minutes of wall time: steps 3000 to 3600, loaded at full resolution.
        loss->zoomTo(1'700'000'000'000.0 + 3000 * 1000.0, 1'700'000'000'000.0 + 3600 * 1000.0);
        QTRY_VERIFY_WITH_TIMEOUT(loss->series().at(0).envelope.toStep - loss->series().at(0).envelope.fromStep < 5000,
                                 10000);
        waitForLoads(view);
        for (const ChartSeries &series : loss->series()) {
            QVERIFY(series.envelope.fromStep <= 3000 && series.envelope.toStep >= 3600);
            QVERIFY(series.envelope.toStep - series.envelope.fromStep < 5000); // the window and its margins only
            for (const EnvelopeBucket &bucket : series.envelope.buckets)
                QVERIFY(bucket.hiStep - bucket.loStep <= 2); // at most a pixel's worth of steps each
        }
        loss->setHoverX(1'700'000'000'000.0 + 3300 * 1000.0);
        const double expected = 3 * std::exp(-3300 / 4000.0) + 0.05 * std::sin(3300 * 0.01);
        QCOMPARE(loss->hoverLines().at(1), QStringLiteral("run-0: %1").arg(QString::number(expected, 'g', 6)));
    }

    void atMostTwoHundredRuns()
    {
        CompareView view(QStringLiteral("/nonexistent/trainyard.db"));
        QList<RunRecord> runs;
        for (int i = 0; i < 205; ++i) {
            RunRecord run;
            run.id = QStringLiteral("run%1").arg(i);
            run.name = run.id;
            runs << run;
        }
        view.setRuns(runs);
        QCOMPARE(view.runIds().size(), CompareView::kMaxRuns);
        QCOMPARE(view.runColors().size(), CompareView::kMaxRuns);
        QSet<QRgb> distinct;
        for (const QColor &color : view.runColors())
            distinct.insert(color.rgb());
        QCOMPARE(distinct.size(), CompareView::kMaxRuns); // every run its own colour
    }

    void groupsDrawMeanWithBandAndSmoothingKeepsRaw()
    {
        ThreeRuns data;
        CompareView view(data.workspace.workspace().database().path());
        view.resize(1300, 900);
        view.show();
        view.setRuns(loadRuns(data.workspace, data.ids));
        waitForLoads(view);
        QVERIFY(view.groupByChoices().contains(QStringLiteral("param:optimizer")));
        view.setGroupBy(QStringLiteral("param:optimizer"));
        EnvelopeChart *acc = view.chart(QStringLiteral("acc"));
        acc->setHoverX(10000);
        const QStringList lines = acc->hoverLines();
        QCOMPARE(lines.size(), 3); // the x, then one line per group
        QVERIFY2(lines[1].startsWith(QStringLiteral("sgd: ")), qPrintable(lines[1]));
        QVERIFY2(lines[2].startsWith(QStringLiteral("adam: ")), qPrintable(lines[2]));
        // The sgd group is the mean of runs 0 and 1.
        const double run0 = 1 - std::exp(-10000 / 3000.0), run1 = 1 - std::exp(-10000 / 6000.0);
        const double mean = lines[1].mid(5).toDouble();
        QVERIFY2(std::abs(mean - (run0 + run1) / 2) < 0.01, qPrintable(lines[1]));
        const QImage grouped = acc->grab().toImage();
        QVERIFY(pixelsNear(grouped, seriesColor(0)) > 200);
        QVERIFY(pixelsNear(grouped, seriesColor(1)) > 200);
        view.setGroupBy(QString());
        view.setSmoothing(0.9);
        acc->setHoverX(std::nullopt);
        QVERIFY(pixelsNear(acc->grab().toImage(), view.runColors().value(data.ids[0])) > 200);
    }

    void liveRunsExtendWithTheNewStepsOnly()
    {
        test::TestWorkspace workspace;
        const QString id = workspace.addRun(QStringLiteral("live"), RunStatus::Running);
        std::vector<std::int64_t> steps;
        std::vector<double> values;
        for (int i = 0; i < 500; ++i) {
            steps.push_back(i);
            values.push_back(i);
        }
        QVERIFY(workspace.addPoints(id, QStringLiteral("loss"), steps, values));
        CompareView view(workspace.workspace().database().path());
        view.resize(1000, 700);
        view.show();
        view.setRuns(loadRuns(workspace, {id}));
        waitForLoads(view);
        EnvelopeChart *chart = view.chart(QStringLiteral("loss"));
        QCOMPARE(chart->series().at(0).envelope.buckets.back().summary.lastStep, std::int64_t(499));
        const std::vector<EnvelopeBucket> held = chart->series().at(0).envelope.buckets;

        for (int round = 1; round <= 3; ++round) {
            steps.clear();
            values.clear();
            for (int i = 500 * round; i < 500 * (round + 1); ++i) {
                steps.push_back(i);
                values.push_back(i);
            }
            QVERIFY(workspace.addPoints(id, QStringLiteral("loss"), steps, values));
            view.setRuns(loadRuns(workspace, {id})); // as the main window does when the run list changes
            const std::int64_t last = 500 * (round + 1) - 1;
            QTRY_COMPARE_WITH_TIMEOUT(chart->series().at(0).envelope.buckets.back().summary.lastStep, last, 10000);
        }
        // The buckets held before are still there, unchanged: the new steps were appended.
        const auto &now = chart->series().at(0).envelope.buckets;
        QVERIFY(now.size() > held.size());
        for (std::size_t i = 0; i < held.size(); ++i) {
            QCOMPARE(now[i].loStep, held[i].loStep);
            QCOMPARE(now[i].summary.count, held[i].summary.count);
        }
        std::int64_t total = 0;
        for (const auto &bucket : now)
            total += bucket.summary.count;
        QCOMPARE(total, std::int64_t(2000));
        QCOMPARE(chart->xRange().second, 1999.0); // a following chart shows the new steps
    }

    void exportsPngSvgAndCsv()
    {
        ThreeRuns data;
        CompareView view(data.workspace.workspace().database().path());
        view.resize(1300, 900);
        view.show();
        view.setRuns(loadRuns(data.workspace, data.ids));
        waitForLoads(view);
        EnvelopeChart *loss = view.chart(QStringLiteral("loss"));
        const QImage image = loss->toImage(loss->size() * 2);
        QCOMPARE(image.size(), loss->size() * 2);
        QVERIFY(pixelsNear(image, view.runColors().value(data.ids[1])) > 300);
        const QByteArray svg = loss->toSvg(loss->size());
        QVERIFY(svg.contains("<svg"));
        QVERIFY(svg.contains("polyline") || svg.contains("<path"));
        const QList<QByteArray> csv = loss->toCsv().split('\n');
        QVERIFY(csv[0].startsWith("series,step_from,step_to,points,min,max,mean"));
        std::int64_t points = 0;
        for (const QByteArray &line : csv.mid(1)) {
            if (line.isEmpty())
                continue;
            QVERIFY(line.startsWith("\"run-"));
            points += line.split(',').at(3).toLongLong();
        }
        QCOMPARE(points, std::int64_t(3 * 20000));
    }

    void exportsWriteFilesAndReportFailures()
    {
        // Every export of the compare view (the chart's PNG, SVG and CSV, the params' CSV) writes its file whole off
        // the UI thread, and says in the view how it went: the path when written, the writer's message when not.
        ThreeRuns data;
        CompareView view(data.workspace.workspace().database().path());
        QVERIFY(showLoaded(view, data.workspace, data.ids));
        EnvelopeChart *loss = view.chart(QStringLiteral("loss"));
        QTemporaryDir out;
        QSignalSpy finished(loss, &EnvelopeChart::exportFinished);
        const QString png = out.filePath(QStringLiteral("loss.png"));
        QCOMPARE(loss->exportTo(png, EnvelopeChart::ExportFormat::Png).result(), QString());
        QCOMPARE(QImage(png).size(), loss->size() * 2);
        const QString svg = out.filePath(QStringLiteral("loss.svg"));
        QCOMPARE(loss->exportTo(svg, EnvelopeChart::ExportFormat::Svg).result(), QString());
        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly) && svgFile.readAll().contains("<svg"));
        const QString csv = out.filePath(QStringLiteral("loss.csv"));
        QCOMPARE(loss->exportTo(csv, EnvelopeChart::ExportFormat::Csv).result(), QString());
        QFile csvFile(csv);
        QVERIFY(csvFile.open(QIODevice::ReadOnly) && csvFile.readAll() == loss->toCsv());
        QTRY_COMPARE(finished.count(), 3);
        QTRY_COMPARE(view.exportStatus(), QStringLiteral("Exported %1").arg(csv));

        // Unwritable: the parent of the path is a file, which no user (root included) can make a folder of.
        QFile blocker(out.filePath(QStringLiteral("not-a-folder")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        const QString unwritable = out.filePath(QStringLiteral("not-a-folder/loss.png"));
        const QString chartError = loss->exportTo(unwritable, EnvelopeChart::ExportFormat::Png).result();
        QVERIFY2(chartError.contains(unwritable), qPrintable(chartError)); // the message names the file
        QTRY_COMPARE(view.exportStatus(), QStringLiteral("Export failed: %1").arg(chartError));
        QTRY_COMPARE(finished.count(), 4);
        QCOMPARE(finished.last().at(1).toString(), chartError);

        const QString paramsPath = out.filePath(QStringLiteral("not-a-folder/params.csv"));
        const QString paramsError = view.exportParamsCsv(paramsPath).result();
        QVERIFY2(paramsError.contains(paramsPath), qPrintable(paramsError));
        QTRY_COMPARE(view.exportStatus(), QStringLiteral("Export failed: %1").arg(paramsError));
        QVERIFY(!QFileInfo::exists(paramsPath));
        const QString paramsOk = out.filePath(QStringLiteral("params.csv"));
        QCOMPARE(view.exportParamsCsv(paramsOk).result(), QString());
        QFile params(paramsOk);
        QVERIFY(params.open(QIODevice::ReadOnly) && params.readAll() == view.diffModel()->toCsv());
        QTRY_COMPARE(view.exportStatus(), QStringLiteral("Exported %1").arg(paramsOk));
    }

    void paramsDiffHighlightsDifferences()
    {
        ThreeRuns data;
        ParamDiffModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setRuns(loadRuns(data.workspace, data.ids));
        QCOMPARE(model.columnCount(), 3);
        QCOMPARE(model.rowCount(), 3); // lr, optimizer, seed
        QCOMPARE(model.paramAt(2), QStringLiteral("seed"));
        QCOMPARE(model.index(0, 1).data().toString(), QStringLiteral("0.01"));
        QVERIFY(model.index(0, 0).data(ParamDiffModel::DiffersRole).toBool());
        QVERIFY(model.index(0, 0).data(Qt::BackgroundRole).isValid());
        QVERIFY(!model.index(2, 0).data(ParamDiffModel::DiffersRole).toBool());
        QVERIFY(!model.index(2, 0).data(Qt::BackgroundRole).isValid());
        model.setOnlyDifferences(true);
        QCOMPARE(model.rowCount(), 2);
        QVERIFY(model.toCsv().startsWith("param,\"run-0 ("));
        model.setRuns(loadRuns(data.workspace, data.ids.mid(0, 2)));
        QCOMPARE(model.rowCount(), 1); // only lr differs between the two sgd runs
    }

    void runsTableColumnsAndFilter()
    {
        ThreeRuns data;
        MainWindow window(data.workspace.workspace());
        window.resize(1200, 800);
        window.show();
        RunTableModel *model = window.runsModel();
        QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(window.filteredRuns(),
                                             QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(model->rowCount(), 3);
        model->setExtraColumns(
            {{RunTableModel::ExtraColumn::Kind::Param, "lr"}, {RunTableModel::ExtraColumn::Kind::MetricMin, "loss"}});
        QCOMPARE(model->columnCount(), int(RunTableModel::ColumnCount) + 2);
        QCOMPARE(model->headerData(RunTableModel::ColumnCount + 1, Qt::Horizontal).toString(),
                 QStringLiteral("loss (min)"));
        // Sorting by a param sorts numbers as numbers (0.001 < 0.01 < 0.1).
        RunFilterProxy *proxy = window.filteredRuns();
        proxy->sort(RunTableModel::ColumnCount, Qt::AscendingOrder);
        QCOMPARE(proxy->index(0, RunTableModel::ColumnCount).data().toString(), QStringLiteral("0.001"));
        QCOMPARE(proxy->index(2, RunTableModel::ColumnCount).data().toString(), QStringLiteral("0.1"));
        // The filter box: a good query filters, a bad one points at the token and keeps the rows.
        window.filterEdit()->setText(QStringLiteral("lr>=0.01 optimizer:sgd"));
        QCOMPARE(proxy->rowCount(), 2);
        QVERIFY(window.filterError()->isHidden());
        window.filterEdit()->setText(QStringLiteral("lr>=fast"));
        QVERIFY(!window.filterError()->isHidden());
        QVERIFY2(window.filterError()->text().contains(
                     QStringLiteral("expected a number after 'lr>=', got 'fast'\n  lr>=fast\n      ^^^^")),
                 qPrintable(window.filterError()->text()));
        QCOMPARE(proxy->rowCount(), 2); // the last good filter stays
        window.filterEdit()->setText(QStringLiteral("loss.min<0.3"));
        QCOMPARE(proxy->rowCount(), 2); // runs 0 and 1 reach below 0.3, run 2 stays above 0.4
        const QByteArray csv = proxy->toCsv();
        QVERIFY(csv.startsWith("id,\"Name\""));
        QCOMPARE(csv.count('\n'), 3);
        window.filterEdit()->clear();

        // Compare from the selection: the table shows each run's compare colour.
        window.runsView()->selectAll();
        CompareView *compare = window.openCompare();
        QCOMPARE(compare->runIds().size(), 3);
        for (int row = 0; row < model->rowCount(); ++row) {
            const QString id = model->runAt(row).id;
            QCOMPARE(model->index(row, RunTableModel::NameColumn).data(Qt::DecorationRole).value<QColor>(),
                     compare->runColors().value(id));
        }
        waitForLoads(*compare);
    }

private:
    QTemporaryDir m_config;
};

QTEST_MAIN(TestCompareView)
#include "tst_compareview.moc"
