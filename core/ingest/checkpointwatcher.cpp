#include "ingest/checkpointwatcher.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace trainyard {

namespace {

struct Size {
    std::int64_t bytes = 0;
    std::int64_t modifiedMs = 0;
};

// A file's size and time, or a folder's total and newest time.
std::optional<Size> measure(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        return std::nullopt;
    Size size{info.isDir() ? 0 : info.size(), info.lastModified().toMSecsSinceEpoch()};
    if (info.isDir()) {
        QDirIterator it(path, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            it.next();
            const QFileInfo file = it.fileInfo();
            size.bytes += file.size();
            size.modifiedMs = std::max<std::int64_t>(size.modifiedMs, file.lastModified().toMSecsSinceEpoch());
        }
    }
    return size;
}

bool isSaveUnderWay(const QString &name)
{
    return name.endsWith(QLatin1String(".tmp")) || name.endsWith(QLatin1String(".partial"))
        || name.endsWith(QLatin1String(".incomplete")) || name.contains(QLatin1String(".tmp."));
}

// torch.save writes a zip (since PyTorch 1.6): whole once its end-of-central-directory record is there.
bool zipIsWhole(QFile &file)
{
    const qint64 size = file.size();
    if (size < 22)
        return false;
    const qint64 tail = std::min<qint64>(size, 22 + 65535);
    if (!file.seek(size - tail))
        return false;
    return file.read(tail).lastIndexOf(QByteArrayLiteral("PK\x05\x06")) >= 0;
}

} // namespace

CheckpointWatcher::CheckpointWatcher(QString runId, QString runDir, QString checkpointDir, std::int64_t settleMs)
    : m_runId(std::move(runId)), m_runDir(std::move(runDir)), m_checkpointDir(std::move(checkpointDir)),
      m_settleMs(settleMs)
{ }

std::optional<std::int64_t> CheckpointWatcher::stepFromName(const QString &name)
{
    // In order: Lightning's and most scripts' "step" (epoch=3-step=1200.ckpt, step_1200.pt, global_step1200),
    // Hugging Face Trainer's checkpoint-1200, then a bare trailing number (model_1200.pt, ckpt-1200).
    static const QRegularExpression patterns[] = {
        QRegularExpression(QStringLiteral("(?:^|[^a-z])step[_=\\-]?(\\d+)"), QRegularExpression::CaseInsensitiveOption),
        QRegularExpression(QStringLiteral("^checkpoint-(\\d+)$"), QRegularExpression::CaseInsensitiveOption),
        QRegularExpression(QStringLiteral("[_\\-](\\d+)(?:\\.[A-Za-z0-9]+)*$")),
    };
    for (const QRegularExpression &pattern : patterns) {
        const auto match = pattern.match(name);
        if (!match.hasMatch())
            continue;
        bool ok = false;
        const std::int64_t step = match.captured(1).toLongLong(&ok);
        if (ok)
            return step;
    }
    return std::nullopt;
}

bool CheckpointWatcher::isCandidateName(const QString &name)
{
    return !name.isEmpty() && !name.startsWith(QLatin1Char('.')) && !isSaveUnderWay(name);
}

