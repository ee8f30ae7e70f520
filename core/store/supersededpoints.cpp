// Moving a failed attempt's tail out of a run's series: read each concerned key's chunks, split them, write both parts
// again. Restarts are rare and a key's points are read in bulk, so rewriting the key whole keeps the chunk and pyramid
// code the only writer of either.
#include "store/supersededpoints.h"

#include "store/metricchunk.h"
#include "store/runrecord.h"
#include "store/sqlite.h"

#include <QList>

#include <limits>

namespace trainyard {

namespace {

struct KeyRow {
    std::int64_t id;
    QString key;
};

Result<QList<KeyRow>> concernedKeys(SqliteConnection &connection, const SupersedeRequest &request)
{
    auto select = connection.prepare("SELECT k.id, k.key FROM metric_keys k WHERE k.run_id = ?1 AND "
                                     "k.superseded_attempt IS NULL AND EXISTS (SELECT 1 FROM metric_chunks c WHERE "
                                     "c.key_id = k.id AND c.max_step > ?2) ORDER BY k.id");
    if (!select)
        return fail(select.error());
    select->bind(1, request.runId);
    select->bind(2, request.resumeStep.value_or(std::numeric_limits<std::int64_t>::min()));
    QList<KeyRow> keys;
    if (auto stepped = select->forEachRow([&] {
            KeyRow row{select->columnInt(0), select->columnText(1)};
            if (!request.keyFilter || request.keyFilter(row.key))
                keys << row;
        });
        !stepped)
        return fail(stepped.error());
    return keys;
}

void append(MetricChunkPoints &to, const MetricPoint &point)
{
    to.steps.push_back(point.step);
    to.values.push_back(point.value);
    to.tsMs.push_back(point.tsMs.value_or(kNoTimestamp));
}

} // namespace

Result<std::int64_t> supersedePoints(SqliteConnection &connection, const SupersedeRequest &request)
{
    auto keys = concernedKeys(connection, request);
    if (!keys)
        return fail(keys.error());
    std::int64_t moved = 0;
    for (const KeyRow &key : *keys) {
        auto read = connection.prepare("SELECT steps, vals, ts FROM metric_chunks WHERE key_id = ? ORDER BY id");
        if (!read)
            return fail(read.error());
        read->bind(1, key.id);
        QList<MetricPoint> points;
        if (auto stepped = read->forEachRow([&] { return metricqueries::appendChunkPoints(read.value(), points); });
            !stepped)
            return fail(stepped.error());
        read = fail(QString()); // finalized before the key's chunks are rewritten
        MetricChunkPoints kept, superseded;
        for (const MetricPoint &point : points) {
            const bool past = !request.resumeStep || point.step > *request.resumeStep;
            const bool before = !point.tsMs || *point.tsMs < request.beforeMs;
            append(past && before ? superseded : kept, point);
        }
        if (superseded.steps.empty())
            continue;
        for (const char *sql :
             {"DELETE FROM metric_chunks WHERE key_id = ?", "DELETE FROM metric_bins WHERE key_id = ?"}) {
            auto statement = connection.prepare(sql);
            if (!statement)
                return fail(statement.error());
            statement->bind(1, key.id);
            if (auto deleted = statement->run(); !deleted)
                return fail(deleted.error());
        }
        if (auto written = insertMetricPoints(connection, key.id, kept); !written)
            return fail(written.error());
        auto shadow = metricKeyId(connection, request.runId, supersededKeyName(key.key, request.attempt));
        if (!shadow)
            return fail(shadow.error());
        auto mark = connection.prepare("UPDATE metric_keys SET superseded_attempt = ? WHERE id = ?");
        if (!mark)
            return fail(mark.error());
        mark->bind(1, std::int64_t(request.attempt));
        mark->bind(2, shadow.value());
        if (auto marked = mark->run(); !marked)
            return fail(marked.error());
        if (auto written = insertMetricPoints(connection, shadow.value(), superseded); !written)
            return fail(written.error());
        moved += std::int64_t(superseded.steps.size());
    }
    return moved;
}

} // namespace trainyard
