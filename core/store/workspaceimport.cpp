// Import works table by table with INSERT ... SELECT from the attached copy; tables whose rows have their own
// integer ids (events, metric keys, chunks) get new ids here, and metric rows follow their key by (run, key).
#include "store/workspaceimport.h"

#include "atomicfile.h"

#include "store/database.h"
#include "store/sqlite.h"
#include "store/workspace.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QScopeGuard>
#include <QTemporaryDir>

namespace trainyard {

namespace {

QString sqlQuoted(const QString &text)
{
    return QLatin1Char('\'') + QString(text).replace(QLatin1Char('\''), QStringLiteral("''")) + QLatin1Char('\'');
}

// The columns of a table in this database, minus `skip`.
Result<QStringList> columnsOf(SqliteConnection &connection, const QString &table, const QStringList &skip = {})
{
    auto info = connection.prepare(
        QStringLiteral("SELECT name FROM pragma_table_info(%1)").arg(sqlQuoted(table)).toUtf8().constData());
    if (!info)
        return fail(info.error());
    QStringList columns;
    if (auto stepped = info->forEachRow([&] {
            if (!skip.contains(info->columnText(0)))
                columns << info->columnText(0);
        });
        !stepped)
        return fail(stepped.error());
    return columns;
}

Result<std::int64_t> run(SqliteConnection &connection, const QString &sql)
{
    if (auto done = connection.execute(sql.toUtf8().constData()); !done)
        return fail(done.error());
    return connection.changes();
}

} // namespace

Result<ExportSummary> exportBundle(const Workspace &workspace, const QString &bundlePath, bool withArtifacts)
{
    const QString target = QFileInfo(bundlePath).absoluteFilePath();
    if (QFileInfo::exists(target))
        return fail(QStringLiteral("%1 exists already; choose a new file for the bundle").arg(target));
    if (!QFileInfo(QFileInfo(target).absolutePath()).isDir())
        return fail(QStringLiteral("folder %1 does not exist").arg(QFileInfo(target).absolutePath()));
    auto connection = workspace.database().connect();
    if (!connection)
        return fail(connection.error());
    if (auto done = connection->execute(QStringLiteral("VACUUM INTO %1").arg(sqlQuoted(target)).toUtf8().constData());
        !done) {
        QFile::remove(target);
        return fail(QStringLiteral("cannot write the bundle %1: %2").arg(target, done.error()));
    }
    // The runs' artifacts, file by file, into the bundle (the snapshot's runs: those exported).
    auto failed = [&](const QString &message) -> Error {
        QFile::remove(target);
        return fail(QStringLiteral("cannot write the bundle %1: %2").arg(target, message));
    };
    auto bundle = SqliteConnection::open(target, SqliteConnection::Mode::ReadWrite);
    if (!bundle)
        return failed(bundle.error());
    ExportSummary summary;
    QStringList runIds;
    {
        auto runs = bundle->prepare("SELECT id FROM runs ORDER BY id");
        if (!runs)
            return failed(runs.error());
        if (auto read = runs->forEachRow([&] { runIds << runs->columnText(0); }); !read)
            return failed(read.error());
    }
    if (auto made = bundle->execute("CREATE TABLE bundle_artifacts (run_id TEXT NOT NULL, path TEXT NOT NULL, "
                                    "bytes INTEGER NOT NULL, content BLOB NOT NULL, PRIMARY KEY (run_id, path))");
        !made)
        return failed(made.error());
    auto insert = bundle->prepare("INSERT INTO bundle_artifacts (run_id, path, bytes, content) VALUES (?, ?, ?, ?)");
    if (!insert)
        return failed(insert.error());
    constexpr qint64 kMaxBlobBytes = 1000000000; // SQLite's default limit on one value
    if (auto begun = bundle->execute("BEGIN"); !begun)
        return failed(begun.error());
    for (const QString &runId : std::as_const(runIds)) {
        const QDir artifacts(workspace.runDir(runId) + QStringLiteral("/artifacts"));
        if (!artifacts.exists())
            continue;
        QDirIterator it(artifacts.path(), QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString file = it.next();
            const qint64 bytes = it.fileInfo().size();
            if (!withArtifacts || bytes > kMaxBlobBytes) {
                ++summary.leftOut;
                summary.leftOutBytes += bytes;
                if (withArtifacts)
                    summary.tooLarge << file;
                continue;
            }
            QFile in(file);
            if (!in.open(QIODevice::ReadOnly))
                return failed(QStringLiteral("cannot read %1: %2").arg(file, in.errorString()));
            const QByteArray content = in.readAll();
            insert->bind(1, runId);
            insert->bind(2, artifacts.relativeFilePath(file));
            insert->bind(3, std::int64_t(content.size()));
            insert->bindBlob(4, content.constData(), int(content.size()));
            if (auto stored = insert->run(); !stored)
                return failed(stored.error());
            ++summary.artifacts;
            summary.artifactBytes += content.size();
        }
    }
    if (auto committed = bundle->execute("COMMIT"); !committed)
        return failed(committed.error());
    return summary;
}

Result<ImportSummary> importWorkspace(const Workspace &workspace, const QString &source)
{
    const QFileInfo info(source);
    const QString sourceDb =
        info.isDir() ? Workspace::databasePathFor(info.absoluteFilePath()) : info.absoluteFilePath();
    if (!QFileInfo(sourceDb).isFile())
        return fail(
            QStringLiteral("%1 is neither a workspace folder nor a Trainyard bundle (no %2)").arg(source, sourceDb));

    // A private copy (with its write-ahead log, if the source has one): opening the source itself, even read-only,
    // would leave -shm and -wal files beside it, and an older source would have to be upgraded in place.
    QTemporaryDir scratch;
    if (!scratch.isValid())
        return fail(QStringLiteral("cannot create a temporary folder for the import: %1").arg(scratch.errorString()));
    const QString copy = scratch.filePath(QStringLiteral("source.db"));
    if (!QFile::copy(sourceDb, copy))
        return fail(QStringLiteral("cannot read %1").arg(sourceDb));
    if (QFileInfo::exists(sourceDb + QStringLiteral("-wal")))
        (void)QFile::copy(sourceDb + QStringLiteral("-wal"), copy + QStringLiteral("-wal"));
    QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner);
    {
        auto upgraded = Database::open(copy); // brings an older copy to this schema; refuses a newer or foreign file
        if (!upgraded)
            return fail(QStringLiteral("cannot import %1: %2").arg(sourceDb, upgraded.error()));
        auto connection = upgraded->connect();
        if (!connection)
            return fail(connection.error());
        if (auto checkpointed = connection->execute("PRAGMA wal_checkpoint(TRUNCATE)"); !checkpointed)
            return fail(checkpointed.error());
    }

