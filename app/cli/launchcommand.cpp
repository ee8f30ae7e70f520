// trainyard launch: runs a command on N local ranks and supervises it to the end.
#include "desktopnotifier.h"
#include "cli/subcommand.h"
#include "cli/terminationsignals.h"
#include "launch/speclaunch.h"

#include "launch/rankenvironment.h"
#include "launch/runrecovery.h"
#include "launch/runsupervisor.h"
#include "runfolder/runfolder.h"
#include "spec/runspec.h"
#include "spec/specedit.h"
#include "store/storewriter.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <tuple>

#include <sys/socket.h>
#include <unistd.h>

namespace trainyard::cli {

namespace {

constexpr int kStatusIntervalMs = 1000;
constexpr int kExitCanceled = 130; // as a shell reports a command ended by Ctrl-C

// The same rule as a spec's durations (durationMs): 0 to a week.
std::optional<int> parseSecondsAsMs(const QString &text)
{
    bool ok = false;
    const double seconds = text.toDouble(&ok);
    return ok ? durationMs(seconds) : std::nullopt;
}

QString formatValue(double value) { return QString::number(value, 'g', 5); }

// The options of `trainyard launch`; given with a spec, each one overrides the spec's value.
struct LaunchOptions {
    const QCommandLineOption nproc{QStringLiteral("nproc-per-node"),
                                   QStringLiteral("Ranks to start (default: the number of --gpus, else 1)."),
                                   QStringLiteral("N")};
    const QCommandLineOption gpus{QStringLiteral("gpus"),
                                  QStringLiteral("GPUs for the run, e.g. 0,2 (sets CUDA_VISIBLE_DEVICES)."),
                                  QStringLiteral("LIST")};
    const QCommandLineOption maxRestarts{
        QStringLiteral("max-restarts"),
        QStringLiteral("Restart the whole group up to K times after a failure (default 0)."), QStringLiteral("K")};
    const QCommandLineOption hangTimeout{
        QStringLiteral("hang-timeout"),
        QStringLiteral("Declare a hang after S seconds with no output and no metric from any rank (default: off)."),
        QStringLiteral("S")};
    const QCommandLineOption grace{
        QStringLiteral("grace"),
        QStringLiteral("Seconds between SIGTERM and SIGKILL when tearing ranks down (default 5)."),
        QStringLiteral("S")};
    const QCommandLineOption name{QStringLiteral("name"), QStringLiteral("Run name (default: the run id)."),
                                  QStringLiteral("NAME")};
    const QCommandLineOption from{
        QStringLiteral("from"),
        QStringLiteral("Fork: start from run RUN's checkpoint at STEP with RUN's spec (changed by --param and the "
                       "other options); the new run is RUN's child."),
        QStringLiteral("RUN@STEP")};
    const QCommandLineOption param{QStringLiteral("param"),
                                   QStringLiteral("Set a param of the spec (or of --from's spec), e.g. lr=0.001 "
                                                  "(repeatable)."),
                                   QStringLiteral("NAME=VALUE")};
    const QCommandLineOption tag{QStringLiteral("tag"), QStringLiteral("Tag the run (repeatable)."),
                                 QStringLiteral("T")};
    const QCommandLineOption env{QStringLiteral("env"),
                                 QStringLiteral("Set an environment variable for every rank (repeatable)."),
                                 QStringLiteral("K=V")};
    const QCommandLineOption cwd{QStringLiteral("cwd"),
                                 QStringLiteral("Working folder of the ranks (default: the current folder)."),
                                 QStringLiteral("DIR")};
    const QCommandLineOption shell{
        QStringLiteral("shell"),
        QStringLiteral("Run the command through /bin/sh -c (default: exec the argv directly).")};
    const QCommandLineOption quiet{QStringLiteral("quiet"),
                                   QStringLiteral("Do not echo rank output; print only status lines.")};
    const QCommandLineOption notify{QStringLiteral("notify"),
                                    QStringLiteral("Send a desktop notification when the run ends, and when it breaks "
                                                   "one of its alert rules (the freedesktop notification service).")};
    const QCommandLineOption strategy{
        QStringLiteral("strategy"),
        QStringLiteral("ddp (default), zero1, zero2, zero3, fsdp-full-shard, fsdp-shard-grad-op or fsdp-hybrid-shard: "
                       "sets TRAINYARD_STRATEGY and Accelerate's FSDP variables or a DeepSpeed config."),
        QStringLiteral("S")};
    const QCommandLineOption precision{
        QStringLiteral("precision"), QStringLiteral("fp32, bf16-mixed (default) or fp16-mixed."), QStringLiteral("P")};
    const QCommandLineOption offload{
        QStringLiteral("offload"),
        QStringLiteral("CPU offload for sharded strategies: none, optimizer, params or both."), QStringLiteral("WHAT")};
    const QCommandLineOption ncclDebug{
        QStringLiteral("nccl-debug"),
        QStringLiteral("NCCL_DEBUG (VERSION, WARN, INFO, TRACE), with a per-rank NCCL_DEBUG_FILE in the run folder."),
        QStringLiteral("LEVEL")};
    const QCommandLineOption ncclSubsys{QStringLiteral("nccl-debug-subsys"),
                                        QStringLiteral("NCCL_DEBUG_SUBSYS, e.g. INIT,COLL."), QStringLiteral("LIST")};
    const QCommandLineOption ncclAsync{QStringLiteral("nccl-async-error-handling"),
                                       QStringLiteral("TORCH_NCCL_ASYNC_ERROR_HANDLING (0-3)."), QStringLiteral("N")};
    const QCommandLineOption ncclTrace{QStringLiteral("nccl-trace-buffer-size"),
                                       QStringLiteral("TORCH_NCCL_TRACE_BUFFER_SIZE (flight recorder entries)."),
                                       QStringLiteral("N")};
    const QCommandLineOption ncclP2p{QStringLiteral("nccl-p2p-disable"), QStringLiteral("NCCL_P2P_DISABLE=1.")};
    const QCommandLineOption ncclIb{QStringLiteral("nccl-ib-disable"), QStringLiteral("NCCL_IB_DISABLE=1.")};
    const QCommandLineOption ncclIfname{QStringLiteral("nccl-socket-ifname"),
                                        QStringLiteral("NCCL_SOCKET_IFNAME, e.g. eth0 or ^lo."), QStringLiteral("IF")};
    const QCommandLineOption backendOption{
        QStringLiteral("backend"),
        QStringLiteral(
            "Where to run: local (default) or a backend profile (trainyard backend ls), e.g. a Slurm cluster."),
        QStringLiteral("NAME")};
    const QCommandLineOption nodes{QStringLiteral("nodes"),
                                   QStringLiteral("Nodes of a cluster backend (default: the spec's, else 1); one agent "
                                                  "per node starts --nproc-per-node ranks."),
                                   QStringLiteral("N")};

