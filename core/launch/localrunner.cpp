// Spawning, watching and tearing down the ranks of one run. Everything happens on the thread that owns the
// runner, which must outlive the ranks: PR_SET_PDEATHSIG fires when the forking thread exits.
#include "launch/localrunner.h"

#include "launch/processtable.h"
#include "launch/rankenvironment.h"
#include "logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcess>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace trainyard {

namespace {

constexpr int kHangCheckMaxIntervalMs = 1000;
constexpr int kSilentFirstToleranceMs = 1000;
constexpr int kExitCodeCommandNotStarted = 127;

// Reads oom_kill from our cgroup (v2) memory.events; -1 when there is none.
std::int64_t readOomKillCount()
{
    QFile cgroup(QStringLiteral("/proc/self/cgroup"));
    if (!cgroup.open(QIODevice::ReadOnly))
        return -1;
    QString path;
    for (const QByteArray &line : cgroup.readAll().split('\n')) {
        if (line.startsWith("0::"))
            path = QString::fromUtf8(line.mid(3));
    }
    QFile events(QStringLiteral("/sys/fs/cgroup") + path + QStringLiteral("/memory.events"));
    if (path.isEmpty() || !events.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : events.readAll().split('\n')) {
        if (line.startsWith("oom_kill "))
            return line.mid(9).toLongLong();
    }
    return -1;
}

// Asks the kernel for a free port on loopback, as torchrun does; the ranks bind it right after.
int pickFreePort()
{
    constexpr int kFallbackPort = 29500;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return kFallbackPort;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    int port = kFallbackPort;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0
        && ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    ::close(fd);
    return port;
}

QByteArray receiveStamp(const QDateTime &at) { return at.toUTC().toString(Qt::ISODateWithMs).toUtf8() + ' '; }

// Whether the process was started for the run `runId`: the rank environment's TRAINYARD_RUN_ID, which its
// descendants inherit. How an orphan adopted by this process is told apart from another run's.
bool belongsToRun(pid_t pid, const QString &runId)
{
    QFile environ(QStringLiteral("/proc/%1/environ").arg(pid));
    if (runId.isEmpty() || !environ.open(QIODevice::ReadOnly))
        return false;
    const QByteArray wanted = "TRAINYARD_RUN_ID=" + runId.toUtf8();
    const QList<QByteArray> variables = environ.readAll().split('\0');
    return std::find(variables.begin(), variables.end(), wanted) != variables.end();
}

} // namespace

QJsonObject RunOutcome::toJson() const
{
    QJsonArray allFailures;
    for (const FirstFailure &failure : failures)
        allFailures.append(failure.toJson());
    return QJsonObject{
        {QStringLiteral("status"), toString(status)},
        {QStringLiteral("attempts"), attempts},
        {QStringLiteral("first_failure"),
         firstFailure ? QJsonValue(firstFailure->toJson()) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("failures"), allFailures},
    };
}

struct LocalRunner::RankProcess {
    int localRank = 0;
    int globalRank = 0;
    std::unique_ptr<QProcess> process;
    std::unique_ptr<QFile> log;
    QByteArray partialLine; // never over kMaxOutputLineBytes
    int cutPieces = 0;      // pieces of the current line written so far, when it is over-long
    QStringList tail;
    qint64 lastActivityMs = 0;
    qint64 metricsFileSize = -1;
    pid_t pid = 0;
    bool exited = false;
    bool failedToStart = false;
};

LocalRunner::LocalRunner(QObject *parent) : Backend(parent)
{
    // Precise: a coarse timer may fire up to 5% early, and the grace period is a promise to the ranks.
    m_graceTimer.setTimerType(Qt::PreciseTimer);
    m_stackDumpTimer.setTimerType(Qt::PreciseTimer);
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, &LocalRunner::escalateTeardown);
    m_stackDumpTimer.setSingleShot(true);
    connect(&m_stackDumpTimer, &QTimer::timeout, this, &LocalRunner::beginTeardown);
    connect(&m_hangTimer, &QTimer::timeout, this, &LocalRunner::checkForHang);
    connect(&m_escapeTimer, &QTimer::timeout, this, &LocalRunner::trackEscapedProcesses);
    m_clock.start();
}

