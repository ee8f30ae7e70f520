// StoreWriter: the single writer thread, its batches, savepoints and run state changes.
#include "logging.h"
#include "store/runqueries.h"
#include "store/storewriter.h"
#include "support/testworkspace.h"

#include <QLoggingCategory>
#include <QMutex>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <thread>
#include <vector>

using namespace trainyard;

class TestStoreWriter : public QObject {
    Q_OBJECT
private slots:
    // One area's debug messages turn on with a logging rule, as QT_LOGGING_RULES sets them; the others stay quiet.
    void loggingRulesTurnOnOneArea()
    {
        struct Captured {
            QString category;
            QString message;
        };
        static QList<Captured> captured;
        static QMutex capturedMutex;
        captured.clear();
        const QtMessageHandler previous =
            qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &context, const QString &message) {
                if (type == QtDebugMsg && QByteArray(context.category).startsWith("trainyard.")) {
                    const QMutexLocker lock(&capturedMutex);
                    captured.append({QString::fromLatin1(context.category), message});
                }
            });
        const auto restore = qScopeGuard([previous] {
            qInstallMessageHandler(previous);
            QLoggingCategory::setFilterRules(QString());
        });
        const auto createRun = [](test::TestWorkspace &workspace) {
            NewRun run;
            run.name = QStringLiteral("logged");
            run.command = {QStringLiteral("python3")};
            return workspace.writer().createRun(run).get().ok();
        };
        const auto messagesOf = [](const QString &category) {
            const QMutexLocker lock(&capturedMutex);
            QStringList messages;
            for (const Captured &entry : std::as_const(captured))
                if (entry.category == category)
                    messages << entry.message;
            return messages;
        };

        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        QVERIFY(!lcStore().isDebugEnabled()); // off by default
        QVERIFY(lcStore().isWarningEnabled());
        QVERIFY(createRun(workspace));
        QVERIFY(messagesOf(QStringLiteral("trainyard.store")).isEmpty());

        QLoggingCategory::setFilterRules(QStringLiteral("trainyard.store.debug=true"));
        QVERIFY(lcStore().isDebugEnabled());
        QVERIFY(!lcLaunch().isDebugEnabled() && !lcIngest().isDebugEnabled() && !lcUi().isDebugEnabled());
        QVERIFY(createRun(workspace));
        const QStringList store = messagesOf(QStringLiteral("trainyard.store"));
        QVERIFY2(!store.isEmpty() && store.last().endsWith(QStringLiteral("committed 1 operation(s)")),
                 qPrintable(store.join(QLatin1Char('\n'))));
        QVERIFY(store.last().startsWith(workspace.workspace().database().path()));
        QVERIFY(messagesOf(QStringLiteral("trainyard.launch")).isEmpty());

        QLoggingCategory::setFilterRules(QStringLiteral("trainyard.*.debug=false"));
        const qsizetype before = store.size();
        QVERIFY(createRun(workspace));
        QCOMPARE(messagesOf(QStringLiteral("trainyard.store")).size(), before);
    }

    void createRunStoresEverything()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        NewRun run;
        run.name = QStringLiteral("resnet");
        run.command = {QStringLiteral("python3"), QStringLiteral("a b.py")};
        run.cwd = QStringLiteral("/work");
        run.host = QStringLiteral("gpu-box");
        run.tags = {QStringLiteral("baseline"), QStringLiteral("amp")};
        run.params = {{QStringLiteral("lr"), QStringLiteral("0.001")}};
        run.createdAt = QDateTime::fromMSecsSinceEpoch(1764000000000, Qt::UTC);
        auto id = workspace.writer().createRun(run).get();
        QVERIFY2(id.ok(), id ? "" : qPrintable(id.error()));
        QVERIFY(QRegularExpression(QStringLiteral("^\\d{8}-\\d{6}-[0-9a-f]{6}$")).match(id.value()).hasMatch());

        auto connection = workspace.workspace().database().connect();
        auto stored = runqueries::findRun(connection.value(), id.value());
        QVERIFY(stored.ok());
        QCOMPARE(stored->name, run.name);
        QCOMPARE(stored->command, run.command);
        QCOMPARE(stored->cwd, run.cwd);
        QCOMPARE(stored->host, run.host);
        QCOMPARE(stored->backend, QStringLiteral("local"));
        QCOMPARE(stored->tags, (QStringList{"amp", "baseline"}));
        QCOMPARE(toString(stored->status), toString(RunStatus::Queued));
        QCOMPARE(stored->createdAt, run.createdAt);
        QCOMPARE(connection->queryInt("SELECT count(*) FROM params WHERE key='lr' AND value='0.001'").value(),
                 std::int64_t(1));
    }

    void statusChangesSetTimesAndEvents()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QDateTime t0 = QDateTime::fromMSecsSinceEpoch(1764000000000, Qt::UTC);
        const QString id = workspace.addRun(QStringLiteral("r"), RunStatus::Queued, {}, t0);
        QVERIFY(workspace.writer().recordStatus(id, RunStatus::Starting, t0.addSecs(2)).get().ok());
        QVERIFY(workspace.writer().recordStatus(id, RunStatus::Running, t0.addSecs(3)).get().ok());
        QVERIFY(workspace.writer()
                    .recordStatus(id, RunStatus::Restarting, t0.addSecs(10), QStringLiteral("rank 1 failed"))
                    .get()
                    .ok());
        QVERIFY(workspace.writer().recordStatus(id, RunStatus::Running, t0.addSecs(12)).get().ok());
        QVERIFY(workspace.writer().recordStatus(id, RunStatus::Failed, t0.addSecs(60)).get().ok());

        auto connection = workspace.workspace().database().connect();
        auto run = runqueries::findRun(connection.value(), id);
        QVERIFY(run.ok());
        QCOMPARE(toString(run->status), toString(RunStatus::Failed));
        QCOMPARE(run->startedAt, t0.addSecs(3)); // the first start, not the restart
        QCOMPARE(run->endedAt, t0.addSecs(60));
        QCOMPARE(run->durationSeconds(QDateTime::currentDateTimeUtc()), std::optional<qint64>(57));
        auto events = runqueries::events(connection.value(), id);
        QVERIFY(events.ok());
        QStringList transitions;
        for (const RunEvent &event : events.value())
            transitions << event.fromStatus + QStringLiteral("->") + event.toStatus;
        QCOMPARE(transitions,
                 (QStringList{"->queued", "queued->starting", "starting->running", "running->restarting",
                              "restarting->running", "running->failed"}));
        QCOMPARE(events->at(3).detail, QStringLiteral("rank 1 failed"));
    }

    void unknownRunIsAnErrorNamingIt()
    {
        test::TestWorkspace workspace;
        auto result =
            workspace.writer()
                .recordStatus(QStringLiteral("no-such-run"), RunStatus::Running, QDateTime::currentDateTimeUtc())
                .get();
        QVERIFY(!result.ok());
        QVERIFY(result.error().contains(QStringLiteral("no-such-run")));
    }

    void failingOperationDoesNotUndoItsBatch()
    {
        test::TestWorkspace workspace;
        std::vector<std::future<Result<void>>> results;
        auto insertTag = [](QString tag) {
            return [tag](SqliteConnection &connection) -> Result<void> {
                auto statement = connection.prepare("INSERT INTO runs (id, name, status, created_ms, command, cwd) "
                                                    "VALUES (?, 'n', 'queued', 0, '[]', '/')");
                if (!statement)
                    return fail(statement.error());
                statement->bind(1, tag);
                return statement->run();
            };
        };
        results.push_back(workspace.writer().submit<void>(insertTag(QStringLiteral("a"))));
        results.push_back(workspace.writer().submit<void>(insertTag(QStringLiteral("a")))); // duplicate key: fails
        results.push_back(workspace.writer().submit<void>(insertTag(QStringLiteral("b"))));
        QVERIFY(results[0].get().ok());
        auto duplicate = results[1].get();
        QVERIFY(!duplicate.ok());
        QVERIFY2(duplicate.error().contains(QStringLiteral("UNIQUE")), qPrintable(duplicate.error()));
        QVERIFY(results[2].get().ok());
        auto connection = workspace.workspace().database().connect();
        QCOMPARE(connection->queryInt("SELECT count(*) FROM runs").value(), std::int64_t(2));
    }

    void writesFromManyThreadsAreBatchedAndAllCommitted()
    {
        test::TestWorkspace workspace;
        // Counted on this thread: the signal arrives queued from the writer thread.
        QObject receiver;
        int operations = 0;
        int batches = 0;
        connect(&workspace.writer(), &StoreWriter::batchCommitted, &receiver, [&](int count) {
            operations += count;
            ++batches;
        });
        constexpr int kThreads = 4;
        constexpr int kRunsPerThread = 250;
        std::vector<std::thread> threads;
        std::vector<std::vector<std::future<Result<QString>>>> futures(kThreads);
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kRunsPerThread; ++i) {
                    NewRun run;
                    run.name = QStringLiteral("t%1-%2").arg(t).arg(i);
                    futures[t].push_back(workspace.writer().createRun(run));
                }
            });
        }
        for (auto &thread : threads)
            thread.join();
        for (auto &perThread : futures) {
            for (auto &future : perThread)
                QVERIFY(future.get().ok());
        }
        workspace.writer().flush();
        auto connection = workspace.workspace().database().connect();
        QCOMPARE(connection->queryInt("SELECT count(*) FROM runs").value(), std::int64_t(kThreads * kRunsPerThread));
        QTRY_COMPARE_WITH_TIMEOUT(operations, kThreads * kRunsPerThread + 1, 5000); // + the flush
        QVERIFY2(batches < kThreads * kRunsPerThread, "writes should share transactions");
    }

    void destructorCommitsEverythingQueued()
    {
        QTemporaryDir dir;
        auto workspace = Workspace::open(dir.path());
        QVERIFY(workspace.ok());
        {
            auto writer = StoreWriter::start(workspace->database());
            QVERIFY(writer.ok());
            for (int i = 0; i < 100; ++i) {
                NewRun run;
                run.name = QString::number(i);
                (void)writer.value()->createRun(run);
            }
        }
        auto connection = workspace->database().connect();
        QCOMPARE(connection->queryInt("SELECT count(*) FROM runs").value(), std::int64_t(100));
    }
};

QTEST_GUILESS_MAIN(TestStoreWriter)
#include "tst_storewriter.moc"
