// The sub-command table and the command-line pieces they share.
#include "cli/subcommand.h"

#include "store/runqueries.h"
#include "store/workspace.h"

namespace trainyard::cli {

const QList<Subcommand> &subcommands()
{
    static const QList<Subcommand> table = {
        {QStringLiteral("launch"),
         QStringLiteral("Launch a command on N ranks here or on a cluster: launch [options] -- COMMAND ARGS..."),
         runLaunch},
        {QStringLiteral("ls"),
         QStringLiteral("List the runs of the workspace, newest first [--json --limit N --filter QUERY --since DATE]"),
         runLs},
        {QStringLiteral("show"), QStringLiteral("Show a run: status, attempts, first failure, metrics [--json]"),
         runShow},
        {QStringLiteral("logs"), QStringLiteral("Print a run's rank logs [--rank N] [--follow]"), runLogs},
        {QStringLiteral("metrics"), QStringLiteral("Print a run's metrics [KEY] [--json | --csv]"), runMetrics},
        {QStringLiteral("cancel"), QStringLiteral("Cancel a run (running, or queued)"), runCancel},
        {QStringLiteral("rename"), QStringLiteral("Rename a run: rename RUN NAME"), runRename},
        {QStringLiteral("tag"), QStringLiteral("Show or change a run's tags: tag RUN [--add T] [--remove T] [--clear]"),
         runTag},
        {QStringLiteral("notes"), QStringLiteral("Show or set a run's notes: notes RUN [TEXT | --file F | --clear]"),
         runNotes},
        {QStringLiteral("archive"),
         QStringLiteral("Hide runs from the default list, keeping everything: archive RUN... [--undo]"), runArchive},
        {QStringLiteral("rm"),
         QStringLiteral("Delete ended runs: their rows and folders: rm RUN... [--keep-files] [--dry-run] [--json]"),
         runRm},
        {QStringLiteral("checkpoints"),
         QStringLiteral("A run's checkpoints: step, size, time, metrics at the step [--json]"), runCheckpoints},
        {QStringLiteral("profile"),
         QStringLiteral("Trace a live run's next steps with torch.profiler: profile RUN [--steps N] [--ranks LIST] "
                        "[--json]"),
         runProfile},
        {QStringLiteral("repair"),
         QStringLiteral("Store the metric points a store error kept out: repair [RUN] [--json]"), runRepair},
        {QStringLiteral("preflight"),
         QStringLiteral("Check the GPUs and NCCL links: checked collectives, bandwidth per size, a verdict; --history"),
         runPreflight},
        {QStringLiteral("queue"), QStringLiteral("The local run queue: ls, mv, pause, resume, cancel, work"), runQueue},
        {QStringLiteral("sweep"),
         QStringLiteral("The runs a spec's sweep makes: grid, random search, seeds (--list, --json)"), runSweep},
        {QStringLiteral("plan"), QStringLiteral("Will it fit? Per-GPU memory under DDP, FSDP or ZeRO [--json]"),
         runPlan},
        {QStringLiteral("report"),
         QStringLiteral("Throughput review: outcomes, GPU-hours, failure causes, queue wait [--since --until --by] "
                        "[--json | --csv]"),
         runReport},
        {QStringLiteral("export"), QStringLiteral("Write this workspace's runs and metrics to one bundle file"),
         runExport},
        {QStringLiteral("import"),
         QStringLiteral("Merge another workspace or bundle, a TensorBoard logdir (--tensorboard) or an MLflow store "
                        "(--mlflow) into this one (idempotent)"),
         runImport},
        {QStringLiteral("serve"),
         QStringLiteral("Serve the workspace through MLflow's tracking API on 127.0.0.1 [--port P]"), runServe},
        {QStringLiteral("backend"), QStringLiteral("Cluster profiles (Slurm through slurmrestd): add, ls, test, rm"),
         runBackend},
        {QStringLiteral("agent"),
         QStringLiteral("One node's ranks of a multi-node run (started by srun inside a Slurm job)"), runAgent},
    };
    return table;
}

const Subcommand *findSubcommand(const QString &name)
{
    for (const Subcommand &subcommand : subcommands()) {
        if (subcommand.name == name)
            return &subcommand;
    }
    return nullptr;
}

QCommandLineOption workspaceOption()
{
    return QCommandLineOption(
        QStringLiteral("workspace"),
        QStringLiteral("Workspace folder (default: $TRAINYARD_HOME, else $XDG_DATA_HOME/trainyard)."),
        QStringLiteral("DIR"));
}

QString subcommandHelp(const QCommandLineParser &parser, const QString &name)
{
    // QCommandLineParser names the program after argv[0] (a path); show the command as users type it.
    QString help = parser.helpText();
    const qsizetype firstLineEnd = help.indexOf(QLatin1Char('\n'));
    if (help.startsWith(QLatin1String("Usage: ")) && firstLineEnd > 0)
        help.replace(0, firstLineEnd, QStringLiteral("Usage: trainyard %1 [options]").arg(name));
    return help;
}

std::optional<int> parseSubcommandArguments(QCommandLineParser &parser, const QString &name,
                                            const QStringList &arguments, Streams streams)
{
    parser.setApplicationDescription(findSubcommand(name) ? findSubcommand(name)->summary : QString());
    parser.addOption(workspaceOption());
    const QCommandLineOption helpOption = parser.addHelpOption();
    // QCommandLineParser reads the program name from the first element.
    if (!parser.parse(QStringList{QStringLiteral("trainyard ") + name} + arguments)) {
        streams.err << "trainyard " << name << ": " << parser.errorText() << "\n\n" << subcommandHelp(parser, name);
        streams.err.flush();
        return kExitUsage;
    }
    if (parser.isSet(helpOption)) {
        streams.out << subcommandHelp(parser, name);
        streams.out.flush();
        return kExitOk;
    }
    return std::nullopt;
}

QString resolveWorkspaceRoot(const QCommandLineParser &parser, const QString &workspaceBefore)
{
    const QString fromCommandLine =
        parser.isSet(QStringLiteral("workspace")) ? parser.value(QStringLiteral("workspace")) : workspaceBefore;
    return Workspace::resolveRoot(Workspace::sourcesFromEnvironment(fromCommandLine));
}

Result<Workspace> openWorkspace(const QCommandLineParser &parser, const QString &workspaceBefore)
{
    return Workspace::open(resolveWorkspaceRoot(parser, workspaceBefore));
}

Result<FoundRuns> findRunsNamed(const QCommandLineParser &parser, const QString &workspaceBefore,
                                const QStringList &names)
{
    if (names.isEmpty())
        return fail(QStringLiteral("give a run id (or a unique prefix, or a name)"));
    const QString root = resolveWorkspaceRoot(parser, workspaceBefore);
    auto workspace = Workspace::openIfExists(root);
    if (!workspace)
        return fail(workspace.error());
    if (!workspace->has_value())
        return fail(QStringLiteral("no workspace at %1 (no runs yet)").arg(root));
    auto connection = workspace->value().database().connect();
    if (!connection)
        return fail(connection.error());
    QList<RunRecord> runs;
    for (const QString &name : names) {
        auto run = runqueries::findRun(connection.value(), name);
        if (!run)
            return fail(run.error());
        if (std::none_of(runs.cbegin(), runs.cend(), [&](const RunRecord &seen) { return seen.id == run->id; }))
            runs << *run;
    }
    return FoundRuns{std::move(workspace->value()), std::move(runs)};
}

Result<FoundRuns> findRunsForCommand(const QCommandLineParser &parser, const QString &workspaceBefore)
{
    return findRunsNamed(parser, workspaceBefore, parser.positionalArguments());
}

QStringList FoundRuns::ids() const
{
    QStringList ids;
    for (const RunRecord &run : runs)
        ids << run.id;
    return ids;
}

// The run the first positional argument names (the others are the command's own: a new name, notes).
Result<FoundRun> findRunForCommand(const QCommandLineParser &parser, const QString &workspaceBefore)
{
    auto found = findRunsNamed(parser, workspaceBefore, parser.positionalArguments().mid(0, 1));
    if (!found)
        return fail(found.error());
    return FoundRun{std::move(found->workspace), std::move(found->runs.first())};
}

int reportFailure(Streams streams, const QString &command, const QString &message)
{
    streams.err << "trainyard " << command << ": " << message << '\n';
    streams.err.flush();
    return kExitFailure;
}

int usageFailure(Streams streams, const QCommandLineParser &parser, const QString &command, const QString &message)
{
    streams.err << "trainyard " << command << ": " << message << "\n\n" << subcommandHelp(parser, command);
    streams.err.flush();
    return kExitUsage;
}

QString usageText()
{
    QString text =
        QStringLiteral("Usage: trainyard [--workspace DIR] [COMMAND [ARGS...]]\n"
                       "\n"
                       "Compose, launch, watch and compare ML training runs.\n"
                       "With no command, opens the Trainyard window on the workspace.\n"
                       "\n"
                       "Options:\n"
                       "  --workspace DIR  Workspace folder (default: $TRAINYARD_HOME, else $XDG_DATA_HOME/trainyard,\n"
                       "                   else ~/.local/share/trainyard). Accepted by every command.\n"
                       "  -h, --help       Show this help.\n"
                       "  -v, --version    Show the version.\n"
                       "\n"
                       "Commands:\n");
    for (const Subcommand &subcommand : subcommands())
        text += QStringLiteral("  %1%2\n").arg(subcommand.name.leftJustified(17), subcommand.summary);
    text += QStringLiteral("\nRun 'trainyard COMMAND --help' for the options of a command.\n");
    return text;
}

} // namespace trainyard::cli
