// Read-only queries over runs, on a reader's own connection, each inside one snapshot.
#pragma once

#include "result.h"
#include "store/runrecord.h"

#include <QList>

#include <functional>

namespace trainyard {

class SqliteConnection;

struct RunEvent {
    QDateTime at;
    QString fromStatus; // empty for the first event
    QString toStatus;
    QString detail;
};

namespace runqueries {

// Every run, newest first, with its tags. `runsFound`, when given, is told how many runs there are as soon as their
// rows are read, before their tags, params and metric summaries (a window says so while it loads).
Result<QList<RunRecord>> listRuns(SqliteConnection &connection, const std::function<void(qsizetype)> &runsFound = {});
// A run by full id, or by a unique id prefix or exact name.
Result<RunRecord> findRun(SqliteConnection &connection, const QString &idPrefixOrName);
Result<QList<RunEvent>> events(SqliteConnection &connection, const QString &runId);
// Changes whenever another connection (any thread or process) commits: a cheap "did anything change?".
Result<std::int64_t> dataVersion(SqliteConnection &connection);

} // namespace runqueries
} // namespace trainyard
