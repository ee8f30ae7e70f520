// trainyard preflight: are the GPUs and NCCL healthy? On a machine without them it says so plainly.
#include "cli/subcommand.h"

#include "gpu/bandwidth.h"
#include "gpu/gpuruntime.h"
#include "gpu/ncclpreflight.h"
#include "launch/memoryplanner.h"
#include "launch/rankenvironment.h"
#include "store/preflighthistory.h"
#include "store/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <mutex>

namespace trainyard::cli {

int printPreflightHistory(const QString &root, bool json, Streams streams);

int runPreflight(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Check the GPUs and NCCL of this machine before a long run: collectives over the chosen GPUs, checked for\n"
        "correctness, with algorithm and bus bandwidth per size (nccl-tests' definitions).\n"
        "Results are kept in the workspace (--history lists them).\n"
        "Exit codes: 0 healthy, 1 a check failed (wrong results, a hang, slower than the link), 2 a wrong command "
        "line,\n"
        "3 no CUDA device or no NCCL here."));
    const QCommandLineOption gpus(QStringLiteral("gpus"), QStringLiteral("GPUs to use, e.g. 0,1 (default: all)."),
                                  QStringLiteral("LIST"));
    const QCommandLineOption ops(
        QStringLiteral("ops"),
        QStringLiteral("Collectives: all_reduce,all_gather,reduce_scatter,broadcast (default: all)."),
        QStringLiteral("LIST"), QStringLiteral("all_reduce,all_gather,reduce_scatter,broadcast"));
    const QCommandLineOption minBytes(QStringLiteral("min-bytes"), QStringLiteral("Smallest size (default 8)."),
                                      QStringLiteral("SIZE"), QStringLiteral("8"));
    const QCommandLineOption maxBytes(QStringLiteral("max-bytes"), QStringLiteral("Largest size (default 1G)."),
                                      QStringLiteral("SIZE"), QStringLiteral("1GiB"));
    const QCommandLineOption iters(QStringLiteral("iters"), QStringLiteral("Timed iterations per size (default 20)."),
                                   QStringLiteral("N"), QStringLiteral("20"));
    const QCommandLineOption timeout(QStringLiteral("timeout"),
                                     QStringLiteral("Seconds before a collective counts as hung (default 30)."),
                                     QStringLiteral("S"), QStringLiteral("30"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print the result as JSON (no table)."));
    const QCommandLineOption noSave(QStringLiteral("no-save"),
                                    QStringLiteral("Do not keep the result in the workspace's preflight history."));
    const QCommandLineOption history(
        QStringLiteral("history"), QStringLiteral("List the stored results, newest first (with --json: all of them)."));
    for (const QCommandLineOption &option : {gpus, ops, minBytes, maxBytes, iters, timeout, json, noSave, history})
        parser.addOption(option);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("preflight"), arguments, streams))
        return *exit;
    const auto usage = [&](const QString &message) {
        return usageFailure(streams, parser, QStringLiteral("preflight"), message);
    };
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    if (parser.isSet(history))
        return printPreflightHistory(resolveWorkspaceRoot(parser, workspaceBefore), parser.isSet(json), streams);
    for (const QString &name : parser.value(ops).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (!parseCollective(name.trimmed()))
            return usage(QStringLiteral("--ops: '%1' is not one of all_reduce, all_gather, reduce_scatter, broadcast")
                             .arg(name));
    }
    // Sizes: "8", "1G", "64MiB"; a bare G/M/K is taken as binary, as nccl-tests does.
    const auto size = [](QString text) {
        if (text.endsWith(QLatin1Char('G'), Qt::CaseInsensitive) || text.endsWith(QLatin1Char('M'), Qt::CaseInsensitive)
            || text.endsWith(QLatin1Char('K'), Qt::CaseInsensitive))
            text += QStringLiteral("iB");
        return parseByteSize(text);
    };
    const auto smallest = size(parser.value(minBytes));
    const auto largest = size(parser.value(maxBytes));
    if (!smallest)
        return usage(QStringLiteral("--min-bytes '%1' is not a size such as 8, 64K or 1G").arg(parser.value(minBytes)));
    if (!largest || *largest < *smallest)
        return usage(
            QStringLiteral("--max-bytes '%1' is not a size of at least --min-bytes").arg(parser.value(maxBytes)));
    bool ok = false;
    if (const int count = parser.value(iters).toInt(&ok); !ok || count < 1)
        return usage(QStringLiteral("--iters '%1' is not a positive integer").arg(parser.value(iters)));
    if (const double seconds = parser.value(timeout).toDouble(&ok); !ok || seconds <= 0)
        return usage(QStringLiteral("--timeout '%1' is not a positive number of seconds").arg(parser.value(timeout)));

    PreflightOptions options;
    options.minBytes = *smallest;
    options.maxBytes = *largest;
    options.iterations = parser.value(iters).toInt();
    options.timeoutSeconds = parser.value(timeout).toDouble();
    options.ops.clear();
    for (const QString &name : parser.value(ops).split(QLatin1Char(','), Qt::SkipEmptyParts))
        options.ops << *parseCollective(name.trimmed());
    if (parser.isSet(gpus)) {
        const auto list = parseGpuList(parser.value(gpus));
        if (!list || list->isEmpty())
            return usage(QStringLiteral("--gpus '%1' is not a list of GPU numbers such as 0,1,2 or 0-3")
                             .arg(parser.value(gpus)));
        options.gpus = *list;
    }

    const GpuStatus status = probeGpus();
    if (!parser.isSet(json)) {
        streams.out << status.cudaRuntime << '\n' << status.nccl << '\n' << status.nvml << '\n';
        streams.out.flush();
    }
    if (!status.cudaAvailable) {
        streams.err << "trainyard preflight: " << status.deviceMessage << "; nothing to check on this machine\n";
        return kExitNoGpu;
    }
    if (!status.ncclAvailable) {
        streams.err << "trainyard preflight: " << status.nccl << '\n';
        return kExitNoGpu;
    }
    for (int gpu : options.gpus)
        if (gpu >= status.deviceCount)
            return usage(QStringLiteral("--gpus: GPU %1 does not exist: this machine has %2 CUDA device(s), 0 to %3")
                             .arg(gpu)
                             .arg(status.deviceCount)
                             .arg(status.deviceCount - 1));

    // Rows print as they complete (from the GPUs' threads, one at a time), in nccl-tests' columns.
    std::mutex printing;
    const bool table = !parser.isSet(json);
    if (table)
        streams.out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8\n")
                           .arg(QStringLiteral("collective"), -15)
                           .arg(QStringLiteral("size"), 12)
                           .arg(QStringLiteral("count"), 11)
                           .arg(QStringLiteral("placement"), -13)
                           .arg(QStringLiteral("time(us)"), 10)
                           .arg(QStringLiteral("algbw(GB/s)"), 12)
                           .arg(QStringLiteral("busbw(GB/s)"), 12)
                           .arg(QStringLiteral("#wrong"), 7);
    auto result = runNcclPreflight(options, [&](const PreflightMeasurement &m) {
        if (!table)
            return;
        const std::lock_guard lock(printing);
        streams.out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8\n")
                           .arg(collectiveName(m.op), -15)
                           .arg(m.bytes, 12)
                           .arg(m.elements, 11)
                           .arg(m.inPlace ? QStringLiteral("in-place") : QStringLiteral("out-of-place"), -13)
                           .arg(QString::number(m.seconds * 1e6, 'f', 1), 10)
                           .arg(QString::number(m.algorithmGBs, 'f', 2), 12)
                           .arg(QString::number(m.busGBs, 'f', 2), 12)
                           .arg(m.wrongElements, 7);
        streams.out.flush();
    });
    if (!result) // the probe found a device and NCCL: this is a real failure
        return reportFailure(streams, QStringLiteral("preflight"), result.error());

    // The machine's history: kept in the workspace unless --no-save.
    QString savedTo;
    if (!parser.isSet(noSave)) {
        auto workspace = openWorkspace(parser, workspaceBefore);
        if (!workspace)
            return reportFailure(streams, QStringLiteral("preflight"), workspace.error());
        if (auto saved = storePreflightRecord(workspace->database(), result->toJson()); !saved)
            return reportFailure(streams, QStringLiteral("preflight"), saved.error());
        savedTo = workspace->root();
    }
    if (parser.isSet(json))
        streams.out << QJsonDocument(result->toJson()).toJson();
    else
        streams.out << "\nGPUs: " << result->deviceNames.join(QStringLiteral(", "))
                    << "\nlink: " << result->link.description << '\n'
                    << result->verdict << '\n'
                    << (savedTo.isEmpty() ? QString() : QStringLiteral("saved in the history of %1\n").arg(savedTo));
    return result->healthy ? kExitOk : kExitFailure;
}

