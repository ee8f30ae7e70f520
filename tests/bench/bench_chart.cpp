// Drawing benchmark: 20 runs x 1,000,000 points of one metric in the compare view (envelopes from the
// pyramid, drawn a bucket per pixel), against the same points in QtCharts' QLineSeries, in the same run.
//   QT_QPA_PLATFORM=offscreen build/ci/tests/bench/bench_chart [RUNS] [POINTS]
// First frame: from handing the runs to the view to the first frame with every run drawn. Panning: the
// chart zoomed to 10% of the series and moved by 1% per frame, each frame painted at once; envelopes for
// ranges past the prefetched margin load off the UI thread meanwhile.
#include "store/metricchunk.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"
#include "views/compareview.h"
#include "views/envelopechart.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QElapsedTimer>
#include <QLineSeries>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using namespace trainyard;

namespace {

// Counts the paints of a widget: a frame must be one paint.
class PaintCounter : public QObject {
public:
    int paints = 0;
    bool eventFilter(QObject *, QEvent *event) override
    {
        if (event->type() == QEvent::Paint)
            ++paints;
        return false;
    }
};

double valueAt(int run, std::int64_t step, QRandomGenerator &random)
{
    return (1.0 + 0.1 * run) * std::exp(-double(step) / 300000.0) + 0.02 * random.generateDouble();
}

struct FrameTimes {
    double mean = 0, p95 = 0, worst = 0;
};

FrameTimes summarize(std::vector<double> times)
{
    std::sort(times.begin(), times.end());
    FrameTimes result;
    for (double t : times)
        result.mean += t / double(times.size());
    result.p95 = times[std::min(times.size() - 1, std::size_t(double(times.size()) * 0.95))];
    result.worst = times.back();
    return result;
}

} // namespace

