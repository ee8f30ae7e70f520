// writeFileAtomically: a file written whole or not at all (QSaveFile), with an error that names it.
#pragma once

#include "result.h"

#include <QByteArray>
#include <QString>

namespace trainyard {

Result<void> writeFileAtomically(const QString &path, const QByteArray &content);
// Whole or not at all like writeFileAtomically (a temporary file renamed over the path), without its fsync: for many
// files written in a row, made durable together by one syncFileSystem.
Result<void> writeFileReplacing(const QString &path, const QByteArray &content);
// Flushes everything written to the file system that holds `path` (syncfs).
Result<void> syncFileSystem(const QString &path);

} // namespace trainyard
