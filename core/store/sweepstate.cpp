// Plain SQL over sweeps, sweep_rungs and sweep_trials (schema 14).
#include "store/sweepstate.h"

#include "store/sqlite.h"

#include <cmath>

namespace trainyard::sweepstate {

Result<SweepRow> readSweep(SqliteConnection &connection, const QString &sweepId)
{
    auto select =
        connection.prepare("SELECT id, name, spec, method, state, message, created_ms FROM sweeps WHERE id = ?");
    if (!select)
        return fail(select.error());
    select->bind(1, sweepId);
    std::optional<SweepRow> row;
    if (auto read = select->forEachRow([&] {
            row = SweepRow{select->columnText(0), select->columnText(1), select->columnText(2).toUtf8(),
                           select->columnText(3), select->columnText(4), select->columnText(5),
                           select->columnInt(6)};
        });
        !read)
        return fail(read.error());
    if (!row)
        return fail(QStringLiteral("no sweep %1 in this workspace").arg(sweepId));
    return *row;
}

Result<QStringList> activeTpeSweeps(SqliteConnection &connection)
{
    auto select =
        connection.prepare("SELECT id FROM sweeps WHERE method = 'tpe' AND state = 'active' ORDER BY created_ms, id");
    if (!select)
        return fail(select.error());
    QStringList ids;
    if (auto read = select->forEachRow([&] { ids << select->columnText(0); }); !read)
        return fail(read.error());
    return ids;
}

Result<void> setMethod(SqliteConnection &connection, const QString &sweepId, const QString &method)
{
    auto update = connection.prepare("UPDATE sweeps SET method = ? WHERE id = ?");
    if (!update)
        return fail(update.error());
    update->bind(1, method);
    update->bind(2, sweepId);
    return update->run();
}

Result<void> setState(SqliteConnection &connection, const QString &sweepId, const QString &state,
                      const QString &message)
{
    auto update = connection.prepare("UPDATE sweeps SET state = ?, message = ? WHERE id = ?");
    if (!update)
        return fail(update.error());
    update->bind(1, state);
    update->bind(2, message);
    update->bind(3, sweepId);
    if (auto done = update->run(); !done)
        return done;
    if (connection.changes() == 0)
        return fail(QStringLiteral("no sweep %1 in this workspace").arg(sweepId));
    return {};
}

Result<bool> recordRung(SqliteConnection &connection, const QString &sweepId, const QString &runId, int rung,
                        std::int64_t step, double value, std::int64_t atMs)
{
    auto insert = connection.prepare(
        "INSERT OR IGNORE INTO sweep_rungs (run_id, rung, sweep_id, step, value, at_ms) VALUES (?, ?, ?, ?, ?, ?)");
    if (!insert)
        return fail(insert.error());
    insert->bind(1, runId);
    insert->bind(2, std::int64_t(rung));
    insert->bind(3, sweepId);
    insert->bind(4, step);
    if (std::isnan(value))
        insert->bindNull(5);
    else
        insert->bind(5, value);
    insert->bind(6, atMs);
    if (auto done = insert->run(); !done)
        return fail(done.error());
    return connection.changes() > 0;
}

namespace {

Result<QList<SweepRungValue>> selectRungs(SqliteConnection &connection, const char *sql, const QString &sweepId,
                                          std::optional<int> rung)
{
    auto select = connection.prepare(sql);
    if (!select)
        return fail(select.error());
    select->bind(1, sweepId);
    if (rung)
        select->bind(2, std::int64_t(*rung));
    QList<SweepRungValue> values;
    if (auto read = select->forEachRow([&] {
            SweepRungValue value;
            value.runId = select->columnText(0);
            value.rung = int(select->columnInt(1));
            value.step = select->columnInt(2);
            value.value = select->columnDoubleOrNaN(3);
            value.status = runStatusFromString(select->columnText(4)).value_or(RunStatus::Lost);
            values << value;
        });
        !read)
        return fail(read.error());
    return values;
}

} // namespace

Result<QList<SweepRungValue>> valuesAtRung(SqliteConnection &connection, const QString &sweepId, int rung)
{
    return selectRungs(connection,
                       "SELECT g.run_id, g.rung, g.step, g.value, r.status FROM sweep_rungs g JOIN runs r ON r.id = "
                       "g.run_id WHERE g.sweep_id = ? AND g.rung = ? ORDER BY g.at_ms, g.run_id",
                       sweepId, rung);
}

Result<QList<SweepRungValue>> rungsOf(SqliteConnection &connection, const QString &sweepId)
{
    return selectRungs(connection,
                       "SELECT g.run_id, g.rung, g.step, g.value, r.status FROM sweep_rungs g JOIN runs r ON r.id = "
                       "g.run_id WHERE g.sweep_id = ? ORDER BY g.run_id, g.rung",
                       sweepId, std::nullopt);
}

Result<QList<SweepRunCost>> runCosts(SqliteConnection &connection, const QString &sweepId, const QString &metric,
                                     std::int64_t nowMs)
{
    auto select =
        connection.prepare("SELECT r.id, r.gpus, r.active_ms, r.active_since_ms,"
                           " (SELECT max(c.max_step) FROM metric_keys k JOIN metric_chunks c ON c.key_id = k.id"
                           "  WHERE k.run_id = r.id AND k.key = ?2 AND k.superseded_attempt IS NULL)"
                           " FROM runs r WHERE r.sweep_id = ?1 ORDER BY r.id");
    if (!select)
        return fail(select.error());
    select->bind(1, sweepId);
    select->bind(2, metric);
    QList<SweepRunCost> costs;
    if (auto read = select->forEachRow([&] {
            SweepRunCost cost;
            cost.runId = select->columnText(0);
            cost.gpus = int(select->columnInt(1));
            cost.activeMs = select->columnInt(2);
            if (!select->isNull(3))
                cost.activeMs += std::max<std::int64_t>(0, nowMs - select->columnInt(3));
            if (!select->isNull(4))
                cost.lastStep = select->columnInt(4);
            costs << cost;
        });
        !read)
        return fail(read.error());
    return costs;
}

Result<void> recordTrial(SqliteConnection &connection, const QString &sweepId, int trial, const QString &runId)
{
    auto insert = connection.prepare("INSERT OR REPLACE INTO sweep_trials (sweep_id, trial, run_id, state, value) "
                                     "VALUES (?, ?, ?, 'running', NULL)");
    if (!insert)
        return fail(insert.error());
    insert->bind(1, sweepId);
    insert->bind(2, std::int64_t(trial));
    insert->bind(3, runId);
    return insert->run();
}

Result<void> setTrialResult(SqliteConnection &connection, const QString &sweepId, int trial, const QString &state,
                            std::optional<double> value)
{
    auto update = connection.prepare("UPDATE sweep_trials SET state = ?, value = ? WHERE sweep_id = ? AND trial = ?");
    if (!update)
        return fail(update.error());
    update->bind(1, state);
    if (value && std::isfinite(*value))
        update->bind(2, *value);
    else
        update->bindNull(2);
    update->bind(3, sweepId);
    update->bind(4, std::int64_t(trial));
    return update->run();
}

Result<QList<SweepTrial>> trialsOf(SqliteConnection &connection, const QString &sweepId)
{
    auto select = connection.prepare(
        "SELECT trial, coalesce(run_id, ''), state, value FROM sweep_trials WHERE sweep_id = ? ORDER BY trial");
    if (!select)
        return fail(select.error());
    select->bind(1, sweepId);
    QList<SweepTrial> trials;
    if (auto read = select->forEachRow([&] {
            SweepTrial trial;
            trial.trial = int(select->columnInt(0));
            trial.runId = select->columnText(1);
            trial.state = select->columnText(2);
            if (!select->isNull(3))
                trial.value = select->columnDouble(3);
            trials << trial;
        });
        !read)
        return fail(read.error());
    return trials;
}

} // namespace trainyard::sweepstate