// trainyard preflight --history: the stored results, newest first.
int printPreflightHistory(const QString &root, bool json, Streams streams)
{
    auto existing = Workspace::openIfExists(root);
    if (!existing)
        return reportFailure(streams, QStringLiteral("preflight"), existing.error());
    QList<PreflightRecord> records;
    if (existing->has_value()) {
        auto connection = (**existing).database().connect();
        if (!connection)
            return reportFailure(streams, QStringLiteral("preflight"), connection.error());
        auto loaded = loadPreflightRecords(*connection);
        if (!loaded)
            return reportFailure(streams, QStringLiteral("preflight"), loaded.error());
        records = *loaded;
    }
    if (json) {
        QJsonArray array;
        for (const PreflightRecord &record : records)
            array.append(record.result);
        streams.out << QJsonDocument(array).toJson();
        return kExitOk;
    }
    if (records.isEmpty())
        streams.out << "no preflight results in " << root << " yet: run trainyard preflight on a machine with GPUs\n";
    for (const PreflightRecord &record : records)
        streams.out << record.startedAt.toString(Qt::ISODate) << "  " << record.host << "  "
                    << (record.healthy ? QStringLiteral("healthy") : QStringLiteral("NOT HEALTHY")) << "  "
                    << record.verdict << '\n';
    return kExitOk;
}

} // namespace trainyard::cli
