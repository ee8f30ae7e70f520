// Run queries. Multi-statement reads run in one deferred transaction: one WAL snapshot.
#include "store/runqueries.h"

#include "store/sqlite.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

namespace trainyard::runqueries {

namespace {

constexpr const char *kRunColumns =
    "SELECT id, name, status, created_ms, started_ms, ended_ms, command, cwd, host, backend, exit_summary FROM runs";

QDateTime timeFromColumn(const SqliteStatement &statement, int column)
{
    if (statement.isNull(column))
        return {};
    return QDateTime::fromMSecsSinceEpoch(statement.columnInt(column), Qt::UTC);
}

RunRecord recordFromRow(const SqliteStatement &statement)
{
    RunRecord run;
    run.id = statement.columnText(0);
    run.name = statement.columnText(1);
    run.status = runStatusFromString(statement.columnText(2)).value_or(RunStatus::Lost);
    run.createdAt = timeFromColumn(statement, 3);
    run.startedAt = timeFromColumn(statement, 4);
    run.endedAt = timeFromColumn(statement, 5);
    const QJsonArray command = QJsonDocument::fromJson(statement.columnText(6).toUtf8()).array();
    for (const QJsonValue &argument : command)
        run.command << argument.toString();
    run.cwd = statement.columnText(7);
    run.host = statement.columnText(8);
    run.backend = statement.columnText(9);
    run.exitSummary = statement.columnText(10);
    return run;
}

Result<QList<RunRecord>> collectRuns(SqliteStatement &statement)
{
    QList<RunRecord> runs;
    for (;;) {
        auto row = statement.step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return runs;
        runs << recordFromRow(statement);
    }
}

Result<void> attachTags(SqliteConnection &connection, QList<RunRecord> &runs)
{
    if (runs.isEmpty())
        return {};
    QHash<QString, qsizetype> indexById;
    for (qsizetype i = 0; i < runs.size(); ++i)
        indexById.insert(runs[i].id, i);
    auto tags = connection.prepare("SELECT run_id, tag FROM tags ORDER BY run_id, tag");
    if (!tags)
        return fail(tags.error());
    for (;;) {
        auto row = tags->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return {};
        if (auto found = indexById.constFind(tags->columnText(0)); found != indexById.constEnd())
            runs[*found].tags << tags->columnText(1);
    }
}

} // namespace

Result<QList<RunRecord>> listRuns(SqliteConnection &connection)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    const QByteArray sql = QByteArray(kRunColumns) + " ORDER BY created_ms DESC, id DESC";
    auto statement = connection.prepare(sql.constData());
    if (!statement)
        return fail(statement.error());
    auto runs = collectRuns(statement.value());
    if (!runs)
        return runs;
    if (auto tagged = attachTags(connection, runs.value()); !tagged)
        return fail(tagged.error());
    return runs;
}

Result<RunRecord> findRun(SqliteConnection &connection, const QString &idPrefixOrName)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    const QByteArray sql = QByteArray(kRunColumns)
        + " WHERE id = ?1 OR substr(id, 1, length(?1)) = ?1 OR name = ?1 ORDER BY (id = ?1) DESC, created_ms DESC LIMIT 3";
    auto statement = connection.prepare(sql.constData());
    if (!statement)
        return fail(statement.error());
    statement->bind(1, idPrefixOrName);
    auto runs = collectRuns(statement.value());
    if (!runs)
        return fail(runs.error());
    if (runs->isEmpty())
        return fail(QStringLiteral("no run matches \"%1\" (give a run id, a unique id prefix or a name)").arg(idPrefixOrName));
    if (runs->size() > 1 && runs->at(0).id != idPrefixOrName) {
        QStringList ids;
        for (const RunRecord &run : runs.value())
            ids << run.id;
        return fail(QStringLiteral("\"%1\" matches several runs (%2...); give more of the id").arg(idPrefixOrName, ids.join(QStringLiteral(", "))));
    }
    QList<RunRecord> one{runs->at(0)};
    if (auto tagged = attachTags(connection, one); !tagged)
        return fail(tagged.error());
    return one.at(0);
}

Result<QList<RunEvent>> events(SqliteConnection &connection, const QString &runId)
{
    auto statement = connection.prepare(
        "SELECT ts_ms, from_status, to_status, detail FROM events WHERE run_id = ? ORDER BY ts_ms, id");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    QList<RunEvent> result;
    for (;;) {
        auto row = statement->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return result;
        result << RunEvent{QDateTime::fromMSecsSinceEpoch(statement->columnInt(0), Qt::UTC),
                           statement->columnText(1), statement->columnText(2), statement->columnText(3)};
    }
}

Result<std::int64_t> dataVersion(SqliteConnection &connection) { return connection.queryInt("PRAGMA data_version"); }

} // namespace trainyard::runqueries
