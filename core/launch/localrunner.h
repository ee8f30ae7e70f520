// LocalRunner: the ranks of a run as child processes of this machine, with torchrun's failure semantics.
#pragma once

#include "launch/backend.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QStringList>
#include <QTimer>

#include <memory>
#include <vector>

#include <sys/types.h>

class QFile;
class QProcess;

namespace trainyard {

class LocalRunner : public Backend {
    Q_OBJECT
public:
    static constexpr int kStackDumpWaitMs = 2000; // after SIGUSR1, before tearing a hung run down
    static constexpr int kLogTailLines = 200;     // kept per rank to classify a failure

    explicit LocalRunner(QObject *parent = nullptr);
    // Kills whatever is still running (SIGKILL to the process group).
    ~LocalRunner() override;

    Result<void> submit(const LaunchRequest &request) override;
    void cancel() override;

    int attempt() const override { return m_attempt; }
    int ranksAlive() const override;
    pid_t processGroup() const { return m_processGroup; }
    // (global rank, pid) of every rank of the current attempt that is still running.
    QList<QPair<int, pid_t>> liveRanks() const;
    bool isActive() const { return !m_ranks.empty() || m_restartPending; }

private:
    struct RankProcess;

    void startAttempt();
    void readOutput(RankProcess &rank);
    void writeLines(RankProcess &rank, QByteArray &chunk, bool flushPartial);
    void onRankExited(RankProcess &rank, std::optional<int> exitCode, std::optional<int> signal);
    void beginTeardown();
    void escalateTeardown();
    void checkForHang();
    void finishAttemptIfDone();
    void finish(RunStatus status);
    bool oomKillerFiredSinceStart() const;

    LaunchRequest m_request;
    std::vector<std::unique_ptr<RankProcess>> m_ranks;
    pid_t m_processGroup = 0;
    int m_attempt = 0;
    bool m_canceling = false;
    bool m_tearingDown = false;
    bool m_restartPending = false;
    bool m_finished = false;
    std::optional<FirstFailure> m_attemptFailure;
    QList<FirstFailure> m_failures;
    std::int64_t m_oomKillsAtStart = -1;
    QTimer m_graceTimer;
    QTimer m_hangTimer;
    QTimer m_stackDumpTimer;
    QElapsedTimer m_clock;
};

} // namespace trainyard