bool CheckpointWatcher::looksWhole(const QString &path)
{
    const QFileInfo info(path);
    if (info.isDir()) {
        // A save under way inside it, or a Hugging Face Trainer checkpoint without its state (written last).
        QDirIterator it(path, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        while (it.hasNext())
            if (isSaveUnderWay(QFileInfo(it.next()).fileName()))
                return false;
        static const QRegularExpression huggingFace(QStringLiteral("^checkpoint-\\d+$"));
        if (huggingFace.match(info.fileName()).hasMatch())
            return QFileInfo::exists(path + QStringLiteral("/trainer_state.json"));
        return true;
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return false;
    if (file.size() == 0)
        return false;
    if (file.peek(4) == QByteArrayLiteral("PK\x03\x04"))
        return zipIsWhole(file);
    return true;
}

void CheckpointWatcher::readClientFiles()
{
    const QDir runDir(m_runDir);
    for (const QString &name : runDir.entryList({QStringLiteral("checkpoints.rank*.jsonl")}, QDir::Files)) {
        QFile file(runDir.filePath(name));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        qint64 &offset = m_clientOffsets[file.fileName()];
        if (!file.seek(offset))
            continue;
        const QByteArray chunk = file.readAll();
        const qsizetype end = chunk.lastIndexOf('\n');
        if (end < 0)
            continue; // no whole line yet
        offset += end + 1;
        for (const QByteArray &line : chunk.left(end).split('\n')) {
            const QJsonObject object = QJsonDocument::fromJson(line).object();
            QString path = object.value(QStringLiteral("path")).toString();
            if (path.isEmpty())
                continue;
            if (QFileInfo(path).isRelative())
                path = QDir(object.value(QStringLiteral("cwd")).toString(m_runDir)).absoluteFilePath(path);
            path = QDir::cleanPath(path);
            Declared declared;
            declared.record.runId = m_runId;
            declared.record.path = path;
            if (object.value(QStringLiteral("step")).isDouble())
                declared.record.step = object.value(QStringLiteral("step")).toInteger();
            declared.record.source = QStringLiteral("client");
            declared.record.rank = object.value(QStringLiteral("rank")).toInt(-1);
            declared.record.metrics = object.value(QStringLiteral("metrics")).toObject();
            declared.record.createdMs = qint64(object.value(QStringLiteral("ts")).toDouble() * 1000);
            m_declared.insert(path, declared);
        }
    }
}

CheckpointWatcher::Changes CheckpointWatcher::poll(std::int64_t nowMs, bool final)
{
    Changes changes;
    readClientFiles();
    // What the clients said: recorded once the path is there and whole.
    for (auto it = m_declared.begin(); it != m_declared.end(); ++it) {
        if (it->recorded)
            continue;
        const auto size = measure(it.key());
        if (!size || !looksWhole(it.key()))
            continue;
        it->record.bytes = size->bytes;
        if (it->record.createdMs <= 0)
            it->record.createdMs = nowMs;
        it->recorded = true;
        changes.found.append(it->record);
        Sighting &sighting = m_sightings[it.key()];
        sighting.recorded = true;
        sighting.bytes = sighting.recordedBytes = size->bytes;
        sighting.modifiedMs = sighting.recordedModifiedMs = size->modifiedMs;
    }

    // The checkpoint folder's top level, and the artifacts' checkpoint folders (where mlflow.log_artifact(path,
    // "checkpoints") copies a file: the run's artifact_uri is its artifacts/ folder).
    QSet<QString> present;
    QList<std::pair<QString, QString>> folders{{m_checkpointDir, QStringLiteral("folder")}};
    for (const char *name : kArtifactCheckpointFolders)
        folders.append({m_runDir + QStringLiteral("/artifacts/") + QLatin1String(name), QStringLiteral("mlflow")});
    for (const auto &[folderPath, source] : folders) {
        const QDir folder(folderPath);
        if (!folder.exists())
            continue;
        for (const QFileInfo &entry :
             folder.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            if (!isCandidateName(entry.fileName()))
                continue;
            const QString path = QDir::cleanPath(entry.absoluteFilePath());
            present.insert(path);
            const auto size = measure(path);
            if (!size)
                continue;
            Sighting &sighting = m_sightings[path];
            if (size->bytes != sighting.bytes || size->modifiedMs != sighting.modifiedMs) {
                sighting.bytes = size->bytes;
                sighting.modifiedMs = size->modifiedMs;
                sighting.unchangedSinceMs = nowMs;
                if (!final)
                    continue;
            }
            const bool settled = final || nowMs - sighting.unchangedSinceMs >= m_settleMs;
            const bool unchangedSinceRecorded = sighting.recorded && sighting.recordedBytes == size->bytes
                && sighting.recordedModifiedMs == size->modifiedMs;
            if (!settled || unchangedSinceRecorded || !looksWhole(path))
                continue;
            CheckpointRecord record;
            if (const auto declared = m_declared.constFind(path); declared != m_declared.constEnd())
                record = declared->record; // the client's step and metrics
            record.runId = m_runId;
            record.path = path;
            if (!record.step)
                record.step = stepFromName(entry.fileName());
            if (record.source.isEmpty())
                record.source = source;
            record.bytes = size->bytes;
            record.createdMs = nowMs;
            sighting.recorded = true;
            sighting.recordedBytes = size->bytes;
            sighting.recordedModifiedMs = size->modifiedMs;
            changes.found.append(record);
        }
    }
    // Recorded paths that are gone (deleted by the script, or by retention).
    for (auto it = m_sightings.begin(); it != m_sightings.end();) {
        if (it->recorded && !present.contains(it.key()) && !QFileInfo::exists(it.key())) {
            changes.removed.append(it.key());
            m_declared.remove(it.key());
            it = m_sightings.erase(it);
        } else {
            ++it;
        }
    }
    return changes;
}

} // namespace trainyard
