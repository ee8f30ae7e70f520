// Event files to chunks: scan records, decode scalars, write them with the files' new offsets in one transaction.
#include "ingest/tensorboardingester.h"

#include "ingest/tfrecord.h"
#include "store/database.h"
#include "store/ingestprogress.h"
#include "store/metricchunk.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/trackingstore.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>

#include <cmath>
#include <deque>
#include <future>
#include <unordered_map>
#include <utility>

namespace trainyard {

void TensorBoardStats::add(const TensorBoardStats &other, int maxExamples)
{
    points += other.points;
    files += other.files;
    damagedRecords += other.damagedRecords;
    for (const QString &example : other.damageExamples)
        if (damageExamples.size() < maxExamples)
            damageExamples << example;
    histograms += other.histograms;
    images += other.images;
    audio += other.audio;
    otherTensors += other.otherTensors;
    hparams += other.hparams;
    if (other.firstWallTime > 0 && (firstWallTime == 0 || other.firstWallTime < firstWallTime))
        firstWallTime = other.firstWallTime;
    lastWallTime = std::max(lastWallTime, other.lastWallTime);
}

bool isTfEventsFileName(const QString &fileName) { return fileName.startsWith(QLatin1String("events.out.tfevents.")); }

struct TensorBoardIngester::FileCursor {
    QString path;
    QString keyPrefix;
    std::int64_t offset = 0;
    std::int64_t records = 0;
    std::int64_t points = 0;
    std::int64_t damaged = 0;
    QStringList examples;
};

TensorBoardIngester::TensorBoardIngester(QString runId, StoreWriter &writer)
    : m_runId(std::move(runId)), m_writer(writer), m_keyIds(std::make_shared<QHash<QString, std::int64_t>>())
{ }

TensorBoardIngester::~TensorBoardIngester() = default;

void TensorBoardIngester::addFolder(const QString &folder, bool recursive)
{
    m_folders.append({QDir(folder).absolutePath(), recursive});
}

Result<void> TensorBoardIngester::resume(const Database &database)
{
    m_database = database;
    auto connection = database.connect();
    if (!connection)
        return fail(connection.error());
    auto stored = loadIngestProgress(*connection, m_runId);
    if (!stored)
        return fail(stored.error());
    QMutexLocker lock(&m_statsMutex);
    for (const IngestProgress &progress : *stored) {
        if (!progress.file.startsWith(QLatin1String(kTfEventsProgressPrefix)))
            continue;
        auto cursor = std::make_unique<FileCursor>();
        cursor->path = progress.file.mid(qsizetype(std::strlen(kTfEventsProgressPrefix)));
        cursor->offset = progress.byteOffset;
        cursor->records = progress.lineNumber;
        cursor->points = progress.points;
        cursor->damaged = progress.malformedLines;
        cursor->examples = progress.malformedExamples;
        m_stats.points += cursor->points;
        m_stats.damagedRecords += cursor->damaged;
        ++m_stats.files;
        m_cursors.emplace(cursor->path, std::move(cursor));
    }
    return {};
}

QList<QPair<QString, QString>> TensorBoardIngester::currentFiles() const
{
    QList<QPair<QString, QString>> files;
    for (const Folder &folder : m_folders) {
        const QDir root(folder.path);
        QDirIterator it(folder.path, {QStringLiteral("events.out.tfevents.*")}, QDir::Files,
                        folder.recursive ? QDirIterator::Subdirectories : QDirIterator::NoIteratorFlags);
        while (it.hasNext()) {
            const QString path = it.next();
            const QString relativeDir = root.relativeFilePath(QFileInfo(path).absolutePath());
            files.append({path, relativeDir == QLatin1String(".") ? QString() : relativeDir + QLatin1Char('/')});
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

// What one transaction writes: points by key (in file order), params from hparams, and the files' progress so far.
struct TensorBoardIngester::Pending {
    std::map<QString, MetricChunkPoints> pointsByKey;
    QList<KeyValue> hparams;
    std::vector<IngestProgress> progress;
    std::vector<std::int64_t> continuesFrom; // per progress entry: the offset the store must hold before this commit
    std::int64_t points = 0;
};

std::future<Result<void>> TensorBoardIngester::submit(Pending pending)
{
    return m_writer.submit<void>(
        [runId = m_runId, keyIds = m_keyIds,
         pending = std::make_shared<Pending>(std::move(pending))](SqliteConnection &connection) -> Result<void> {
            for (const auto &[key, series] : pending->pointsByKey) {
                auto id = keyIds->constFind(key);
                if (id == keyIds->constEnd()) {
                    auto created = metricKeyId(connection, runId, key);
                    if (!created)
                        return fail(created.error());
                    id = keyIds->insert(key, *created);
                }
                if (auto inserted = insertMetricPoints(connection, *id, series); !inserted)
                    return inserted;
            }
            if (!pending->hparams.isEmpty()) {
                if (auto stored = trackingstore::replaceParams(connection, runId, pending->hparams); !stored)
                    return stored;
            }
            // A commit that follows one that failed is refused: its offsets would skip the failed one's records.
            for (std::size_t i = 0; i < pending->progress.size(); ++i)
                if (auto saved = saveIngestProgress(connection, runId, pending->progress[i], pending->continuesFrom[i]);
                    !saved)
                    return saved;
            return {};
        });
}

Result<std::int64_t> TensorBoardIngester::poll(bool final)
{
    if (m_needsResume) {
        // A failed commit may have come after others of the same poll: read the committed offsets again.
        m_cursors.clear();
        {
            QMutexLocker lock(&m_statsMutex);
            m_stats = {};
        }
        if (auto resumed = resume(*m_database); !resumed)
            return fail(resumed.error());
        m_needsResume = false;
    }
    Pending pending;
    std::deque<std::future<Result<void>>> inFlight;
    std::vector<std::pair<FileCursor *, FileCursor>> updates; // each cursor's state once everything is committed
    TensorBoardStats found;
    std::int64_t newPoints = 0;
    const auto progressOf = [](const FileCursor &state) {
        IngestProgress progress;
        progress.file = QLatin1String(kTfEventsProgressPrefix) + state.path;
        progress.byteOffset = state.offset;
        progress.lineNumber = state.records;
        progress.points = state.points;
        progress.malformedLines = state.damaged;
        progress.malformedExamples = state.examples;
        return progress;
    };

    for (const auto &[path, keyPrefix] : currentFiles()) {
        auto existing = m_cursors.find(path);
        if (existing == m_cursors.end()) {
            auto cursor = std::make_unique<FileCursor>();
            cursor->path = path;
            existing = m_cursors.emplace(path, std::move(cursor)).first;
            ++found.files;
        }
        FileCursor &cursor = *existing->second;
        cursor.keyPrefix = keyPrefix;
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
        const qint64 size = file.size();
        if (size <= cursor.offset)
            continue;
        FileCursor next = cursor;
        std::int64_t queuedOffset = cursor.offset; // where this file's last commit handed to the writer ends
        // The points of a tag in this file, found by the decoder's pointer for it (no string built per scalar).
        std::unordered_map<const std::string *, MetricChunkPoints *> seriesOfTag;
        qint64 at = cursor.offset;
        qint64 readBytes = kMaxReadBytes;
        while (at < size) {
            if (!file.seek(at))
                return fail(QStringLiteral("cannot seek in %1 to %2").arg(path).arg(at));
            const QByteArray bytes = file.read(std::min(readBytes, size - at));
            if (bytes.isEmpty())
                break;
            const bool reachedEnd = at + bytes.size() >= size;
            const TfRecordScan scan =
                scanTfRecords(bytes.constData(), std::size_t(bytes.size()), at, final && reachedEnd);
            for (const TfRecordDamage &damage : scan.damage) {
                ++next.damaged;
                if (next.examples.size() < kMaxExamples)
                    next.examples
                        << QStringLiteral("%1 at offset %2: %3").arg(path).arg(damage.offset).arg(damage.what);
            }
            TfEventBatch batch;
            for (const TfRecord &record : scan.records) {
                batch.scalars.clear();
                batch.hparams.clear();
                if (auto decoded = m_decoder.decode(record.data, batch); !decoded) {
                    ++next.damaged;
                    if (next.examples.size() < kMaxExamples)
                        next.examples
                            << QStringLiteral("%1 at offset %2: %3").arg(path).arg(record.offset).arg(decoded.error());
                    continue;
                }
                ++next.records;
                for (const TfScalar &scalar : batch.scalars) {
                    MetricChunkPoints *&series = seriesOfTag[scalar.tag];
                    if (!series)
                        series = &pending.pointsByKey[keyPrefix + QString::fromStdString(*scalar.tag)];
                    series->steps.push_back(scalar.step);
                    series->values.push_back(scalar.value);
                    series->tsMs.push_back(scalar.wallTime > 0 ? std::int64_t(std::llround(scalar.wallTime * 1000.0))
                                                               : kNoTimestamp);
                }
                next.points += std::int64_t(batch.scalars.size());
                pending.points += std::int64_t(batch.scalars.size());
                newPoints += std::int64_t(batch.scalars.size());
                pending.hparams += batch.hparams;
                found.hparams += batch.hparams.size();
            }
            found.histograms += batch.histograms;
            found.images += batch.images;
            found.audio += batch.audio;
            found.otherTensors += batch.otherTensors;
            if (batch.firstWallTime > 0 && (found.firstWallTime == 0 || batch.firstWallTime < found.firstWallTime))
                found.firstWallTime = batch.firstWallTime;
            found.lastWallTime = std::max(found.lastWallTime, batch.lastWallTime);
            if (scan.incompleteTail && reachedEnd) {
                at = scan.consumedUpTo;
                break; // a record still being written: wait for the writer to finish it
            }
            if (scan.consumedUpTo == at) {
                // One record longer than a read: read more at once (a length that checked out is at most kMaxTfRecordBytes).
                readBytes *= 2;
                continue;
            }
            at = scan.consumedUpTo; // a record cut by the read's end is read again from its start
            readBytes = kMaxReadBytes;
            if (pending.points >= kPointsPerCommit) {
                // Commit what is read so far while the rest is decoded: the writer and this thread work side by side.
                next.offset = at;
                pending.progress.push_back(progressOf(next));
                pending.continuesFrom.push_back(std::exchange(queuedOffset, next.offset));
                inFlight.push_back(submit(std::move(pending)));
                pending = {};
                seriesOfTag.clear();
            }
        }
        next.offset = at;
        found.damagedRecords += next.damaged - cursor.damaged;
        for (qsizetype i = cursor.examples.size(); i < next.examples.size(); ++i)
            found.damageExamples << next.examples[i];
        pending.progress.push_back(progressOf(next));
        pending.continuesFrom.push_back(queuedOffset);
        updates.emplace_back(&cursor, next);
    }
    if (!pending.progress.empty())
        inFlight.push_back(submit(std::move(pending)));
    QString error;
    for (auto &committed : inFlight)
        if (auto result = committed.get(); !result && error.isEmpty())
            error = result.error();
    if (!error.isEmpty()) {
        m_keyIds->clear(); // a rolled-back transaction may have made key ids that do not exist
        m_needsResume = m_database.has_value();
        return fail(error);
    }
    for (auto &[cursor, next] : updates)
        *cursor = next;
    found.points = newPoints;
    QMutexLocker lock(&m_statsMutex);
    m_stats.add(found, kMaxExamples);
    return newPoints;
}

TensorBoardStats TensorBoardIngester::stats() const
{
    QMutexLocker lock(&m_statsMutex);
    return m_stats;
}

} // namespace trainyard