    auto destination = workspace.database().connect();
    if (!destination)
        return fail(destination.error());
    if (QFileInfo(sourceDb).canonicalFilePath()
        == QFileInfo(Workspace::databasePathFor(workspace.root())).canonicalFilePath())
        return fail(QStringLiteral("%1 is this workspace itself").arg(source));
    return [&](SqliteConnection &connection) -> Result<ImportSummary> {
        if (auto attached = connection.execute(
                QStringLiteral("ATTACH DATABASE %1 AS src").arg(sqlQuoted(copy)).toUtf8().constData());
            !attached)
            return fail(attached.error());
        const auto detach = qScopeGuard([&connection] { (void)connection.execute("DETACH DATABASE src"); });
        auto transaction = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Immediate);
        if (!transaction)
            return fail(transaction.error());
        ImportSummary summary;
        const auto step = [&](const QString &sql) -> Result<std::int64_t> { return run(connection, sql); };

        // The runs this workspace does not have yet, by id.
        if (auto made = step(QStringLiteral(
                "CREATE TEMP TABLE import_runs AS SELECT id FROM src.runs WHERE id NOT IN (SELECT id FROM main.runs)"));
            !made)
            return fail(made.error());
        const auto dropTemp =
            qScopeGuard([&connection] { (void)connection.execute("DROP TABLE IF EXISTS temp.import_runs"); });
        auto total = connection.queryInt("SELECT count(*) FROM src.runs");
        auto fresh = connection.queryInt("SELECT count(*) FROM temp.import_runs");
        if (!total || !fresh)
            return fail(!total ? total.error() : fresh.error());
        summary.runsImported = *fresh;
        summary.runsAlreadyPresent = *total - *fresh;