int main(int argc, char **argv)
{
    QApplication application(argc, argv);
    const int runCount = argc > 1 ? std::atoi(argv[1]) : 20;
    const std::int64_t points = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
    QTemporaryDir dir;
    auto workspace = Workspace::open(dir.path());
    auto writer = StoreWriter::start(workspace->database());
    QStringList ids;
    for (int r = 0; r < runCount; ++r) {
        NewRun run;
        run.name = QStringLiteral("run-%1").arg(r, 2, 10, QLatin1Char('0'));
        ids << writer.value()->createRun(run).get().value();
    }
    writer.value().reset();
    {
        auto connection = workspace->database().connect();
        QRandomGenerator random(3);
        auto transaction = SqliteTransaction::begin(connection.value(), SqliteTransaction::Kind::Immediate);
        std::vector<std::int64_t> steps(8192), timestamps(8192, kNoTimestamp);
        std::vector<double> values(8192);
        for (int r = 0; r < runCount; ++r) {
            const std::int64_t keyId = metricKeyId(connection.value(), ids[r], QStringLiteral("loss")).value();
            for (std::int64_t start = 0; start < points; start += 8192) {
                const std::size_t size = std::size_t(std::min<std::int64_t>(8192, points - start));
                for (std::size_t i = 0; i < size; ++i) {
                    steps[i] = start + std::int64_t(i);
                    values[i] = valueAt(r, steps[i], random);
                }
                (void)insertMetricChunk(connection.value(), keyId, std::span(steps).first(size),
                                        std::span(values).first(size), std::span(timestamps).first(size));
            }
        }
        (void)transaction->commit();
    }
    QList<RunRecord> runs;
    {
        auto connection = workspace->database().connect();
        runs = runqueries::listRuns(connection.value()).value();
    }
    std::printf("%d runs x %lld points, one chart about 1,250 pixels wide\n\n", runCount,
                static_cast<long long>(points));

    // Ours: the compare view.
    CompareView view(workspace->database().path());
    view.resize(2600, 900); // two columns: each chart about 1,250 pixels wide
    view.show();
    QElapsedTimer timer;
    timer.start();
    view.setRuns(runs);
    EnvelopeChart *chart = view.chart(QStringLiteral("loss"));
    const auto allDrawn = [&] {
        for (const ChartSeries &series : chart->series())
            if (series.envelope.empty())
                return false;
        return true;
    };
    const double setRunsMs = double(timer.nsecsElapsed()) / 1e6;
    while (!allDrawn())
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 5);
    const double loadedMs = double(timer.nsecsElapsed()) / 1e6;
    chart->repaint();
    if (qEnvironmentVariableIsSet("BENCH_SKIP_BASELINE"))
        std::printf("first frame: setRuns returned at %.1f ms, every envelope in at %.1f ms\n", setRunsMs, loadedMs);
    const double ourFirstFrame = double(timer.nsecsElapsed()) / 1e6;

    chart->zoomTo(0, double(points) / 10);
    while (view.isLoading() || chart->series().front().envelope.toStep > points / 2)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    std::vector<double> ourFrames;
    int framesWithStaleData = 0, framesWithoutPaint = 0;
    PaintCounter paintCounter;
    chart->installEventFilter(&paintCounter);
    for (int frame = 1; frame <= 120; ++frame) {
        const double x0 = double(points) / 100 * frame * 0.5;
        const int paintsBefore = paintCounter.paints;
        timer.restart();
        chart->zoomTo(x0, x0 + double(points) / 10); // as a mouse move while dragging does
        QCoreApplication::processEvents(); // the frame: the paint it asked for, and loads that finished meanwhile
        const double ms = double(timer.nsecsElapsed()) / 1e6;
        if (paintCounter.paints == paintsBefore) {
            ++framesWithoutPaint; // a batch of envelopes was arriving: its charts repaint once it is in
        } else {
            ourFrames.push_back(ms);
            for (const ChartSeries &series : chart->series())
                if (series.envelope.fromStep > std::int64_t(x0)
                    || series.envelope.toStep < std::int64_t(x0 + double(points) / 10)) {
                    ++framesWithStaleData;
                    break;
                }
        }
        QThread::msleep(16); // a 60 Hz pointer moves this fast; the loader works meanwhile
    }
    const FrameTimes ours = summarize(ourFrames);
    if (qEnvironmentVariableIsSet("BENCH_SKIP_BASELINE")) {
        std::printf(
            "ours: first frame %.1f ms, pan frame %.1f ms (p95 %.1f) over %zu painted frames, %d frames coalesced\n",
            ourFirstFrame, ours.mean, ours.p95, ourFrames.size(), framesWithoutPaint);
        return 0;
    }

    // Baseline: every point in QLineSeries.
    timer.restart();
    auto *lineChart = new QChart;
    QRandomGenerator random(3);
    for (int r = 0; r < runCount; ++r) {
        QList<QPointF> line;
        line.reserve(qsizetype(points));
        for (std::int64_t step = 0; step < points; ++step)
            line.append(QPointF(double(step), valueAt(r, step, random)));
        auto *series = new QLineSeries;
        series->replace(line);
        lineChart->addSeries(series);
    }
    lineChart->createDefaultAxes();
    QChartView chartView(lineChart);
    chartView.resize(1250, 700);
    chartView.show();
    chartView.repaint();
    const double qtFirstFrame = double(timer.nsecsElapsed()) / 1e6;
    auto *axis = qobject_cast<QValueAxis *>(lineChart->axes(Qt::Horizontal).front());
    std::vector<double> qtFrames;
    for (int frame = 1; frame <= 5; ++frame) {
        const double x0 = double(points) / 100 * frame * 0.5;
        timer.restart();
        axis->setRange(x0, x0 + double(points) / 10);
        chartView.repaint();
        qtFrames.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    const FrameTimes qt = summarize(qtFrames);

    std::printf("%-44s %14s %14s %14s\n", "", "first frame ms", "pan frame ms", "pan fps");
    std::printf("%-44s %14.1f %8.1f (p95 %.1f) %8.0f\n", "Trainyard compare view (envelopes)", ourFirstFrame, ours.mean,
                ours.p95, 1000.0 / ours.mean);
    std::printf("%-44s %14.1f %8.1f (p95 %.1f) %8.1f\n", "QtCharts QLineSeries, every point", qtFirstFrame, qt.mean,
                qt.p95, 1000.0 / qt.mean);
    std::printf(
        "\npanning: 120 moves, %zu painted frames (%d moves coalesced into the next frame while envelopes arrived), "
        "%d frames drawn while a range past the prefetch margin was loading (drawn from the envelope held)\n",
        ourFrames.size(), framesWithoutPaint, framesWithStaleData);
    return 0;
}