    void addTo(QCommandLineParser &parser) const
    {
        for (const QCommandLineOption &option :
             {backendOption, nodes,     nproc,   gpus,   maxRestarts, hangTimeout, grace,   name,      tag,
              env,           cwd,       shell,   quiet,  strategy,    precision,   offload, ncclDebug, ncclSubsys,
              ncclAsync,     ncclTrace, ncclP2p, ncclIb, ncclIfname,  notify,      from,    param})
            parser.addOption(option);
    }
};

// What the options apply to: the run of a spec file (trainyard launch SPEC.yaml), or the command after --. An exit
// code when there is none.
std::optional<int> readLaunchBase(const QCommandLineParser &parser, const LaunchOptions &options,
                                  const QStringList &arguments, const QString &workspaceBefore, Streams streams,
                                  LocalLaunch &launch, QString &backendName)
{
    const QString command = QStringLiteral("launch");
    const QStringList positional = parser.positionalArguments();
    const bool specMode = !arguments.contains(QStringLiteral("--")) && positional.size() == 1
        && (positional.first().endsWith(QLatin1String(".yaml")) || positional.first().endsWith(QLatin1String(".yml")));
    const QStringList paramValues = parser.values(options.param);
    if (parser.isSet(options.from)) {
        // A fork: the parent's resolved spec, with the changes asked for, from its checkpoint at the step.
        if (!positional.isEmpty())
            return usageFailure(streams, parser, command,
                                QStringLiteral("--from takes the parent's spec: give no command or spec file (change "
                                               "it with --param and the other options)"));
        auto point = parseResumePoint(parser.value(options.from));
        if (!point)
            return usageFailure(streams, parser, command, QStringLiteral("--from %1").arg(point.error()));
        auto parent = findRunsNamed(parser, workspaceBefore, {point->runId});
        if (!parent)
            return reportFailure(streams, command, QStringLiteral("--from: %1").arg(parent.error()));
        const RunRecord &parentRun = parent->runs.first();
        point->runId = parentRun.id;
        const QString specPath =
            parent->workspace.runDir(parentRun.id) + QLatin1Char('/') + QLatin1String(kSpecFileName);
        QFile file(specPath);
        if (!file.open(QIODevice::ReadOnly))
            return reportFailure(streams, command,
                                 QStringLiteral("--from: run %1 has no spec to start from (%2: %3)")
                                     .arg(parentRun.id, specPath, file.errorString()));
        auto forked =
            forkSpec(file.readAll(), *point, paramValues, QStringLiteral("%1@%2").arg(parentRun.name).arg(point->step));
        if (!forked)
            return reportFailure(streams, command, QStringLiteral("--from %1: %2").arg(specPath, forked.error()));
        auto spec = parseRunSpec(*forked, specPath + QStringLiteral(" (forked)"), QFileInfo(specPath).path());
        if (!spec)
            return reportFailure(streams, command, spec.error());
        launch = localLaunchFor(*spec);
        backendName = spec->backend;
        return std::nullopt;
    }
    if (!paramValues.isEmpty() && !specMode)
        return usageFailure(streams, parser, command,
                            QStringLiteral("--param sets a param of a spec: give a spec file or --from RUN@STEP"));
    if (specMode) {
        auto spec = loadRunSpec(positional.first());
        if (spec && !paramValues.isEmpty()) { // read again with the params changed
            QFile file(positional.first());
            auto changed = file.open(QIODevice::ReadOnly) ? withParamValues(file.readAll(), paramValues)
                                                          : Result<QByteArray>(fail(file.errorString()));
            spec = changed
                ? parseRunSpec(*changed, positional.first(), QFileInfo(positional.first()).absolutePath())
                : Result<RunSpec>(fail(QStringLiteral("%1: --param: %2").arg(positional.first(), changed.error())));
        }
        if (!spec)
            return reportFailure(streams, QStringLiteral("launch"), spec.error());
        // Launching only the base run of a sweep would quietly drop the rest of it.
        if (!spec->sweep.isEmpty())
            return reportFailure(
                streams, QStringLiteral("launch"),
                QStringLiteral("%1 has a 'sweep' section (%2 runs); `trainyard launch` runs one spec. See the runs "
                               "with `trainyard sweep --list %1`, or remove 'sweep' to launch the base run.")
                    .arg(positional.first())
                    .arg(spec->sweep.runCount()));
        launch = localLaunchFor(*spec);
        backendName = spec->backend;
    } else {
        launch.request.command = positional;
        if (launch.request.command.isEmpty())
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("no command given: put it after --, e.g. trainyard launch -- python3 "
                                               "train.py, or give a run spec file"));
        launch.request.cwd = QDir::currentPath();
    }
    return std::nullopt;
}

// How the ranks run: --shell, --cwd, --gpus, --nproc-per-node, --max-restarts, --hang-timeout, --grace, --env.
std::optional<int> applyProcessOptions(const QCommandLineParser &parser, const LaunchOptions &options, Streams streams,
                                       LaunchRequest &request)
{
    if (parser.isSet(options.shell))
        request.useShell = true;
    if (parser.isSet(options.cwd))
        request.cwd = QDir(parser.value(options.cwd)).absolutePath();
    if (parser.isSet(options.gpus)) {
        const auto list = parseGpuList(parser.value(options.gpus));
        if (!list || list->isEmpty())
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--gpus '%1' is not a comma-separated list of distinct GPU indices")
                                    .arg(parser.value(options.gpus)));
        request.gpus = *list;
        request.nprocPerNode = int(request.gpus.size());
    }
    if (parser.isSet(options.nproc)) {
        bool ok = false;
        request.nprocPerNode = parser.value(options.nproc).toInt(&ok);
        if (!ok || request.nprocPerNode < 1 || request.nprocPerNode > 1024)
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--nproc-per-node '%1' is not a number of ranks between 1 and 1024")
                                    .arg(parser.value(options.nproc)));
        if (!request.gpus.isEmpty() && request.nprocPerNode != request.gpus.size())
            return usageFailure(
                streams, parser, QStringLiteral("launch"),
                QStringLiteral("--nproc-per-node %1 does not match the %2 GPUs of --gpus %3 (one rank per GPU)")
                    .arg(request.nprocPerNode)
                    .arg(request.gpus.size())
                    .arg(parser.value(options.gpus)));
    }
    if (parser.isSet(options.maxRestarts)) {
        bool ok = false;
        request.maxRestarts = parser.value(options.maxRestarts).toInt(&ok);
        if (!ok || request.maxRestarts < 0)
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--max-restarts '%1' is not a count of 0 or more")
                                    .arg(parser.value(options.maxRestarts)));
    }
    if (parser.isSet(options.hangTimeout)) {
        const auto ms = parseSecondsAsMs(parser.value(options.hangTimeout));
        if (!ms || *ms <= 0)
            return usageFailure(
                streams, parser, QStringLiteral("launch"),
                QStringLiteral("--hang-timeout '%1' is not a positive number of seconds, at most %2 (a week)")
                    .arg(parser.value(options.hangTimeout))
                    .arg(kMaxDurationS));
        request.hangTimeoutMs = *ms;
    }
    if (parser.isSet(options.grace)) {
        const auto graceMs = parseSecondsAsMs(parser.value(options.grace));
        if (!graceMs)
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--grace '%1' is not a number of seconds from 0 to %2 (a week)")
                                    .arg(parser.value(options.grace))
                                    .arg(kMaxDurationS));
        request.graceMs = *graceMs;
    }
    for (const QString &pair : parser.values(options.env)) {
        const qsizetype equals = pair.indexOf(QLatin1Char('='));
        if (equals <= 0)
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--env '%1' is not KEY=VALUE").arg(pair));
        for (const QString &problem :
             {environmentNameProblem(pair.left(equals)), environmentValueProblem(pair.mid(equals + 1))})
            if (!problem.isEmpty())
                return usageFailure(streams, parser, QStringLiteral("launch"),
                                    QStringLiteral("--env: %1").arg(problem));
        request.env.insert(pair.left(equals), pair.mid(equals + 1));
    }
    return std::nullopt;
}

