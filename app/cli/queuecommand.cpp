// trainyard queue ls | mv | pause | resume | cancel | work: the local run queue from the command line.
// `work` is the scheduler: it starts queued runs as GPUs or CPU slots free up, until stopped (or, with
// --until-empty, until nothing is left to run).
#include "cli/subcommand.h"
#include "cli/terminationsignals.h"

#include "gpu/gpuruntime.h"
#include "launch/rankenvironment.h"
#include "launch/runrecovery.h"
#include "queue/bayesiansweep.h"
#include "queue/queuescheduler.h"
#include "queue/runqueue.h"
#include "store/runqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <limits>

namespace trainyard::cli {

namespace {

int listQueue(const QCommandLineParser &parser, const QString &workspaceBefore, bool json, Streams streams)
{
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("queue"), workspace.error());
    auto connection = workspace->database().connect();
    if (!connection)
        return reportFailure(streams, QStringLiteral("queue"), connection.error());
    auto queue = runqueue::list(connection.value());
    if (!queue)
        return reportFailure(streams, QStringLiteral("queue"), queue.error());
    if (json) {
        QJsonArray runs;
        for (const QueuedRun &run : queue.value())
            runs.append(
                QJsonObject{{QStringLiteral("position"), run.position},
                            {QStringLiteral("id"), run.runId},
                            {QStringLiteral("name"), run.name},
                            {QStringLiteral("gpus"), run.gpus},
                            {QStringLiteral("paused"), run.paused},
                            {QStringLiteral("sweep"), run.sweepId.isEmpty() ? QJsonValue() : QJsonValue(run.sweepId)},
                            {QStringLiteral("enqueued"), isoTimeOrNull(run.enqueuedAt)}});
        streams.out << QJsonDocument(runs).toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    if (queue->isEmpty()) {
        streams.out << "the queue is empty\n";
        return kExitOk;
    }
    streams.out << QStringLiteral("%1  %2  %3  %4  %5\n")
                       .arg(QStringLiteral("#"), 3)
                       .arg(QStringLiteral("run"), -22)
                       .arg(QStringLiteral("gpus"), 4)
                       .arg(QStringLiteral("state"), -7)
                       .arg(QStringLiteral("name"));
    for (const QueuedRun &run : queue.value())
        streams.out << QStringLiteral("%1  %2  %3  %4  %5\n")
                           .arg(run.position, 3)
                           .arg(run.runId, -22)
                           .arg(run.gpus, 4)
                           .arg(run.paused ? QStringLiteral("paused") : QStringLiteral("waiting"), -7)
                           .arg(run.name);
    return kExitOk;
}

int work(const QCommandLineParser &parser, const QString &workspaceBefore, int cpuSlots, int maxConcurrent,
         const std::optional<QList<int>> &gpuList, bool untilEmpty, Streams streams)
{
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("queue"), workspace.error());
    auto writer = StoreWriter::start(workspace->database());
    if (!writer)
        return reportFailure(streams, QStringLiteral("queue"), writer.error());
    // Runs a killed scheduler left behind end as lost (their ranks died with it); queued runs stay queued.
    if (auto recovered = recoverAbandonedRuns(workspace.value(), *writer.value()); !recovered)
        return reportFailure(streams, QStringLiteral("queue"), recovered.error());
    (void)repairIncompleteRuns(workspace.value(),
                               *writer.value()); // metrics a store error kept out, from committed progress
    QueueSettings settings;
    settings.cpuSlots = cpuSlots;
    settings.maxConcurrent = maxConcurrent;
    GpuStatus gpus;
    if (gpuList) { // the user names the GPUs: on a shared machine, only some are the queue's
        settings.gpus = *gpuList;
        gpus.deviceCount = int(gpuList->size());
    } else {
        gpus = probeGpus();
        for (int gpu = 0; gpu < gpus.deviceCount; ++gpu)
            settings.gpus << gpu;
    }
    auto scheduler = QueueScheduler::start(workspace.value(), *writer.value(), settings);
    if (!scheduler)
        return reportFailure(streams, QStringLiteral("queue"), scheduler.error());
    streams.out << QStringLiteral("working the queue of %1: %2, %3 CPU slot(s)%4\n")
                       .arg(workspace->root(),
                            gpus.deviceCount ? QStringLiteral("%1 GPU(s)").arg(gpus.deviceCount)
                                             : QStringLiteral("no GPU"))
                       .arg(cpuSlots)
                       .arg(maxConcurrent ? QStringLiteral(", at most %1 at once").arg(maxConcurrent) : QString());
    streams.out.flush();
    int failures = 0;
    bool interrupted = false;
    QObject::connect(
        scheduler->get(), &QueueScheduler::runStarted, [&](const QString &runId, const QList<int> &gpuList) {
            QStringList names;
            for (int gpu : gpuList)
                names << QString::number(gpu);
            streams.out << QStringLiteral("started %1%2\n")
                               .arg(runId,
                                    gpuList.isEmpty() ? QString()
                                                      : QStringLiteral(" on GPU ") + names.join(QLatin1Char(',')));
            streams.out.flush();
        });
    QObject::connect(
        scheduler->get(), &QueueScheduler::runFinished, [&](const QString &runId, const RunOutcome &outcome) {
            // A run its sweep's rule stopped early ended as it should.
            failures += outcome.status != RunStatus::Succeeded && outcome.status != RunStatus::StoppedEarly;
            streams.out << QStringLiteral("%1 %2\n").arg(runId, toString(outcome.status));
            streams.out.flush();
        });
    BayesianSweeps *bayesian = scheduler->get()->bayesianSweeps();
    QObject::connect(
        bayesian, &BayesianSweeps::trialQueued,
        [&](const QString &sweepId, int trial, const QString &runId, const QString &label) {
            streams.out
                << QStringLiteral("sweep %1: trial %2 queued as %3  %4\n").arg(sweepId).arg(trial).arg(runId, label);
            streams.out.flush();
        });
    QObject::connect(
        bayesian, &BayesianSweeps::trialTold, [&](const QString &sweepId, int trial, const QString &state) {
            streams.out << QStringLiteral("sweep %1: trial %2 told %3\n").arg(sweepId).arg(trial).arg(state);
            streams.out.flush();
        });
    QObject::connect(bayesian, &BayesianSweeps::sweepPaused, [&](const QString &sweepId, const QString &message) {
        ++failures;
        streams.err << QStringLiteral("trainyard queue: sweep %1 paused: %2; its queued runs stay queued "
                                      "(`trainyard sweep resume %1` drives it again)\n")
                           .arg(sweepId, message);
        streams.err.flush();
    });
    QObject::connect(bayesian, &BayesianSweeps::sweepDone, [&](const QString &sweepId) {
        streams.out << QStringLiteral("sweep %1: every trial told\n").arg(sweepId);
        streams.out.flush();
    });
    QObject::connect(scheduler->get(), &QueueScheduler::runJudged,
                     [&](const QString &runId, bool stopped, const QString &comparison) {
                         streams.out << QStringLiteral("%1 %2: %3\n")
                                            .arg(runId,
                                                 stopped ? QStringLiteral("stopped early") : QStringLiteral("goes on"),
                                                 comparison);
                         streams.out.flush();
                     });
    QObject::connect(
        scheduler->get(), &QueueScheduler::runFailedToStart, [&](const QString &runId, const QString &message) {
            ++failures;
            streams.err << QStringLiteral("trainyard queue: run %1 could not start: %2\n").arg(runId, message);
            streams.err.flush();
        });
    if (untilEmpty)
        QObject::connect(scheduler->get(), &QueueScheduler::idle, qApp, &QCoreApplication::quit);
    TerminationSignals termination;
    QObject::connect(&termination, &TerminationSignals::received, [&](int) {
        // Ctrl-C: the runs this scheduler started are canceled; runs still queued stay queued.
        interrupted = true;
        scheduler.value()->cancelAll();
        if (scheduler.value()->running() == 0)
            QCoreApplication::quit();
        QObject::connect(scheduler->get(), &QueueScheduler::runFinished, [&] {
            if (scheduler.value()->running() == 0)
                QCoreApplication::quit();
        });
    });
    QCoreApplication::exec();
    scheduler.value().reset();
    writer.value()->flush();
    if (interrupted)
        return 130;
    return failures ? kExitFailure : kExitOk;
}

} // namespace

