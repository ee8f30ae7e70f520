// The Sweeps tab's scatter plot (issue 20) over a 10,000-run sweep (the most one sweep may make): its first frame
// (placing the runs and drawing them at 1600x900) and a redraw, against the same-run floor of QPainter drawing 10,000
// filled circles at fixed places into the same image. The goal is a first frame under 200 ms.
//   build/ci/tests/bench/bench_sweepcharts
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
    std::printf("%-7s %14s %12s %12s\n", "runs", "first frame ms", "redraw ms", "floor ms");
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
    }
    return 0;
}
