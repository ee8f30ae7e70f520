// trainyard sweep SPEC.yaml: queues the runs a spec's sweep makes, as children of one sweep; with --list,
// only shows them. Every value is checked against its param's type first: a bad sweep queues nothing.
#include "cli/subcommand.h"

#include "queue/runqueue.h"
#include "spec/runspec.h"
#include "store/storewriter.h"

#include <QFile>
#include <QFileInfo>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace trainyard::cli {

int runSweep(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Queues the runs of a spec's 'sweep' section (grid axes, random search, seeds) as one sweep.\n"
                       "They start when `trainyard queue work` (or the window) has GPUs or CPU slots for them."));
    parser.addPositionalArgument(QStringLiteral("SPEC.yaml"), QStringLiteral("A run spec with a 'sweep' section."));
    const QCommandLineOption list(QStringLiteral("list"),
                                  QStringLiteral("Only print the runs, one a line; queue nothing."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("With --list: print the runs as JSON."));
    parser.addOption(list);
    parser.addOption(json);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("sweep"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, QStringLiteral("sweep"),
                            QStringLiteral("give one spec file, e.g. trainyard sweep --list sweep.yaml"));
    const QString path = parser.positionalArguments().first();
    auto spec = loadRunSpec(path);
    if (!spec)
        return reportFailure(streams, QStringLiteral("sweep"), spec.error());
    if (spec->sweep.isEmpty())
        return reportFailure(streams, QStringLiteral("sweep"),
                             QStringLiteral("%1 has no 'sweep' section (grid, random or seeds)").arg(path));
    auto points = expandSweep(spec->params, spec->sweep);
    if (!points)
        return reportFailure(streams, QStringLiteral("sweep"), QStringLiteral("%1: %2").arg(path, points.error()));
    if (!parser.isSet(list) && !parser.isSet(json)) {
        auto workspace = openWorkspace(parser, workspaceBefore);
        if (!workspace)
            return reportFailure(streams, QStringLiteral("sweep"), workspace.error());
        auto writer = StoreWriter::start(workspace->database());
        if (!writer)
            return reportFailure(streams, QStringLiteral("sweep"), writer.error());
        QFile specFile(path);
        const QByteArray specText = specFile.open(QIODevice::ReadOnly) ? specFile.readAll() : QByteArray();
        auto queued = runqueue::enqueueSweep(workspace.value(), *writer.value(), spec.value(), specText,
                                             QFileInfo(path).completeBaseName());
        if (!queued)
            return reportFailure(streams, QStringLiteral("sweep"), queued.error());
        for (qsizetype i = 0; i < queued->runIds.size(); ++i)
            streams.out << QStringLiteral("queued %1  %2\n").arg(queued->runIds[i], queued->labels[i]);
        streams.out << QStringLiteral("%1: %2 runs queued; `trainyard queue work` starts them\n")
                           .arg(queued->sweepId)
                           .arg(queued->runIds.size());
        return kExitOk;
    }
    if (parser.isSet(json)) {
        QJsonArray runs;
        for (const SweepPoint &point : points.value()) {
            QJsonObject params;
            for (const RunParam &param : point.params)
                params.insert(param.name, param.value);
            runs.append(QJsonObject{{QStringLiteral("label"), point.label}, {QStringLiteral("params"), params}});
        }
        streams.out << QJsonDocument(
                           QJsonObject{{QStringLiteral("runs"), runs}, {QStringLiteral("count"), runs.size()}})
                           .toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    streams.out << QStringLiteral("%1 runs\n").arg(points->size());
    for (qsizetype i = 0; i < points->size(); ++i)
        streams.out << QStringLiteral("%1  %2\n").arg(i + 1, 4).arg(points->at(i).label);
    return kExitOk;
}

} // namespace trainyard::cli
