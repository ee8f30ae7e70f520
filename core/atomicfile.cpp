// A crash mid-write leaves the previous file (or none), never half of the new one.
#include "atomicfile.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QTemporaryFile>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace trainyard {

Result<void> writeFileAtomically(const QString &path, const QByteArray &content)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size() || !file.commit())
        return fail(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

Result<void> syncFileSystem(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::syncfs(fd) != 0) {
        const QString error = QString::fromLocal8Bit(std::strerror(errno));
        if (fd >= 0)
            ::close(fd);
        return fail(QStringLiteral("cannot flush %1 to disk: %2").arg(path, error));
    }
    ::close(fd);
    return {};
}

Result<void> checkFolderWritable(const QString &path)
{
    if (!QDir().mkpath(path))
        return fail(QStringLiteral("cannot create it (is a parent a file, or not writable?)"));
    QTemporaryFile probe(QDir(path).filePath(QStringLiteral(".trainyard-probe-XXXXXX")));
    if (!probe.open() || probe.write("x", 1) != 1 || !probe.flush())
        return fail(QStringLiteral("cannot write in it: %1").arg(probe.errorString()));
    return {};
}

} // namespace trainyard
