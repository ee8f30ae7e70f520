// Rank environment contract and failure classification, without launching anything.
#include "launch/firstfailure.h"
#include "launch/launchrequest.h"
#include "launch/localrunner.h"
#include "launch/processtable.h"
#include "launch/rankenvironment.h"

#include <QTest>

#include <algorithm>
#include <csignal>

#include <unistd.h>

using namespace trainyard;

class TestLocalRunner : public QObject {
    Q_OBJECT
private slots:
    void environmentHoldsTheTorchrunContract()
    {
        LaunchRequest request;
        request.runId = QStringLiteral("run-1");
        request.runDir = QStringLiteral("/ws/runs/run-1");
        request.nprocPerNode = 4;
        request.nnodes = 2;
        request.nodeRank = 1;
        request.masterAddr = QStringLiteral("node-a");
        request.maxRestarts = 3;
        request.gpus = {0, 2, 5, 7};
        request.env.insert(QStringLiteral("FOO"), QStringLiteral("bar"));
        request.env.insert(QStringLiteral("RANK"), QStringLiteral("99")); // the contract wins
        QProcessEnvironment parent;
        parent.insert(QStringLiteral("PATH"), QStringLiteral("/usr/bin"));
        const QProcessEnvironment environment = rankEnvironment(parent, request, {2, 1, 29511});
        const auto value = [&](const char *name) { return environment.value(QLatin1String(name)); };
        QCOMPARE(value("PATH"), QStringLiteral("/usr/bin"));
        QCOMPARE(value("FOO"), QStringLiteral("bar"));
        QCOMPARE(value("MASTER_ADDR"), QStringLiteral("node-a"));
        QCOMPARE(value("MASTER_PORT"), QStringLiteral("29511"));
        QCOMPARE(value("RANK"), QStringLiteral("6")); // node 1 x 4 ranks + local 2
        QCOMPARE(value("LOCAL_RANK"), QStringLiteral("2"));
        QCOMPARE(value("WORLD_SIZE"), QStringLiteral("8"));
        QCOMPARE(value("LOCAL_WORLD_SIZE"), QStringLiteral("4"));
        QCOMPARE(value("GROUP_RANK"), QStringLiteral("1"));
        QCOMPARE(value("ROLE_RANK"), QStringLiteral("6"));
        QCOMPARE(value("NODE_RANK"), QStringLiteral("1"));
        QCOMPARE(value("TORCHELASTIC_RUN_ID"), QStringLiteral("run-1"));
        QCOMPARE(value("TORCHELASTIC_RESTART_COUNT"), QStringLiteral("1"));
        QCOMPARE(value("TORCHELASTIC_MAX_RESTARTS"), QStringLiteral("3"));
        QCOMPARE(value("OMP_NUM_THREADS"), QStringLiteral("1"));
        QCOMPARE(value("TRAINYARD_RUN_ID"), QStringLiteral("run-1"));
        QCOMPARE(value("TRAINYARD_RUN_DIR"), QStringLiteral("/ws/runs/run-1"));
        QCOMPARE(value("TRAINYARD_METRICS_FILE"), QStringLiteral("/ws/runs/run-1/metrics.rank6.jsonl"));
        QCOMPARE(value("CUDA_VISIBLE_DEVICES"), QStringLiteral("0,2,5,7"));
    }

    void ncclDebuggingSwitches()
    {
        LaunchRequest request;
        request.runDir = QStringLiteral("/ws/runs/r");
        request.nprocPerNode = 2;
        request.nccl.level = QStringLiteral("INFO");
        request.nccl.subsystems = QStringLiteral("INIT,COLL");
        request.nccl.asyncErrorHandling = 3;
        request.nccl.traceBufferSize = 2000;
        request.nccl.p2pDisable = true;
        request.nccl.ibDisable = true;
        request.nccl.socketIfname = QStringLiteral("^lo");
        const QProcessEnvironment environment = rankEnvironment({}, request, {1, 2, 1});
        const auto value = [&](const char *name) { return environment.value(QLatin1String(name)); };
        QCOMPARE(value("NCCL_DEBUG"), QStringLiteral("INFO"));
        QCOMPARE(value("NCCL_DEBUG_FILE"), QStringLiteral("/ws/runs/r/nccl.rank1.attempt2.log"));
        QCOMPARE(value("NCCL_DEBUG_SUBSYS"), QStringLiteral("INIT,COLL"));
        QCOMPARE(value("TORCH_NCCL_ASYNC_ERROR_HANDLING"), QStringLiteral("3"));
        QCOMPARE(value("TORCH_NCCL_TRACE_BUFFER_SIZE"), QStringLiteral("2000"));
        QCOMPARE(value("NCCL_P2P_DISABLE"), QStringLiteral("1"));
        QCOMPARE(value("NCCL_IB_DISABLE"), QStringLiteral("1"));
        QCOMPARE(value("NCCL_SOCKET_IFNAME"), QStringLiteral("^lo"));
        // Off by default: none of them is set.
        const QProcessEnvironment plain = rankEnvironment({}, LaunchRequest{}, {0, 0, 1});
        for (const char *name :
             {"NCCL_DEBUG", "NCCL_DEBUG_FILE", "NCCL_P2P_DISABLE", "TORCH_NCCL_ASYNC_ERROR_HANDLING"})
            QVERIFY2(!plain.contains(QLatin1String(name)), name);
    }

