// LaunchHost: runs launched from the GUI, supervised on one long-lived worker thread (the thread that forks
// the ranks must outlive them, since PR_SET_PDEATHSIG follows the forking thread).
#pragma once

#include "launch/runsupervisor.h"
#include "store/workspace.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QThread>

#include <memory>

namespace trainyard {

class StoreWriter;

class LaunchHost : public QObject {
    Q_OBJECT
public:
    explicit LaunchHost(const Workspace &workspace, QObject *parent = nullptr);
    // Cancels every run still active and waits for them to end.
    ~LaunchHost() override;

    // Thread-safe: queue a launch or a cancel; results arrive as signals.
    void launch(const trainyard::LocalLaunch &launch);
    void cancel(const QString &runId);
    int activeRuns() const;

signals:
    void launched(const QString &runId);
    void launchFailed(const QString &message);
    void runFinished(const QString &runId, trainyard::RunStatus status);

private:
    class Worker;
    QThread m_thread;
    Worker *m_worker;
};

} // namespace trainyard