// --strategy, --precision, --offload.
std::optional<int> applyStrategyOptions(const QCommandLineParser &parser, const LaunchOptions &options, Streams streams,
                                        StrategyChoice &choice)
{
    if (parser.isSet(options.strategy)) {
        const auto chosen = parseStrategy(parser.value(options.strategy));
        if (!chosen)
            return usageFailure(
                streams, parser, QStringLiteral("launch"),
                QStringLiteral("--strategy '%1' is not one of ddp, zero1, zero2, zero3, fsdp-full-shard, "
                               "fsdp-shard-grad-op, fsdp-hybrid-shard")
                    .arg(parser.value(options.strategy)));
        choice.strategy = *chosen;
    }
    if (parser.isSet(options.precision)) {
        const auto chosen = parsePrecision(parser.value(options.precision));
        if (!chosen)
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--precision '%1' is not one of fp32, bf16-mixed, fp16-mixed")
                                    .arg(parser.value(options.precision)));
        choice.precision = *chosen;
    }
    if (parser.isSet(options.offload)) {
        const QString what = parser.value(options.offload);
        if (!QStringList{"none", "optimizer", "params", "both"}.contains(what))
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--offload '%1' is not one of none, optimizer, params, both").arg(what));
        choice.offloadOptimizer = what == QLatin1String("optimizer") || what == QLatin1String("both");
        choice.offloadParameters = what == QLatin1String("params") || what == QLatin1String("both");
    }
    return std::nullopt;
}