LocalRunner::~LocalRunner()
{
    if (ranksAlive() > 0)
        signalRun(SIGKILL);
    for (auto &rank : m_ranks) {
        if (rank->process) {
            rank->process->disconnect(this);
            rank->process->waitForFinished(1000);
        }
    }
}

int LocalRunner::ranksAlive() const
{
    return int(std::count_if(m_ranks.begin(), m_ranks.end(), [](const auto &rank) { return !rank->exited; }));
}

QList<QPair<int, pid_t>> LocalRunner::liveRanks() const
{
    QList<QPair<int, pid_t>> live;
    for (const auto &rank : m_ranks) {
        if (!rank->exited && rank->pid > 0)
            live.append({rank->globalRank, rank->pid});
    }
    return live;
}

Result<void> LocalRunner::submit(const LaunchRequest &request)
{
    if (request.command.isEmpty())
        return fail(QStringLiteral("no command to launch"));
    if (request.nprocPerNode < 1)
        return fail(QStringLiteral("--nproc-per-node must be at least 1 (got %1)").arg(request.nprocPerNode));
    if (!QDir().mkpath(request.runDir))
        return fail(QStringLiteral("cannot create run folder %1").arg(request.runDir));
    if (!request.cwd.isEmpty() && !QFileInfo(request.cwd).isDir())
        return fail(QStringLiteral("working folder %1 does not exist").arg(request.cwd));
    m_request = request;
    m_oomKillsAtStart = readOomKillCount();
    // Orphans of the ranks come to this process rather than to init, so they can be found and killed; the watchdog
    // kills the run's processes if this process is killed (docs/USER_GUIDE.md, "What Trainyard guarantees").
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    m_guard = std::make_unique<ProcessTreeGuard>();
    m_escapeTimer.start(kEscapeScanMs);
    emit statusChanged(RunStatus::Starting, QDateTime::currentDateTimeUtc(), {});
    startAttempt();
    return {};
}

