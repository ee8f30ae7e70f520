// QueueScheduler: starts queued runs when the GPUs (or, on a machine without GPUs, the CPU slots) they
// ask for are free, packing them onto free GPUs through CUDA_VISIBLE_DEVICES, with a limit on how many
// run at once. One scheduler per workspace at a time (a lock file); the queue itself lives in the store.
#pragma once

#include "launch/backend.h"
#include "spec/rungwatcher.h"
#include "spec/sweep.h"
#include "result.h"

#include <QList>
#include <QLockFile>
#include <QMap>
#include <QObject>
#include <QTimer>

#include <map>
#include <memory>
#include <optional>

namespace trainyard {

class BayesianSweeps;
class RunSupervisor;
class SqliteConnection;
class StoreWriter;
class Workspace;

struct QueueSettings {
    QList<int> gpus;       // the machine's GPUs the queue may use (empty: none)
    int cpuSlots = 1;      // runs that ask for no GPU run in these
    int maxConcurrent = 0; // at most this many runs at once (0: as many as fit)
};

class QueueScheduler : public QObject {
    Q_OBJECT
public:
    static constexpr int kPollMs = 300;

    // Takes the workspace's queue lock; fails, naming the holder, when another scheduler has it.
    static Result<std::unique_ptr<QueueScheduler>> start(const Workspace &workspace, StoreWriter &writer,
                                                         QueueSettings settings, QObject *parent = nullptr);
    ~QueueScheduler() override;

    int running() const { return int(m_running.size()); }
    // The tpe sweeps it drives (their trials are asked for and told on every tick).
    BayesianSweeps *bayesianSweeps() const { return m_bayesianSweeps.get(); }
    // Cancels the runs it started (they end as canceled) and stops starting new ones.
    void cancelAll();

signals:
    void runStarted(const QString &runId, const QList<int> &gpus);
    void runFinished(const QString &runId, const trainyard::RunOutcome &outcome);
    void runFailedToStart(const QString &runId, const QString &message);
    // A run of a sweep with early stopping reached a rung and was judged: `stopped` when the rule ended it.
    void runJudged(const QString &runId, bool stopped, const QString &comparison);
    // Nothing running and nothing waiting to start (paused runs do not count).
    void idle();

private:
    QueueScheduler(const Workspace &workspace, StoreWriter &writer, QueueSettings settings, QObject *parent);
    void tick();
    void startRun(const QString &runId, const QString &sweepId, const QList<int> &gpus);
    // The sweep's early-stopping rule, read from its spec once; nullopt when it has none (or no longer parses).
    std::optional<EarlyStopRule> earlyStopRuleOf(const QString &sweepId);
    void judgeRungArrival(const QString &runId, const QString &sweepId, const RungArrival &arrival);

    struct Running {
        std::unique_ptr<RunSupervisor> supervisor;
        QList<int> gpus;
    };

    const Workspace &m_workspace;
    StoreWriter &m_writer;
    QueueSettings m_settings;
    std::unique_ptr<QLockFile> m_lock;
    std::unique_ptr<SqliteConnection> m_connection;
    std::unique_ptr<BayesianSweeps> m_bayesianSweeps;
    std::map<QString, Running> m_running;
    QHash<QString, std::optional<EarlyStopRule>> m_earlyStopRules; // by sweep id
    QTimer m_timer;
    bool m_stopping = false;
};

} // namespace trainyard
