// The writer thread: drains its queue into one transaction at a time.
#include "store/storewriter.h"

#include "logging.h"
#include "store/database.h"
#include "store/trackingstore.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <sqlite3.h>

namespace trainyard {

namespace {
constexpr int kRunIdAttempts = 16;
}

Result<std::unique_ptr<StoreWriter>> StoreWriter::start(const Database &database)
{
    auto connection = database.connect();
    if (!connection)
        return fail(connection.error());
    std::unique_ptr<StoreWriter> writer(new StoreWriter(std::move(connection.value())));
    writer->m_thread = std::thread([raw = writer.get()] { raw->runLoop(); });
    return writer;
}

StoreWriter::StoreWriter(SqliteConnection connection) : m_connection(std::move(connection)) { }

StoreWriter::~StoreWriter()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wakeUp.notify_one();
    if (m_thread.joinable())
        m_thread.join();
}

void StoreWriter::enqueue(PendingWrite write)
{
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(write));
    }
    m_wakeUp.notify_one();
}

void StoreWriter::runLoop()
{
    for (;;) {
        std::deque<PendingWrite> batch;
        {
            std::unique_lock lock(m_mutex);
            m_wakeUp.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty() && m_stopping)
                return;
            batch.swap(m_queue);
        }
        commitBatch(batch);
    }
}

void StoreWriter::commitBatch(std::deque<PendingWrite> &batch)
{
    QString commitError;
    {
        auto transaction = SqliteTransaction::begin(m_connection, SqliteTransaction::Kind::Immediate);
        if (!transaction) {
            commitError = transaction.error();
        } else {
            for (PendingWrite &write : batch) {
                if (auto savepoint = m_connection.execute("SAVEPOINT operation"); !savepoint) {
                    commitError = savepoint.error();
                    break;
                }
                const bool applied = write.apply(m_connection);
                (void)m_connection.execute(applied ? "RELEASE operation" : "ROLLBACK TO operation; RELEASE operation");
            }
            if (commitError.isEmpty()) {
                if (auto committed = transaction->commit(); !committed)
                    commitError = committed.error();
            }
        }
    }
    if (commitError.isEmpty())
        qCDebug(lcStore, "%s: committed %zu operation(s)", qPrintable(m_connection.path()), batch.size());
    else
        qCDebug(lcStore, "%s: %zu operation(s) not committed: %s", qPrintable(m_connection.path()), batch.size(),
                qPrintable(commitError));
    for (PendingWrite &write : batch)
        write.complete(commitError);
    if (commitError.isEmpty())
        emit batchCommitted(int(batch.size()));
}

void StoreWriter::flush()
{
    submit<void>([](SqliteConnection &) { return Result<void>(); }).wait();
}

