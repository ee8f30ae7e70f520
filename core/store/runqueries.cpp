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
#include <QSet>

namespace trainyard::runqueries {

namespace {

#define TRAINYARD_RUN_SELECT_LIST                                                                                      \
    "SELECT id, name, status, created_ms, started_ms, ended_ms, command, cwd, host, backend, exit_summary,"            \
    " coalesce(sweep_id, ''), archived_ms, coalesce(alerts, ''), coalesce(parent_run_id, ''), parent_step, disk_bytes"
constexpr const char *kRunColumns = TRAINYARD_RUN_SELECT_LIST " FROM runs";
// The run's columns and its tags as a JSON array (column 17), read with its row through the tags' primary key.
constexpr const char *kRunColumnsWithTags =
    TRAINYARD_RUN_SELECT_LIST ", (SELECT json_group_array(tag) FROM tags WHERE run_id = runs.id) FROM runs";
#undef TRAINYARD_RUN_SELECT_LIST

QDateTime timeFromColumn(const SqliteStatement &statement, int column)
{
    if (statement.isNull(column))
        return {};
    return QDateTime::fromMSecsSinceEpoch(statement.columnInt(column), Qt::UTC);
}

// Equal strings read for many runs (hosts, commands, param keys and common values, exit summaries) share one copy
// (Qt's implicit sharing): at 100,000 runs with five params each, that is most of a run list's memory. One pool per
// read; strings longer than a value is likely to repeat at are kept as they are.
class StringPool {
public:
    static constexpr qsizetype kLongestPooled = 256;

    QString text(const SqliteStatement &row, int column) { return intern(row.columnText(column)); }

    QString intern(QString value)
    {
        if (value.isEmpty() || value.size() > kLongestPooled)
            return value;
        if (auto found = m_strings.constFind(value); found != m_strings.constEnd())
            return *found;
        m_strings.insert(value);
        return value;
    }