// The --nccl-* switches.
std::optional<int> applyNcclOptions(const QCommandLineParser &parser, const LaunchOptions &options, Streams streams,
                                    NcclDebugOptions &nccl)
{
    if (parser.isSet(options.ncclDebug)) {
        nccl.level = parser.value(options.ncclDebug).toUpper();
        if (!QStringList{"VERSION", "WARN", "INFO", "TRACE"}.contains(nccl.level))
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--nccl-debug '%1' is not one of VERSION, WARN, INFO, TRACE")
                                    .arg(parser.value(options.ncclDebug)));
    }
    if (parser.isSet(options.ncclSubsys))
        nccl.subsystems = parser.value(options.ncclSubsys);
    for (const auto &[option, target, maximum] : {std::tuple{options.ncclAsync, &nccl.asyncErrorHandling, 3},
                                                  std::tuple{options.ncclTrace, &nccl.traceBufferSize, 1 << 30}}) {
        if (!parser.isSet(option))
            continue;
        bool ok = false;
        *target = parser.value(option).toInt(&ok);
        if (!ok || *target < 0 || *target > maximum)
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--%1 '%2' is not an integer from 0 to %3")
                                    .arg(option.names().first(), parser.value(option))
                                    .arg(maximum));
    }
    nccl.p2pDisable = nccl.p2pDisable || parser.isSet(options.ncclP2p);
    nccl.ibDisable = nccl.ibDisable || parser.isSet(options.ncclIb);
    if (parser.isSet(options.ncclIfname))
        nccl.socketIfname = parser.value(options.ncclIfname);
    return std::nullopt;
}

