// SlurmBackend: a run's ranks on N nodes of a Slurm cluster. Submits the job through slurmrestd, polls its
// state into run states (queue wait from Slurm's own submit and start times), echoes the rank logs the
// agents write into the shared run folder, cancels through the REST API, and reads the agents' outcomes.
#pragma once

#include "launch/backend.h"
#include "launch/backendprofile.h"
#include "launch/slurmclient.h"

#include <QHash>
#include <QTimer>

#include <optional>

namespace trainyard {

class SlurmBackend : public Backend {
    Q_OBJECT
public:
    // A run that cannot reach slurmrestd for this long is failed (the job may still be running).
    static constexpr int kLostContactMs = 300000;

    SlurmBackend(BackendProfile profile, QByteArray token, QObject *parent = nullptr);

    // Writes agent.json and slurm-job.sh into the run folder and submits; an error carries slurmrestd's message.
    Result<void> submit(const LaunchRequest &request) override;
    void cancel() override;
    int ranksAlive() const override;

    qint64 jobId() const { return m_jobId; }
    const BackendProfile &profile() const { return m_profile; }

private:
    void poll();
    void tailRankLogs();
    void finishWith(RunStatus status, const QString &message, const std::optional<SlurmJobInfo> &job);

    BackendProfile m_profile;
    SlurmClient m_client;
    LaunchRequest m_request;
    qint64 m_jobId = 0;
    QString m_lastState;
    bool m_reportedRunning = false;
    bool m_cancelRequested = false;
    bool m_cancelSent = false;
    bool m_finished = false;
    qint64 m_lastContactMs = 0;
    QString m_lastPollError;
    QTimer m_pollTimer;
    QHash<QString, qint64> m_logOffsets;
};

} // namespace trainyard
