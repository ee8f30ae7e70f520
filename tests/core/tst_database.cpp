// Database: creation, migration from the previous schema, and every refusal leaving the file untouched.
#include "store/database.h"
#include "store/metricenvelope.h"
#include "store/metricqueries.h"
#include "store/runqueries.h"
#include "store/schema.h"
#include "store/sqlite.h"
#include "support/testworkspace.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QProcess>
#include <QScopeGuard>
#include <QTest>

#include <limits>
#include <thread>

using namespace trainyard;

namespace {

QString fixtureSql(const QString &name)
{
    QFile file(QStringLiteral(TRAINYARD_FIXTURES_DIR "/") + name);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readAll());
}

// Builds a database file from SQL with plain SQLite, as another program (or an older Trainyard) would.
bool makeDatabase(const QString &path, const QString &sql)
{
    auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadWriteCreate);
    return connection && connection->execute(sql.toUtf8().constData());
}

std::int64_t queryInt(const QString &path, const char *sql)
{
    auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadOnly);
    if (!connection)
        return -1;
    auto value = connection->queryInt(sql);
    return value ? value.value() : -1;
}

} // namespace

// What schema 14 added, taken away again: a workspace as schema 13 left it.
constexpr const char *kUndoVersion14 =
    "DROP TABLE sweep_trials; DROP TABLE sweep_rungs; ALTER TABLE sweeps DROP COLUMN method;"
    " ALTER TABLE sweeps DROP COLUMN state; ALTER TABLE sweeps DROP COLUMN message;";

// What schema 13 added, taken away again: a workspace as schema 12 left it.
constexpr const char *kUndoVersion13 =
    "DROP TRIGGER run_list_run_updated; DROP INDEX runs_by_parent; ALTER TABLE runs DROP COLUMN parent_run_id;"
    " ALTER TABLE runs DROP COLUMN parent_step; ALTER TABLE runs DROP COLUMN disk_bytes;"
    " ALTER TABLE metric_keys DROP COLUMN superseded_attempt;"
    " CREATE TRIGGER run_list_run_updated AFTER UPDATE OF id, name, status, created_ms, started_ms, ended_ms, command,"
    " cwd, host, backend, exit_summary, sweep_id, archived_ms, alerts ON runs BEGIN"
    " UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';"
    " UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.id; END;";

// What schema 12 added, taken away again: a workspace as schema 11 left it.
constexpr const char *kUndoVersion12 = "DROP TABLE checkpoints;";

// What schema 11 added, taken away again: a workspace as schema 10 left it.
constexpr const char *kUndoVersion11 =
    "DROP TRIGGER run_list_run_updated; ALTER TABLE runs DROP COLUMN archived_ms; ALTER TABLE runs DROP COLUMN alerts;"
    " CREATE TRIGGER run_list_run_updated AFTER UPDATE OF id, name, status, created_ms, started_ms, ended_ms, command,"
    " cwd, host, backend, exit_summary, sweep_id ON runs BEGIN"
    " UPDATE change_sequences SET value = value + 1 WHERE name = 'run_list';"
    " UPDATE runs SET list_seq = (SELECT value FROM change_sequences WHERE name = 'run_list') WHERE id = NEW.id; END;";

// What schema 10 added, taken away again: a workspace as schema 9 left it.
constexpr const char *kUndoVersion10 =
    "DROP TRIGGER run_list_run_inserted; DROP TRIGGER run_list_run_updated; DROP TRIGGER run_list_run_deleted;"
    " DROP TRIGGER run_list_tag_inserted; DROP TRIGGER run_list_tag_deleted; DROP TRIGGER run_list_param_inserted;"
    " DROP TRIGGER run_list_param_updated; DROP TRIGGER run_list_param_deleted; DROP TRIGGER "
    "run_list_system_tag_inserted;"
    " DROP TRIGGER run_list_system_tag_updated; DROP TRIGGER run_list_system_tag_deleted;"
    " DROP TRIGGER run_list_summary_inserted; DROP TRIGGER run_list_summary_updated; DROP TRIGGER "
    "run_list_summary_rebased;"
    " DROP TRIGGER run_list_summary_key_deleted; DROP TRIGGER queue_row_inserted; DROP TRIGGER queue_row_updated;"
    " DROP TRIGGER queue_row_deleted; DROP TABLE run_list_removals; DROP INDEX runs_by_list_seq;"
    " ALTER TABLE runs DROP COLUMN list_seq; DROP TABLE change_sequences;";

