// trainyard preflight: are the GPUs and NCCL healthy? On a machine without them it says so plainly.
#include "cli/subcommand.h"

#include "gpu/bandwidth.h"
#include "gpu/gpuruntime.h"
#include "launch/memoryplanner.h"

namespace trainyard::cli {

int runPreflight(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    Q_UNUSED(workspaceBefore)
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Check the GPUs and NCCL of this machine before a long run: collectives over the chosen GPUs, checked for\n"
        "correctness, with algorithm and bus bandwidth per size (nccl-tests' definitions).\n"
        "Exit codes: 0 healthy, 1 a check failed, 2 a wrong command line, 3 no CUDA device or no NCCL here."));
    const QCommandLineOption gpus(QStringLiteral("gpus"), QStringLiteral("GPUs to use, e.g. 0,1 (default: all)."), QStringLiteral("LIST"));
    const QCommandLineOption ops(QStringLiteral("ops"), QStringLiteral("Collectives: all_reduce,all_gather,reduce_scatter,broadcast (default: all)."),
                                 QStringLiteral("LIST"), QStringLiteral("all_reduce,all_gather,reduce_scatter,broadcast"));
    const QCommandLineOption minBytes(QStringLiteral("min-bytes"), QStringLiteral("Smallest size (default 8)."), QStringLiteral("SIZE"), QStringLiteral("8"));
    const QCommandLineOption maxBytes(QStringLiteral("max-bytes"), QStringLiteral("Largest size (default 1G)."), QStringLiteral("SIZE"), QStringLiteral("1GiB"));
    const QCommandLineOption iters(QStringLiteral("iters"), QStringLiteral("Timed iterations per size (default 20)."), QStringLiteral("N"), QStringLiteral("20"));
    const QCommandLineOption timeout(QStringLiteral("timeout"), QStringLiteral("Seconds before a collective counts as hung (default 30)."), QStringLiteral("S"), QStringLiteral("30"));
    for (const QCommandLineOption &option : {gpus, ops, minBytes, maxBytes, iters, timeout})
        parser.addOption(option);
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("preflight"), arguments, streams))
        return *exit;
    const auto usage = [&](const QString &message) {
        streams.err << "trainyard preflight: " << message << "\n\n" << subcommandHelp(parser, QStringLiteral("preflight"));
        return kExitUsage;
    };
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    for (const QString &name : parser.value(ops).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (!parseCollective(name.trimmed()))
            return usage(QStringLiteral("--ops: '%1' is not one of all_reduce, all_gather, reduce_scatter, broadcast").arg(name));
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
        return usage(QStringLiteral("--max-bytes '%1' is not a size of at least --min-bytes").arg(parser.value(maxBytes)));
    bool ok = false;
    if (const int count = parser.value(iters).toInt(&ok); !ok || count < 1)
        return usage(QStringLiteral("--iters '%1' is not a positive integer").arg(parser.value(iters)));
    if (const double seconds = parser.value(timeout).toDouble(&ok); !ok || seconds <= 0)
        return usage(QStringLiteral("--timeout '%1' is not a positive number of seconds").arg(parser.value(timeout)));

    const GpuStatus status = probeGpus();
    streams.out << status.cudaRuntime << '\n' << status.nccl << '\n' << status.nvml << '\n';
    streams.out.flush();
    if (!status.cudaAvailable) {
        streams.err << "trainyard preflight: " << status.deviceMessage << "; nothing to check on this machine\n";
        return kExitNoGpu;
    }
    if (!status.ncclAvailable) {
        streams.err << "trainyard preflight: " << status.nccl << '\n';
        return kExitNoGpu;
    }
    streams.err << "trainyard preflight: " << status.deviceCount
                << " CUDA device(s) found, but running the collectives is not part of this build yet (issue 7)\n";
    return kExitFailure;
}

} // namespace trainyard::cli
