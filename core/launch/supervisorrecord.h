// SupervisorRecord: which process supervises a run (supervisor.json in the run folder), so another process
// can tell a live run from one whose Trainyard crashed.
#pragma once

#include "result.h"

#include <QString>

#include <sys/types.h>

namespace trainyard {

struct SupervisorRecord {
    pid_t pid = 0;
    qint64 startTicks = 0; // /proc/<pid>/stat field 22: tells a reused pid apart
    QString host;
    pid_t processGroup = 0;

    static SupervisorRecord forThisProcess();
    static Result<SupervisorRecord> read(const QString &runDir);
    Result<void> write(const QString &runDir) const;

    // True when the recorded process still runs (same pid and start time, on this host).
    bool isAlive() const;
    // True when any process of the recorded rank group is still alive.
    bool ranksAlive() const;
    // SIGKILL to every live process of the recorded rank group (what recovery does to a group its supervisor left
    // behind); true when none is alive within waitMs.
    bool killRanks(int waitMs) const;
};

QString thisHostName();
// The file whose presence asks a run's supervisor to cancel it (written by `trainyard cancel`).
QString cancelRequestPath(const QString &runDir);

} // namespace trainyard
