// LocalRunner: the ranks of a run as child processes of this machine, with torchrun's failure semantics.
#pragma once

#include "launch/backend.h"
#include "launch/processtable.h"
#include "launch/processtreeguard.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <functional>
#include <memory>
#include <vector>

#include <sys/types.h>

class QFile;
class QProcess;

namespace trainyard {

// Whom a teardown signal is sent to, so that each process of a run gets it once: the rank group (as -group), each
// live rank that left the group (pid, its current group), and each escaped process outside the group.
QList<pid_t> signalTargets(pid_t group, const QList<QPair<pid_t, pid_t>> &liveRanksAndGroups,
                           const QSet<pid_t> &escaped);

class LocalRunner : public Backend {
    Q_OBJECT
public:
    static constexpr int kStackDumpWaitMs = 2000;  // after SIGUSR1, before tearing a hung run down
    static constexpr int kLogTailLines = 200;      // kept per rank to classify a failure
    static constexpr int kLogTailLineChars = 4096; // of each of them

    static constexpr int kEscapeScanMs = 1000; // how often descendants that left the rank group are looked for

    explicit LocalRunner(QObject *parent = nullptr);
    // Kills whatever is still running (SIGKILL to the process group and to processes that left it).
    ~LocalRunner() override;

    Result<void> submit(const LaunchRequest &request) override;
    void cancel() override;

    int attempt() const override { return m_attempt; }
    int ranksAlive() const override;
    pid_t processGroup() const { return m_processGroup; }
    // (global rank, pid) of every rank of the current attempt that is still running.
    QList<QPair<int, pid_t>> liveRanks() const;
    bool isActive() const { return !m_ranks.empty() || m_restartPending; }
    // Called before each restart attempt (attempt 1 on) starts its ranks, to change what they get (the supervisor
    // points them at the latest checkpoint: TRAINYARD_RESUME_FROM).
    void setAttemptPreparer(std::function<void(LaunchRequest &request, int attempt)> preparer)
    {
        m_attemptPreparer = std::move(preparer);
    }

private:
    struct RankProcess;

    void startAttempt();
    void readOutput(RankProcess &rank);
    // Appends the rank's output to its log, line by line with the receive time; a line over kMaxOutputLineBytes is
    // written as cut pieces as it arrives, so output is drained at pipe speed whatever the line length.
    void writeLines(RankProcess &rank, const QByteArray &chunk, bool flushPartial);
    void onRankExited(RankProcess &rank, std::optional<int> exitCode, std::optional<int> signal);
    // Sends `signal` once to every process of the attempt: the rank group, a rank that left it, escaped descendants.
    void signalRun(int signal);
    // Finds the ranks' descendants outside the rank group (setsid, setpgid) and orphans of the run adopted by this
    // process (a subreaper), registers them with the watchdog, and reaps the adopted ones that exited.
    // Returns the process table it read, for a caller that acts on it right after.
    std::vector<ProcessEntry> trackEscapedProcesses();
    // After the last rank of an attempt exited: SIGKILL to what its ranks left behind.
    void killLeftovers();
    void beginTeardown();
    void escalateTeardown();
    void checkForHang();
    void finishAttemptIfDone();
    void finish(RunStatus status);
    bool oomKillerFiredSinceStart() const;

    LaunchRequest m_request;
    std::function<void(LaunchRequest &, int)> m_attemptPreparer;
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
    std::unique_ptr<ProcessTreeGuard> m_guard;
    QSet<pid_t> m_escaped; // live processes of the run outside its rank group, registered with the watchdog
    QTimer m_escapeTimer;
    QTimer m_graceTimer;
    QTimer m_hangTimer;
    QTimer m_stackDumpTimer;
    QElapsedTimer m_clock;
};

} // namespace trainyard
