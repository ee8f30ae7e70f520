// Polling, not callbacks: slurmrestd has no push API, and a poll every few seconds is what squeue does.
#include "launch/slurmbackend.h"

#include "atomicfile.h"
#include "launch/rankenvironment.h"
#include "launch/slurmjob.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace trainyard {

SlurmBackend::SlurmBackend(BackendProfile profile, QByteArray token, QObject *parent)
    : Backend(parent), m_profile(std::move(profile)), m_client(m_profile.endpoint(token))
{
    connect(&m_pollTimer, &QTimer::timeout, this, &SlurmBackend::poll);
}

Result<void> SlurmBackend::submit(const LaunchRequest &request)
{
    m_request = request;
    if (request.nnodes > 1 && request.maxRestarts > 0)
        return fail(
            QStringLiteral("max_restarts %1 on %2 nodes: restarts are not coordinated across the nodes of a Slurm job; "
                           "use 0 (or one node)")
                .arg(request.maxRestarts)
                .arg(request.nnodes));
    const QString trainyardPath =
        m_profile.trainyardPath.isEmpty() ? QCoreApplication::applicationFilePath() : m_profile.trainyardPath;
    auto submission = buildSlurmSubmission(request, m_profile.job, QStringLiteral("trainyard-") + request.runId,
                                           trainyardPath, m_profile.jobEnvironment);
    if (!submission)
        return fail(submission.error());
    const QDir runDir(request.runDir);
    if (auto written = writeFileAtomically(runDir.filePath(QLatin1String(kAgentRequestFileName)),
                                           QJsonDocument(launchRequestToJson(request)).toJson());
        !written)
        return written;
    if (auto written = writeFileAtomically(runDir.filePath(QLatin1String(kSlurmScriptFileName)), submission->script);
        !written)
        return written;

    auto jobId = m_client.submit(submission->body);
    if (!jobId)
        return fail(jobId.error());
    m_jobId = *jobId;
    m_lastContactMs = QDateTime::currentMSecsSinceEpoch();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QJsonObject record{{QStringLiteral("profile"), m_profile.name},
                             {QStringLiteral("url"), m_profile.url},
                             {QStringLiteral("job_id"), m_jobId},
                             {QStringLiteral("submitted_at"), now.toString(Qt::ISODateWithMs)}};
    (void)writeFileAtomically(runDir.filePath(QLatin1String(kSlurmJobFileName)), QJsonDocument(record).toJson());
    emit statusChanged(RunStatus::Queued, now,
                       QStringLiteral("Slurm job %1 submitted to %2%3")
                           .arg(m_jobId)
                           .arg(m_profile.name,
                                m_profile.job.partition.isEmpty()
                                    ? QString()
                                    : QStringLiteral(" (partition %1)").arg(m_profile.job.partition)));
    m_pollTimer.start(m_profile.pollIntervalMs);
    QTimer::singleShot(std::min(500, m_profile.pollIntervalMs), this, &SlurmBackend::poll);
    return {};
}

void SlurmBackend::cancel()
{
    if (m_finished || m_jobId == 0)
        return;
    m_cancelRequested = true;
    if (auto canceled = m_client.cancel(m_jobId); canceled)
        m_cancelSent = true;
    else
        m_lastPollError = canceled.error(); // tried again at the next poll
    QTimer::singleShot(200, this, &SlurmBackend::poll);
}

int SlurmBackend::ranksAlive() const
{
    return m_reportedRunning && !m_finished ? m_request.nnodes * m_request.nprocPerNode : 0;
}

void SlurmBackend::poll()
{
    if (m_finished)
        return;
    if (m_cancelRequested && !m_cancelSent) {
        if (auto canceled = m_client.cancel(m_jobId); canceled)
            m_cancelSent = true;
    }
    auto job = m_client.job(m_jobId);
    tailRankLogs();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!job) {
        m_lastPollError = job.error();
        if (now - m_lastContactMs > kLostContactMs)
            finishWith(RunStatus::Failed,
                       QStringLiteral("lost contact with Slurm job %1 for %2 s: %3 (the job may still run; see squeue)")
                           .arg(m_jobId)
                           .arg(kLostContactMs / 1000)
                           .arg(m_lastPollError),
                       std::nullopt);
        return;
    }
    m_lastContactMs = now;
    const RunStatus status = runStatusForSlurmState(job->state);
    if (status == RunStatus::Running && !m_reportedRunning) {
        m_reportedRunning = true;
        emit statusChanged(RunStatus::Running,
                           job->startTime.isValid() ? job->startTime : QDateTime::currentDateTimeUtc(),
                           QStringLiteral("Slurm job %1 running on %2").arg(m_jobId).arg(job->nodes));
    }
    m_lastState = job->state;
    if (!isTerminal(status))
        return;
    if (!m_reportedRunning && job->startTime.isValid() && status != RunStatus::Canceled) {
        // Started and ended between two polls: the running span still belongs in the run's history.
        m_reportedRunning = true;
        emit statusChanged(RunStatus::Running, job->startTime,
                           QStringLiteral("Slurm job %1 running on %2").arg(m_jobId).arg(job->nodes));
    }
    finishWith(status, status == RunStatus::Succeeded ? QString() : describeSlurmEnd(*job), *job);
}

