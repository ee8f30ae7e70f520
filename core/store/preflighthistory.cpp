// Preflight results are kept whole, as the JSON the CLI prints, beside the columns the history list shows.
#include "store/preflighthistory.h"

#include "store/sqlite.h"
#include "store/storewriter.h"

#include <QJsonDocument>

namespace trainyard {

Result<std::int64_t> savePreflightRecord(SqliteConnection &connection, const QJsonObject &result)
{
    const QDateTime startedAt =
        QDateTime::fromString(result.value(QStringLiteral("started_at")).toString(), Qt::ISODateWithMs);
    if (!startedAt.isValid())
        return fail(QStringLiteral("a preflight result without a valid started_at cannot be stored"));
    auto insert = connection.prepare(
        "INSERT INTO preflight_results (started_ms, host, healthy, verdict, result) VALUES (?, ?, ?, ?, ?)");
    if (!insert)
        return fail(insert.error());
    insert->bind(1, std::int64_t(startedAt.toMSecsSinceEpoch()));
    insert->bind(2, result.value(QStringLiteral("host")).toString());
    insert->bind(3, std::int64_t(result.value(QStringLiteral("healthy")).toBool()));
    insert->bind(4, result.value(QStringLiteral("verdict")).toString());
    insert->bind(5, QString::fromUtf8(QJsonDocument(result).toJson(QJsonDocument::Compact)));
    if (auto inserted = insert->run(); !inserted)
        return fail(inserted.error());
    return connection.lastInsertRowId();
}

Result<std::int64_t> storePreflightRecord(const Database &database, const QJsonObject &result)
{
    auto writer = StoreWriter::start(database);
    if (!writer)
        return fail(writer.error());
    return writer.value()
        ->submit<std::int64_t>(
            [result](SqliteConnection &connection) { return savePreflightRecord(connection, result); })
        .get();
}

Result<QList<PreflightRecord>> loadPreflightRecords(SqliteConnection &connection, int limit)
{
    auto select = connection.prepare("SELECT id, started_ms, host, healthy, verdict, result FROM preflight_results "
                                     "ORDER BY started_ms DESC, id DESC LIMIT ?");
    if (!select)
        return fail(select.error());
    select->bind(1, std::int64_t(limit));
    QList<PreflightRecord> records;
    if (auto stepped = select->forEachRow([&] {
            PreflightRecord record;
            record.id = select->columnInt(0);
            record.startedAt = QDateTime::fromMSecsSinceEpoch(select->columnInt(1), Qt::UTC);
            record.host = select->columnText(2);
            record.healthy = select->columnInt(3) != 0;
            record.verdict = select->columnText(4);
            record.result = QJsonDocument::fromJson(select->columnText(5).toUtf8()).object();
            records << record;
        });
        !stepped)
        return fail(stepped.error());
    return records;
}

} // namespace trainyard
