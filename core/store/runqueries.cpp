// Run queries. Multi-statement reads run in one deferred transaction: one WAL snapshot.
#include "store/runqueries.h"

#include "store/metricbins.h"
#include "store/sqlite.h"

#include <cmath>
#include <functional>
#include <limits>

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>

namespace trainyard::runqueries {

namespace {

constexpr const char *kRunColumns =
    "SELECT id, name, status, created_ms, started_ms, ended_ms, command, cwd, host, backend, exit_summary,"
    " coalesce(sweep_id, '') FROM runs";

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
    run.sweepId = statement.columnText(11);
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

// Prepares the statement that reads rows of every run (allRuns), or, for a single run, of that run only
// (oneRun, its id bound as ?1): findRun is polled by every open run page and must not read the workspace.
Result<SqliteStatement> prepareForRuns(SqliteConnection &connection, const QList<RunRecord> &runs, const char *allRuns,
                                       const char *oneRun)
{
    auto statement = connection.prepare(runs.size() == 1 ? oneRun : allRuns);
    if (statement && runs.size() == 1)
        statement->bind(1, runs.front().id);
    return statement;
}

// Calls onRow for each row of the statement whose column 0 is the id of one of the runs.
Result<void> forEachRunRow(SqliteStatement &statement, const QHash<QString, qsizetype> &indexById,
                           const std::function<void(qsizetype, const SqliteStatement &)> &onRow)
{
    for (;;) {
        auto row = statement.step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return {};
        if (auto found = indexById.constFind(statement.columnText(0)); found != indexById.constEnd())
            onRow(*found, statement);
    }
}


// The runs' tags, params and whole-run metric summaries (from the top level of each key's pyramid: one or
// two rows per key).
Result<void> attachDetails(SqliteConnection &connection, QList<RunRecord> &runs)
{
    if (runs.isEmpty())
        return {};
    QHash<QString, qsizetype> indexById;
    for (qsizetype i = 0; i < runs.size(); ++i)
        indexById.insert(runs[i].id, i);

    auto tags = prepareForRuns(connection, runs, "SELECT run_id, tag FROM tags ORDER BY run_id, tag",
                               "SELECT run_id, tag FROM tags WHERE run_id = ?1 ORDER BY tag");
    if (!tags)
        return fail(tags.error());
    if (auto read = forEachRunRow(tags.value(), indexById,
                                  [&](qsizetype i, const SqliteStatement &row) { runs[i].tags << row.columnText(1); });
        !read)
        return read;

    auto params = prepareForRuns(connection, runs, "SELECT run_id, key, value FROM params",
                                 "SELECT run_id, key, value FROM params WHERE run_id = ?1");
    if (!params)
        return fail(params.error());
    if (auto read = forEachRunRow(params.value(), indexById,
                                  [&](qsizetype i, const SqliteStatement &row) { runs[i].params.insert(row.columnText(1), row.columnText(2)); });
        !read)
        return read;

    auto systemTags = prepareForRuns(connection, runs, "SELECT run_id, key, value FROM run_tags WHERE key LIKE 'mlflow.%'",
                                     "SELECT run_id, key, value FROM run_tags WHERE run_id = ?1 AND key LIKE 'mlflow.%'");
    if (!systemTags)
        return fail(systemTags.error());
    if (auto read = forEachRunRow(systemTags.value(), indexById,
                                  [&](qsizetype i, const SqliteStatement &row) { runs[i].systemTags.insert(row.columnText(1), row.columnText(2)); });
        !read)
        return read;

    auto bins = prepareForRuns(
        connection, runs,
        "SELECT k.run_id, k.key, b.n, b.min_value, b.max_value, b.last_value FROM metric_keys k"
        " JOIN metric_bins b ON b.key_id = k.id AND b.level = k.bin_base + ?2 ORDER BY k.id, b.bin",
        "SELECT k.run_id, k.key, b.n, b.min_value, b.max_value, b.last_value FROM metric_keys k"
        " JOIN metric_bins b ON b.key_id = k.id AND b.level = k.bin_base + ?2 WHERE k.run_id = ?1 ORDER BY k.id, b.bin");
    if (!bins)
        return fail(bins.error());
    bins->bind(2, std::int64_t(kBinLevelStride * (kBinLevelCount - 1)));
    return forEachRunRow(bins.value(), indexById, [&](qsizetype i, const SqliteStatement &row) {
        auto &metrics = runs[i].metrics;
        const QString key = row.columnText(1);
        const bool first = !metrics.contains(key);
        RunMetricSummary &summary = metrics[key];
        const double minValue = row.columnDoubleOrNaN(3), maxValue = row.columnDoubleOrNaN(4), lastValue = row.columnDoubleOrNaN(5);
        if (first) {
            summary = {row.columnInt(2), lastValue, minValue, maxValue};
            return;
        }
        // Bins come in step order, so a later bin's last point is the later one.
        summary.count += row.columnInt(2);
        summary.last = lastValue;
        if (!std::isnan(minValue))
            summary.min = std::isnan(summary.min) ? minValue : std::min(summary.min, minValue);
        if (!std::isnan(maxValue))
            summary.max = std::isnan(summary.max) ? maxValue : std::max(summary.max, maxValue);
    });
}

} // namespace

Result<QList<RunRecord>> listRuns(SqliteConnection &connection, const std::function<void(qsizetype)> &runsFound)
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
    if (runsFound)
        runsFound(runs->size());
    if (auto detailed = attachDetails(connection, runs.value()); !detailed)
        return fail(detailed.error());
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
    if (auto detailed = attachDetails(connection, one); !detailed)
        return fail(detailed.error());
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
