// trainyard sweep SPEC.yaml --list: the runs a spec's sweep makes, with the params of each, checked
// against their types: a sweep can be reviewed (and a bad one caught) before any run starts.
#include "cli/subcommand.h"

#include "spec/runspec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace trainyard::cli {

int runSweep(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    Q_UNUSED(workspaceBefore) // listing touches no workspace
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The runs of a spec's 'sweep' section (grid axes, random search, seeds): their count and params.\n"
        "Queued launching of sweeps is not available yet: --list shows what a sweep would run."));
    parser.addPositionalArgument(QStringLiteral("SPEC.yaml"), QStringLiteral("A run spec with a 'sweep' section."));
    const QCommandLineOption list(QStringLiteral("list"), QStringLiteral("Print the runs, one a line (the default)."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print the runs as JSON: label and params of each."));
    parser.addOption(list);
    parser.addOption(json);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("sweep"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
    {
        streams.err << "trainyard sweep: give one spec file, e.g. trainyard sweep --list sweep.yaml\n\n"
                    << subcommandHelp(parser, QStringLiteral("sweep"));
        return kExitUsage;
    }
    const QString path = parser.positionalArguments().first();
    auto spec = loadRunSpec(path);
    if (!spec)
        return reportFailure(streams, QStringLiteral("sweep"), spec.error());
    if (spec->sweep.isEmpty())
        return reportFailure(streams, QStringLiteral("sweep"), QStringLiteral("%1 has no 'sweep' section (grid, random or seeds)").arg(path));
    auto points = expandSweep(spec->params, spec->sweep);
    if (!points)
        return reportFailure(streams, QStringLiteral("sweep"), QStringLiteral("%1: %2").arg(path, points.error()));
    if (parser.isSet(json)) {
        QJsonArray runs;
        for (const SweepPoint &point : points.value()) {
            QJsonObject params;
            for (const RunParam &param : point.params)
                params.insert(param.name, param.value);
            runs.append(QJsonObject{{QStringLiteral("label"), point.label}, {QStringLiteral("params"), params}});
        }
        streams.out << QJsonDocument(QJsonObject{{QStringLiteral("runs"), runs}, {QStringLiteral("count"), runs.size()}})
                           .toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    streams.out << QStringLiteral("%1 runs\n").arg(points->size());
    for (qsizetype i = 0; i < points->size(); ++i)
        streams.out << QStringLiteral("%1  %2\n").arg(i + 1, 4).arg(points->at(i).label);
    return kExitOk;
}

} // namespace trainyard::cli
