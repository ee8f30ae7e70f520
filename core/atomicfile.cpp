// A crash mid-write leaves the previous file (or none), never half of the new one.
#include "atomicfile.h"

#include <QSaveFile>

namespace trainyard {

Result<void> writeFileAtomically(const QString &path, const QByteArray &content)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size() || !file.commit())
        return fail(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

} // namespace trainyard