    // A command is stored as its JSON argv list; runs launched alike share one parsed list.
    QStringList command(const QString &json)
    {
        if (auto found = m_commands.constFind(json); found != m_commands.constEnd())
            return *found;
        QStringList command;
        for (const QJsonValue &argument : QJsonDocument::fromJson(json.toUtf8()).array())
            command << argument.toString();
        m_commands.insert(json, command);
        return command;
    }

private:
    QSet<QString> m_strings;
    QHash<QString, QStringList> m_commands;
};

RunRecord recordFromRow(const SqliteStatement &statement, StringPool &pool)
{
    RunRecord run;
    run.id = statement.columnText(0);
    run.name = statement.columnText(1);
    run.status = runStatusFromString(statement.columnText(2)).value_or(RunStatus::Lost);
    run.createdAt = timeFromColumn(statement, 3);
    run.startedAt = timeFromColumn(statement, 4);
    run.endedAt = timeFromColumn(statement, 5);
    run.command = pool.command(statement.columnText(6));
    run.cwd = pool.text(statement, 7);
    run.host = pool.text(statement, 8);
    run.backend = pool.text(statement, 9);
    run.exitSummary = pool.text(statement, 10);
    run.sweepId = pool.text(statement, 11);
    run.archivedAt = timeFromColumn(statement, 12);
    run.alerts = statement.columnText(13);
    run.parentRunId = statement.columnText(14);
    if (!statement.isNull(15))
        run.parentStep = statement.columnInt(15);
    if (!statement.isNull(16))
        run.diskBytes = statement.columnInt(16);
    return run;
}

Result<QList<RunRecord>> collectRuns(SqliteStatement &statement, StringPool &pool)
{
    QList<RunRecord> runs;
    if (auto stepped = statement.forEachRow([&] { runs << recordFromRow(statement, pool); }); !stepped)
        return fail(stepped.error());
    return runs;
}

// Up to this many runs, details are read run by run through the (run_id, ...) primary keys; more, by one scan of
// each table: a watcher's few changed runs must not cost a scan of the workspace, a full list must not cost
// 100,000 seeks of each table.
constexpr qsizetype kMaxRunsReadOneByOne = 256;

// Calls onRow for each row of `allRuns` (every run's rows; column 0 the run id) that belongs to one of the runs, or,
// for a few runs, for each row of `oneRun` (its run id bound as ?1) run by run. `bind` binds any further parameters.
Result<void> forEachRunRow(SqliteConnection &connection, const QList<RunRecord> &runs,
                           const QHash<QString, qsizetype> &indexById, const char *allRuns, const char *oneRun,
                           const std::function<void(SqliteStatement &)> &bind,
                           const std::function<void(qsizetype, const SqliteStatement &)> &onRow)
{
    const bool oneByOne = runs.size() <= kMaxRunsReadOneByOne;
    auto statement = connection.prepare(oneByOne ? oneRun : allRuns);
    if (!statement)
        return fail(statement.error());
    const auto readRows = [&]() -> Result<void> {
        if (auto stepped = statement->forEachRow([&] {
                if (auto found = indexById.constFind(statement->columnText(0)); found != indexById.constEnd())
                    onRow(*found, statement.value());
            });
            !stepped)
            return fail(stepped.error());
        return {};
    };
    if (!oneByOne) {
        if (bind)
            bind(statement.value());
        return readRows();
    }
    for (const RunRecord &run : runs) {
        statement->reset();
        statement->bind(1, run.id);
        if (bind)
            bind(statement.value());
        if (auto read = readRows(); !read)
            return read;
    }
    return {};
}

// The runs' tags (unless withTags is false: read with their rows), params, mlflow.* tags and whole-run metric
// summaries (from the top level of each key's pyramid: one or two rows per key).
Result<void> attachDetails(SqliteConnection &connection, QList<RunRecord> &runs, StringPool &pool, bool withTags = true)
{
    if (runs.isEmpty())
        return {};
    QHash<QString, qsizetype> indexById;
    for (qsizetype i = 0; i < runs.size(); ++i)
        indexById.insert(runs[i].id, i);

    if (withTags) {
        auto read = forEachRunRow(connection, runs, indexById, "SELECT run_id, tag FROM tags ORDER BY run_id, tag",
                                  "SELECT run_id, tag FROM tags WHERE run_id = ?1 ORDER BY tag", {},
                                  [&](qsizetype i, const SqliteStatement &row) { runs[i].tags << pool.text(row, 1); });
        if (!read)
            return read;
    }
    if (auto read = forEachRunRow(connection, runs, indexById, "SELECT run_id, key, value FROM params",
                                  "SELECT run_id, key, value FROM params WHERE run_id = ?1", {},
                                  [&](qsizetype i, const SqliteStatement &row) {
                                      runs[i].params.insert(pool.text(row, 1), pool.text(row, 2));
                                  });
        !read)
        return read;
    if (auto read = forEachRunRow(
            connection, runs, indexById, "SELECT run_id, key, value FROM run_tags WHERE key LIKE 'mlflow.%'",
            "SELECT run_id, key, value FROM run_tags WHERE run_id = ?1 AND key LIKE 'mlflow.%'", {},
            [&](qsizetype i, const SqliteStatement &row) {
                runs[i].systemTags.insert(pool.text(row, 1), pool.text(row, 2));
            });
        !read)
        return read;

    const auto bindTopLevel = [](SqliteStatement &statement) {
        statement.bind(2, std::int64_t(kBinLevelStride * (kBinLevelCount - 1)));
    };
    return forEachRunRow(
        connection, runs, indexById,
        "SELECT k.run_id, k.key, b.n, b.min_value, b.max_value, b.last_value, k.id, k.superseded_attempt"
        " FROM metric_keys k JOIN metric_bins b ON b.key_id = k.id AND b.level = k.bin_base + ?2 ORDER BY k.id, b.bin",
        "SELECT k.run_id, k.key, b.n, b.min_value, b.max_value, b.last_value, k.id, k.superseded_attempt"
        " FROM metric_keys k JOIN metric_bins b ON b.key_id = k.id AND b.level = k.bin_base + ?2 WHERE k.run_id = ?1"
        " ORDER BY k.id, b.bin",
        bindTopLevel, [&](qsizetype i, const SqliteStatement &row) {
            const QString key = pool.text(row, 1);
            if (!row.isNull(7)) { // superseded points: not the run's series, listed apart
                QStringList &superseded = runs[i].supersededKeys;
                if (const auto at = std::lower_bound(superseded.begin(), superseded.end(), key);
                    at == superseded.end() || *at != key)
                    superseded.insert(at, key);
                return;
            }
            auto &metrics = runs[i].metrics;
            const bool first = !metrics.contains(key);
            RunMetricSummary &summary = metrics[key];
            const double minValue = row.columnDoubleOrNaN(3), maxValue = row.columnDoubleOrNaN(4),
                         lastValue = row.columnDoubleOrNaN(5);
            if (first) {
                summary = {row.columnInt(2), lastValue, minValue, maxValue, row.columnInt(6)};
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
    StringPool pool;
    auto runs = collectRuns(statement.value(), pool);
    if (!runs)
        return runs;
    if (runsFound)
        runsFound(runs->size());
    if (auto detailed = attachDetails(connection, runs.value(), pool); !detailed)
        return fail(detailed.error());
    return runs;
}

Result<std::int64_t> changeSequence(SqliteConnection &connection, ChangeSequence which)
{
    auto select = connection.cached("SELECT value FROM change_sequences WHERE name = ?");
    if (!select)
        return fail(select.error());
    SqliteStatement &statement = *select.value();
    statement.bind(1, QString::fromLatin1(which == ChangeSequence::RunList ? "run_list" : "queue"));
    auto row = statement.step();
    if (!row)
        return fail(row.error());
    const std::int64_t value = row.value() ? statement.columnInt(0) : 0;
    statement.reset();
    return value;
}

Result<RunListChange> readRunListChanges(SqliteConnection &connection, std::optional<std::int64_t> since,
                                         const std::function<void(qsizetype)> &runsFound,
                                         std::optional<qsizetype> newestOnly)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    RunListChange change;
    auto sequence = changeSequence(connection, ChangeSequence::RunList);
    if (!sequence)
        return fail(sequence.error());
    change.sequence = sequence.value();
    if (since && *since == change.sequence)
        return change; // nothing the list shows changed: not one run row is read
    // Changes come in sequence order through runs_by_list_seq (ordered by creation time, SQLite would rather walk
    // every run in runs_by_created order); the first read comes newest first, at most newestOnly runs when given.
    QByteArray sql = QByteArray(kRunColumns);
    if (since)
        sql += " WHERE list_seq > ?1 ORDER BY list_seq";
    else
        sql += " ORDER BY created_ms DESC, id DESC";
    if (!since && newestOnly)
        sql += " LIMIT ?2";
    auto statement = connection.prepare(sql.constData());
    if (!statement)
        return fail(statement.error());
    if (since)
        statement->bind(1, *since);
    else if (newestOnly)
        statement->bind(2, std::int64_t(*newestOnly));
    change.complete = !since && !newestOnly;
    StringPool pool;
    auto runs = collectRuns(statement.value(), pool);
    if (!runs)
        return fail(runs.error());
    if (runsFound)
        runsFound(runs->size());
    if (auto detailed = attachDetails(connection, runs.value(), pool); !detailed)
        return fail(detailed.error());
    change.upserted = std::move(runs.value());
    if (since) {
        auto removals = connection.prepare("SELECT run_id FROM run_list_removals WHERE seq > ? ORDER BY seq");
        if (!removals)
            return fail(removals.error());
        removals->bind(1, *since);
        if (auto stepped = removals->forEachRow([&] { change.removed << removals->columnText(0); }); !stepped)
            return fail(stepped.error());
    }
    return change;
}

Result<void> streamRuns(SqliteConnection &connection, const RunStreamOptions &options,
                        const std::function<bool(RunRecord &&)> &onRun)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    const QByteArray sql = QByteArray(kRunColumnsWithTags) + (options.createdSinceMs ? " WHERE created_ms >= ?1" : "")
        + " ORDER BY created_ms DESC, id DESC";
    auto statement = connection.prepare(sql.constData());
    if (!statement)
        return fail(statement.error());
    if (options.createdSinceMs)
        statement->bind(1, *options.createdSinceMs);
    // With details, runs go out a page at a time, each page's details read run by run (kMaxRunsReadOneByOne).
    StringPool pool;
    QList<RunRecord> page;
    bool wanted = true;
    const auto flush = [&]() -> Result<void> {
        if (page.isEmpty())
            return {};
        if (auto detailed = attachDetails(connection, page, pool, /*withTags=*/false); !detailed)
            return detailed;
        for (RunRecord &run : page)
            if (wanted && !(wanted = onRun(std::move(run))))
                break;
        page.clear();
        return {};
    };
    while (wanted) {
        auto row = statement->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            break;
        RunRecord run = recordFromRow(statement.value(), pool);
        const QString tags = statement->columnText(17);
        if (tags.size() > 2) { // not "[]"
            const QJsonArray array = QJsonDocument::fromJson(tags.toUtf8()).array();
            for (const QJsonValue &tag : array)
                run.tags << pool.intern(tag.toString());
            run.tags.sort();
        }
        if (!options.withDetails) {
            wanted = onRun(std::move(run));
            continue;
        }
        page << std::move(run);
        if (page.size() >= kMaxRunsReadOneByOne)
            if (auto flushed = flush(); !flushed)
                return flushed;
    }
    return flush();
}

Result<RunRecord> findRun(SqliteConnection &connection, const QString &idPrefixOrName)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    const QByteArray sql = QByteArray(kRunColumns)
        + " WHERE id = ?1 OR substr(id, 1, length(?1)) = ?1 OR name = ?1"
          " ORDER BY (id = ?1) DESC, (name = ?1) DESC, created_ms DESC LIMIT 3";
    auto statement = connection.prepare(sql.constData());
    if (!statement)
        return fail(statement.error());
    statement->bind(1, idPrefixOrName);
    StringPool pool;
    auto runs = collectRuns(statement.value(), pool);
    if (!runs)
        return fail(runs.error());
    if (runs->isEmpty())
        return fail(
            QStringLiteral("no run matches \"%1\" (give a run id, a unique id prefix or a name)").arg(idPrefixOrName));
    // An exact id first, then an exact name (the newest run of that name), then a unique id prefix: a run named
    // "2026" is found by its name although every id of the year starts so.
    const auto isPrefixOnly = [&](const RunRecord &run) {
        return run.id != idPrefixOrName && run.name != idPrefixOrName;
    };
    if (runs->size() > 1 && isPrefixOnly(runs->at(0))) {
        QStringList ids;
        for (const RunRecord &run : runs.value())
            ids << run.id;
        return fail(QStringLiteral("\"%1\" matches several runs (%2...); give more of the id")
                        .arg(idPrefixOrName, ids.join(QStringLiteral(", "))));
    }
    QList<RunRecord> one{runs->at(0)};
    if (auto detailed = attachDetails(connection, one, pool); !detailed)
        return fail(detailed.error());
    return one.at(0);
}

Result<SweepRuns> findSweep(SqliteConnection &connection, const QString &idPrefixOrName)
{
    auto snapshot = SqliteTransaction::begin(connection, SqliteTransaction::Kind::Deferred);
    if (!snapshot)
        return fail(snapshot.error());
    auto sweeps = connection.prepare("SELECT id, name FROM sweeps WHERE id = ?1 OR substr(id, 1, length(?1)) = ?1"
                                     " OR name = ?1 ORDER BY (id = ?1) DESC, (name = ?1) DESC, created_ms DESC");
    if (!sweeps)
        return fail(sweeps.error());
    sweeps->bind(1, idPrefixOrName);
    QList<std::pair<QString, QString>> found;
    if (auto read = sweeps->forEachRow([&] { found.append({sweeps->columnText(0), sweeps->columnText(1)}); }); !read)
        return fail(read.error());
    if (found.isEmpty())
        return fail(QStringLiteral("no sweep matches \"%1\" (give a sweep id, a unique id prefix or a name: the spec "
                                   "file's name, which its runs are tagged with as sweep:NAME)")
                        .arg(idPrefixOrName));
    if (found.size() > 1 && found[0].first != idPrefixOrName && found[0].second != idPrefixOrName) {
        QStringList ids;
        for (const auto &[id, name] : found)
            ids << id;
        return fail(QStringLiteral("\"%1\" matches several sweeps (%2); give more of the id")
                        .arg(idPrefixOrName, ids.join(QStringLiteral(", "))));
    }
    SweepRuns result{found[0].first, found[0].second, {}};
    const QByteArray sql = QByteArray(kRunColumns) + " WHERE sweep_id = ?1 ORDER BY created_ms, id";
    auto statement = connection.prepare(sql.constData());
    if (!statement)
        return fail(statement.error());
    statement->bind(1, result.id);
    StringPool pool;
    auto runs = collectRuns(statement.value(), pool);
    if (!runs)
        return fail(runs.error());
    if (auto detailed = attachDetails(connection, runs.value(), pool); !detailed)
        return fail(detailed.error());
    result.runs = std::move(runs).value();
    return result;
}

Result<QList<RunEvent>> events(SqliteConnection &connection, const QString &runId)
{
    auto statement = connection.prepare(
        "SELECT ts_ms, from_status, to_status, detail FROM events WHERE run_id = ? ORDER BY ts_ms, id");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    QList<RunEvent> result;
    if (auto stepped = statement->forEachRow([&] {
            result << RunEvent{QDateTime::fromMSecsSinceEpoch(statement->columnInt(0), Qt::UTC),
                               statement->columnText(1), statement->columnText(2), statement->columnText(3)};
        });
        !stepped)
        return fail(stepped.error());
    return result;
}

Result<std::int64_t> dataVersion(SqliteConnection &connection) { return connection.queryInt("PRAGMA data_version"); }

} // namespace trainyard::runqueries
