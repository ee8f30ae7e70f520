// The Sweeps tab's scatter plot and parallel coordinates (issue 20) over a 10,000-run sweep (the most one sweep may
// make), at 1600x900. Scatter: its first frame (placing the runs and drawing them) and a redraw, against the same-run
// floor of QPainter drawing as many filled circles. Parallel coordinates: the first frame, and brushing (a brush
// moved along the lr axis, a frame each, as a drag redraws), against the floor of QPainter drawing as many 3-point
// polylines. The goals are a first frame under 200 ms and brushing at 30 frames a second or more.
//   build/ci/tests/bench/bench_sweepcharts
#include "views/parallelcoordinates.h"
#include "views/sweepscatter.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <QPainter>

#include <cmath>
#include <cstdio>
#include <random>

using namespace trainyard;

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    std::printf("scatter\n%-7s %14s %12s %12s\n", "runs", "first frame ms", "redraw ms", "floor ms");
    QStringList scatterRows, parallelRows;
    for (int count : {1000, 10000}) {
        std::mt19937_64 random(3);
        std::uniform_real_distribution<double> unit(0, 1);
        QList<RunRecord> runs;
        for (int i = 0; i < count; ++i) {
            RunRecord run;
            run.id = QStringLiteral("run-%1").arg(i);
            run.name = run.id;
            run.status = RunStatus::Succeeded;
            const double lr = std::pow(10.0, -4 + 3 * unit(random));
            run.params = {{QStringLiteral("lr"), QString::number(lr)},
                          {QStringLiteral("width"), QString::number(32 << (i % 4))}};
            const double offset = std::log10(lr) + 2.5;
            run.metrics.insert(QStringLiteral("loss"),
                               RunMetricSummary{100, offset * offset, offset * offset, offset * offset + 1, 1});
            runs << run;
        }
        SweepScatter scatter;
        scatter.resize(1600, 900);
        QImage image(1600, 900, QImage::Format_ARGB32_Premultiplied);
        QElapsedTimer clock;
        clock.start();
        scatter.setData(runs, QStringLiteral("loss"), QStringLiteral("min"), true, QStringLiteral("lr"));
        {
            QPainter painter(&image);
            scatter.render(painter, image.rect());
        }
        const double firstMs = clock.nsecsElapsed() / 1e6;
        clock.restart();
        {
            QPainter painter(&image);
            scatter.render(painter, image.rect());
        }
        const double redrawMs = clock.nsecsElapsed() / 1e6;
        clock.restart();
        {
            QPainter painter(&image);
            painter.setRenderHint(QPainter::Antialiasing, true);
            for (int i = 0; i < count; ++i) {
                painter.setBrush(QColor::fromHsv(i % 360, 200, 200));
                painter.drawEllipse(QPointF(70 + (i * 7919) % 1440, 28 + (i * 104729) % 820), 4, 4);
            }
        }
        const double floorMs = clock.nsecsElapsed() / 1e6;
        std::printf("%-7d %14.1f %12.1f %12.1f\n", count, firstMs, redrawMs, floorMs);
        scatterRows << QStringLiteral("%1 %2 %3").arg(count).arg(firstMs).arg(floorMs);

        // Parallel coordinates: lr, width and the metric.
        ParallelCoordinates parallel;
        parallel.resize(1600, 900);
        clock.restart();
        parallel.setData(runs, {QStringLiteral("lr"), QStringLiteral("width")}, QStringLiteral("loss"),
                         QStringLiteral("min"), true);
        parallel.grab(); // the widget's own paint, as the window shows it
        const double parallelFirstMs = clock.nsecsElapsed() / 1e6;
        constexpr int kFrames = 30;
        clock.restart();
        for (int frame = 0; frame < kFrames; ++frame) {
            const double low = std::pow(10.0, -4 + 2.0 * frame / kFrames);
            parallel.setBrush(0, std::pair{low, low * 10});
            QPainter painter(&image);
            parallel.render(painter, image.rect(), true); // as the widget paints itself
        }
        const double brushMs = clock.nsecsElapsed() / 1e6 / kFrames;
        clock.restart();
        {
            QPainter painter(&image);
            for (int i = 0; i < count; ++i) {
                painter.setPen(QColor::fromHsv(i % 360, 200, 200));
                const QPointF line[3] = {QPointF(56, 60 + (i * 7919) % 800), QPointF(800, 60 + (i * 104729) % 800),
                                         QPointF(1544, 60 + (i * 15485863) % 800)};
                painter.drawPolyline(line, 3);
            }
        }
        const double lineFloorMs = clock.nsecsElapsed() / 1e6;
        parallelRows << QStringLiteral("%1 %2 %3 %4 %5")
                            .arg(count)
                            .arg(parallelFirstMs)
                            .arg(brushMs)
                            .arg(1000.0 / brushMs, 0, 'f', 0)
                            .arg(lineFloorMs);
    }
    std::printf("\nparallel coordinates\n%-7s %14s %12s %12s %12s\n", "runs", "first frame ms", "brush ms/frame",
                "frames/s", "floor ms");
    for (const QString &row : parallelRows) {
        const QStringList cells = row.split(QLatin1Char(' '));
        std::printf("%-7s %14.1f %12.1f %12s %12.1f\n", qPrintable(cells[0]), cells[1].toDouble(), cells[2].toDouble(),
                    qPrintable(cells[3]), cells[4].toDouble());
    }
    return 0;
}
