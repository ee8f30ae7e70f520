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

namespace trainyard {

namespace {

constexpr std::size_t kMaxPointsPerChunk = 8192;

struct KeyedPoints {
    std::vector<std::int64_t> steps;
    std::vector<double> values;
    std::vector<std::int64_t> tsMs;
};

} // namespace

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
{
}

TensorBoardIngester::~TensorBoardIngester() = default;

void TensorBoardIngester::addFolder(const QString &folder, bool recursive)
{
    m_folders.append({QDir(folder).absolutePath(), recursive});
}

Result<void> TensorBoardIngester::resume(const Database &database)
{
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

Result<std::int64_t> TensorBoardIngester::poll(bool final)
{
    // What this poll writes: points by key (in file order), params, and each file's new progress.
    std::map<QString, KeyedPoints> pointsByKey;
    QList<KeyValue> hparams;
    std::vector<IngestProgress> progressRows;
    std::vector<std::pair<FileCursor *, FileCursor>> updates; // committed state per cursor, applied after the commit
    TensorBoardStats found;
    std::int64_t newPoints = 0;

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
        qint64 at = cursor.offset;
        qint64 readBytes = kMaxReadBytes;
        while (at < size) {
            if (!file.seek(at))
                return fail(QStringLiteral("cannot seek in %1 to %2").arg(path).arg(at));
            const QByteArray bytes = file.read(std::min(readBytes, size - at));
            if (bytes.isEmpty())
                break;
            const bool reachedEnd = at + bytes.size() >= size;
            TfRecordScan scan = scanTfRecords(bytes.constData(), std::size_t(bytes.size()), at, final && reachedEnd);
            for (const TfRecordDamage &damage : scan.damage) {
                ++next.damaged;
                if (next.examples.size() < kMaxExamples)
                    next.examples << QStringLiteral("%1 at offset %2: %3").arg(path).arg(damage.offset).arg(damage.what);
            }
            for (const TfRecord &record : scan.records) {
                TfEventBatch batch;
                if (auto decoded = m_decoder.decode(record.data, batch); !decoded) {
                    ++next.damaged;
                    if (next.examples.size() < kMaxExamples)
                        next.examples << QStringLiteral("%1 at offset %2: %3").arg(path).arg(record.offset).arg(decoded.error());
                    continue;
                }
                ++next.records;
                for (const TfScalar &scalar : batch.scalars) {
                    KeyedPoints &points = pointsByKey[keyPrefix + QString::fromStdString(scalar.tag)];
                    points.steps.push_back(scalar.step);
                    points.values.push_back(scalar.value);
                    points.tsMs.push_back(scalar.wallTime > 0 ? std::int64_t(std::llround(scalar.wallTime * 1000.0)) : kNoTimestamp);
                }
                next.points += std::int64_t(batch.scalars.size());
                newPoints += std::int64_t(batch.scalars.size());
                hparams += batch.hparams;
                found.histograms += batch.histograms;
                found.images += batch.images;
                found.audio += batch.audio;
                found.otherTensors += batch.otherTensors;
                found.hparams += batch.hparams.size();
                if (batch.firstWallTime > 0 && (found.firstWallTime == 0 || batch.firstWallTime < found.firstWallTime))
                    found.firstWallTime = batch.firstWallTime;
                found.lastWallTime = std::max(found.lastWallTime, batch.lastWallTime);
            }
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
        }
        next.offset = at;
        found.damagedRecords += next.damaged - cursor.damaged;
        for (qsizetype i = cursor.examples.size(); i < next.examples.size(); ++i)
            found.damageExamples << next.examples[i];
        IngestProgress progress;
        progress.file = QLatin1String(kTfEventsProgressPrefix) + path;
        progress.byteOffset = next.offset;
        progress.lineNumber = next.records;
        progress.points = next.points;
        progress.malformedLines = next.damaged;
        progress.malformedExamples = next.examples;
        progressRows.push_back(progress);
        updates.emplace_back(&cursor, next);
    }
    if (progressRows.empty())
        return std::int64_t(0);

    auto written = m_writer
                       .submit<void>([runId = m_runId, keyIds = m_keyIds, points = std::move(pointsByKey), hparams, progressRows](
                                         SqliteConnection &connection) -> Result<void> {
                           for (const auto &[key, series] : points) {
                               auto id = keyIds->constFind(key);
                               if (id == keyIds->constEnd()) {
                                   auto created = metricKeyId(connection, runId, key);
                                   if (!created)
                                       return fail(created.error());
                                   id = keyIds->insert(key, *created);
                               }
                               for (std::size_t start = 0; start < series.steps.size(); start += kMaxPointsPerChunk) {
                                   const std::size_t count = std::min(kMaxPointsPerChunk, series.steps.size() - start);
                                   if (auto inserted = insertMetricChunk(connection, *id, std::span(series.steps).subspan(start, count),
                                                                         std::span(series.values).subspan(start, count),
                                                                         std::span(series.tsMs).subspan(start, count));
                                       !inserted)
                                       return inserted;
                               }
                           }
                           if (!hparams.isEmpty()) {
                               if (auto stored = trackingstore::replaceParams(connection, runId, hparams); !stored)
                                   return stored;
                           }
                           for (const IngestProgress &progress : progressRows)
                               if (auto saved = saveIngestProgress(connection, runId, progress); !saved)
                                   return saved;
                           return {};
                       })
                       .get();
    if (!written) {
        m_keyIds->clear(); // the transaction rolled back: key ids made in it may not exist
        return fail(written.error());
    }
    for (auto &[cursor, next] : updates)
        *cursor = next;
    QMutexLocker lock(&m_statsMutex);
    m_stats.points += newPoints;
    m_stats.files += found.files;
    m_stats.damagedRecords += found.damagedRecords;
    for (const QString &example : found.damageExamples)
        if (m_stats.damageExamples.size() < kMaxExamples)
            m_stats.damageExamples << example;
    m_stats.histograms += found.histograms;
    m_stats.images += found.images;
    m_stats.audio += found.audio;
    m_stats.otherTensors += found.otherTensors;
    m_stats.hparams += found.hparams;
    if (found.firstWallTime > 0 && (m_stats.firstWallTime == 0 || found.firstWallTime < m_stats.firstWallTime))
        m_stats.firstWallTime = found.firstWallTime;
    m_stats.lastWallTime = std::max(m_stats.lastWallTime, found.lastWallTime);
    return newPoints;
}

TensorBoardStats TensorBoardIngester::stats() const
{
    QMutexLocker lock(&m_statsMutex);
    return m_stats;
}

} // namespace trainyard
