// Queue operations: every change is one writer operation (one transaction), so two processes changing
// the queue at once never lose or double a run.
#include "queue/runqueue.h"

#include "atomicfile.h"
#include "launch/speclaunch.h"
#include "queue/bayesiansweep.h"
#include "runfolder/runfolder.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/sweepstate.h"
#include "store/workspace.h"

#include <QDir>
#include <yaml-cpp/yaml.h>
#include <QFileInfo>
#include <QSet>

#include <cerrno>
#include <cstring>

#include <sys/stat.h>
#include <algorithm>

namespace trainyard::runqueue {

namespace {

Result<QStringList> orderedIds(SqliteConnection &connection)
{
    return connection.queryTexts("SELECT run_id FROM queue ORDER BY position, enqueued_ms, run_id");
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

Result<QStringList> enqueueMany(const Workspace &workspace, StoreWriter &writer, const QList<LocalLaunch> &launches,
                                const QString &sweepId)
{
    // 1. Each run's folder and resolved spec first, under an id chosen now, made durable with one sync rather than one
    // per file (a crash here leaves folders no run refers to, and no run).
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<NewRun> rows;
    rows.reserve(launches.size());
    QSet<QString> chosen;
    QStringList written;
    const auto removeWritten = [&] {
        for (const QString &id : std::as_const(written))
            QDir(workspace.runDir(id)).removeRecursively();
    };
    for (const LocalLaunch &launch : launches) {
        NewRun row = newRunFor(launch);
        row.host = QString();
        row.initialStatus = RunStatus::Queued;
        row.createdAt = now;
        row.sweepId = sweepId;
        // mkdir, not mkpath: an existing folder (another run's) is never written into; another id is drawn.
        QString runDir;
        int made = -1;
        do {
            row.id = makeRunId(now);
            runDir = workspace.runDir(row.id);
            made = chosen.contains(row.id) ? -1 : ::mkdir(QFile::encodeName(runDir).constData(), 0777);
        } while (made != 0 && (chosen.contains(row.id) || errno == EEXIST));
        chosen.insert(row.id);
        if (made != 0) {
            const QString error = QStringLiteral("cannot create run folder %1: %2")
                                      .arg(runDir, QString::fromLocal8Bit(std::strerror(errno)));
            removeWritten();
            return fail(error);
        }
        written << row.id;
        // Written in place: no run refers to the folder until the transaction below commits.
        QFile spec(QDir(runDir).filePath(QLatin1String(kSpecFileName)));
        const QByteArray text = resolvedSpecText(runDir, launch);
        if (!spec.open(QIODevice::WriteOnly) || spec.write(text) != text.size() || !spec.flush()) {
            const QString error = QStringLiteral("cannot write %1: %2").arg(spec.fileName(), spec.errorString());
            removeWritten();
            return fail(error);
        }
        rows << row;
    }
    if (!rows.isEmpty()) {
        if (auto synced = syncFileSystem(workspace.runDir(rows.first().id)); !synced) {
            removeWritten();
            return fail(synced.error());
        }
    }

    // 2. The runs and their places in the queue, in one transaction: all of them are queued, or none is.
    const QString runsDir = workspace.runsDir();
    auto queued =
        writer
            .submit<QStringList>([rows, launches, runsDir](SqliteConnection &connection) -> Result<QStringList> {
                auto last = connection.prepare("SELECT coalesce(max(position), 0) FROM queue");
                auto insert =
                    connection.prepare("INSERT INTO queue (run_id, position, gpus, enqueued_ms) VALUES (?, ?, ?, ?)");
                if (!last || !insert)
                    return fail(!last ? last.error() : insert.error());
                auto row = last->step();
                if (!row)
                    return fail(row.error());
                const std::int64_t base = last->columnInt(0);
                QStringList ids;
                ids.reserve(rows.size());
                for (qsizetype i = 0; i < rows.size(); ++i) {
                    auto id = insertNewRun(connection, rows[i]);
                    if (!id)
                        return fail(id.error());
                    if (id.value() != rows[i].id) {
                        // Another process took the id meanwhile (same second, same random digits): move the folder.
                        const QString from = runsDir + QLatin1Char('/') + rows[i].id;
                        const QString to = runsDir + QLatin1Char('/') + id.value();
                        if (!QDir().rename(from, to))
                            return fail(QStringLiteral("cannot move run folder %1 to %2").arg(from, to));
                        if (auto rewritten = writeResolvedSpec(to, launches[i]); !rewritten)
                            return fail(rewritten.error());
                    }
                    insert->bind(1, id.value());
                    insert->bind(2, std::int64_t(base + 1 + i));
                    insert->bind(3, std::int64_t(launches[i].request.gpus.size()));
                    insert->bind(4, std::int64_t(rows[i].createdAt.toMSecsSinceEpoch()));
                    if (auto done = insert->run(); !done)
                        return fail(done.error());
                    ids << id.value();
                }
                return ids;
            })
            .get();
    if (!queued) {
        removeWritten();
        return fail(queued.error());
    }
    return queued.value();
}

Result<QString> enqueue(const Workspace &workspace, StoreWriter &writer, const LocalLaunch &launch,
                        const QString &sweepId)
{
    auto ids = enqueueMany(workspace, writer, {launch}, sweepId);
    if (!ids)
        return fail(ids.error());
    return ids->first();
}

Result<RunSpec> parseSweepSpec(const SweepRow &sweep)
{
    return parseRunSpec(sweep.spec, QStringLiteral("the spec of sweep ") + sweep.name, QDir::currentPath());
}

Result<QueuedSweep> enqueueSweep(const Workspace &workspace, StoreWriter &writer, const RunSpec &spec,
                                 const QByteArray &specText, const QString &fallbackName)
{
    // The queue starts runs on this machine; a sweep's runs on a cluster would need Slurm's queue instead.
    if (spec.backend != QLatin1String("local"))
        return fail(
            QStringLiteral(
                "the sweep's runs go to the local queue, but the spec names backend '%1': sweeps on a cluster "
                "backend are not supported yet (launch each run with `trainyard launch`, or set backend: local)")
                .arg(spec.backend));
    if (spec.sweep.method == SweepSpec::Method::Tpe) {
        // Its trials are proposed one by one by the queue, through Optuna: refused now if Optuna is not there.
        if (auto optuna = optunahelper::checkAvailable(); !optuna)
            return fail(optuna.error() + QStringLiteral("; nothing was queued"));
        QueuedSweep queued;
        queued.name = spec.name.isEmpty() ? fallbackName : spec.name;
        // Its runs are made later, from the spec kept with the sweep: its cwd is kept absolute, as it was read.
        QByteArray kept = specText;
        try {
            YAML::Node root = YAML::Load(specText.toStdString());
            if (root.IsMap()) {
                root["cwd"] = spec.cwd.toStdString();
                YAML::Emitter emitter;
                emitter << root;
                kept = QByteArray(emitter.c_str());
            }
        } catch (const YAML::Exception &) {
            // The text parsed once already; kept as it is should it not now.
        }
        auto sweepId = createSweep(writer, queued.name, kept);
        if (!sweepId)
            return fail(sweepId.error());
        queued.sweepId = sweepId.value();
        auto marked = writer
                          .submit<void>([id = queued.sweepId](SqliteConnection &connection) {
                              return sweepstate::setMethod(connection, id, QStringLiteral("tpe"));
                          })
                          .get();
        if (!marked)
            return fail(marked.error());
        return queued;
    }
    auto points = expandSweep(spec.params, spec.sweep);
    if (!points)
        return fail(points.error());
    QueuedSweep queued;
    queued.name = spec.name.isEmpty() ? fallbackName : spec.name;
    auto sweepId = createSweep(writer, queued.name, specText);
    if (!sweepId)
        return fail(sweepId.error());
    queued.sweepId = sweepId.value();
    const LocalLaunch base = localLaunchFor(spec);
    // NAME-01, NAME-02, ...: at least two digits, more when the sweep needs them, so that names sort in order.
    const int width = std::max(2, int(QString::number(points->size()).size()));
    QList<LocalLaunch> children;
    children.reserve(points->size());
    for (qsizetype i = 0; i < points->size(); ++i) {
        LocalLaunch child = base;
        child.name = QStringLiteral("%1-%2").arg(queued.name).arg(i + 1, width, 10, QLatin1Char('0'));
        child.typedParams = points->at(i).params;
        child.params.clear();
        for (const RunParam &param : child.typedParams)
            child.params << qMakePair(param.name, param.value);
        child.tags << QStringLiteral("sweep:") + queued.name;
        children << child;
        queued.labels << points->at(i).label;
    }
    auto runIds = enqueueMany(workspace, writer, children, queued.sweepId);
    if (!runIds)
        return fail(runIds.error());
    queued.runIds = runIds.value();
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
    if (auto stepped = select->forEachRow([&] {
            QueuedRun run;
            run.runId = select->columnText(0);
            run.name = select->columnText(1);
            run.gpus = int(select->columnInt(3));
            run.paused = select->columnInt(4) != 0;
            run.enqueuedAt = QDateTime::fromMSecsSinceEpoch(select->columnInt(5), Qt::UTC);
            run.sweepId = select->columnText(6);
            run.position = int(runs.size()) + 1;
            runs << run;
        });
        !stepped)
        return fail(stepped.error());
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
    return writer
        .recordStatus(runId, RunStatus::Canceled, QDateTime::currentDateTimeUtc(),
                      QStringLiteral("canceled while queued"))
        .get();
}

} // namespace trainyard::runqueue
