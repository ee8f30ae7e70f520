// trainyard export BUNDLE and trainyard import PATH: a lead's view of a whole team, one workspace at a time.
#include "cli/subcommand.h"

#include <QLocale>

#include "ingest/historyimport.h"
#include "store/storewriter.h"
#include "store/workspaceimport.h"

#include <QLocale>

namespace trainyard::cli {

int runExport(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Write a consistent snapshot of this workspace's runs, events and "
                                                    "metrics to one file (a bundle), even while runs\n"
                                                    "are being written; `trainyard import BUNDLE` merges it into "
                                                    "another workspace, with the runs' artifacts unless "
                                                    "--no-artifacts. Logs stay in the run folders."));
    const QCommandLineOption noArtifacts(QStringLiteral("no-artifacts"),
                                         QStringLiteral("Leave the runs' artifacts out of the bundle (it says what it "
                                                        "left out)."));
    parser.addOption(noArtifacts);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("export"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(
            streams, parser, QStringLiteral("export"),
            QStringLiteral("give the bundle file to write, e.g. trainyard export alice-2026-11.trainyard"));
    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    auto existing = Workspace::openIfExists(root);
    if (!existing)
        return reportFailure(streams, QStringLiteral("export"), existing.error());
    if (!existing->has_value())
        return reportFailure(streams, QStringLiteral("export"), QStringLiteral("no workspace at %1").arg(root));
    auto exported = exportBundle(**existing, parser.positionalArguments().first(), !parser.isSet(noArtifacts));
    if (!exported)
        return reportFailure(streams, QStringLiteral("export"), exported.error());
    streams.out << "exported " << root << " to " << parser.positionalArguments().first() << " with "
                << exported->artifacts << " artifact file(s) ("
                << QLocale::c().formattedDataSize(exported->artifactBytes, 1) << ")\n";
    if (exported->leftOut > 0)
        streams.out << "left out " << exported->leftOut << " artifact file(s) ("
                    << QLocale::c().formattedDataSize(exported->leftOutBytes, 1) << ")"
                    << (parser.isSet(noArtifacts) ? QStringLiteral(": --no-artifacts")
                                                  : QStringLiteral(", over the 1 GB a bundle holds per file: ")
                                + exported->tooLarge.join(QStringLiteral(", ")))
                    << '\n';
    return kExitOk;
}

namespace {

int printHistoryImport(Streams streams, const QString &what, const QString &source, const HistoryImportResult &result)
{
    streams.out << "imported " << result.runsCreated << " run(s) from " << what << " " << source << " ("
                << result.runsAlreadyPresent << " already here";
    if (what == QLatin1String("TensorBoard logdir"))
        streams.out << ", read on from where the last import stopped";
    streams.out << "; " << result.points << " new metric points";
    if (result.skippedHistograms + result.skippedImages + result.skippedOther > 0)
        streams.out << "; skipped for now: " << result.skippedHistograms << " histograms, " << result.skippedImages
                    << " images, " << result.skippedOther << " other values";
    streams.out << ")\n";
    for (const QString &problem : result.problems)
        streams.err << "trainyard import: " << problem << '\n';
    if (result.damagedRecords > 0)
        streams.err << "trainyard import: " << result.damagedRecords << " damaged record(s) skipped\n";
    return result.problems.isEmpty() ? kExitOk : kExitFailure;
}

} // namespace

int runImport(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Merge another workspace (its folder) or a bundle from `trainyard "
                                                    "export` into this one: runs it does not have,\n"
                                                    "by id, with their tags, params, state changes, sweeps and "
                                                    "metrics. Importing again adds nothing; the source is\n"
                                                    "never written to.\n"
                                                    "With --tensorboard, every folder under LOGDIR holding TensorBoard "
                                                    "event files becomes a run (docs/TENSORBOARD.md);\n"
                                                    "with --mlflow, every run of an MLflow file store (an mlruns/ "
                                                    "folder) does (docs/MLFLOW.md). Both are idempotent."));
    const QCommandLineOption tensorboard(QStringLiteral("tensorboard"),
                                         QStringLiteral("PATH is a TensorBoard logdir."));
    const QCommandLineOption mlflow(QStringLiteral("mlflow"),
                                    QStringLiteral("PATH is an MLflow file store (mlruns/)."));
    parser.addOption(tensorboard);
    parser.addOption(mlflow);
    parser.addPositionalArgument(QStringLiteral("PATH"),
                                 QStringLiteral("Workspace folder, bundle file, logdir or mlruns folder."));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("import"), arguments, streams))
        return *exit;
    if (parser.positionalArguments().size() != 1)
        return usageFailure(streams, parser, QStringLiteral("import"),
                            QStringLiteral("give one workspace folder, bundle file, logdir or mlruns folder"));
    if (parser.isSet(tensorboard) && parser.isSet(mlflow))
        return usageFailure(streams, parser, QStringLiteral("import"),
                            QStringLiteral("--tensorboard and --mlflow exclude each other"));
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("import"), workspace.error());
    const QString source = parser.positionalArguments().first();
    if (parser.isSet(tensorboard) || parser.isSet(mlflow)) {
        auto writer = StoreWriter::start(workspace->database());
        if (!writer)
            return reportFailure(streams, QStringLiteral("import"), writer.error());
        auto imported = parser.isSet(tensorboard) ? importTensorBoardLogdir(*workspace, **writer, source)
                                                  : importMlflowStore(*workspace, **writer, source);
        if (!imported)
            return reportFailure(streams, QStringLiteral("import"), imported.error());
        return printHistoryImport(
            streams, parser.isSet(tensorboard) ? QStringLiteral("TensorBoard logdir") : QStringLiteral("MLflow store"),
            source, *imported);
    }
    auto imported = importWorkspace(*workspace, source);
    if (!imported)
        return reportFailure(streams, QStringLiteral("import"), imported.error());
    streams.out << "imported " << imported->runsImported << " run(s) from " << source << " ("
                << imported->runsAlreadyPresent << " already here, left as they are; " << imported->events
                << " state changes, " << imported->metricChunks << " metric chunks, " << imported->sweeps << " sweeps, "
                << imported->artifacts << " artifact files)\n";
    return kExitOk;
}

} // namespace trainyard::cli