// --name, --tag, --backend and --nodes; several nodes need a cluster backend.
std::optional<int> applyPlacementOptions(const QCommandLineParser &parser, const LaunchOptions &options,
                                         Streams streams, LocalLaunch &launch, QString &backendName)
{
    LaunchRequest &request = launch.request;
    if (parser.isSet(options.name))
        launch.name = parser.value(options.name);
    launch.tags += parser.values(options.tag);
    if (parser.isSet(options.backendOption))
        backendName = parser.value(options.backendOption);
    launch.backendName = backendName;
    if (parser.isSet(options.nodes)) {
        bool ok = false;
        request.nnodes = parser.value(options.nodes).toInt(&ok);
        if (!ok || request.nnodes < 1 || request.nnodes > 4096)
            return usageFailure(streams, parser, QStringLiteral("launch"),
                                QStringLiteral("--nodes '%1' is not a number of nodes between 1 and 4096")
                                    .arg(parser.value(options.nodes)));
    }
    if (backendName == QLatin1String("local") && request.nnodes != 1)
        return usageFailure(
            streams, parser, QStringLiteral("launch"),
            QStringLiteral("%1 nodes need a cluster backend: add --backend PROFILE (trainyard backend ls)")
                .arg(request.nnodes));
    return std::nullopt;
}

// Before a launch: runs a crashed Trainyard left active are closed, and runs whose metrics a store error kept out are
// stored now, from their committed progress.
void tidyWorkspace(const Workspace &workspace, StoreWriter &writer, Streams streams)
{
    if (auto recovered = recoverAbandonedRuns(workspace, writer); !recovered)
        streams.err << "trainyard: cannot check for abandoned runs: " << recovered.error() << '\n';
    else if (!recovered->isEmpty())
        streams.err << "trainyard: closed " << recovered->join(QStringLiteral(", "))
                    << " (their Trainyard process had ended; `trainyard show` says how)\n";
    if (auto repaired = repairIncompleteRuns(workspace, writer); repaired) {
        for (const RepairedRun &run : repaired.value())
            streams.err << "trainyard: run " << run.runId << ": "
                        << (run.catchUp.error.isEmpty()
                                ? QStringLiteral("its missing metrics are stored now")
                                : QStringLiteral("metrics still incomplete (%1)").arg(run.catchUp.error))
                        << '\n';
    }
}

