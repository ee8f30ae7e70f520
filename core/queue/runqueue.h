// The local run queue, as stored in the workspace: runs waiting (status queued) for the GPUs or CPU slots
// they ask for, in order. The store is the queue, so it survives a restart of any Trainyard process; the
// QueueScheduler starts runs from it. See docs/QUEUE.md.
#pragma once

#include "launch/runsupervisor.h"
#include "spec/runspec.h"
#include "result.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace trainyard {

class SqliteConnection;
struct SweepRow;
class StoreWriter;
class Workspace;

struct QueuedRun {
    QString runId;
    QString name;
    int position = 0; // 1 = next
    int gpus = 0;     // GPUs it needs; 0 = a CPU slot
    bool paused = false;
    QDateTime enqueuedAt;
    QString sweepId;
    bool operator==(const QueuedRun &) const = default;
};

namespace runqueue {

// Creates the run (status queued, folder, spec.yaml) and puts it at the end of the queue.
Result<QString> enqueue(const Workspace &workspace, StoreWriter &writer, const LocalLaunch &launch,
                        const QString &sweepId = {});
// As enqueue for many runs at once, in order: one transaction creates them, their specs are written and synced
// together, one transaction queues them (linear in the number of runs: 10,000 in about a second).
Result<QStringList> enqueueMany(const Workspace &workspace, StoreWriter &writer, const QList<LocalLaunch> &launches,
                                const QString &sweepId = {});
// The spec a sweep was queued from, read again from the text kept with it (a tpe sweep's with its cwd made absolute).
Result<RunSpec> parseSweepSpec(const SweepRow &sweep);
// Creates a sweep parent row (its spec text kept) and returns its id.
Result<QString> createSweep(StoreWriter &writer, const QString &name, const QByteArray &specText);

// Queues every run of the spec's sweep as children of one new sweep (named after the spec, or
// `fallbackName`): runs NAME-01, NAME-02, ..., tagged sweep:NAME. Returns the sweep id and run ids.
struct QueuedSweep {
    QString sweepId;
    QString name;
    QStringList runIds;
    QStringList labels; // what the sweep set in each run, e.g. "lr=0.01 seed=1"
};
Result<QueuedSweep> enqueueSweep(const Workspace &workspace, StoreWriter &writer, const RunSpec &spec,
                                 const QByteArray &specText, const QString &fallbackName);

// The queue, in order.
Result<QList<QueuedRun>> list(SqliteConnection &connection);
// Moves a queued run to `position` (1 = next; past the end = last).
Result<void> move(StoreWriter &writer, const QString &runId, int position);
Result<void> setPaused(StoreWriter &writer, const QString &runId, bool paused);
// Takes a run out of the queue and records it canceled.
Result<void> cancel(StoreWriter &writer, const QString &runId);
// Takes a run out of the queue to start it on `host` (recorded on the run): false when it was no longer
// queued (canceled, or taken first).
Result<bool> take(StoreWriter &writer, const QString &runId, const QString &host = {});

} // namespace runqueue
} // namespace trainyard