void LocalRunner::startAttempt()
{
    m_ranks.clear();
    m_attemptFailure.reset();
    m_tearingDown = false;
    m_restartPending = false;
    m_processGroup = 0;
    if (m_attempt > 0 && m_attemptPreparer)
        m_attemptPreparer(m_request, m_attempt);
    const int masterPort = m_request.masterPort > 0 ? m_request.masterPort : pickFreePort();
    const QProcessEnvironment parentEnvironment = QProcessEnvironment::systemEnvironment();
    const pid_t supervisor = ::getpid();

    for (int localRank = 0; localRank < m_request.nprocPerNode; ++localRank) {
        auto rank = std::make_unique<RankProcess>();
        rank->localRank = localRank;
        rank->globalRank = globalRank(m_request, localRank);
        rank->lastActivityMs = m_clock.elapsed();
        rank->log =
            std::make_unique<QFile>(m_request.runDir + QLatin1Char('/') + rankLogFileName(rank->globalRank, m_attempt));
        if (!rank->log->open(QIODevice::WriteOnly | QIODevice::Truncate))
            qCWarning(lcLaunch, "cannot write %s: %s", qPrintable(rank->log->fileName()),
                      qPrintable(rank->log->errorString()));

        rank->process = std::make_unique<QProcess>();
        QProcess &process = *rank->process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.setStandardInputFile(QProcess::nullDevice());
        process.setProcessEnvironment(
            rankEnvironment(parentEnvironment, m_request, {localRank, m_attempt, masterPort}));
        if (!m_request.cwd.isEmpty())
            process.setWorkingDirectory(m_request.cwd);
        // In the child, before exec: die with the supervisor, and join the run's process group so that
        // teardown reaches every rank (and Ctrl-C in a terminal reaches only Trainyard).
        const pid_t group = m_processGroup;
        process.setChildProcessModifier([supervisor, group] {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != supervisor)
                ::_exit(kExitCodeCommandNotStarted);
            ::setpgid(0, group);
        });
        RankProcess *raw = rank.get();
        connect(&process, &QProcess::readyReadStandardOutput, this, [this, raw] { readOutput(*raw); });
        connect(&process, &QProcess::finished, this, [this, raw](int exitCode, QProcess::ExitStatus status) {
            readOutput(*raw);
            if (status == QProcess::CrashExit)
                onRankExited(*raw, std::nullopt, exitCode); // Qt reports the terminating signal as the code
            else
                onRankExited(*raw, exitCode, std::nullopt);
        });
        connect(&process, &QProcess::errorOccurred, this, [this, raw](QProcess::ProcessError error) {
            if (error != QProcess::FailedToStart || raw->exited)
                return;
            const QByteArray line = "trainyard: cannot start " + m_request.command.value(0).toUtf8() + ": "
                + raw->process->errorString().toUtf8() + '\n';
            writeLines(*raw, line, true);
            raw->failedToStart = true;
            onRankExited(*raw, kExitCodeCommandNotStarted, std::nullopt);
        });

        if (m_request.useShell)
            process.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), m_request.command.join(QLatin1Char(' '))});
        else
            process.start(m_request.command.first(), m_request.command.mid(1));
        rank->pid = pid_t(process.processId());
        qCDebug(lcLaunch, "run %s: attempt %d, rank %d started (pid %d)", qPrintable(m_request.runId), m_attempt,
                rank->globalRank, int(rank->pid));
        if (localRank == 0 && rank->pid > 0) {
            // The first rank leads the group (setpgid(0, 0) in its child); set it here too, which closes
            // the window in which the second rank could be spawned before the group exists.
            ::setpgid(rank->pid, rank->pid);
            m_processGroup = rank->pid;
            if (m_guard)
                m_guard->watchGroup(m_processGroup);
        } else if (rank->pid > 0 && m_processGroup > 0) {
            ::setpgid(rank->pid, m_processGroup);
        }
        m_ranks.push_back(std::move(rank));
        if (m_ranks.back()->exited)
            break; // could not start: no point in spawning the others
    }

    if (m_request.hangTimeoutMs > 0) {
        m_hangTimer.start(std::clamp(m_request.hangTimeoutMs / 4, 50, kHangCheckMaxIntervalMs));
    }
    if (!m_attemptFailure)
        emit statusChanged(RunStatus::Running, QDateTime::currentDateTimeUtc(),
                           m_attempt > 0 ? QStringLiteral("attempt %1").arg(m_attempt + 1) : QString());
    finishAttemptIfDone();
}

void LocalRunner::readOutput(RankProcess &rank)
{
    QByteArray chunk = rank.process->readAllStandardOutput();
    if (chunk.isEmpty())
        return;
    rank.lastActivityMs = m_clock.elapsed();
    writeLines(rank, chunk, false);
}

void LocalRunner::writeLines(RankProcess &rank, const QByteArray &chunk, bool flushPartial)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QByteArray stamp = receiveStamp(now);
    QByteArray out;
    // rank.partialLine holds a whole line (lineEnded) or a full piece of an over-long one.
    const auto endLine = [&](bool lineEnded) {
        QByteArray text;
        if (rank.cutPieces > 0 || !lineEnded) {
            ++rank.cutPieces;
            text = kCutLinePrefix + QByteArray::number(rank.cutPieces) + " of a line over "
                + QByteArray::number(kMaxOutputLineBytes >> 20) + " MiB, cut; not read as metrics"
                + (lineEnded ? ", last" : "") + "] " + rank.partialLine;
        } else {
            text = rank.partialLine;
        }
        out += stamp + text + '\n';
        rank.tail << QString::fromUtf8(text.left(kLogTailLineChars));
        emit logLine(rank.globalRank, m_attempt, now, QString::fromUtf8(text));
        rank.partialLine.clear();
        if (lineEnded)
            rank.cutPieces = 0;
    };
    qsizetype start = 0;
    while (start < chunk.size()) {
        const qsizetype newline = chunk.indexOf('\n', start);
        const qsizetype end = newline < 0 ? chunk.size() : newline;
        qsizetype position = start;
        while (end - position > kMaxOutputLineBytes - rank.partialLine.size()) {
            const qsizetype room = kMaxOutputLineBytes - rank.partialLine.size();
            rank.partialLine.append(chunk.constData() + position, room);
            position += room;
            endLine(false);
        }
        rank.partialLine.append(chunk.constData() + position, end - position);
        if (newline < 0)
            break;
        endLine(true);
        start = newline + 1;
    }
    if (flushPartial && (!rank.partialLine.isEmpty() || rank.cutPieces > 0))
        endLine(true);
    if (rank.tail.size() > kLogTailLines)
        rank.tail.remove(0, rank.tail.size() - kLogTailLines);
    if (!out.isEmpty() && rank.log->isOpen()) {
        rank.log->write(out);
        rank.log->flush();
    }
}

