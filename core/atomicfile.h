// writeFileAtomically: a file written whole or not at all (QSaveFile), with an error that names it.
#pragma once

#include "result.h"

#include <QByteArray>
#include <QString>

namespace trainyard {

Result<void> writeFileAtomically(const QString &path, const QByteArray &content);
// Flushes everything written to the file system that holds `path` (syncfs).
Result<void> syncFileSystem(const QString &path);
// Creates the folder when needed and checks that a file can be written in it (a probe file, removed again); the
// error says which of the two failed and why.
Result<void> checkFolderWritable(const QString &path);

} // namespace trainyard
