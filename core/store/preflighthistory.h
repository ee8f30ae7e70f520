// PreflightHistory: the machine's past preflight results (preflight_results table), newest first, so a slow or
// failing link is seen against what the same GPUs measured before.
#pragma once

#include "result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <cstdint>

namespace trainyard {

class Database;
class SqliteConnection;

struct PreflightRecord {
    std::int64_t id = 0;
    QDateTime startedAt;
    QString host;
    bool healthy = false;
    QString verdict;
    QJsonObject result; // PreflightResult::toJson()
};

// Stores one result (its started_at, host, healthy and verdict are read from it); returns the row id.
Result<std::int64_t> savePreflightRecord(SqliteConnection &connection, const QJsonObject &result);
// The same, through a StoreWriter of its own on `database`, for a caller that holds no writer (the preflight
// command, the GPU preflight page's worker); waits until it is committed.
Result<std::int64_t> storePreflightRecord(const Database &database, const QJsonObject &result);
// At most `limit` results, newest first.
Result<QList<PreflightRecord>> loadPreflightRecords(SqliteConnection &connection, int limit = 200);

} // namespace trainyard