int runQueue(const QStringList &arguments, const QString &workspaceBefore, Streams streams)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The local run queue.\n"
                       "  ls [--json]            the queued runs, in order\n"
                       "  mv RUN POSITION        move a queued run (1 = next)\n"
                       "  pause RUN, resume RUN  hold a queued run back, or let it go again\n"
                       "  cancel RUN             take a run out of the queue (it ends canceled)\n"
                       "  work [--gpus LIST] [--slots N] [--max-concurrent N] [--until-empty]\n"
                       "                         start queued runs as GPUs (or CPU slots) free up"));
    parser.addPositionalArgument(QStringLiteral("ACTION"), QStringLiteral("ls, mv, pause, resume, cancel or work."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("ls: print JSON."));
    const QCommandLineOption slotsOption(QStringLiteral("slots"),
                                         QStringLiteral("work: runs without GPUs at once (default 1)."),
                                         QStringLiteral("N"), QStringLiteral("1"));
    const QCommandLineOption maxConcurrent(
        QStringLiteral("max-concurrent"),
        QStringLiteral("work: at most N runs at once, GPU runs included (default: as many as fit)."),
        QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption untilEmpty(QStringLiteral("until-empty"),
                                        QStringLiteral("work: stop when nothing is left to run."));
    const QCommandLineOption gpusOption(
        QStringLiteral("gpus"),
        QStringLiteral("work: the GPUs the queue may use, e.g. 0,1,2 (default: every GPU the CUDA runtime reports)."),
        QStringLiteral("LIST"));
    for (const QCommandLineOption &option : {json, slotsOption, maxConcurrent, untilEmpty, gpusOption})
        parser.addOption(option);
    // `queue mv RUN -5`: a negative position would otherwise read as an unknown option "-5".
    static const QRegularExpression negativeNumber(QStringLiteral("^-[0-9]+$"));
    if (arguments.contains(QStringLiteral("mv")))
        for (const QString &argument : arguments)
            if (negativeNumber.match(argument).hasMatch())
                return usageFailure(
                    streams, parser, QStringLiteral("queue"),
                    QStringLiteral("position '%1' must be a whole number of at least 1 (1 = next; past the end = last)")
                        .arg(argument));
    if (auto exit = parseSubcommandArguments(parser, QStringLiteral("queue"), arguments, streams))
        return *exit;
    const QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usageFailure(streams, parser, QStringLiteral("queue"),
                            QStringLiteral("give an action: ls, mv, pause, resume, cancel or work"));
    const QString action = positional.first();
    if (action == u"ls")
        return listQueue(parser, workspaceBefore, parser.isSet(json), streams);
    if (action == u"work") {
        bool slotsOk = false, maxOk = false;
        const int slotCount = parser.value(slotsOption).toInt(&slotsOk);
        const int maxCount = parser.value(maxConcurrent).toInt(&maxOk);
        if (!slotsOk || slotCount < 1)
            return usageFailure(
                streams, parser, QStringLiteral("queue"),
                QStringLiteral("--slots '%1' must be a whole number of at least 1").arg(parser.value(slotsOption)));
        if (!maxOk || maxCount < 0)
            return usageFailure(streams, parser, QStringLiteral("queue"),
                                QStringLiteral("--max-concurrent '%1' must be a whole number (0: no limit)")
                                    .arg(parser.value(maxConcurrent)));
        std::optional<QList<int>> gpuList;
        if (parser.isSet(gpusOption)) {
            gpuList = parseGpuList(parser.value(gpusOption));
            if (!gpuList)
                return usageFailure(streams, parser, QStringLiteral("queue"),
                                    QStringLiteral("--gpus '%1' is not a comma-separated list of distinct GPU indices")
                                        .arg(parser.value(gpusOption)));
        }
        return work(parser, workspaceBefore, slotCount, maxCount, gpuList, parser.isSet(untilEmpty), streams);
    }
    if (action != u"mv" && action != u"pause" && action != u"resume" && action != u"cancel")
        return usageFailure(streams, parser, QStringLiteral("queue"),
                            QStringLiteral("unknown action '%1': ls, mv, pause, resume, cancel or work").arg(action));
    if (positional.size() != (action == u"mv" ? 3 : 2))
        return usageFailure(
            streams, parser, QStringLiteral("queue"),
            action == u"mv" ? QStringLiteral("mv takes a run and a position, e.g. queue mv 20261124-101500-a1b2c3 1")
                            : QStringLiteral("%1 takes one run").arg(action));
    int position = 0;
    if (action == u"mv") {
        bool ok = false;
        const qlonglong requested = positional[2].toLongLong(&ok);
        if (!ok || requested < 1)
            return usageFailure(
                streams, parser, QStringLiteral("queue"),
                QStringLiteral("position '%1' must be a whole number of at least 1 (1 = next; past the end = last)")
                    .arg(positional[2]));
        position = int(std::min<qlonglong>(requested, std::numeric_limits<int>::max())); // past the end: last
    }
    auto workspace = openWorkspace(parser, workspaceBefore);
    if (!workspace)
        return reportFailure(streams, QStringLiteral("queue"), workspace.error());
    auto connection = workspace->database().connect();
    if (!connection)
        return reportFailure(streams, QStringLiteral("queue"), connection.error());
    auto run = runqueries::findRun(connection.value(), positional[1]);
    if (!run)
        return reportFailure(streams, QStringLiteral("queue"), run.error());
    auto writer = StoreWriter::start(workspace->database());
    if (!writer)
        return reportFailure(streams, QStringLiteral("queue"), writer.error());
    Result<void> done = action == u"mv" ? runqueue::move(*writer.value(), run->id, position)
        : action == u"pause"            ? runqueue::setPaused(*writer.value(), run->id, true)
        : action == u"resume"           ? runqueue::setPaused(*writer.value(), run->id, false)
                                        : runqueue::cancel(*writer.value(), run->id);
    if (!done)
        return reportFailure(streams, QStringLiteral("queue"), done.error());
    return kExitOk;
}

} // namespace trainyard::cli
