// writeFileAtomically: a file written whole or not at all (QSaveFile), with an error that names it.
#pragma once

#include "result.h"

#include <QByteArray>
#include <QString>

namespace trainyard {

Result<void> writeFileAtomically(const QString &path, const QByteArray &content);
// Flushes everything written to the file system that holds `path` (syncfs).
Result<void> syncFileSystem(const QString &path);

} // namespace trainyard