// What schema 9 added: a workspace as schema 8 left it.
constexpr const char *kUndoVersion9 =
    "DROP TABLE experiment_tags; DROP TABLE experiments; DROP TABLE run_tags; DROP TABLE tracking_journals;"
    " DROP INDEX runs_by_source; DROP INDEX runs_by_project; ALTER TABLE runs DROP COLUMN source;";

class TestDatabase : public QObject {
    Q_OBJECT
private slots:
    void createsCurrentSchemaInWalMode()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("trainyard.db"));
        auto database = Database::open(path);
        QVERIFY2(database.ok(), database ? "" : qPrintable(database.error()));
        QCOMPARE(database->schemaVersion(), schema::kCurrentVersion);
        QCOMPARE(queryInt(path, "PRAGMA user_version"), std::int64_t(schema::kCurrentVersion));
        QCOMPARE(queryInt(path, "PRAGMA application_id"), std::int64_t(schema::kApplicationId));
        auto connection = database->connect();
        QVERIFY(connection.ok());
        auto mode = connection->prepare("PRAGMA journal_mode");
        QVERIFY(mode.ok());
        QVERIFY(mode->step().ok());
        QCOMPARE(mode->columnText(0), QStringLiteral("wal"));
        for (const char *table :
             {"runs", "params", "tags", "events", "metric_keys", "metric_chunks", "ingest_progress"}) {
            const QByteArray sql =
                QByteArray("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='") + table + "'";
            QCOMPARE(queryInt(path, sql.constData()), std::int64_t(1));
        }
        // Reopening an up-to-date database changes nothing.
        const QByteArray before = test::sha256OfFile(path);
        QVERIFY(Database::open(path).ok());
        QCOMPARE(test::sha256OfFile(path), before);
    }

    void migratesOlderSchemasKeepingData_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<int>("fixtureVersion");
        QTest::addColumn<QString>("failedRunHost");
        QTest::newRow("previous schema (2)") << "schema-v2.sql" << 2 << "gpu-box-1";
        QTest::newRow("first schema (1)") << "schema-v1.sql" << 1 << "";
    }
    void migratesOlderSchemasKeepingData()
    {
        QFETCH(QString, fixture);
        QFETCH(int, fixtureVersion);
        QFETCH(QString, failedRunHost);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("trainyard.db"));
        const QString sql = fixtureSql(fixture);
        QVERIFY(!sql.isEmpty());
        QVERIFY(makeDatabase(path, sql));
        QCOMPARE(queryInt(path, "PRAGMA user_version"), std::int64_t(fixtureVersion));

        auto database = Database::open(path);
        QVERIFY2(database.ok(), database ? "" : qPrintable(database.error()));
        QCOMPARE(database->schemaVersion(), schema::kCurrentVersion);
        QCOMPARE(queryInt(path, "PRAGMA user_version"), std::int64_t(schema::kCurrentVersion));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM sqlite_master WHERE name='ingest_progress'"), std::int64_t(1));

        auto connection = database->connect();
        QVERIFY(connection.ok());
        auto runs = runqueries::listRuns(connection.value());
        QVERIFY(runs.ok());
        QCOMPARE(runs->size(), 2);
        QCOMPARE(runs->at(0).name, QStringLiteral("resnet-lr-sweep")); // newest first
        QCOMPARE(toString(runs->at(0).status), toString(RunStatus::Failed));
        QCOMPARE(runs->at(0).tags, QStringList{"sweep"});
        QCOMPARE(runs->at(1).command, (QStringList{"/usr/bin/python3", "train.py", "--lr=0.1"}));
        QCOMPARE(runs->at(1).backend, QStringLiteral("local")); // the new column's default
        QCOMPARE(runs->at(1).host, QString());
        QCOMPARE(runs->at(0).host, failedRunHost);
        // The version-2 point rows became one chunk, values and times intact, and the old table is gone.
        QCOMPARE(queryInt(path, "SELECT count(*) FROM metric_chunks"), std::int64_t(1));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM sqlite_master WHERE name='metric_points'"), std::int64_t(0));
        auto loss =
            metricqueries::series(connection.value(), QStringLiteral("20261101-090000-0001"), QStringLiteral("loss"));
        QVERIFY(loss.ok());
        QCOMPARE(loss->size(), 3);
        QCOMPARE(loss->at(1).step, std::int64_t(1));
        QCOMPARE(loss->at(1).value, 1.70);
        QCOMPARE(loss->at(2).tsMs, std::optional<std::int64_t>(1761987608000));
        // Version 4 built the pyramid from the converted chunk: every level holds all three points.
        QCOMPARE(queryInt(path, "SELECT count(DISTINCT level) FROM metric_bins"), std::int64_t(kBinLevelCount));
        QCOMPARE(queryInt(path, "SELECT min(n) FROM metric_bins WHERE level = (SELECT max(level) FROM metric_bins)"),
                 std::int64_t(3));
        auto lossEnvelope = metricqueries::envelope(connection.value(), QStringLiteral("20261101-090000-0001"),
                                                    QStringLiteral("loss"), EnvelopeRequest{});
        QVERIFY(lossEnvelope.ok());
        QVERIFY(lossEnvelope->fullResolution);
        QCOMPARE(lossEnvelope->buckets.size(), std::size_t(3));
        QCOMPARE(lossEnvelope->buckets[1].summary.lastValue, 1.70);
        QCOMPARE(queryInt(path, "SELECT count(*) FROM events WHERE detail IS NULL"), std::int64_t(3));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM sqlite_master WHERE name='events_by_run_time'"), std::int64_t(1));
    }

    void failedMigrationChangesNothing()
    {
        // A v1 database that already has an object named like one that migration 2 creates: the migration
        // fails half way, and the single transaction must leave the file exactly as it was.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("trainyard.db"));
        QVERIFY(makeDatabase(
            path, fixtureSql(QStringLiteral("schema-v1.sql")) + QStringLiteral("CREATE TABLE runs_by_status(x);")));
        const QByteArray before = test::sha256OfFile(path);
        auto database = Database::open(path);
        QVERIFY(!database.ok());
        QVERIFY2(database.error().contains(QStringLiteral("from schema version 1 to 2")), qPrintable(database.error()));
        QVERIFY(database.error().contains(path));
        QCOMPARE(queryInt(path, "PRAGMA user_version"), std::int64_t(1));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM pragma_table_info('runs') WHERE name='host'"), std::int64_t(0));
        QCOMPARE(test::sha256OfFile(path), before);
    }

    void refusesNewerSchemaUntouched()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("trainyard.db"));
        const int future = schema::kCurrentVersion + 1;
        QVERIFY(makeDatabase(path,
                             QStringLiteral("PRAGMA application_id = %1; CREATE TABLE runs(id TEXT); "
                                            "CREATE TABLE future_things(x); PRAGMA user_version = %2;")
                                 .arg(schema::kApplicationId)
                                 .arg(future)));
        const QByteArray before = test::sha256OfFile(path);
        auto database = Database::open(path);
        QVERIFY(!database.ok());
        const QString message = database.error();
        QVERIFY2(message.contains(QStringLiteral("schema version %1").arg(future)), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("up to %1").arg(schema::kCurrentVersion)), qPrintable(message));
        QVERIFY(message.contains(path));
        QCOMPARE(test::sha256OfFile(path), before);
        QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
    }

    void refusesNonSqliteFileUntouched_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("text") << QByteArray("these are my notes, not a database\n");
        QTest::newRow("short") << QByteArray("SQLite");
        QTest::newRow("binary") << QByteArray(4096, '\x7f');
    }
    void refusesNonSqliteFileUntouched()
    {
        QFETCH(QByteArray, content);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("trainyard.db"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
        file.close();
        const QByteArray before = test::sha256OfFile(path);
        auto database = Database::open(path);
        QVERIFY(!database.ok());
        QVERIFY2(database.error().contains(QStringLiteral("not an SQLite database")), qPrintable(database.error()));
        QVERIFY(database.error().contains(path));
        QCOMPARE(test::sha256OfFile(path), before);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"trainyard.db"});
    }

    void refusesForeignSqliteDatabaseUntouched()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("trainyard.db"));
        QVERIFY(makeDatabase(
            path,
            QStringLiteral(
                "CREATE TABLE moz_bookmarks(id INTEGER, url TEXT); INSERT INTO moz_bookmarks VALUES (1, 'x');")));
        const QByteArray before = test::sha256OfFile(path);
        auto database = Database::open(path);
        QVERIFY(!database.ok());
        QVERIFY2(database.error().contains(QStringLiteral("not a Trainyard workspace")), qPrintable(database.error()));
        QVERIFY(database.error().contains(QStringLiteral("moz_bookmarks")));
        QCOMPARE(test::sha256OfFile(path), before);
    }

    void refusesDamagedDatabaseUntouched()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("trainyard.db"));
        QVERIFY(Database::open(path).ok());
        // Keep the 100-byte header, destroy the schema page.
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        file.seek(100);
        file.write(QByteArray(3000, '\x5a'));
        file.close();
        const QByteArray before = test::sha256OfFile(path);
        auto database = Database::open(path);
        QVERIFY(!database.ok());
        QVERIFY2(database.error().contains(path), qPrintable(database.error()));
        QCOMPARE(test::sha256OfFile(path), before);
    }

    // Schema 9: every project of an older workspace becomes an MLflow experiment (with Default as experiment 0), and
    // runs gain the import source and key-value tags.
    void upgradeToNineMakesProjectsExperiments()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        NewRun run;
        run.name = QStringLiteral("older");
        run.project = QStringLiteral("vision");
        QVERIFY(workspace.writer().createRun(run).get());
        const QString path = workspace.workspace().database().path();
        {
            auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadWrite);
            QVERIFY(connection->execute(kUndoVersion14));
            QVERIFY(connection->execute(kUndoVersion13));
            QVERIFY(connection->execute(kUndoVersion12));
            QVERIFY(connection->execute(kUndoVersion11));
            QVERIFY(connection->execute(kUndoVersion10));
            QVERIFY(connection->execute(kUndoVersion9));
            QVERIFY(connection->execute("PRAGMA user_version = 8"));
        }
        auto reopened = Database::open(path);
        QVERIFY2(reopened.ok(), reopened ? "" : qPrintable(reopened.error()));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM experiments WHERE id = 0 AND name = 'Default'"), std::int64_t(1));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM experiments WHERE id > 0 AND name = 'vision'"), std::int64_t(1));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM runs WHERE source IS NULL"), std::int64_t(1));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM run_tags"), std::int64_t(0));
    }

    // Schema 7 keeps each run's GPU utilisation samples on its row: the writer adds every telemetry chunk's
    // finite values, and the upgrade from 6 computes them from the pyramids of runs recorded before it.
    void gpuUtilizationKeptPerRunAndComputedByTheUpgrade()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString busy = workspace.addRun(QStringLiteral("busy"), RunStatus::Succeeded);
        const QString idle = workspace.addRun(QStringLiteral("no-telemetry"), RunStatus::Succeeded);
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QVERIFY(workspace.addPoints(busy, QStringLiteral("sys/gpu0/utilization_percent"), {0, 1, 2}, {50, nan, 70}));
        QVERIFY(workspace.addPoints(busy, QStringLiteral("sys/gpu1/utilization_percent"), {0}, {90}));
        QVERIFY(workspace.addPoints(busy, QStringLiteral("sys/gpu0/memory_used_mib"), {0}, {30000})); // not utilisation
        QVERIFY(workspace.addPoints(busy, QStringLiteral("loss"), {0, 1}, {2.5, 2.0}));
        QVERIFY(workspace.addPoints(idle, QStringLiteral("loss"), {0}, {1.0}));
        const QString path = workspace.workspace().database().path();
        const auto utilization = [&](const QString &runId) {
            auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadOnly);
            auto select = connection->prepare("SELECT gpu_util_sum, gpu_util_samples FROM runs WHERE id = ?");
            select->bind(1, runId);
            auto row = select->step();
            if (!row || !row.value())
                return std::pair<double, std::int64_t>(-1, -1);
            return std::pair(select->columnDouble(0), select->columnInt(1));
        };
        QCOMPARE(utilization(busy), std::pair(210.0, std::int64_t(3)));
        QCOMPARE(utilization(idle), std::pair(0.0, std::int64_t(0)));

        // The same workspace as schema 6 left it: no such columns. Opening it upgrades and recomputes them.
        {
            auto connection = SqliteConnection::open(path, SqliteConnection::Mode::ReadWrite);
            QVERIFY(connection.ok());
            // Undo versions 9, 8 and 7: no tracking tables, no preflight history, no utilisation columns, version 6's index back.
            QVERIFY(connection->execute(kUndoVersion14));
            QVERIFY(connection->execute(kUndoVersion13));
            QVERIFY(connection->execute(kUndoVersion12));
            QVERIFY(connection->execute(kUndoVersion11));
            QVERIFY(connection->execute(kUndoVersion10));
            QVERIFY(connection->execute(kUndoVersion9));
            QVERIFY(
                connection
                    ->execute("DROP TABLE preflight_results; ALTER TABLE runs DROP COLUMN gpu_util_sum;"
                              " ALTER TABLE runs DROP COLUMN gpu_util_samples;"
                              " CREATE INDEX metric_keys_by_key ON metric_keys(key, run_id); PRAGMA user_version = 6;")
                    .ok());
        }
        auto reopened = Database::open(path);
        QVERIFY2(reopened.ok(), reopened ? "" : qPrintable(reopened.error()));
        QCOMPARE(reopened->schemaVersion(), schema::kCurrentVersion);
        QCOMPARE(utilization(busy), std::pair(210.0, std::int64_t(3)));
        QCOMPARE(utilization(idle), std::pair(0.0, std::int64_t(0)));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'metric_keys_by_key'"),
                 std::int64_t(0));
        QCOMPARE(queryInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'preflight_results'"),
                 std::int64_t(1));
    }

    void readerSeesConsistentSnapshotWhileWriterCommits()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        workspace.addRun(QStringLiteral("first"), RunStatus::Succeeded);

        auto writer = workspace.workspace().database().connect();
        auto reader = workspace.workspace().database().connect();
        QVERIFY(writer.ok() && reader.ok());

        // The writer is half way through a transaction that adds runs and events.
        QVERIFY(writer->execute("BEGIN IMMEDIATE").ok());
        QVERIFY(writer
                    ->execute("INSERT INTO runs (id, name, status, created_ms, command, cwd) "
                              "VALUES ('r2', 'second', 'running', 2000000000000, '[]', '/')")
                    .ok());

        // A reader is not blocked and does not see uncommitted rows.
        auto during = runqueries::listRuns(reader.value());
        QVERIFY2(during.ok(), during ? "" : qPrintable(during.error()));
        QCOMPARE(during->size(), 1);

        // A reader inside one snapshot keeps seeing it even after the writer commits.
        QVERIFY(reader->execute("BEGIN").ok());
        QCOMPARE(reader->queryInt("SELECT count(*) FROM runs").value(), std::int64_t(1));
        std::thread commitInOtherThread([&] {
            (void)writer->execute("INSERT INTO events (run_id, ts_ms, to_status) VALUES ('r2', 1, 'running')");
            (void)writer->execute("COMMIT");
        });
        commitInOtherThread.join();
        QCOMPARE(reader->queryInt("SELECT count(*) FROM runs").value(), std::int64_t(1));
        QCOMPARE(reader->queryInt("SELECT count(*) FROM events WHERE run_id='r2'").value(), std::int64_t(0));
        QVERIFY(reader->execute("COMMIT").ok());

        // A new snapshot sees both the run and its event.
        auto after = runqueries::listRuns(reader.value());
        QVERIFY(after.ok());
        QCOMPARE(after->size(), 2);
        QCOMPARE(after->at(0).name, QStringLiteral("second"));
        QCOMPARE(reader->queryInt("SELECT count(*) FROM events WHERE run_id='r2'").value(), std::int64_t(1));
    }

    // The run list's change sequence (schema 10): a reader given its last sequence gets exactly the runs whose list
    // columns, tags, params, mlflow.* tags or metric summaries changed, and the ids of deleted runs; a commit that
    // changes nothing the list shows (GPU telemetry sums, first_metric_ms) gives nothing, and the queue has its own.
    void runListChangesNameOnlyWhatChanged()
    {
        test::TestWorkspace workspace;
        QVERIFY(workspace.isValid());
        const QString a = workspace.addRun(QStringLiteral("a"), RunStatus::Running);
        const QString b = workspace.addRun(QStringLiteral("b"), RunStatus::Succeeded, {QStringLiteral("baseline")});
        const QString c = workspace.addRun(QStringLiteral("c"), RunStatus::Failed);
        auto connection = workspace.workspace().database().connect();
        QVERIFY(connection);
        auto execute = [&](const QString &sql) {
            return workspace.writer()
                .submit<void>([sql](SqliteConnection &db) { return db.execute(sql.toUtf8().constData()); })
                .get()
                .ok();
        };
        const auto idsOf = [](const RunListChange &change) {
            QStringList ids;
            for (const RunRecord &run : change.upserted)
                ids << run.id;
            ids.sort();
            return ids;
        };

        auto full = runqueries::readRunListChanges(connection.value(), std::nullopt);
        QVERIFY2(full, full ? "" : qPrintable(full.error()));
        QVERIFY(full->complete);
        QCOMPARE(full->upserted.size(), 3);
        std::int64_t since = full->sequence;
        QVERIFY(since > 0);

        auto nothing = runqueries::readRunListChanges(connection.value(), since);
        QVERIFY2(nothing, nothing ? "" : qPrintable(nothing.error()));
        QVERIFY(nothing->isEmpty());
        QCOMPARE(nothing->sequence, since);

        // A status change: that run only, with its new status.
        QVERIFY(workspace.writer().recordStatus(a, RunStatus::Succeeded, QDateTime::currentDateTimeUtc()).get());
        auto status = runqueries::readRunListChanges(connection.value(), since);
        QVERIFY2(status, status ? "" : qPrintable(status.error()));
        QVERIFY(!status->complete);
        QCOMPARE(idsOf(status.value()), QStringList{a});
        QVERIFY(status->upserted.first().status == RunStatus::Succeeded);
        since = status->sequence;

        // Columns the list does not show, and telemetry: nothing.
        QVERIFY(execute(
            QStringLiteral("UPDATE runs SET gpu_util_sum = gpu_util_sum + 50, gpu_util_samples = gpu_util_samples + 1,"
                           " first_metric_ms = 7 WHERE id = '%1'")
                .arg(b)));
        auto unshown = runqueries::readRunListChanges(connection.value(), since);
        QVERIFY(unshown && unshown->isEmpty());

        // Metric points: that run, with its summary.
        QVERIFY(workspace.addPoints(b, QStringLiteral("loss"), {0, 1, 2}, {0.9, 0.5, 0.7}));
        auto metric = runqueries::readRunListChanges(connection.value(), since);
        QVERIFY(metric);
        QCOMPARE(idsOf(metric.value()), QStringList{b});
        QCOMPARE(metric->upserted.first().metrics.value(QStringLiteral("loss")).min, 0.5);
        QCOMPARE(metric->upserted.first().tags, QStringList{QStringLiteral("baseline")}); // details read with it
        since = metric->sequence;

        // A tag on one run, a param on another, an mlflow.* tag on a third; a plain key-value tag is not shown.
        QVERIFY(execute(QStringLiteral("INSERT INTO tags (run_id, tag) VALUES ('%1', 'new')").arg(a)));
        QVERIFY(execute(QStringLiteral("INSERT INTO params (run_id, key, value) VALUES ('%1', 'lr', '0.1')").arg(b)));
        QVERIFY(execute(
            QStringLiteral("INSERT INTO run_tags (run_id, key, value) VALUES ('%1', 'mlflow.user', 'ann')").arg(c)));
        auto details = runqueries::readRunListChanges(connection.value(), since);
        QVERIFY(details);
        QStringList all{a, b, c};
        all.sort();
        QCOMPARE(idsOf(details.value()), all);
        since = details->sequence;
        QVERIFY(execute(QStringLiteral("INSERT INTO run_tags (run_id, key, value) VALUES ('%1', 'team', 'x')").arg(c)));
        QVERIFY(runqueries::readRunListChanges(connection.value(), since)->isEmpty());

        // A deleted run is named as removed; the queue's sequence moves with the queue only.
        auto queueBefore = runqueries::changeSequence(connection.value(), ChangeSequence::Queue);
        QVERIFY(execute(QStringLiteral("DELETE FROM runs WHERE id = '%1'").arg(c)));
        auto removed = runqueries::readRunListChanges(connection.value(), since);
        QVERIFY(removed);
        QCOMPARE(removed->removed, QStringList{c});
        QVERIFY(removed->upserted.isEmpty());
        QCOMPARE(runqueries::changeSequence(connection.value(), ChangeSequence::Queue).value(), queueBefore.value());
        QVERIFY(execute(
            QStringLiteral("INSERT INTO queue (run_id, position, gpus, enqueued_ms) VALUES ('%1', 1, 0, 0)").arg(a)));
        QVERIFY(runqueries::changeSequence(connection.value(), ChangeSequence::Queue).value() > queueBefore.value());
    }

    // A full disk is named as such, not as a damaged database (issue 15, defect 10): on a 2 MiB tmpfs (mounted here;
    // root only) filled up after the workspace was made, opening the database fails with "is full", the file intact.
    void fullDiskIsNamedNotDamaged()
    {
        QTemporaryDir dir;
        const QString mountPoint = dir.filePath(QStringLiteral("small"));
        QVERIFY(QDir().mkpath(mountPoint));
        QProcess mount;
        mount.start(QStringLiteral("mount"),
                    {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"), QStringLiteral("size=2m"),
                     QStringLiteral("tmpfs"), mountPoint});
        if (!mount.waitForFinished(10000) || mount.exitStatus() != QProcess::NormalExit || mount.exitCode() != 0)
            QSKIP(qPrintable(QStringLiteral("needs root to mount a small tmpfs (%1)")
                                 .arg(QString::fromLocal8Bit(mount.readAllStandardError()).trimmed())));
        const auto unmount = qScopeGuard([&] { QProcess::execute(QStringLiteral("umount"), {mountPoint}); });
        const QString path = mountPoint + QStringLiteral("/trainyard.db");
        {
            auto database = Database::open(path);
            QVERIFY2(database, database ? "" : qPrintable(database.error()));
        }
        const QByteArray before = test::sha256OfFile(path);
        {
            QFile fill(mountPoint + QStringLiteral("/fill"));
            QVERIFY(fill.open(QIODevice::WriteOnly));
            const QByteArray block(4096, '\0');
            while (fill.write(block) == block.size() && fill.flush()) { }
        }
        auto refused = Database::open(path);
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QStringLiteral("is full")), qPrintable(refused.error()));
        QVERIFY2(!refused.error().contains(QStringLiteral("damaged")), qPrintable(refused.error()));
        QVERIFY2(refused.error().contains(path), qPrintable(refused.error()));
        QCOMPARE(test::sha256OfFile(path), before);
        // Space again: the same database opens.
        QVERIFY(QFile::remove(mountPoint + QStringLiteral("/fill")));
        auto reopened = Database::open(path);
        QVERIFY2(reopened, reopened ? "" : qPrintable(reopened.error()));
    }

    // A database on a read-only file system was called damaged, naming the SQL it failed in (issue 15, defect 14).
    // Its error names the file and the mount; the file is unchanged. Root only (mount, remount).
    void readOnlyFileSystemIsNamedNotDamaged()
    {
        QTemporaryDir dir;
        const QString mountPoint = dir.filePath(QStringLiteral("ro"));
        QVERIFY(QDir().mkpath(mountPoint));
        if (QProcess::execute(QStringLiteral("mount"),
                              {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                               QStringLiteral("size=4m"), QStringLiteral("tmpfs"), mountPoint})
            != 0)
            QSKIP("needs root to mount a tmpfs");
        const auto unmount = qScopeGuard([&] { QProcess::execute(QStringLiteral("umount"), {mountPoint}); });
        const QString path = mountPoint + QStringLiteral("/trainyard.db");
        {
            auto database = Database::open(path);
            QVERIFY2(database, database ? "" : qPrintable(database.error()));
        }
        const QByteArray before = test::sha256OfFile(path);
        QCOMPARE(QProcess::execute(QStringLiteral("mount"),
                                   {QStringLiteral("-o"), QStringLiteral("remount,ro"), mountPoint}),
                 0);
        auto refused = Database::open(path);
        QVERIFY(!refused);
        QVERIFY2(refused.error().startsWith(
                     QStringLiteral("cannot open %1: the file system holding it (%2) is mounted read-only")
                         .arg(path, mountPoint)),
                 qPrintable(refused.error()));
        QVERIFY2(!refused.error().contains(QStringLiteral("damaged")), qPrintable(refused.error()));
        QCOMPARE(test::sha256OfFile(path), before);
    }
};

QTEST_GUILESS_MAIN(TestDatabase)
#include "tst_database.moc"
