// Sweep benchmarks (issue 15, defect 6): expanding and listing a sweep, and queueing it, at 1,000, 4,000 and
// 10,000 runs (the most one sweep may make). Both must grow linearly: the time per run is printed for each size.
// The same-run baseline is the file system floor of queueing: a bare mkdir + write of each run's spec.yaml.
//   build/ci/tests/bench/bench_sweep [FOLDER]   (FOLDER: where the workspaces go; default a temporary folder)
#include "queue/runqueue.h"
#include "spec/runspec.h"
#include "spec/sweep.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

#include <cstdio>

using namespace trainyard;

namespace {

QByteArray sweepSpec(int runs)
{
    QByteArray values;
    for (int i = 0; i < runs; ++i)
        values += (i ? "," : "") + QByteArray::number(i);
    return "name: bench\ncommand: [/bin/true]\nparams:\n  lr: 0.1\nsweep:\n  grid:\n    index: [" + values + "]\n";
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QTemporaryDir temporary;
    const QString folder = argc > 1 ? QString::fromLocal8Bit(argv[1]) : temporary.path();
    std::printf("%-7s %12s %12s %12s %12s %14s\n", "runs", "list ms", "list us/run", "queue ms", "queue us/run",
                "floor ms");
    for (int runs : {1000, 4000, 10000}) {
        const QString base = folder + QStringLiteral("/bench-%1").arg(runs);
        QDir(base).removeRecursively();
        QDir().mkpath(base);
        const QString specPath = base + QStringLiteral("/sweep.yaml");
        QFile specFile(specPath);
        if (!specFile.open(QIODevice::WriteOnly) || specFile.write(sweepSpec(runs)) < 0)
            return 1;
        specFile.close();

        // Listing: read the spec, expand it, format every line as `trainyard sweep --list` does.
        QElapsedTimer timer;
        timer.start();
        auto spec = loadRunSpec(specPath);
        if (!spec)
            return std::fprintf(stderr, "%s\n", qPrintable(spec.error())), 1;
        auto points = expandSweep(spec->params, spec->sweep);
        if (!points || points->size() != runs)
            return std::fprintf(stderr, "expansion failed\n"), 1;
        QString listing;
        for (qsizetype i = 0; i < points->size(); ++i)
            listing += QStringLiteral("%1  %2\n").arg(i + 1, 4).arg(points->at(i).label);
        const double listMs = timer.nsecsElapsed() / 1e6;

        // Queueing into a fresh workspace.
        auto workspace = Workspace::open(base + QStringLiteral("/workspace"));
        if (!workspace)
            return std::fprintf(stderr, "%s\n", qPrintable(workspace.error())), 1;
        auto writer = StoreWriter::start(workspace->database());
        if (!writer)
            return 1;
        timer.restart();
        auto queued = runqueue::enqueueSweep(workspace.value(), *writer.value(), spec.value(), sweepSpec(runs),
                                             QStringLiteral("bench"));
        if (!queued || queued->runIds.size() != runs)
            return std::fprintf(stderr, "%s\n", queued ? "wrong count" : qPrintable(queued.error())), 1;
        const double queueMs = timer.nsecsElapsed() / 1e6;

        // The floor: the same number of folders and spec files, nothing else.
        const QString floorDir = base + QStringLiteral("/floor");
        QDir().mkpath(floorDir);
        const QByteArray text(600, 'x');
        timer.restart();
        for (int i = 0; i < runs; ++i) {
            const QString dir = floorDir + QLatin1Char('/') + QString::number(i);
            QDir().mkdir(dir);
            QFile file(dir + QStringLiteral("/spec.yaml"));
            if (!file.open(QIODevice::WriteOnly) || file.write(text) < 0)
                return 1;
        }
        const double floorMs = timer.nsecsElapsed() / 1e6;
        std::printf("%-7d %12.1f %12.2f %12.1f %12.1f %14.1f\n", runs, listMs, listMs * 1000 / runs, queueMs,
                    queueMs * 1000 / runs, floorMs);
        std::fflush(stdout);
        QDir(base).removeRecursively();
    }
    return 0;
}
