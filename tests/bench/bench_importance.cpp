// Parameter importance (issue 20): the forest's time at 100, 1,000 and 10,000 finished runs (the most one sweep may
// make) with 5 params, against the same-run baseline of Spearman's rho alone for every param. The Sweeps tab computes
// it off the UI thread; `trainyard sweep report` waits for it.
//   build/ci/tests/bench/bench_importance
#include "report/paramimportance.h"

#include <QElapsedTimer>

#include <cmath>
#include <cstdio>
#include <random>

using namespace trainyard;

int main()
{
    std::printf("%-7s %12s %14s %12s\n", "runs", "forest ms", "spearman ms", "forest R2");
    for (int count : {100, 1000, 10000}) {
        std::mt19937_64 random(7);
        std::uniform_real_distribution<double> unit(0, 1);
        QList<ImportanceRun> runs;
        for (int i = 0; i < count; ++i) {
            const double lr = std::pow(10.0, -4 + 3 * unit(random));
            const double dropout = 0.5 * unit(random);
            ImportanceRun run;
            run.runId = QString::number(i);
            run.params = {{QStringLiteral("lr"), QString::number(lr)},
                          {QStringLiteral("dropout"), QString::number(dropout)},
                          {QStringLiteral("width"), QString::number(32 << (i % 4))},
                          {QStringLiteral("optimizer"), i % 3 ? QStringLiteral("adam") : QStringLiteral("sgd")},
                          {QStringLiteral("seed"), QString::number(i % 5)}};
            const double offset = std::log10(lr) + 2.5;
            run.metric = offset * offset + dropout + (i % 3 ? 0 : 0.3) + 0.05 * unit(random);
            runs << run;
        }
        QElapsedTimer clock;
        clock.start();
        const ImportanceReport report = paramImportance(runs, true);
        const double forestMs = clock.nsecsElapsed() / 1e6;
        clock.restart();
        double sink = 0;
        for (const char *name : {"lr", "dropout", "width", "seed"}) {
            QList<double> x, y;
            for (const ImportanceRun &run : runs) {
                x << run.params.value(QLatin1String(name)).toDouble();
                y << run.metric;
            }
            sink += spearmanCorrelation(x, y).value_or(0);
        }
        const double spearmanMs = clock.nsecsElapsed() / 1e6;
        std::printf("%-7d %12.1f %14.2f %12.3f%s\n", count, forestMs, spearmanMs, report.forestR2.value_or(0),
                    sink > 100 ? " " : "");
        std::printf("        ranking:");
        for (const ParamImportance &param : report.params)
            std::printf(" %s %.0f%%", qPrintable(param.param), param.share * 100);
        std::printf("\n");
    }
    return 0;
}
