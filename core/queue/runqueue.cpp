// Queue operations: every change is one writer operation (one transaction), so two processes changing
// the queue at once never lose or double a run.
#include "queue/runqueue.h"

#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QDir>
#include <algorithm>

namespace trainyard::runqueue {

namespace {

Result<QStringList> orderedIds(SqliteConnection &connection)
{
    auto select = connection.prepare("SELECT run_id FROM queue ORDER BY position, enqueued_ms, run_id");
    if (!select)
        return fail(select.error());
    QStringList ids;
    for (;;) {
        auto row = select->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            return ids;
        ids << select->columnText(0);
    }
}

Result<void> renumber(SqliteConnection &connection, const QStringList &ids)
{
    auto update = connection.prepare("UPDATE queue SET position = ? WHERE run_id = ?");
    if (!update)
        return fail(update.error());
    for (qsizetype i = 0; i < ids.size(); ++i) {
        update->bind(1, std::int64_t(i + 1));
        update->bind(2, ids[i]);
        if (auto done = update->run(); !done)
            return done;
    }
    return {};
}

Error notQueued(const QString &runId) { return fail(QStringLiteral("run %1 is not in the queue").arg(runId)); }

} // namespace

Result<QString> createSweep(StoreWriter &writer, const QString &name, const QByteArray &specText)
{
    const QString id = QStringLiteral("sweep-") + makeRunId(QDateTime::currentDateTimeUtc());
    return writer
        .submit<QString>([id, name, specText](SqliteConnection &connection) -> Result<QString> {
            auto insert = connection.prepare("INSERT INTO sweeps (id, name, spec, created_ms) VALUES (?, ?, ?, ?)");
            if (!insert)
                return fail(insert.error());
            insert->bind(1, id);
            insert->bind(2, name);
            insert->bind(3, QString::fromUtf8(specText));
            insert->bind(4, std::int64_t(QDateTime::currentMSecsSinceEpoch()));
            if (auto done = insert->run(); !done)
                return fail(done.error());
            return id;
        })
        .get();
}

Result<QString> enqueue(const Workspace &workspace, StoreWriter &writer, const LocalLaunch &launch, const QString &sweepId)
{
    NewRun row = newRunFor(launch);
    row.host = QString();
    row.initialStatus = RunStatus::Queued;
    auto runId = writer.createRun(row).get();
    if (!runId)
        return fail(runId.error());
    const QString runDir = workspace.runDir(runId.value());
    // The spec is written before the run is queued: a scheduler that finds the run finds its spec.
    Result<void> prepared = QDir().mkpath(runDir) ? writeResolvedSpec(runDir, launch)
                                                  : Result<void>(fail(QStringLiteral("cannot create run folder %1").arg(runDir)));
    if (!prepared) {
        (void)writer.recordStatus(runId.value(), RunStatus::Failed, QDateTime::currentDateTimeUtc(), prepared.error()).get();
        return fail(prepared.error());
    }
    const int gpus = int(launch.request.gpus.size());
    auto queued = writer
                      .submit<bool>([id = runId.value(), gpus, sweepId](SqliteConnection &connection) -> Result<bool> {
                          if (!sweepId.isEmpty()) {
                              auto parent = connection.prepare("UPDATE runs SET sweep_id = ? WHERE id = ?");
                              if (!parent)
                                  return fail(parent.error());
                              parent->bind(1, sweepId);
                              parent->bind(2, id);
                              if (auto done = parent->run(); !done)
                                  return fail(done.error());
                          }
                          auto insert = connection.prepare(
                              "INSERT INTO queue (run_id, position, gpus, enqueued_ms)"
                              " VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM queue), ?, ?)");
                          if (!insert)
                              return fail(insert.error());
                          insert->bind(1, id);
                          insert->bind(2, std::int64_t(gpus));
                          insert->bind(3, std::int64_t(QDateTime::currentMSecsSinceEpoch()));
                          if (auto done = insert->run(); !done)
                              return fail(done.error());
                          return true;
                      })
                      .get();
    if (!queued)
        return fail(queued.error());
    return runId.value();
}

Result<QueuedSweep> enqueueSweep(const Workspace &workspace, StoreWriter &writer, const RunSpec &spec, const QByteArray &specText,
                                 const QString &fallbackName)
{
    // The queue starts runs on this machine; a sweep's runs on a cluster would need Slurm's queue instead.
    if (spec.backend != QLatin1String("local"))
        return fail(QStringLiteral("the sweep's runs go to the local queue, but the spec names backend '%1': sweeps on a cluster "
                                   "backend are not supported yet (launch each run with `trainyard launch`, or set backend: local)")
                        .arg(spec.backend));
    auto points = expandSweep(spec.params, spec.sweep);
    if (!points)
        return fail(points.error());
    QueuedSweep queued;
    queued.name = spec.name.isEmpty() ? fallbackName : spec.name;
    auto sweepId = createSweep(writer, queued.name, specText);
    if (!sweepId)
        return fail(sweepId.error());
    queued.sweepId = sweepId.value();
    const LocalLaunch base = spec.toLocalLaunch();
    const int width = int(QString::number(points->size()).size());
    for (qsizetype i = 0; i < points->size(); ++i) {
        LocalLaunch child = base;
        child.name = QStringLiteral("%1-%2").arg(queued.name).arg(i + 1, width, 10, QLatin1Char('0'));
        child.typedParams = points->at(i).params;
        child.params.clear();
        for (const RunParam &param : child.typedParams)
            child.params << qMakePair(param.name, param.value);
        child.tags << QStringLiteral("sweep:") + queued.name;
        auto runId = enqueue(workspace, writer, child, queued.sweepId);
        if (!runId)
            return fail(runId.error());
        queued.runIds << runId.value();
        queued.labels << points->at(i).label;
    }
    return queued;
}

Result<QList<QueuedRun>> list(SqliteConnection &connection)
{
    auto select = connection.prepare(
        "SELECT q.run_id, r.name, q.position, q.gpus, q.paused, q.enqueued_ms, coalesce(r.sweep_id, '')"
        " FROM queue q JOIN runs r ON r.id = q.run_id ORDER BY q.position, q.enqueued_ms, q.run_id");
    if (!select)
        return fail(select.error());
    QList<QueuedRun> runs;
    for (;;) {
        auto row = select->step();
        if (!row)
            return fail(row.error());
        if (!row.value())
            break;
        QueuedRun run;
        run.runId = select->columnText(0);
        run.name = select->columnText(1);
        run.gpus = int(select->columnInt(3));
        run.paused = select->columnInt(4) != 0;
        run.enqueuedAt = QDateTime::fromMSecsSinceEpoch(select->columnInt(5), Qt::UTC);
        run.sweepId = select->columnText(6);
        run.position = int(runs.size()) + 1;
        runs << run;
    }
    return runs;
}

Result<void> move(StoreWriter &writer, const QString &runId, int position)
{
    auto moved = writer
                     .submit<bool>([runId, position](SqliteConnection &connection) -> Result<bool> {
                         auto ids = orderedIds(connection);
                         if (!ids)
                             return fail(ids.error());
                         if (!ids->removeOne(runId))
                             return notQueued(runId);
                         ids->insert(std::clamp<qsizetype>(position - 1, 0, ids->size()), runId);
                         if (auto done = renumber(connection, ids.value()); !done)
                             return fail(done.error());
                         return true;
                     })
                     .get();
    if (!moved)
        return fail(moved.error());
    return {};
}

Result<void> setPaused(StoreWriter &writer, const QString &runId, bool paused)
{
    auto changed = writer
                       .submit<bool>([runId, paused](SqliteConnection &connection) -> Result<bool> {
                           auto update = connection.prepare("UPDATE queue SET paused = ? WHERE run_id = ?");
                           if (!update)
                               return fail(update.error());
                           update->bind(1, std::int64_t(paused ? 1 : 0));
                           update->bind(2, runId);
                           if (auto done = update->run(); !done)
                               return fail(done.error());
                           if (connection.changes() == 0)
                               return notQueued(runId);
                           return true;
                       })
                       .get();
    if (!changed)
        return fail(changed.error());
    return {};
}

Result<bool> take(StoreWriter &writer, const QString &runId, const QString &host)
{
    return writer
        .submit<bool>([runId, host](SqliteConnection &connection) -> Result<bool> {
            auto remove = connection.prepare("DELETE FROM queue WHERE run_id = ?");
            if (!remove)
                return fail(remove.error());
            remove->bind(1, runId);
            if (auto done = remove->run(); !done)
                return fail(done.error());
            if (connection.changes() == 0)
                return false;
            if (!host.isEmpty()) {
                auto update = connection.prepare("UPDATE runs SET host = ? WHERE id = ?");
                if (!update)
                    return fail(update.error());
                update->bind(1, host);
                update->bind(2, runId);
                if (auto done = update->run(); !done)
                    return fail(done.error());
            }
            return true;
        })
        .get();
}

Result<void> cancel(StoreWriter &writer, const QString &runId)
{
    auto taken = take(writer, runId);
    if (!taken)
        return fail(taken.error());
    if (!taken.value())
        return notQueued(runId);
    return writer.recordStatus(runId, RunStatus::Canceled, QDateTime::currentDateTimeUtc(), QStringLiteral("canceled while queued")).get();
}

} // namespace trainyard::runqueue