    void rankLogNamesRoundTrip()
    {
        for (int rank : {0, 7, 123}) {
            for (int attempt : {0, 1, 12}) {
                const auto log = parseRankLogFileName(rankLogFileName(rank, attempt));
                QVERIFY(log.has_value());
                QCOMPARE(log->rank, rank);
                QCOMPARE(log->attempt, attempt);
                QVERIFY(!log->nccl);
                const auto nccl = parseRankLogFileName(ncclDebugFileName(rank, attempt));
                QVERIFY(nccl.has_value() && nccl->nccl && nccl->rank == rank && nccl->attempt == attempt);
            }
        }
        for (const char *other :
             {"metrics.rank0.jsonl", "rank.log", "rank0.attempt.log", "xrank0.log", "rank0.log.bak"})
            QVERIFY2(!parseRankLogFileName(QLatin1String(other)).has_value(), other);
    }

    void parsesGpuLists()
    {
        QCOMPARE(parseGpuList(QStringLiteral("0,2")), std::optional<QList<int>>(QList<int>{0, 2}));
        QCOMPARE(parseGpuList(QStringLiteral(" 1 , 3 ")), std::optional<QList<int>>(QList<int>{1, 3}));
        QCOMPARE(parseGpuList(QString()), std::optional<QList<int>>(QList<int>{}));
        QVERIFY(!parseGpuList(QStringLiteral("0,0")).has_value());
        QVERIFY(!parseGpuList(QStringLiteral("0,x")).has_value());
        QVERIFY(!parseGpuList(QStringLiteral("-1")).has_value());
    }

