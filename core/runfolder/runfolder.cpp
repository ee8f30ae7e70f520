#include "runfolder/runfolder.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QFile>
#include <QRegularExpression>
#include <QSet>

#include <sys/stat.h>

namespace trainyard {

QString agentOutcomeFileName(int nodeRank) { return QStringLiteral("agent.node%1.json").arg(nodeRank); }

QStringList reservedRunFileNames()
{
    // meta.yaml: an MLflow run folder's, which `trainyard import` reads.
    return {QLatin1String(kSpecFileName),
            QStringLiteral("meta.yaml"),
            QLatin1String(kProvenanceFileName),
            QLatin1String(kSupervisorRecordFileName),
            QLatin1String(kDeepSpeedConfigFileName),
            QLatin1String(kSlurmJobFileName),
            QLatin1String(kAgentRequestFileName)};
}

QString metricsFileName(int globalRank) { return QStringLiteral("metrics.rank%1.jsonl").arg(globalRank); }

QString ncclDebugFileName(int globalRank, int attempt)
{
    return attempt == 0 ? QStringLiteral("nccl.rank%1.log").arg(globalRank)
                        : QStringLiteral("nccl.rank%1.attempt%2.log").arg(globalRank).arg(attempt);
}

QString rankLogFileName(int globalRank, int attempt)
{
    return attempt == 0 ? QStringLiteral("rank%1.log").arg(globalRank)
                        : QStringLiteral("rank%1.attempt%2.log").arg(globalRank).arg(attempt);
}

std::optional<RankLogName> parseRankLogFileName(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^(nccl\\.)?rank(\\d+)(?:\\.attempt(\\d+))?\\.log$"));
    const auto match = pattern.match(name);
    if (!match.hasMatch())
        return std::nullopt;
    return RankLogName{match.captured(2).toInt(), match.captured(3).toInt(), !match.captured(1).isEmpty()};
}

namespace {

// Allocated bytes under `path` (a file or a folder), skipping what `skip` holds and each inode seen before.
std::int64_t allocatedBytesUnder(const QString &path, const QString &skip, QSet<QPair<quint64, quint64>> &seen)
{
    const auto sizeOf = [&](const QString &file) -> std::int64_t {
        struct stat info { };
        if (::lstat(QFile::encodeName(file).constData(), &info) != 0 || S_ISLNK(info.st_mode))
            return 0;
        if (!S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode))
            return 0;
        const QPair<quint64, quint64> inode{quint64(info.st_dev), quint64(info.st_ino)};
        if (seen.contains(inode))
            return 0;
        seen.insert(inode);
        return S_ISREG(info.st_mode) ? std::int64_t(info.st_blocks) * 512 : 0;
    };
    std::int64_t bytes = sizeOf(path);
    QDirIterator it(path, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString file = it.next();
        if (!skip.isEmpty() && (file == skip || file.startsWith(skip + QLatin1Char('/'))))
            continue;
        bytes += sizeOf(file);
    }
    return bytes;
}

} // namespace

std::int64_t RunDiskUse::total() const { return runFolderBytes + checkpointBytes; }

RunDiskUse measureRunDiskUse(const QString &runDir, const QString &checkpointDir)
{
    QSet<QPair<quint64, quint64>> seen;
    const QString checkpoints = checkpointDir.isEmpty() ? QString() : QDir::cleanPath(checkpointDir);
    RunDiskUse use;
    if (!checkpoints.isEmpty() && QFileInfo::exists(checkpoints))
        use.checkpointBytes = allocatedBytesUnder(checkpoints, {}, seen);
    use.runFolderBytes = allocatedBytesUnder(QDir::cleanPath(runDir), checkpoints, seen);
    return use;
}

} // namespace trainyard