// The agents write rank<N>.log files into the shared run folder; this echoes their new complete lines.
void SlurmBackend::tailRankLogs()
{
    const QDir dir(m_request.runDir);
    for (const QString &name : dir.entryList({QStringLiteral("rank*.log")}, QDir::Files, QDir::Name)) {
        const auto parsed = parseRankLogFileName(name);
        if (!parsed || parsed->nccl)
            continue;
        QFile file(dir.filePath(name));
        qint64 &offset = m_logOffsets[name];
        if (file.size() <= offset || !file.open(QIODevice::ReadOnly) || !file.seek(offset))
            continue;
        const QByteArray chunk = file.readAll();
        const qsizetype end = chunk.lastIndexOf('\n');
        if (end < 0)
            continue;
        offset += end + 1;
        for (const QByteArray &raw : chunk.left(end).split('\n')) {
            const QString line = QString::fromUtf8(raw);
            QDateTime at = QDateTime::fromString(line.left(kLogStampLength), Qt::ISODateWithMs);
            const QString text = at.isValid() ? line.mid(kLogStampLength + 1) : line;
            if (!at.isValid())
                at = QDateTime::currentDateTimeUtc();
            emit logLine(parsed->rank, parsed->attempt, at, text);
        }
    }
}

void SlurmBackend::finishWith(RunStatus status, const QString &message, const std::optional<SlurmJobInfo> &job)
{
    m_finished = true;
    m_pollTimer.stop();
    tailRankLogs();
    RunOutcome outcome;
    outcome.status = m_cancelRequested && status != RunStatus::Succeeded ? RunStatus::Canceled : status;
    // Each agent wrote how its ranks ended; the run's first failure is the earliest of theirs.
    for (int node = 0; node < m_request.nnodes; ++node) {
        QFile file(QDir(m_request.runDir).filePath(agentOutcomeFileName(node)));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QJsonObject agent = QJsonDocument::fromJson(file.readAll()).object();
        outcome.attempts = std::max(outcome.attempts, agent.value(QStringLiteral("attempts")).toInt());
        for (const QJsonValue &value : agent.value(QStringLiteral("failures")).toArray())
            outcome.failures << FirstFailure::fromJson(value.toObject());
        const QJsonValue first = agent.value(QStringLiteral("first_failure"));
        if (first.isObject()) {
            const FirstFailure failure = FirstFailure::fromJson(first.toObject());
            if (!outcome.firstFailure || failure.at < outcome.firstFailure->at)
                outcome.firstFailure = failure;
        }
    }
    if (outcome.status == RunStatus::Failed && !outcome.firstFailure) {
        // No agent got as far as its ranks: the job's own output says why (a missing trainyard, a folder the
        // nodes cannot see).
        FirstFailure failure;
        failure.cause = QStringLiteral("slurm");
        failure.message = message;
        QFile output(QDir(m_request.runDir).filePath(QStringLiteral("slurm-%1.out").arg(m_jobId)));
        if (output.open(QIODevice::ReadOnly)) {
            QStringList lines = QString::fromUtf8(output.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
            if (!lines.isEmpty())
                failure.message +=
                    QStringLiteral("; slurm-%1.out ends: %2")
                        .arg(m_jobId)
                        .arg(lines.mid(std::max<qsizetype>(0, lines.size() - 3)).join(QStringLiteral(" | ")));
        }
        failure.at = job && job->endTime.isValid() ? job->endTime : QDateTime::currentDateTimeUtc();
        if (job) {
            failure.exitCode = job->exitCode;
            failure.signal = job->exitSignal;
        }
        outcome.firstFailure = failure;
        outcome.failures << failure;
    } else if (outcome.status == RunStatus::Failed && !message.isEmpty()) {
        outcome.firstFailure->message += QStringLiteral(" (%1)").arg(message);
    }
    if (outcome.status != RunStatus::Failed)
        outcome.firstFailure.reset();
    emit finished(outcome);
}

} // namespace trainyard
