// trainyard agent: one node's share of a multi-node run, started by srun on every node of a Slurm job. It
// reads the run's launch request from the shared run folder, places this node in the job (NODE_RANK from
// SLURM_NODEID, MASTER_ADDR the first node of the allocation), runs the local runner, and writes how its
// ranks ended beside their logs and metrics.
#include "cli/subcommand.h"
#include "cli/terminationsignals.h"

#include "atomicfile.h"
#include "launch/localrunner.h"
#include "launch/slurmjob.h"
#include "launch/supervisorrecord.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QProcessEnvironment>

#include <csignal>

namespace trainyard::cli {

namespace {

constexpr int kScontrolTimeoutMs = 15000;
constexpr int kFirstDynamicPort = 20000; // MASTER_PORT = 20000 + job id mod 20000 when the request names none
constexpr int kDynamicPortRange = 20000;

Result<QString> runScontrol(const QStringList &arguments)
{
    QProcess scontrol;
    scontrol.start(QStringLiteral("scontrol"), arguments);
    if (!scontrol.waitForFinished(kScontrolTimeoutMs) || scontrol.exitStatus() != QProcess::NormalExit
        || scontrol.exitCode() != 0)
        return fail(QStringLiteral("scontrol %1 failed: %2%3")
                        .arg(arguments.join(QLatin1Char(' ')), scontrol.errorString(),
                             QString::fromLocal8Bit(scontrol.readAllStandardError()).trimmed()));
    return QString::fromLocal8Bit(scontrol.readAllStandardOutput());
}

// The address ranks reach the first node of the allocation at: its NodeAddr in Slurm (the host name on most
// clusters, an address where node names do not resolve).
Result<QString> headNodeAddress(const QString &nodeList)
{
    auto hostnames = runScontrol({QStringLiteral("show"), QStringLiteral("hostnames"), nodeList});
    if (!hostnames)
        return fail(hostnames.error());
    const QString head = hostnames->section(QLatin1Char('\n'), 0, 0).trimmed();
    if (head.isEmpty())
        return fail(QStringLiteral("SLURM_JOB_NODELIST '%1' names no node").arg(nodeList));
    auto node = runScontrol({QStringLiteral("show"), QStringLiteral("node"), QStringLiteral("-o"), head});
    if (node) {
        for (const QString &field : node->split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
            if (field.startsWith(QLatin1String("NodeAddr=")))
                return field.mid(9).trimmed();
        }
    }
    return head;
}

std::optional<int> intFrom(const QString &text)
{
    bool ok = false;
    const int value = text.toInt(&ok);
    return ok ? std::optional<int>(value) : std::nullopt;
}

} // namespace

int runAgent(const QStringList &arguments, const QString &, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Run one node's ranks of a multi-node run (started by srun on every node of a Slurm job).\n"
                       "Without options the node's place comes from Slurm: SLURM_NODEID, SLURM_JOB_NUM_NODES, "
                       "SLURM_JOB_NODELIST, SLURM_JOB_ID."));
    const QCommandLineOption runDirOption(QStringLiteral("run-dir"),
                                          QStringLiteral("The run folder (shared by every node), holding agent.json."),
                                          QStringLiteral("DIR"));
    const QCommandLineOption nodeRankOption(
        QStringLiteral("node-rank"), QStringLiteral("This node's rank (default: SLURM_NODEID)."), QStringLiteral("N"));
    const QCommandLineOption masterAddrOption(
        QStringLiteral("master-addr"), QStringLiteral("MASTER_ADDR (default: the first node of the allocation)."),
        QStringLiteral("ADDR"));
    const QCommandLineOption masterPortOption(
        QStringLiteral("master-port"),
        QStringLiteral("MASTER_PORT (default: the request's, else 20000 + job id mod 20000)."), QStringLiteral("PORT"));
    for (const QCommandLineOption &option : {runDirOption, nodeRankOption, masterAddrOption, masterPortOption})
        parser.addOption(option);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("agent"), arguments, streams))
        return *exit;
    const auto failWith = [&](const QString &message) {
        return reportFailure(streams, QStringLiteral("agent"), message);
    };
    if (!parser.isSet(runDirOption)) // a wrong command line: exit 2, with the usage
        return usageFailure(streams, parser, QStringLiteral("agent"), QStringLiteral("--run-dir is required"));

    const QString runDir = QDir(parser.value(runDirOption)).absolutePath();
    const QString requestPath = QDir(runDir).filePath(QLatin1String(kAgentRequestFileName));
    QFile requestFile(requestPath);
    if (!requestFile.open(QIODevice::ReadOnly))
        return failWith(QStringLiteral("cannot read %1: %2 (is the run folder on a file system this node sees?)")
                            .arg(requestPath, requestFile.errorString()));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(requestFile.readAll(), &parseError);
    if (!document.isObject())
        return failWith(QStringLiteral("%1 is not a JSON object: %2").arg(requestPath, parseError.errorString()));
    auto request = launchRequestFromJson(document.object(), requestPath);
    if (!request)
        return failWith(request.error());
    request->runDir = runDir;

    const QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    const QString nodeRankText =
        parser.isSet(nodeRankOption) ? parser.value(nodeRankOption) : environment.value(QStringLiteral("SLURM_NODEID"));
    const auto nodeRank = intFrom(nodeRankText);
    if (!nodeRank || *nodeRank < 0 || *nodeRank >= request->nnodes)
        return failWith(
            QStringLiteral("node rank '%1' is not between 0 and %2 (not inside a Slurm job step? give --node-rank)")
                .arg(nodeRankText)
                .arg(request->nnodes - 1));
    request->nodeRank = *nodeRank;
    if (const QString jobNodes = environment.value(QStringLiteral("SLURM_JOB_NUM_NODES"));
        !jobNodes.isEmpty() && intFrom(jobNodes) != request->nnodes)
        return failWith(
            QStringLiteral("the run asks for %1 nodes but this Slurm job has %2").arg(request->nnodes).arg(jobNodes));

    if (parser.isSet(masterAddrOption)) {
        request->masterAddr = parser.value(masterAddrOption);
    } else if (const QString nodeList = environment.value(QStringLiteral("SLURM_JOB_NODELIST")); !nodeList.isEmpty()) {
        auto address = headNodeAddress(nodeList);
        if (!address)
            return failWith(address.error());
        request->masterAddr = *address;
    } else if (request->nnodes > 1) {
        return failWith(QStringLiteral("no SLURM_JOB_NODELIST to find the first node in: give --master-addr"));
    }
    if (parser.isSet(masterPortOption)) {
        const auto port = intFrom(parser.value(masterPortOption));
        if (!port || *port < 1 || *port > 65535)
            return failWith(
                QStringLiteral("--master-port '%1' is not a port number").arg(parser.value(masterPortOption)));
        request->masterPort = *port;
    } else if (request->masterPort == 0) {
        const auto jobId = intFrom(environment.value(QStringLiteral("SLURM_JOB_ID")));
        if (jobId)
            request->masterPort = kFirstDynamicPort + *jobId % kDynamicPortRange;
        else if (request->nnodes > 1)
            return failWith(QStringLiteral("no SLURM_JOB_ID to derive MASTER_PORT from: give --master-port"));
    }

    const QString node =
        QStringLiteral("node %1/%2 (%3)").arg(request->nodeRank).arg(request->nnodes).arg(thisHostName());
    streams.out << "trainyard agent: " << node << ": " << request->nprocPerNode << " rank(s), MASTER_ADDR "
                << request->masterAddr << " MASTER_PORT " << request->masterPort << '\n';
    streams.out.flush();

    TerminationSignals terminationSignals;
    LocalRunner runner;
    QObject::connect(&runner, &Backend::logLine, &runner, [&](int rank, int, const QDateTime &, const QString &line) {
        streams.out << "[rank " << rank << "] " << line << '\n';
        streams.out.flush();
    });
    QObject::connect(&runner, &Backend::statusChanged, &runner,
                     [&](RunStatus status, const QDateTime &, const QString &detail) {
                         streams.out << "trainyard agent: " << node << ": " << toString(status)
                                     << (detail.isEmpty() ? QString() : QStringLiteral(": ") + detail) << '\n';
                         streams.out.flush();
                     });
    QObject::connect(&terminationSignals, &TerminationSignals::received, &runner, [&](int signalNumber) {
        streams.out << "trainyard agent: " << node << ": signal " << signalNumber << ", stopping the ranks\n";
        streams.out.flush();
        runner.cancel();
    });
    int exitCode = kExitFailure;
    QObject::connect(&runner, &Backend::finished, &runner, [&](const RunOutcome &outcome) {
        QJsonObject record = outcome.toJson();
        record.insert(QStringLiteral("node_rank"), request->nodeRank);
        record.insert(QStringLiteral("host"), thisHostName());
        record.insert(QStringLiteral("master_addr"), request->masterAddr);
        record.insert(QStringLiteral("master_port"), request->masterPort);
        if (auto written = writeFileAtomically(QDir(runDir).filePath(agentOutcomeFileName(request->nodeRank)),
                                               QJsonDocument(record).toJson());
            !written)
            streams.err << "trainyard agent: " << written.error() << '\n';
        streams.out << "trainyard agent: " << node << ": " << toString(outcome.status)
                    << (outcome.firstFailure ? QStringLiteral(": ") + outcome.firstFailure->message : QString())
                    << '\n';
        streams.out.flush();
        exitCode = outcome.status == RunStatus::Succeeded ? kExitOk
            : outcome.status == RunStatus::Canceled       ? 130
                                                          : kExitFailure;
        QCoreApplication::exit(exitCode);
    });
    if (auto submitted = runner.submit(*request); !submitted)
        return failWith(submitted.error());
    QCoreApplication::exec();
    return exitCode;
}

} // namespace trainyard::cli