    void userSettingsOfOmpAndBufferingAreKept()
    {
        LaunchRequest request;
        request.env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("8"));
        QProcessEnvironment parent;
        parent.insert(QStringLiteral("PYTHONUNBUFFERED"), QStringLiteral("0"));
        const QProcessEnvironment environment = rankEnvironment(parent, request, {0, 0, 1});
        QCOMPARE(environment.value(QStringLiteral("OMP_NUM_THREADS")), QStringLiteral("8"));
        QCOMPARE(environment.value(QStringLiteral("PYTHONUNBUFFERED")), QStringLiteral("0"));
        QVERIFY(!environment.contains(QStringLiteral("CUDA_VISIBLE_DEVICES")));
    }

    // Issue 15, defect 13: a rank in the run's group got SIGTERM from the group and again by its pid.
    void eachProcessOfARunIsSignalledOnce()
    {
        const pid_t group = 100;
        const QList<QPair<pid_t, pid_t>> ranks{{100, 100}, {101, 100}, {102, 555}}; // rank 2 left the group
        const QList<pid_t> targets = signalTargets(group, ranks, QSet<pid_t>{200, 102});
        QCOMPARE(targets, (QList<pid_t>{-100, 102, 200}));
        // What each process receives: once each.
        for (const auto &[pid, rankGroup] : ranks) {
            const qsizetype deliveries = targets.count(pid) + (rankGroup == group ? targets.count(-group) : 0);
            QCOMPARE(deliveries, qsizetype(1));
        }
        // Without a group (it could not be made), every rank by its pid.
        QCOMPARE(signalTargets(0, ranks, {}), (QList<pid_t>{100, 101, 102}));
    }

    void processTableFollowsDescendants()
    {
        const std::vector<ProcessEntry> table{{10, 1, 10, 10, 'S', 0},
                                              {11, 10, 10, 10, 'S', 0},
                                              {12, 11, 12, 12, 'S', 0},
                                              {13, 12, 12, 12, 'Z', 0},
                                              {20, 1, 20, 20, 'S', 0}};
        const std::vector<ProcessEntry> below = descendantsOf(table, {10});
        QList<pid_t> pids;
        for (const ProcessEntry &entry : below)
            pids << entry.pid;
        std::sort(pids.begin(), pids.end());
        QCOMPARE(pids, (QList<pid_t>{11, 12, 13}));
        const auto zombie =
            std::find_if(below.begin(), below.end(), [](const ProcessEntry &entry) { return entry.pid == 13; });
        QVERIFY(zombie != below.end() && !zombie->isLive());
        // This process is in /proc, with its group and session.
        const auto self = readProcessEntry(::getpid());
        QVERIFY(self && self->isLive());
        QCOMPARE(self->group, ::getpgrp());
        QCOMPARE(self->session, ::getsid(0));
    }

    void classifiesFailures_data()
    {
        QTest::addColumn<int>("exitCode"); // -1: none
        QTest::addColumn<int>("signal");   // 0: none
        QTest::addColumn<QStringList>("tail");
        QTest::addColumn<bool>("oomKiller");
        QTest::addColumn<QString>("cause");
        QTest::addColumn<QString>("message");
        const QStringList traceback{"Traceback (most recent call last):", "  File \"train.py\", line 3, in <module>",
                                    "    main()", "KeyError: 'labels'"};
        QTest::newRow("python exception") << 1 << 0 << traceback << false << "python-exception"
                                          << "KeyError: 'labels' (rank 2, exit code 1)";
        QTest::newRow("dotted exception, stamped lines")
            << 1 << 0
            << QStringList{"2026-11-24T18:03:03.123Z Traceback (most recent call last):",
                           "2026-11-24T18:03:03.124Z   File \"x.py\"",
                           "2026-11-24T18:03:03.125Z torch.distributed.DistBackendError: connection reset"}
            << false << "python-exception"
            << "torch.distributed.DistBackendError: connection reset (rank 2, exit code 1)";
        QTest::newRow("cuda oom")
            << 1 << 0
            << QStringList{"Traceback (most recent call last):",
                           "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB"}
            << false << "cuda-oom"
            << "CUDA out of memory on rank 2 (exit code 1): CUDA out of memory. Tried to allocate 20.00 MiB";
        QTest::newRow("nccl error")
            << 1 << 0 << QStringList{"RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:1269, unhandled system error"}
            << false << "nccl"
            << "NCCL error on rank 2 (exit code 1): RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:1269, unhandled "
               "system error";
        QTest::newRow("segfault") << -1 << int(SIGSEGV) << QStringList{"step 4"} << false << "signal"
                                  << "rank 2 was killed by SIGSEGV, Segmentation fault";
        QTest::newRow("sigkill, oom killer") << -1 << int(SIGKILL) << QStringList{} << true << "oom-killer"
                                             << "rank 2 was killed by SIGKILL from the kernel's OOM killer (the "
                                                "cgroup's oom_kill count rose): the machine ran out of host memory";
        QTest::newRow("sigkill from outside") << -1 << int(SIGKILL) << QStringList{} << false << "signal"
                                              << "rank 2 was killed by SIGKILL from outside Trainyard; the kernel's "
                                                 "OOM killer does this when host memory runs out (check dmesg)";
        QTest::newRow("plain exit") << 3 << 0 << QStringList{"fatal: no data", ""} << false << "exit"
                                    << "rank 2 exited with code 3; last output: fatal: no data";
    }
    void classifiesFailures()
    {
        QFETCH(int, exitCode);
        QFETCH(int, signal);
        QFETCH(QStringList, tail);
        QFETCH(bool, oomKiller);
        QFETCH(QString, cause);
        QFETCH(QString, message);
        const FirstFailure failure =
            classifyFailure(2, exitCode >= 0 ? std::optional<int>(exitCode) : std::nullopt,
                            signal > 0 ? std::optional<int>(signal) : std::nullopt, tail, oomKiller);
        QCOMPARE(failure.cause, cause);
        QCOMPARE(failure.message, message);
        QCOMPARE(failure.rank, 2);
        const FirstFailure roundTrip = FirstFailure::fromJson(failure.toJson());
        QCOMPARE(roundTrip.cause, failure.cause);
        QCOMPARE(roundTrip.exitCode, failure.exitCode);
        QCOMPARE(roundTrip.signal, failure.signal);
    }
};

QTEST_GUILESS_MAIN(TestLocalRunner)
#include "tst_localrunner.moc"