        const auto copyRows = [&](const QString &table, const QString &where,
                                  const QStringList &skip = {}) -> Result<std::int64_t> {
            auto columns = columnsOf(connection, table, skip);
            if (!columns)
                return fail(columns.error());
            const QString list = columns->join(QStringLiteral(", "));
            return step(QStringLiteral("INSERT OR IGNORE INTO main.%1 (%2) SELECT %2 FROM src.%1 WHERE %3")
                            .arg(table, list, where));
        };
        auto sweeps = copyRows(
            QStringLiteral("sweeps"),
            QStringLiteral("id IN (SELECT sweep_id FROM src.runs WHERE id IN (SELECT id FROM temp.import_runs))"));
        if (!sweeps)
            return fail(sweeps.error());
        summary.sweeps = *sweeps;
        const QString ofImportedRuns = QStringLiteral("run_id IN (SELECT id FROM temp.import_runs)");
        // A history both workspaces imported (the same TensorBoard folder) stays with this workspace's run: the
        // incoming run keeps its points but forgets where it came from (runs.source is unique). The copy is ours.
        if (auto forgotten = step(
                QStringLiteral("UPDATE src.runs SET source = NULL WHERE source IN (SELECT source FROM main.runs)"));
            !forgotten)
            return fail(forgotten.error());
        for (const auto &[table, where] :
             {std::pair{QStringLiteral("runs"), QStringLiteral("id IN (SELECT id FROM temp.import_runs)")},
              std::pair{QStringLiteral("tags"), ofImportedRuns}, std::pair{QStringLiteral("params"), ofImportedRuns},
              std::pair{QStringLiteral("run_tags"), ofImportedRuns},
              std::pair{QStringLiteral("sweep_rungs"), ofImportedRuns},
              std::pair{QStringLiteral("sweep_trials"), ofImportedRuns}}) {
            if (auto copied = copyRows(table, where); !copied)
                return fail(copied.error());
        }
        // Every project is an MLflow experiment: the imported runs' projects become experiments here too.
        if (auto experiments = step(QStringLiteral(
                "INSERT OR IGNORE INTO main.experiments (name, artifact_location, lifecycle_stage, created_ms, "
                "updated_ms)"
                " SELECT r.project, coalesce(e.artifact_location, ''), coalesce(e.lifecycle_stage, 'active'), "
                "min(r.created_ms),"
                " max(r.created_ms) FROM src.runs r LEFT JOIN src.experiments e ON e.name = r.project"
                " WHERE r.id IN (SELECT id FROM temp.import_runs) AND r.project <> '' GROUP BY r.project"));
            !experiments)
            return fail(experiments.error());
        if (auto checkpoints = copyRows(QStringLiteral("checkpoints"), ofImportedRuns, {QStringLiteral("id")});
            !checkpoints)
            return fail(checkpoints.error());
        auto events =
            copyRows(QStringLiteral("events"), ofImportedRuns + QStringLiteral(" ORDER BY id"), {QStringLiteral("id")});
        if (!events)
            return fail(events.error());
        summary.events = *events;
        if (auto keys = copyRows(QStringLiteral("metric_keys"), ofImportedRuns + QStringLiteral(" ORDER BY id"),
                                 {QStringLiteral("id")});
            !keys)
            return fail(keys.error());

        // Chunks and bins follow their key: the source key's (run, name) is the key here.
        const QString keyMap = QStringLiteral(" FROM src.%1 x JOIN src.metric_keys sk ON sk.id = x.key_id"
                                              " JOIN main.metric_keys nk ON nk.run_id = sk.run_id AND nk.key = sk.key"
                                              " WHERE sk.run_id IN (SELECT id FROM temp.import_runs)");
        for (const QString &table : {QStringLiteral("metric_chunks"), QStringLiteral("metric_bins")}) {
            auto columns = columnsOf(connection, table, {QStringLiteral("id"), QStringLiteral("key_id")});
            if (!columns)
                return fail(columns.error());
            QStringList selected;
            for (const QString &column : *columns)
                selected << QStringLiteral("x.") + column;
            auto copied =
                step(QStringLiteral("INSERT INTO main.%1 (key_id, %2) SELECT nk.id, %3")
                         .arg(table, columns->join(QStringLiteral(", ")), selected.join(QStringLiteral(", ")))
                     + keyMap.arg(table)
                     + (table == QLatin1String("metric_chunks") ? QStringLiteral(" ORDER BY x.id") : QString()));
            if (!copied)
                return fail(copied.error());
            if (table == QLatin1String("metric_chunks"))
                summary.metricChunks = *copied;
        }
        if (auto committed = transaction->commit(); !committed)
            return fail(committed.error());
        // A bundle's artifacts, into the folders of the runs imported now (a run already here keeps its own).
        auto hasArtifacts = connection.queryInt(
            "SELECT count(*) FROM src.sqlite_master WHERE type = 'table' AND name = 'bundle_artifacts'");
        if (hasArtifacts && *hasArtifacts > 0) {
            auto artifacts = connection.prepare("SELECT run_id, path, content FROM src.bundle_artifacts "
                                                "WHERE run_id IN (SELECT id FROM temp.import_runs)");
            if (!artifacts)
                return fail(artifacts.error());
            auto read = artifacts->forEachRow([&]() -> Result<void> {
                const QString runId = artifacts->columnText(0);
                const QString path = QDir::cleanPath(artifacts->columnText(1));
                // Only paths inside the run's artifacts folder are written.
                if (path.isEmpty() || QDir::isAbsolutePath(path) || path.startsWith(QLatin1String("..")))
                    return {};
                int bytes = 0;
                const auto *data = static_cast<const char *>(artifacts->columnBlob(2, bytes));
                const QString file = workspace.runDir(runId) + QStringLiteral("/artifacts/") + path;
                if (!QDir().mkpath(QFileInfo(file).path()))
                    return fail(QStringLiteral("cannot create %1").arg(QFileInfo(file).path()));
                if (auto written = writeFileAtomically(file, QByteArray(data, bytes)); !written)
                    return fail(written.error());
                ++summary.artifacts;
                return {};
            });
            if (!read)
                return fail(QStringLiteral("the runs are imported, but not all their artifacts: %1").arg(read.error()));
        }
        return summary;
    }(*destination);
}

} // namespace trainyard