// The run's first lines: its id, ranks and command, its folder, and on a cluster its Slurm job.
void printRunHeader(Streams streams, const RunSupervisor &run, const LocalLaunch &launch, const QString &backendName)
{
    const QString runId = run.runId();
    const LaunchRequest &request = launch.request;
    const bool onCluster = backendName != QLatin1String("local");
    streams.out << "run " << runId << (launch.name.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(launch.name))
                << ": " << request.nprocPerNode << " rank" << (request.nprocPerNode == 1 ? "" : "s")
                << (onCluster ? QStringLiteral(" per node on %1 node(s) of %2").arg(request.nnodes).arg(backendName)
                              : QString())
                << " of " << request.command.join(QLatin1Char(' ')) << "\n"
                << "run " << runId << ": folder " << run.runDir() << "\n";
    if (onCluster) {
        QFile record(QDir(run.runDir()).filePath(QLatin1String(kSlurmJobFileName)));
        if (record.open(QIODevice::ReadOnly))
            streams.out << "run " << runId << ": queued as Slurm job "
                        << QJsonDocument::fromJson(record.readAll())
                               .object()
                               .value(QStringLiteral("job_id"))
                               .toVariant()
                               .toLongLong()
                        << " on " << backendName << "\n";
    }
    streams.out.flush();
}

// Echoes the ranks' output (unless told not to), a status line every second and the end; a termination signal
// cancels. Returns the exit code: 0 for a run that succeeded with every metric stored, 130 for a canceled one, else 1.
int followRun(RunSupervisor &run, const LaunchRequest &request, const QString &runName, bool onCluster, bool echo,
              bool notify, TerminationSignals &terminationSignals, Streams streams)
{
    const QString runId = run.runId();
    // --notify: alerts as they fire (without waiting on the bus), and the end, waited for since the process exits next.
    DesktopNotifier notifier;
    if (notify) {
        QObject::connect(&notifier, &DesktopNotifier::undelivered, &run,
                         [&](const QString &, const QString &, const QString &, const QString &why) {
                             streams.err << "trainyard launch: --notify: " << why << '\n';
                             streams.err.flush();
                         });
        QObject::connect(&run, &RunSupervisor::alertFired, &run, [&](const FiredAlert &alert) {
            notifier.notify(QStringLiteral("Alert: %1").arg(runName.isEmpty() ? runId : runName), alert.message(),
                            runId);
        });
    }
    QObject::connect(&run, &RunSupervisor::logLine, &run, [&](int rank, int, const QDateTime &, const QString &line) {
        if (echo) {
            streams.out << "[rank " << rank << "] " << line << '\n';
            streams.out.flush();
        }
    });
    // A cluster run's state changes (queued in Slurm, started on which nodes) are worth a line each.
    if (onCluster) {
        QObject::connect(&run, &RunSupervisor::statusChanged, &run, [&](RunStatus status, const QString &detail) {
            if (!isTerminal(status)) {
                streams.out << "run " << runId << ": " << toString(status)
                            << (detail.isEmpty() ? QString() : QStringLiteral(": ") + detail) << '\n';
                streams.out.flush();
            }
        });
    }
    bool cancelRequested = false;
    QObject::connect(&terminationSignals, &TerminationSignals::received, &run, [&](int signalNumber) {
        if (!cancelRequested)
            streams.out << "run " << runId << ": " << (signalNumber == SIGINT ? "Ctrl-C" : "signal received")
                        << ", canceling: stopping every rank\n";
        else
            streams.out << "run " << runId << ": still stopping ranks (grace period " << request.graceMs / 1000.0
                        << " s)\n";
        streams.out.flush();
        cancelRequested = true;
        run.cancel();
    });
    QElapsedTimer clock;
    clock.start();
    QTimer statusTimer;
    QObject::connect(&statusTimer, &QTimer::timeout, &run, [&] {
        const IngestStats stats = run.ingestStats();
        QString line = QStringLiteral("run %1 | attempt %2/%3 | ranks %4/%5 alive | %6 s")
                           .arg(runId)
                           .arg(run.attempt() + 1)
                           .arg(request.maxRestarts + 1)
                           .arg(run.ranksAlive())
                           .arg(run.ranksTotal())
                           .arg(clock.elapsed() / 1000);
        if (stats.latestStep >= 0) {
            line += QStringLiteral(" | step %1").arg(stats.latestStep);
            for (const auto &[key, value] : stats.latestValues)
                line += QStringLiteral(" %1=%2").arg(key, formatValue(value));
        }
        streams.out << line << '\n';
        streams.out.flush();
    });
    statusTimer.start(kStatusIntervalMs);

    int exitCode = kExitFailure;
    QObject::connect(&run, &RunSupervisor::finished, &run, [&](const RunOutcome &outcome) {
        statusTimer.stop();
        const IngestStats stats = run.ingestStats();
        streams.out << "run " << runId << " " << toString(outcome.status) << " after " << clock.elapsed() / 1000.0
                    << " s (" << outcome.attempts << " attempt" << (outcome.attempts == 1 ? "" : "s") << ", "
                    << stats.points + run.trackedPoints() << " metric points";
        if (stats.malformedLines > 0)
            streams.out << ", " << stats.malformedLines << " malformed lines";
        streams.out << ")\n";
        if (outcome.firstFailure)
            streams.out << "run " << runId << ": first failure: " << outcome.firstFailure->message << '\n';
        for (const QString &example : stats.malformedExamples)
            streams.out << "run " << runId << ": malformed: " << example << '\n';
        if (!run.ingestError().isEmpty())
            streams.out << "run " << runId << ": metrics incomplete: " << stats.points << " of "
                        << std::max<std::int64_t>(run.pointsInFiles(), stats.points) << " points stored ("
                        << run.ingestError() << "); `trainyard repair " << runId
                        << "` stores the rest once the store can be written\n";
        streams.out.flush();
        if (notify) {
            const QString name = runName.isEmpty() ? runId : runName;
            const QString body = outcome.firstFailure
                ? outcome.firstFailure->message
                : QStringLiteral("%1 after %2 s").arg(toString(outcome.status)).arg(clock.elapsed() / 1000);
            if (auto sent = DesktopNotifier::notifyAndWait(
                    QStringLiteral("Run %1: %2").arg(toString(outcome.status), name), body);
                !sent) {
                streams.err << "trainyard launch: --notify: " << sent.error() << '\n';
                streams.err.flush();
            }
        }
        exitCode = outcome.status == RunStatus::Succeeded && run.ingestError().isEmpty() ? kExitOk
            : outcome.status == RunStatus::Succeeded                                     ? kExitFailure
            : outcome.status == RunStatus::Canceled                                      ? kExitCanceled
                                                                                         : kExitFailure;
        QCoreApplication::exit(exitCode);
    });
    QCoreApplication::exec();
    return exitCode;
}

} // namespace

