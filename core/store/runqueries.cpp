// Run queries. Multi-statement reads run in one deferred transaction: one WAL snapshot.
#include "store/runqueries.h"

#include "store/metricbins.h"
#include "store/sqlite.h"

#include <cmath>
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

Result<void> attachParams(SqliteConnection &connection, QList<RunRecord> &runs, const QHash<QString, qsizetype> &indexById)
{
    auto params = connection.prepare("SELECT run_id, key, value FROM params");
    if (!params)
        return fail(params.error());
    for (;;) {
        auto row = params->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return {};
        if (auto found = indexById.constFind(params->columnText(0)); found != indexById.constEnd())
            runs[*found].params.insert(params->columnText(1), params->columnText(2));
    }
}

// Whole-run summaries from the top level of each key's pyramid: one or two rows per key.
Result<void> attachMetricSummaries(SqliteConnection &connection, QList<RunRecord> &runs,
                                   const QHash<QString, qsizetype> &indexById)
{
    auto bins = connection.prepare(
        "SELECT k.run_id, k.key, b.n, b.min_value, b.max_value, b.last_step, b.last_value FROM metric_keys k"
        " JOIN metric_bins b ON b.key_id = k.id AND b.level = k.bin_base + ? ORDER BY k.id, b.bin");
    if (!bins)
        return fail(bins.error());
    bins->bind(1, std::int64_t(kBinLevelStride * (kBinLevelCount - 1)));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    QHash<RunMetricSummary *, std::int64_t> lastStep;
    for (;;) {
        auto row = bins->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return {};
        auto found = indexById.constFind(bins->columnText(0));
        if (found == indexById.constEnd())
            continue;
        auto &metrics = runs[*found].metrics;
        const QString key = bins->columnText(1);
        const bool first = !metrics.contains(key);
        RunMetricSummary &summary = metrics[key];
        const double minValue = bins->isNull(3) ? nan : bins->columnDouble(3);
        const double maxValue = bins->isNull(4) ? nan : bins->columnDouble(4);
        const double lastValue = bins->isNull(6) ? nan : bins->columnDouble(6);
        if (first) {
            summary = {bins->columnInt(2), lastValue, minValue, maxValue};
        } else { // bins come in step order, so a later bin's last point is the later one
            summary.count += bins->columnInt(2);
            summary.last = lastValue;
            if (!std::isnan(minValue))
                summary.min = std::isnan(summary.min) ? minValue : std::min(summary.min, minValue);
            if (!std::isnan(maxValue))
                summary.max = std::isnan(summary.max) ? maxValue : std::max(summary.max, maxValue);
        }
    }
}

Result<void> attachDetails(SqliteConnection &connection, QList<RunRecord> &runs)
{
    if (runs.isEmpty())
        return {};
    QHash<QString, qsizetype> indexById;
    for (qsizetype i = 0; i < runs.size(); ++i)
        indexById.insert(runs[i].id, i);
    if (auto params = attachParams(connection, runs, indexById); !params)
        return params;
    return attachMetricSummaries(connection, runs, indexById);
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
    if (auto tagged = attachTags(connection, one); !tagged)
        return fail(tagged.error());
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