void LocalRunner::onRankExited(RankProcess &rank, std::optional<int> exitCode, std::optional<int> signal)
{
    if (rank.exited)
        return;
    rank.exited = true;
    qCDebug(lcLaunch, "run %s: rank %d ended (%s)", qPrintable(m_request.runId), rank.globalRank,
            signal ? qPrintable(QStringLiteral("signal %1").arg(*signal))
                   : qPrintable(QStringLiteral("exit code %1").arg(exitCode.value_or(-1))));
    writeLines(rank, QByteArray(), true);
    if (rank.log->isOpen())
        rank.log->close();

    const bool failed = signal.has_value() || exitCode.value_or(0) != 0;
    if (failed && !m_attemptFailure && !m_tearingDown && !m_canceling) {
        FirstFailure failure =
            classifyFailure(rank.globalRank, exitCode, signal, rank.tail, oomKillerFiredSinceStart());
        if (rank.failedToStart) {
            failure.cause = QStringLiteral("start");
            failure.message = rank.tail.value(rank.tail.size() - 1);
        }
        failure.attempt = m_attempt;
        m_attemptFailure = failure;
        beginTeardown();
    }
    finishAttemptIfDone();
}

void LocalRunner::beginTeardown()
{
    if (m_tearingDown)
        return;
    m_tearingDown = true;
    m_hangTimer.stop();
    m_stackDumpTimer.stop();
    if (ranksAlive() == 0)
        return;
    trackEscapedProcesses();
    signalRun(SIGTERM);
    m_graceTimer.start(m_request.graceMs);
}

void LocalRunner::escalateTeardown()
{
    trackEscapedProcesses();
    signalRun(SIGKILL);
}

QList<pid_t> signalTargets(pid_t group, const QList<QPair<pid_t, pid_t>> &liveRanksAndGroups,
                           const QSet<pid_t> &escaped)
{
    QList<pid_t> targets;
    if (group > 1)
        targets << -group;
    // Exactly once each: a rank still in the group has it from the group (a second SIGTERM would re-enter its handler).
    for (const auto &[pid, rankGroup] : liveRanksAndGroups) {
        if (pid > 0 && (group <= 1 || rankGroup != group))
            targets << pid;
    }
    for (const pid_t pid : escaped) {
        if (pid > 1 && !targets.contains(pid))
            targets << pid;
    }
    return targets;
}

void LocalRunner::signalRun(int signal)
{
    QList<QPair<pid_t, pid_t>> ranks;
    for (const auto &rank : m_ranks) {
        if (!rank->exited && rank->pid > 0)
            ranks.append({rank->pid, ::getpgid(rank->pid)});
    }
    for (const pid_t target : signalTargets(m_processGroup, ranks, m_escaped))
        ::kill(target, signal);
}

