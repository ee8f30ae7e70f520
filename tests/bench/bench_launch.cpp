// Launch benchmarks: per-rank launch overhead of LocalRunner against a bare fork/exec loop of the same
// command, and teardown time from a rank's failure to the last rank gone with 8 ranks.
//   build/ci/tests/bench/bench_launch [RANKS]
#include "launch/localrunner.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTemporaryDir>

#include <cstdio>

#include <sys/wait.h>
#include <unistd.h>

using namespace trainyard;

namespace {

// Runs the request to the end; returns seconds from submit to finished, and the outcome.
double runToEnd(const LaunchRequest &request, RunOutcome *outcome, QDateTime *finishedAt)
{
    LocalRunner runner;
    QEventLoop loop;
    QObject::connect(&runner, &Backend::finished, &loop, [&](const RunOutcome &result) {
        if (outcome)
            *outcome = result;
        if (finishedAt)
            *finishedAt = QDateTime::currentDateTimeUtc();
        loop.quit();
    });
    QElapsedTimer timer;
    timer.start();
    if (!runner.submit(request))
        return -1;
    loop.exec();
    return timer.nsecsElapsed() / 1e9;
}

double bareForkExec(int ranks, const char *program)
{
    QElapsedTimer timer;
    timer.start();
    std::vector<pid_t> children;
    for (int i = 0; i < ranks; ++i) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::execl(program, program, static_cast<char *>(nullptr));
            ::_exit(127);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children)
        ::waitpid(pid, nullptr, 0);
    return timer.nsecsElapsed() / 1e9;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const int ranks = argc > 1 ? std::atoi(argv[1]) : 16;
    constexpr int kRepeats = 5;
    QTemporaryDir dir;

    // Launch overhead: N ranks of /bin/true, spawned, watched and reaped, against fork/exec/wait of N.
    double ours = 1e9, bare = 1e9;
    for (int repeat = 0; repeat < kRepeats; ++repeat) {
        LaunchRequest request;
        request.runId = QStringLiteral("bench");
        request.runDir = dir.path() + QStringLiteral("/launch%1").arg(repeat);
        request.command = {QStringLiteral("/bin/true")};
        request.nprocPerNode = ranks;
        ours = std::min(ours, runToEnd(request, nullptr, nullptr));
        bare = std::min(bare, bareForkExec(ranks, "/bin/true"));
    }
    std::printf("launch of %d ranks of /bin/true (best of %d)\n", ranks, kRepeats);
    std::printf("%-36s %10s %14s\n", "path", "total ms", "ms per rank");
    std::printf("%-36s %10.2f %14.3f\n", "trainyard LocalRunner", ours * 1e3, ours * 1e3 / ranks);
    std::printf("%-36s %10.2f %14.3f\n", "bare fork/exec/wait loop", bare * 1e3, bare * 1e3 / ranks);
    std::printf("overhead per rank: %.3f ms\n\n", (ours - bare) * 1e3 / ranks);

    // Teardown: rank 3 of 8 fails after 0.3 s; the others either honour SIGTERM or ignore it (SIGKILL after grace).
    constexpr int kGraceMs = 2000;
    std::printf("teardown, 8 ranks, grace %d ms: rank failure -> last rank gone\n", kGraceMs);
    for (bool ignoreTerm : {false, true}) {
        LaunchRequest request;
        request.runId = QStringLiteral("teardown");
        request.runDir = dir.path() + (ignoreTerm ? QStringLiteral("/stubborn") : QStringLiteral("/polite"));
        request.useShell = true;
        const QString ignore = ignoreTerm ? QStringLiteral("trap '' TERM;") : QString();
        request.command =
            QStringList{ignore, QStringLiteral("if [ \"$RANK\" = 3 ]; then sleep 0.3; exit 1; fi; exec sleep 60")};
        request.nprocPerNode = 8;
        request.graceMs = kGraceMs;
        RunOutcome outcome;
        QDateTime finishedAt;
        runToEnd(request, &outcome, &finishedAt);
        const qint64 teardownMs = outcome.firstFailure ? outcome.firstFailure->at.msecsTo(finishedAt) : -1;
        std::printf("%-36s %10lld ms (goal: at most %d ms)\n",
                    ignoreTerm ? "ranks ignore SIGTERM (SIGKILL)" : "ranks exit on SIGTERM", (long long)teardownMs,
                    kGraceMs + 500);
    }
    return 0;
}