int runLaunch(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Launch COMMAND on N ranks of this machine with torchrun's environment contract.\n"
                       "Usage: trainyard launch [options] -- COMMAND ARGS...\n"
                       "       trainyard launch [options] SPEC.yaml   (options override the spec's values)"));
    const LaunchOptions options;
    options.addTo(parser);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("launch"), arguments, streams))
        return *exit;

    LocalLaunch launch;
    QString backendName = QStringLiteral("local");
    if (auto exit = readLaunchBase(parser, options, arguments, workspaceBefore, streams, launch, backendName))
        return *exit;
    if (auto exit = applyProcessOptions(parser, options, streams, launch.request))
        return *exit;
    if (auto exit = applyStrategyOptions(parser, options, streams, launch.strategy))
        return *exit;
    if (auto exit = applyNcclOptions(parser, options, streams, launch.request.nccl))
        return *exit;
    if (auto exit = applyPlacementOptions(parser, options, streams, launch, backendName))
        return *exit;

    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("launch"), workspace.error());
    auto writer = StoreWriter::start(workspace->database());
    if (!writer)
        return reportFailure(streams, QStringLiteral("launch"), writer.error());
    tidyWorkspace(workspace.value(), *writer.value(), streams);

    // The supervisor resolves the backend profile (and merges the spec's slurm: settings) before it creates the run.
    TerminationSignals terminationSignals;
    auto supervisor = RunSupervisor::launch(workspace.value(), *writer.value(), launch);
    if (!supervisor)
        return reportFailure(streams, QStringLiteral("launch"), supervisor.error());
    printRunHeader(streams, *supervisor.value(), launch, backendName);
    return followRun(*supervisor.value(), launch.request, launch.name, backendName != QLatin1String("local"),
                     !parser.isSet(options.quiet), parser.isSet(options.notify), terminationSignals, streams);
}

} // namespace trainyard::cli
