// The scheduler's loop: read the queue, start what fits, in queue order. A run that does not fit yet
// lets smaller runs behind it start (backfill), so GPUs do not sit idle behind a large request.
#include "queue/queuescheduler.h"

#include "launch/runsupervisor.h"
#include "launch/speclaunch.h"
#include "launch/supervisorrecord.h"
#include "logging.h"
#include "queue/runqueue.h"
#include "runfolder/runfolder.h"
#include "spec/runspec.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
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
        startRun(queued.runId, gpus);
    }
    if (!waiting && m_running.empty())
        emit idle();
}

void QueueScheduler::startRun(const QString &runId, const QList<int> &gpus)
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
    if (!gpus.isEmpty())
        launch.request.nprocPerNode = std::max(launch.request.nprocPerNode, 1);
    auto supervisor = RunSupervisor::launch(m_workspace, m_writer, std::move(launch), this);
    if (!supervisor) {
        emit runFailedToStart(runId, supervisor.error()); // launch recorded the run failed with this message
        return;
    }
    RunSupervisor *raw = supervisor.value().get();
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
