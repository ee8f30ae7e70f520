// trainyard export BUNDLE and trainyard import PATH: a lead's view of a whole team, one workspace at a time.
#include "cli/subcommand.h"

#include "store/workspaceimport.h"

namespace trainyard::cli {

int runExport(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Write a consistent snapshot of this workspace's runs, events and metrics to one file (a bundle), even while runs\n"
        "are being written; `trainyard import BUNDLE` merges it into another workspace. Logs stay in the run folders."));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("export"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1) {
        streams.err << "trainyard export: give the bundle file to write, e.g. trainyard export alice-2026-11.trainyard\n\n"
                    << subcommandHelp(parser, QStringLiteral("export"));
        return kExitUsage;
    }
    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    auto existing = Workspace::openIfExists(root);
    if (!existing)
        return reportFailure(streams, QStringLiteral("export"), existing.error());
    if (!existing->has_value())
        return reportFailure(streams, QStringLiteral("export"), QStringLiteral("no workspace at %1").arg(root));
    if (auto exported = exportBundle(**existing, parser.positionalArguments().first()); !exported)
        return reportFailure(streams, QStringLiteral("export"), exported.error());
    streams.out << "exported " << root << " to " << parser.positionalArguments().first() << '\n';
    return kExitOk;
}

int runImport(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Merge another workspace (its folder) or a bundle from `trainyard export` into this one: runs it does not have,\n"
        "by id, with their tags, params, state changes, sweeps and metrics. Importing again adds nothing; the source is\n"
        "never written to."));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("import"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1) {
        streams.err << "trainyard import: give one workspace folder or bundle file\n\n" << subcommandHelp(parser, QStringLiteral("import"));
        return kExitUsage;
    }
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("import"), workspace.error());
    const QString source = parser.positionalArguments().first();
    auto imported = importWorkspace(*workspace, source);
    if (!imported)
        return reportFailure(streams, QStringLiteral("import"), imported.error());
    streams.out << "imported " << imported->runsImported << " run(s) from " << source << " (" << imported->runsAlreadyPresent
                << " already here, left as they are; " << imported->events << " state changes, " << imported->metricChunks
                << " metric chunks, " << imported->sweeps << " sweeps)\n";
    return kExitOk;
}

} // namespace trainyard::cli
