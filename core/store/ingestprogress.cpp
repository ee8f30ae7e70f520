// The ingest_progress table. Examples are stored as a JSON array of strings.
#include "store/ingestprogress.h"

#include "store/sqlite.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace trainyard {

Result<QList<IngestProgress>> loadIngestProgress(SqliteConnection &connection, const QString &runId)
{
    auto statement = connection.prepare("SELECT file, byte_offset, line_number, points, malformed_lines, "
                                        "malformed_examples FROM ingest_progress WHERE run_id = ?");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    QList<IngestProgress> files;
    if (auto stepped = statement->forEachRow([&] {
            IngestProgress progress;
            progress.file = statement->columnText(0);
            progress.byteOffset = statement->columnInt(1);
            progress.lineNumber = statement->columnInt(2);
            progress.points = statement->columnInt(3);
            progress.malformedLines = statement->columnInt(4);
            for (const QJsonValue &example : QJsonDocument::fromJson(statement->columnText(5).toUtf8()).array())
                progress.malformedExamples << example.toString();
            files << progress;
        });
        !stepped)
        return fail(stepped.error());
    return files;
}

Result<void> saveIngestProgress(SqliteConnection &connection, const QString &runId, const IngestProgress &progress,
                                std::optional<std::int64_t> continuesFrom)
{
    if (continuesFrom) {
        auto current = connection.cached("SELECT byte_offset FROM ingest_progress WHERE run_id = ? AND file = ?");
        if (!current)
            return fail(current.error());
        (*current)->bind(1, runId);
        (*current)->bind(2, progress.file);
        auto row = (*current)->step();
        if (!row)
            return fail(row.error());
        const std::int64_t stored = row.value() ? (*current)->columnInt(0) : 0;
        (*current)->reset();
        if (stored != *continuesFrom)
            return fail(
                QStringLiteral(
                    "ingestion of %1 is stored up to byte %2, but these points continue from byte %3: an earlier batch "
                    "was not stored")
                    .arg(progress.file)
                    .arg(stored)
                    .arg(*continuesFrom));
    }
    auto statement = connection.prepare(
        "INSERT INTO ingest_progress (run_id, file, byte_offset, line_number, points, malformed_lines, "
        "malformed_examples)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (run_id, file) DO UPDATE SET byte_offset = ?3,"
        " line_number = ?4, points = ?5, malformed_lines = ?6, malformed_examples = ?7");
    if (!statement)
        return fail(statement.error());
    statement->bind(1, runId);
    statement->bind(2, progress.file);
    statement->bind(3, progress.byteOffset);
    statement->bind(4, progress.lineNumber);
    statement->bind(5, progress.points);
    statement->bind(6, progress.malformedLines);
    statement->bind(
        7, QJsonDocument(QJsonArray::fromStringList(progress.malformedExamples)).toJson(QJsonDocument::Compact));
    return statement->run();
}

} // namespace trainyard
