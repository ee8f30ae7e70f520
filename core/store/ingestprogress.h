// IngestProgress: how far ingestion has committed in one file of a run (ingest_progress table).
#pragma once

#include "result.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>

namespace trainyard {

class SqliteConnection;

struct IngestProgress {
    QString file;
    std::int64_t byteOffset = 0;
    std::int64_t lineNumber = 0;
    std::int64_t points = 0;
    std::int64_t malformedLines = 0;
    QStringList malformedExamples;
};

Result<QList<IngestProgress>> loadIngestProgress(SqliteConnection &connection, const QString &runId);
// Inserts or updates the row of progress.file; meant to run in the transaction that stores the points. With
// `continuesFrom`, fails unless the stored offset is that one (0: no row yet): a batch whose points follow a batch that
// was never stored must not move the offset past that batch's lines.
Result<void> saveIngestProgress(SqliteConnection &connection, const QString &runId, const IngestProgress &progress,
                                std::optional<std::int64_t> continuesFrom = std::nullopt);

} // namespace trainyard
