// Superseded points: when a restarted run resumes from a checkpoint at step S, what the failed attempt logged past S is
// not the series the run followed. Those points are kept, moved to a key of their own (supersededKeyName, marked in
// metric_keys.superseded_attempt), so that the run's series has each step once and the charts can still show the
// discarded tail faint on request.
#pragma once

#include "result.h"

#include <QString>

#include <cstdint>
#include <functional>
#include <optional>

namespace trainyard {

class SqliteConnection;

struct SupersedeRequest {
    QString runId;
    // The step the next attempt resumed from; points past it are superseded. nullopt: it started from the beginning,
    // so every point is.
    std::optional<std::int64_t> resumeStep;
    // Only points logged before this time (or with no time) move: the new attempt's points are never touched.
    std::int64_t beforeMs = 0;
    int attempt = 0; // the attempt (0-based) whose points these are
    // The keys concerned (a rank's keys); every key of the run when empty. Superseded keys are never concerned.
    std::function<bool(const QString &key)> keyFilter;
};

// Moves the points `request` names out of each concerned key into supersededKeyName(key, attempt), rewriting the key's
// chunks and pyramid with the points it keeps. Returns how many points moved. Runs inside the caller's transaction.
Result<std::int64_t> supersedePoints(SqliteConnection &connection, const SupersedeRequest &request);

} // namespace trainyard
