// Read-only queries over runs, on a reader's own connection, each inside one snapshot.
#pragma once

#include "result.h"
#include "store/runrecord.h"

#include <QList>

#include <functional>
#include <optional>

namespace trainyard {

class SqliteConnection;

struct RunEvent {
    QDateTime at;
    QString fromStatus; // empty for the first event
    QString toStatus;
    QString detail;
};

// What changed in the run list since a reader's last read (core/store/schema.cpp, version 10).
struct RunListChange {
    QList<RunRecord> upserted; // runs new or changed since the last read (every run when complete), newest first
    QStringList removed;       // ids of runs deleted since the last read
    bool complete = false;     // the whole list, when read without `since`; from a watcher: this ends the first list
    bool wholeList = false;    // a consumer drops every run not in `upserted` (RunTableModel::setRuns)
    std::int64_t sequence = 0; // the run list's change sequence this read reached: the next read's `since`
    bool isEmpty() const { return !complete && upserted.isEmpty() && removed.isEmpty(); }
};

enum class ChangeSequence { RunList, Queue };

namespace runqueries {

// Every run, newest first, with its tags. `runsFound`, when given, is told how many runs there are as soon as their
// rows are read, before their tags, params and metric summaries (a window says so while it loads).
Result<QList<RunRecord>> listRuns(SqliteConnection &connection, const std::function<void(qsizetype)> &runsFound = {});
// The run list's changes since sequence `since` (a run's list columns, tags, params, mlflow.* tags, metric summaries),
// or, without `since`, the whole list (only its newestOnly newest runs when given: a first screenful, not complete);
// reads nothing more than the sequence when nothing changed. All in one snapshot.
Result<RunListChange> readRunListChanges(SqliteConnection &connection, std::optional<std::int64_t> since,
                                         const std::function<void(qsizetype)> &runsFound = {},
                                         std::optional<qsizetype> newestOnly = std::nullopt);
// The current value of a change sequence: it grows with each change of the run list or of the queue.
Result<std::int64_t> changeSequence(SqliteConnection &connection, ChangeSequence which);
struct RunStreamOptions {
    std::optional<std::int64_t> createdSinceMs; // only runs created at or after this time
    bool withDetails = false;                   // params, mlflow.* tags and metric summaries (tags always come)
};
// Every run, newest first, to onRun as its row is read (a page at a time with details), until onRun returns false:
// what `trainyard ls` streams. One snapshot.
Result<void> streamRuns(SqliteConnection &connection, const RunStreamOptions &options,
                        const std::function<bool(RunRecord &&)> &onRun);
// A run by full id, or by a unique id prefix or exact name.
Result<RunRecord> findRun(SqliteConnection &connection, const QString &idPrefixOrName);
Result<QList<RunEvent>> events(SqliteConnection &connection, const QString &runId);
// A sweep (by id, unique id prefix or name; an exact id, then the newest of that name) and its runs, oldest first.
struct SweepRuns {
    QString id;
    QString name;
    QList<RunRecord> runs;
};
Result<SweepRuns> findSweep(SqliteConnection &connection, const QString &idPrefixOrName);
// Changes whenever another connection (any thread or process) commits: a cheap "did anything change?".
Result<std::int64_t> dataVersion(SqliteConnection &connection);

} // namespace runqueries
} // namespace trainyard