std::vector<ProcessEntry> LocalRunner::trackEscapedProcesses()
{
    std::vector<ProcessEntry> table = readProcessTable();
    const pid_t self = ::getpid();
    const pid_t watchdog = m_guard ? m_guard->watchdogPid() : 0;
    QSet<pid_t> rankPids;
    std::vector<pid_t> roots;
    for (const auto &rank : m_ranks) {
        if (rank->pid > 0 && !rank->exited) {
            rankPids.insert(rank->pid);
            roots.push_back(rank->pid);
        }
    }
    std::vector<ProcessEntry> runProcesses;
    for (const ProcessEntry &entry : table) {
        if (entry.parent != self || entry.pid == watchdog || rankPids.contains(entry.pid))
            continue;
        // A child of ours that is no rank: an orphan of a run that came to us as subreaper (or a process of another
        // run of this process, or a helper of our own: those are told apart by their group and environment).
        const bool ours =
            (m_processGroup > 1 && entry.group == m_processGroup) || belongsToRun(entry.pid, m_request.runId);
        if (!ours)
            continue;
        if (!entry.isLive()) {
            ::waitpid(entry.pid, nullptr, WNOHANG); // reap it: nobody else will
            continue;
        }
        runProcesses.push_back(entry);
        roots.push_back(entry.pid);
    }
    for (const ProcessEntry &entry : descendantsOf(table, roots))
        runProcesses.push_back(entry);

    QSet<pid_t> live;
    for (const ProcessEntry &entry : runProcesses) {
        if (!entry.isLive() || (m_processGroup > 1 && entry.group == m_processGroup))
            continue; // the group covers it
        live.insert(entry.pid);
        if (m_escaped.contains(entry.pid))
            continue;
        if (m_guard)
            m_guard->watchProcess(entry.pid);
        // Said in the first rank's log, so that the user knows why a daemonised helper dies with the run.
        if (!m_ranks.empty() && m_ranks.front()->log && m_ranks.front()->log->isOpen()) {
            QFile comm(QStringLiteral("/proc/%1/comm").arg(entry.pid));
            const QByteArray name = comm.open(QIODevice::ReadOnly) ? comm.readAll().trimmed() : QByteArray("?");
            const QByteArray line = "trainyard: process " + QByteArray::number(entry.pid) + " (" + name
                + ") of this run left its process group; it will be killed with the run";
            // Straight to the file, which only ever holds whole lines: the rank's own partial line stays apart.
            const QDateTime now = QDateTime::currentDateTimeUtc();
            m_ranks.front()->log->write(receiveStamp(now) + line + '\n');
            m_ranks.front()->log->flush();
            emit logLine(m_ranks.front()->globalRank, m_attempt, now, QString::fromUtf8(line));
        }
    }
    for (const pid_t pid : std::as_const(m_escaped)) {
        if (!live.contains(pid) && m_guard)
            m_guard->forgetProcess(pid);
    }
    m_escaped = live;
    if (m_finished && m_escaped.isEmpty() && ranksAlive() == 0)
        m_escapeTimer.stop();
    return table;
}

void LocalRunner::killLeftovers()
{
    int killed = 0;
    for (const ProcessEntry &entry : trackEscapedProcesses()) {
        // By pid, from what /proc lists now: once a group has emptied its number may be reused.
        if (entry.isLive()
            && ((m_processGroup > 1 && entry.group == m_processGroup) || m_escaped.contains(entry.pid))) {
            ::kill(entry.pid, SIGKILL);
            ++killed;
        }
    }
    if (killed > 0)
        qCWarning(lcLaunch, "run %s: killed %d process(es) its ranks left behind", qPrintable(m_request.runId), killed);
    if (m_guard && m_processGroup > 1)
        m_guard->forgetGroup(m_processGroup);
    // The adopted ones among them become zombies of ours: the next scans reap them.
    if (killed > 0 && !m_escapeTimer.isActive())
        m_escapeTimer.start(kEscapeScanMs);
}

void LocalRunner::cancel()
{
    if (m_finished || m_canceling)
        return;
    m_canceling = true;
    if (m_restartPending) {
        finish(RunStatus::Canceled);
        return;
    }
    beginTeardown();
    finishAttemptIfDone();
}

