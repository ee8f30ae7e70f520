// Backend: where a run's ranks execute (this machine, a Slurm cluster). One instance drives one run.
#pragma once

#include "launch/firstfailure.h"
#include "launch/launchrequest.h"
#include "result.h"
#include "store/runrecord.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>

#include <optional>

namespace trainyard {

struct RunOutcome {
    RunStatus status = RunStatus::Failed; // succeeded, failed or canceled
    int attempts = 0;
    // The failure that ended the run (the first failing rank of its last attempt), and every attempt's.
    std::optional<FirstFailure> firstFailure;
    QList<FirstFailure> failures;

    QJsonObject toJson() const;
};

class Backend : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    virtual Result<void> submit(const LaunchRequest &request) = 0;
    // Asks every rank to stop (SIGTERM, then SIGKILL after the grace period); ends in `canceled`.
    virtual void cancel() = 0;
    // The current attempt (0 for the first; restarts count up) and how many ranks run now, for status lines.
    virtual int attempt() const { return 0; }
    virtual int ranksAlive() const = 0;

signals:
    void statusChanged(trainyard::RunStatus status, const QDateTime &at, const QString &detail);
    // One line a rank printed (stdout and stderr together), as it arrived.
    void logLine(int rank, int attempt, const QDateTime &at, const QString &line);
    void finished(const trainyard::RunOutcome &outcome);
};

} // namespace trainyard
