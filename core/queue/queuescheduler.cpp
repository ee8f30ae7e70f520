// The scheduler's loop: read the queue, start what fits, in queue order. A run that does not fit yet
// lets smaller runs behind it start (backfill), so GPUs do not sit idle behind a large request.
#include "queue/queuescheduler.h"

#include "launch/runsupervisor.h"
#include "launch/speclaunch.h"
#include "launch/supervisorrecord.h"
#include "queue/bayesiansweep.h"
#include "queue/earlystopping.h"
#include "logging.h"
#include "queue/runqueue.h"
#include "runfolder/runfolder.h"
#include "spec/runspec.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/sweepstate.h"
#include "store/workspace.h"

#include <QDir>

namespace trainyard {

QueueScheduler::QueueScheduler(const Workspace &workspace, StoreWriter &writer, QueueSettings settings, QObject *parent)
    : QObject(parent), m_workspace(workspace), m_writer(writer), m_settings(std::move(settings))
{
    m_timer.setInterval(kPollMs);
    connect(&m_timer, &QTimer::timeout, this, &QueueScheduler::tick);
}

QueueScheduler::~QueueScheduler()
{
    m_timer.stop();
    m_bayesianSweeps.reset();
    m_running.clear(); // supervisors end their runs as they go
}

Result<std::unique_ptr<QueueScheduler>> QueueScheduler::start(const Workspace &workspace, StoreWriter &writer,
                                                              QueueSettings settings, QObject *parent)
{
    auto lock = std::make_unique<QLockFile>(QDir(workspace.root()).filePath(QStringLiteral("queue.lock")));
    lock->setStaleLockTime(0); // a lock whose process is gone is stale, however young
    if (!lock->tryLock(0)) {
        qint64 pid = 0;
        QString host, application;
        lock->getLockInfo(&pid, &host, &application);
        return fail(
            QStringLiteral("the queue of %1 is already being worked by process %2 on %3; one scheduler per workspace")
                .arg(workspace.root())
                .arg(pid)
                .arg(host));
    }
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    std::unique_ptr<QueueScheduler> scheduler(new QueueScheduler(workspace, writer, std::move(settings), parent));
    scheduler->m_lock = std::move(lock);
    scheduler->m_connection = std::make_unique<SqliteConnection>(std::move(connection.value()));
    scheduler->m_bayesianSweeps =
        std::make_unique<BayesianSweeps>(workspace, writer, *scheduler->m_connection, scheduler.get());
    scheduler->m_timer.start();
    QTimer::singleShot(0, scheduler.get(), &QueueScheduler::tick);
    return scheduler;
}

void QueueScheduler::cancelAll()
{
    m_stopping = true;
    for (auto &[runId, running] : m_running)
        running.supervisor->cancel();
}

void QueueScheduler::tick()
{
    if (m_stopping)
        return;
    // The tpe sweeps first: a trial they queue now can start in this very tick.
    const bool searching = m_bayesianSweeps->pump();
    auto queue = runqueue::list(*m_connection);
    if (!queue) {
        qCWarning(lcQueue, "queue: %s", qPrintable(queue.error()));
        return;
    }
    QList<int> freeGpus = m_settings.gpus;
    int cpuRuns = 0;
    for (const auto &[runId, running] : m_running) {
        for (int gpu : running.gpus)
            freeGpus.removeAll(gpu);
        cpuRuns += running.gpus.isEmpty();
    }
    bool waiting = false;
    for (const QueuedRun &queued : queue.value()) {
        if (queued.paused)
            continue; // held back: it neither starts nor keeps the queue busy
        if (m_settings.maxConcurrent > 0 && running() >= m_settings.maxConcurrent)
            return;
        if (queued.gpus > 0 && m_settings.gpus.size() < queued.gpus) {
            // It can never start here: fail it with the reason, rather than keep it waiting forever.
            if (auto taken = runqueue::take(m_writer, queued.runId); taken && taken.value()) {
                const QString message = m_settings.gpus.isEmpty()
                    ? QStringLiteral("needs %1 GPUs; no CUDA device found on this machine").arg(queued.gpus)
                    : QStringLiteral("needs %1 GPUs; the queue has %2").arg(queued.gpus).arg(m_settings.gpus.size());
                (void)m_writer.recordStatus(queued.runId, RunStatus::Failed, QDateTime::currentDateTimeUtc(), message)
                    .get();
                emit runFailedToStart(queued.runId, message);
            }
            continue;
        }
        if (queued.gpus > 0 ? freeGpus.size() < queued.gpus : cpuRuns >= m_settings.cpuSlots) {
            waiting = true;
            continue; // backfill: a later, smaller run may fit
        }
        const QList<int> gpus = freeGpus.mid(0, queued.gpus);
        for (int gpu : gpus)
            freeGpus.removeAll(gpu);
        cpuRuns += gpus.isEmpty();
        startRun(queued.runId, queued.sweepId, gpus);
    }
    if (!waiting && m_running.empty() && !searching)
        emit idle();
}

std::optional<EarlyStopRule> QueueScheduler::earlyStopRuleOf(const QString &sweepId)
{
    if (sweepId.isEmpty())
        return std::nullopt;
    if (auto known = m_earlyStopRules.constFind(sweepId); known != m_earlyStopRules.constEnd())
        return *known;
    std::optional<EarlyStopRule> rule;
    if (auto sweep = sweepstate::readSweep(*m_connection, sweepId); !sweep) {
        qCWarning(lcQueue, "sweep %s: %s", qPrintable(sweepId), qPrintable(sweep.error()));
    } else if (auto spec = runqueue::parseSweepSpec(sweep.value()); !spec) {
        qCWarning(lcQueue, "sweep %s: its early stopping is off: %s", qPrintable(sweepId), qPrintable(spec.error()));
    } else {
        rule = spec->sweep.earlyStop;
    }
    m_earlyStopRules.insert(sweepId, rule);
    return rule;
}

// Records the arrival (the first one at a rung counts: a restarted attempt's second arrival is not judged again),
// judges it against every value the sweep's runs recorded at that rung, and stops the run when the rule says so.
void QueueScheduler::judgeRungArrival(const QString &runId, const QString &sweepId, const RungArrival &arrival)
{
    const std::optional<EarlyStopRule> rule = earlyStopRuleOf(sweepId);
    if (!rule)
        return;
    auto judged =
        m_writer
            .submit<std::optional<EarlyStopDecision>>(
                [&](SqliteConnection &connection) -> Result<std::optional<EarlyStopDecision>> {
                    auto recorded = sweepstate::recordRung(connection, sweepId, runId, arrival.rung, arrival.step,
                                                           arrival.value, QDateTime::currentMSecsSinceEpoch());
                    if (!recorded)
                        return fail(recorded.error());
                    if (!recorded.value())
                        return std::optional<EarlyStopDecision>();
                    auto atRung = sweepstate::valuesAtRung(connection, sweepId, arrival.rung);
                    if (!atRung)
                        return fail(atRung.error());
                    return std::optional<EarlyStopDecision>(judgeArrival(*rule, runId, arrival, atRung.value()));
                })
            .get();
    if (!judged) {
        qCWarning(lcQueue, "run %s: cannot judge its rung %d: %s", qPrintable(runId), arrival.rung + 1,
                  qPrintable(judged.error()));
        return;
    }
    if (!judged.value())
        return;
    const EarlyStopDecision &decision = *judged.value();
    qCInfo(lcQueue, "run %s: %s: %s", qPrintable(runId), decision.stop ? "stopped" : "goes on",
           qPrintable(decision.comparison));
    if (decision.stop) {
        if (auto running = m_running.find(runId); running != m_running.end())
            running->second.supervisor->stopEarly(decision.message(), decision.toJson());
    }
    emit runJudged(runId, decision.stop, decision.comparison);
}

void QueueScheduler::startRun(const QString &runId, const QString &sweepId, const QList<int> &gpus)
{
    auto taken = runqueue::take(m_writer, runId, thisHostName());
    if (!taken || !taken.value())
        return; // canceled or taken by someone else meanwhile
    if (lcQueue().isDebugEnabled()) {
        QStringList names;
        for (int gpu : gpus)
            names << QString::number(gpu);
        qCDebug(lcQueue, "starting run %s on %s", qPrintable(runId),
                gpus.isEmpty() ? "a CPU slot" : qPrintable(QStringLiteral("GPU(s) ") + names.join(QLatin1Char(','))));
    }
    const QString runDir = m_workspace.runDir(runId);
    const auto failStart = [&](const QString &message) {
        (void)m_writer.recordStatus(runId, RunStatus::Failed, QDateTime::currentDateTimeUtc(), message).get();
        emit runFailedToStart(runId, message);
    };
    auto spec = loadRunSpec(QDir(runDir).filePath(QLatin1String(kSpecFileName)));
    if (!spec)
        return failStart(spec.error());
    LocalLaunch launch = localLaunchFor(*spec);
    launch.existingRunId = runId;
    launch.request.gpus = gpus; // the GPUs it was given, whatever indices the spec listed
    launch.earlyStop = earlyStopRuleOf(sweepId);
    if (!gpus.isEmpty())
        launch.request.nprocPerNode = std::max(launch.request.nprocPerNode, 1);
    auto supervisor = RunSupervisor::launch(m_workspace, m_writer, std::move(launch), this);
    if (!supervisor) {
        emit runFailedToStart(runId, supervisor.error()); // launch recorded the run failed with this message
        return;
    }
    RunSupervisor *raw = supervisor.value().get();
    connect(raw, &RunSupervisor::rungReached, this,
            [this, runId, sweepId](const RungArrival &arrival) { judgeRungArrival(runId, sweepId, arrival); });
    connect(raw, &RunSupervisor::finished, this, [this, runId](const RunOutcome &outcome) {
        auto node = m_running.find(runId);
        if (node != m_running.end()) {
            node->second.supervisor.release()->deleteLater();
            m_running.erase(node);
        }
        emit runFinished(runId, outcome);
        QTimer::singleShot(0, this, &QueueScheduler::tick); // its slots are free now
    });
    m_running.emplace(runId, Running{std::move(supervisor.value()), gpus});
    emit runStarted(runId, gpus);
}

} // namespace trainyard