void LocalRunner::checkForHang()
{
    if (m_tearingDown || m_attemptFailure || ranksAlive() == 0)
        return;
    const qint64 now = m_clock.elapsed();
    // A metrics file that grew counts as activity, so a quiet script that logs metrics is not hung.
    for (const auto &rank : m_ranks) {
        const qint64 size = QFileInfo(m_request.runDir + QLatin1Char('/') + metricsFileName(rank->globalRank)).size();
        if (size != rank->metricsFileSize) {
            if (rank->metricsFileSize >= 0 || size > 0)
                rank->lastActivityMs = std::max(rank->lastActivityMs, now);
            rank->metricsFileSize = size;
        }
    }
    qint64 newest = 0;
    qint64 oldest = std::numeric_limits<qint64>::max();
    for (const auto &rank : m_ranks) {
        if (rank->exited)
            continue;
        newest = std::max(newest, rank->lastActivityMs);
        oldest = std::min(oldest, rank->lastActivityMs);
    }
    if (now - newest < m_request.hangTimeoutMs)
        return;

    FirstFailure failure;
    failure.cause = QStringLiteral("hang");
    failure.attempt = m_attempt;
    failure.at = QDateTime::currentDateTimeUtc();
    for (const auto &rank : m_ranks) {
        if (!rank->exited && rank->lastActivityMs - oldest <= kSilentFirstToleranceMs)
            failure.silentRanks << rank->globalRank;
    }
    failure.rank = failure.silentRanks.value(0, -1);
    QStringList silent;
    for (int rank : failure.silentRanks)
        silent << QString::number(rank);
    const bool allAtOnce = failure.silentRanks.size() == ranksAlive();
    failure.message = QStringLiteral("hang: no output or metric from any rank for %1 s; %2")
                          .arg(m_request.hangTimeoutMs / 1000.0)
                          .arg(allAtOnce ? QStringLiteral("all ranks went silent together")
                                         : QStringLiteral("rank %1 went silent first, %2 s before the others")
                                               .arg(silent.join(QStringLiteral(", ")))
                                               .arg((newest - oldest) / 1000.0, 0, 'f', 1));
    m_attemptFailure = failure;
    m_hangTimer.stop();
    // Ask for Python stack dumps (the client registers faulthandler on SIGUSR1), then tear down.
    for (const auto &rank : m_ranks) {
        if (!rank->exited && rank->pid > 0)
            ::kill(rank->pid, SIGUSR1);
    }
    m_stackDumpTimer.start(std::min(kStackDumpWaitMs, std::max(100, m_request.graceMs)));
}

void LocalRunner::finishAttemptIfDone()
{
    if (m_finished || m_restartPending || ranksAlive() > 0)
        return;
    m_graceTimer.stop();
    m_hangTimer.stop();
    m_stackDumpTimer.stop();
    killLeftovers();
    if (m_attemptFailure)
        m_failures << *m_attemptFailure;

    if (m_canceling) {
        finish(RunStatus::Canceled);
    } else if (!m_attemptFailure) {
        finish(RunStatus::Succeeded);
    } else if (m_attempt < m_request.maxRestarts && m_attemptFailure->cause != QLatin1String("start")) {
        m_restartPending = true;
        emit statusChanged(RunStatus::Restarting, QDateTime::currentDateTimeUtc(), m_attemptFailure->message);
        ++m_attempt;
        // Start the next attempt from the event loop, not from inside the last rank's finished signal.
        QTimer::singleShot(0, this, [this] {
            if (!m_finished && !m_canceling)
                startAttempt();
        });
    } else {
        finish(RunStatus::Failed);
    }
}

void LocalRunner::finish(RunStatus status)
{
    if (m_finished)
        return;
    m_finished = true;
    m_restartPending = false;
    RunOutcome outcome;
    outcome.status = status;
    outcome.attempts = m_attempt + 1;
    outcome.failures = m_failures;
    if (status == RunStatus::Failed && !m_failures.isEmpty())
        outcome.firstFailure = m_failures.last();
    emit finished(outcome);
}

bool LocalRunner::oomKillerFiredSinceStart() const
{
    if (m_oomKillsAtStart < 0)
        return false;
    return readOomKillCount() > m_oomKillsAtStart;
}

} // namespace trainyard