Result<QString> insertNewRun(SqliteConnection &connection, const NewRun &run)
{
    const QDateTime createdAt = run.createdAt.isValid() ? run.createdAt : QDateTime::currentDateTimeUtc();
    // Cached statements: a sweep creates thousands of runs in one transaction.
    auto cachedInsertRun = connection.cached(
        "INSERT OR IGNORE INTO runs (id, name, status, created_ms, command, cwd, host, backend, user, project, gpus,"
        " queued_ms, first_active_ms, active_since_ms, started_ms, sweep_id, parent_run_id, parent_step)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!cachedInsertRun)
        return fail(cachedInsertRun.error());
    SqliteStatement *insertRun = cachedInsertRun.value();
    // Ids carry random digits; on the rare collision (many runs in one second) draw another.
    QString id;
    for (int attempt = 0; attempt < kRunIdAttempts && id.isEmpty(); ++attempt) {
        const QString candidate = attempt == 0 && !run.id.isEmpty() ? run.id : makeRunId(createdAt);
        insertRun->bind(1, candidate);
        insertRun->bind(2, run.name.isEmpty() ? candidate : run.name);
        insertRun->bind(3, toString(run.initialStatus));
        insertRun->bind(4, std::int64_t(createdAt.toMSecsSinceEpoch()));
        insertRun->bind(5, QJsonDocument(QJsonArray::fromStringList(run.command)).toJson(QJsonDocument::Compact));
        insertRun->bind(6, run.cwd);
        insertRun->bind(7, run.host);
        insertRun->bind(8, run.backend);
        insertRun->bind(9, run.user);
        insertRun->bind(10, run.project);
        insertRun->bind(11, std::int64_t(run.gpus));
        RunTimeline timeline;
        timeline.apply(run.initialStatus, createdAt.toMSecsSinceEpoch());
        const auto bindOptional = [&](int index, std::optional<std::int64_t> value) {
            if (value)
                insertRun->bind(index, *value);
            else
                insertRun->bindNull(index);
        };
        bindOptional(12, timeline.queuedMs);
        bindOptional(13, timeline.firstActiveMs);
        bindOptional(14, timeline.activeSinceMs);
        // A run created already running (by the tracking API or an import) started when it was created.
        bindOptional(15,
                     run.initialStatus == RunStatus::Running
                         ? std::optional<std::int64_t>(createdAt.toMSecsSinceEpoch())
                         : std::nullopt);
        if (run.sweepId.isEmpty())
            insertRun->bindNull(16);
        else
            insertRun->bind(16, run.sweepId);
        if (run.parentRunId.isEmpty())
            insertRun->bindNull(17);
        else
            insertRun->bind(17, run.parentRunId);
        bindOptional(18, run.parentStep);
        if (auto inserted = insertRun->run(); !inserted)
            return fail(inserted.error());
        if (sqlite3_changes(connection.handle()) == 1)
            id = candidate;
    }
    if (id.isEmpty())
        return fail(QStringLiteral("could not find a free run id after %1 attempts").arg(kRunIdAttempts));

    auto cachedInsertTag = connection.cached("INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)");
    if (!cachedInsertTag)
        return fail(cachedInsertTag.error());
    SqliteStatement *insertTag = cachedInsertTag.value();
    for (const QString &tag : run.tags) {
        insertTag->bind(1, id);
        insertTag->bind(2, tag);
        if (auto inserted = insertTag->run(); !inserted)
            return fail(inserted.error());
    }
    auto cachedInsertParam = connection.cached("INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)");
    if (!cachedInsertParam)
        return fail(cachedInsertParam.error());
    SqliteStatement *insertParam = cachedInsertParam.value();
    for (const auto &[key, value] : run.params) {
        insertParam->bind(1, id);
        insertParam->bind(2, key);
        insertParam->bind(3, value);
        if (auto inserted = insertParam->run(); !inserted)
            return fail(inserted.error());
    }
    auto cachedInsertEvent =
        connection.cached("INSERT INTO events (run_id, ts_ms, from_status, to_status) VALUES (?, ?, NULL, ?)");
    if (!cachedInsertEvent)
        return fail(cachedInsertEvent.error());
    SqliteStatement *insertEvent = cachedInsertEvent.value();
    insertEvent->bind(1, id);
    insertEvent->bind(2, std::int64_t(createdAt.toMSecsSinceEpoch()));
    insertEvent->bind(3, toString(run.initialStatus));
    if (auto inserted = insertEvent->run(); !inserted)
        return fail(inserted.error());
    if (!run.notes.isEmpty()) {
        auto insertNotes = connection.prepare("INSERT OR REPLACE INTO run_tags (run_id, key, value) VALUES (?, ?, ?)");
        if (!insertNotes)
            return fail(insertNotes.error());
        insertNotes->bind(1, id);
        insertNotes->bind(2, QString::fromLatin1(kNotesTag));
        insertNotes->bind(3, run.notes);
        if (auto inserted = insertNotes->run(); !inserted)
            return fail(inserted.error());
    }
    if (!run.source.isEmpty()) {
        auto setSource = connection.prepare("UPDATE runs SET source = ? WHERE id = ?");
        if (!setSource)
            return fail(setSource.error());
        setSource->bind(1, run.source);
        setSource->bind(2, id);
        if (auto updated = setSource->run(); !updated)
            return fail(updated.error());
    }
    // Every project is an MLflow experiment too (docs/MLFLOW.md): the tracking API lists and finds it by name.
    if (!run.project.isEmpty()) {
        if (auto ensured = trackingstore::ensureExperiment(connection, run.project, createdAt.toMSecsSinceEpoch());
            !ensured)
            return fail(ensured.error());
    }
    return id;
}

std::future<Result<QString>> StoreWriter::createRun(const NewRun &run)
{
    return submit<QString>([run](SqliteConnection &connection) { return insertNewRun(connection, run); });
}

Result<void> applyRunStatus(SqliteConnection &connection, const QString &runId, RunStatus status, std::int64_t atMs,
                            const QString &detail)
{
    auto current = connection.prepare("SELECT status FROM runs WHERE id = ?");
    if (!current)
        return fail(current.error());
    current->bind(1, runId);
    auto found = current->step();
    if (!found)
        return fail(found.error());
    if (!found.value())
        return fail(QStringLiteral("no run with id %1").arg(runId));
    const QString fromStatus = current->columnText(0);

    // started_ms is the first time the run started running, ended_ms the time it reached a final state; the
    // time line columns follow RunTimeline::apply (?6: the new status is active, ?7: it is `queued`,
    // ?8: it is `restarting`).
    auto update = connection.prepare(
        "UPDATE runs SET status = ?2,"
        " started_ms = CASE WHEN ?3 AND started_ms IS NULL THEN ?4 ELSE started_ms END,"
        " ended_ms = CASE WHEN ?5 THEN ?4 ELSE ended_ms END,"
        " queued_ms = CASE WHEN ?7 AND queued_ms IS NULL THEN ?4 ELSE queued_ms END,"
        " first_active_ms = CASE WHEN ?6 AND first_active_ms IS NULL THEN ?4 ELSE first_active_ms END,"
        " active_ms = CASE WHEN NOT ?6 AND active_since_ms IS NOT NULL THEN active_ms + max(0, ?4 - active_since_ms) "
        "ELSE active_ms END,"
        " active_since_ms = CASE WHEN ?6 THEN coalesce(active_since_ms, ?4) ELSE NULL END,"
        " restarts = restarts + ?8"
        " WHERE id = ?1");
    if (!update)
        return fail(update.error());
    update->bind(1, runId);
    update->bind(2, toString(status));
    update->bind(3, std::int64_t(status == RunStatus::Running ? 1 : 0));
    update->bind(4, atMs);
    update->bind(5, std::int64_t(isTerminal(status) ? 1 : 0));
    update->bind(6, std::int64_t(isActive(status) ? 1 : 0));
    update->bind(7, std::int64_t(status == RunStatus::Queued ? 1 : 0));
    update->bind(8, std::int64_t(status == RunStatus::Restarting ? 1 : 0));
    if (auto updated = update->run(); !updated)
        return updated;

    auto insertEvent =
        connection.prepare("INSERT INTO events (run_id, ts_ms, from_status, to_status, detail) VALUES (?, ?, ?, ?, ?)");
    if (!insertEvent)
        return fail(insertEvent.error());
    insertEvent->bind(1, runId);
    insertEvent->bind(2, atMs);
    insertEvent->bind(3, fromStatus);
    insertEvent->bind(4, toString(status));
    if (detail.isEmpty())
        insertEvent->bindNull(5);
    else
        insertEvent->bind(5, detail);
    return insertEvent->run();
}

std::future<Result<void>> StoreWriter::recordStatus(const QString &runId, RunStatus status, const QDateTime &at,
                                                    const QString &detail)
{
    const std::int64_t atMs = at.toMSecsSinceEpoch();
    return submit<void>(
        [=](SqliteConnection &connection) { return applyRunStatus(connection, runId, status, atMs, detail); });
}

std::future<Result<void>> StoreWriter::recordAlert(const QString &runId, const QString &alertJson)
{
    return submit<void>([runId, alertJson](SqliteConnection &connection) -> Result<void> {
        auto update = connection.prepare(
            "UPDATE runs SET alerts = json_insert(coalesce(alerts, '[]'), '$[#]', json(?2)) WHERE id = ?1");
        if (!update)
            return fail(update.error());
        update->bind(1, runId);
        update->bind(2, alertJson);
        return update->run();
    });
}

std::future<Result<void>> StoreWriter::setCommand(const QString &runId, const QStringList &command)
{
    const QByteArray argv = QJsonDocument(QJsonArray::fromStringList(command)).toJson(QJsonDocument::Compact);
    return submit<void>([=](SqliteConnection &connection) -> Result<void> {
        auto update = connection.prepare("UPDATE runs SET command = ? WHERE id = ?");
        if (!update)
            return fail(update.error());
        update->bind(1, argv);
        update->bind(2, runId);
        return update->run();
    });
}

namespace {
Result<void> updateExitSummary(SqliteConnection &connection, const QString &runId, const QString &exitSummaryJson)
{
    auto update = connection.prepare("UPDATE runs SET exit_summary = ? WHERE id = ?");
    if (!update)
        return fail(update.error());
    update->bind(1, exitSummaryJson);
    update->bind(2, runId);
    return update->run();
}
} // namespace

std::future<Result<void>> StoreWriter::setExitSummary(const QString &runId, const QString &exitSummaryJson)
{
    return submit<void>(
        [=](SqliteConnection &connection) { return updateExitSummary(connection, runId, exitSummaryJson); });
}

std::future<Result<void>> StoreWriter::recordEnd(const QString &runId, RunStatus status, const QDateTime &at,
                                                 const QString &detail, const QString &exitSummaryJson)
{
    return submit<void>([=](SqliteConnection &connection) -> Result<void> {
        if (auto updated = updateExitSummary(connection, runId, exitSummaryJson); !updated)
            return updated;
        return applyRunStatus(connection, runId, status, at.toMSecsSinceEpoch(), detail);
    });
}

} // namespace trainyard
