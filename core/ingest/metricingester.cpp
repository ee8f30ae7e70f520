// Tailing and batching. Points and the file offsets they came from commit in one transaction, so a crash
// at any moment neither loses nor doubles a point on resume.
#include "ingest/metricingester.h"

#include "ingest/tensorboardingester.h"
#include "logging.h"

#include "runfolder/runfolder.h"
#include "store/database.h"
#include "store/ingestprogress.h"
#include "store/metricchunk.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/supersededpoints.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <optional>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace trainyard {

namespace {

constexpr int kMaxWritesInFlight = 2;

// The offset of the first newline at or after `from` in the file, or -1 when there is none before `size`.
std::int64_t findNewline(int fd, std::int64_t from, std::int64_t size)
{
    constexpr std::size_t kBlock = 1 << 20;
    std::string block(kBlock, '\0');
    for (std::int64_t offset = from; offset < size;) {
        const ssize_t got =
            ::pread(fd, block.data(), std::size_t(std::min<std::int64_t>(size - offset, kBlock)), offset);
        if (got <= 0)
            return -1;
        if (const void *found = std::memchr(block.data(), '\n', std::size_t(got)))
            return offset + (static_cast<const char *>(found) - block.data());
        offset += got;
    }
    return -1;
}

// An owned file descriptor.
class ReadOnlyFile {
public:
    explicit ReadOnlyFile(const QString &path) : m_fd(::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC))
    { }
    ~ReadOnlyFile()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    ReadOnlyFile(const ReadOnlyFile &) = delete;
    ReadOnlyFile &operator=(const ReadOnlyFile &) = delete;
    int fd() const { return m_fd; }

private:
    int m_fd;
};

int rankOfFile(const QString &name)
{
    static const QRegularExpression pattern(QStringLiteral("^(?:metrics\\.)?rank(\\d+)\\."));
    const auto match = pattern.match(name);
    return match.hasMatch() ? match.captured(1).toInt() : 0;
}

} // namespace

QByteArray resumeMarkerLine(int attempt, std::optional<std::int64_t> resumeStep, std::int64_t atMs)
{
    QJsonObject marker{{QStringLiteral("attempt"), attempt},
                       {QStringLiteral("step"), resumeStep ? QJsonValue(qint64(*resumeStep)) : QJsonValue()},
                       {QStringLiteral("at_ms"), qint64(atMs)}};
    return QJsonDocument(QJsonObject{{QStringLiteral("trainyard_resume"), marker}}).toJson(QJsonDocument::Compact)
        + '\n';
}

bool metricKeyOfRank(const QString &key, int rank)
{
    static const QRegularExpression ranked(QStringLiteral("^(?:perf/)?rank(\\d+)/"));
    if (key.startsWith(QLatin1String("sys/")))
        return false;
    const auto match = ranked.match(key);
    if (!match.hasMatch())
        return rank == 0;
    return match.captured(1).toInt() == rank;
}

struct MetricIngester::Batch {
    struct Row {
        std::uint32_t key;
        std::int64_t step;
        double value;
        std::int64_t tsMs;
        bool hasTs;
    };
    std::vector<QString> keys;
    std::vector<std::string> rawKeys; // as parsed, with the rank prefix, for lookup while parsing
    std::vector<Row> rows;
    std::vector<FileCursor> progress;
    std::vector<std::int64_t> continuesFrom; // per progress entry: the offset the store must hold before this batch
    std::uint32_t hint = 0;
    // A resume marker read after the batch's points: applied once they are written, in the same transaction.
    struct Supersede {
        int rank = 0;
        SupersedeRequest request;
    };
    std::optional<Supersede> supersede;

    std::uint32_t keyIndex(int rank, std::string_view key)
    {
        // Lines repeat their keys in the same order: try the one after the last hit first.
        const std::size_t prefixed = namesItsRank(rank, key) ? 0 : prefixLength(rank);
        const auto matches = [&](std::uint32_t i) {
            return rawKeys[i].size() == key.size() + prefixed && std::string_view(rawKeys[i]).substr(prefixed) == key
                && (prefixed == 0 || std::string_view(rawKeys[i]).substr(0, prefixed) == prefix(rank));
        };
        const auto n = std::uint32_t(rawKeys.size());
        for (std::uint32_t probe = 0; probe < n; ++probe) {
            const std::uint32_t i = (hint + probe) % n;
            if (matches(i)) {
                hint = i + 1;
                return i;
            }
        }
        std::string full = prefixed == 0 ? std::string(key) : prefix(rank) + std::string(key);
        keys.push_back(QString::fromStdString(full));
        rawKeys.push_back(std::move(full));
        hint = n + 1;
        return n;
    }

    static std::string prefix(int rank) { return "rank" + std::to_string(rank) + "/"; }
    // The Python client's step timing names its rank itself (perf/rank<N>/step_time_ms, from every rank): such a key
    // of rank N keeps its name, so that every rank's timing sits together under perf/.
    static bool namesItsRank(int rank, std::string_view key)
    {
        constexpr std::string_view kPerfRank = "perf/rank";
        if (key.substr(0, kPerfRank.size()) != kPerfRank)
            return false;
        const std::string own = std::string(kPerfRank) + std::to_string(rank) + "/";
        return key.substr(0, own.size()) == own;
    }
    static std::size_t prefixLength(int rank) { return rank == 0 ? 0 : prefix(rank).size(); }

    void recordProgress(const FileCursor &cursor)
    {
        for (FileCursor &existing : progress) {
            if (existing.name == cursor.name) {
                existing = cursor;
                return;
            }
        }
        progress.push_back(cursor);
    }
};

namespace {

// Writes the batch's points as chunks: grouped by key, in file order within a key, at most
// kMaxPointsPerChunk points per row.
Result<void> insertRows(SqliteConnection &connection, std::vector<MetricIngester::Batch::Row> &rows,
                        const std::vector<std::int64_t> &keyIds)
{
    std::stable_sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) { return a.key < b.key; });
    std::vector<std::int64_t> steps;
    std::vector<double> values;
    std::vector<std::int64_t> timestamps;
    steps.reserve(kMaxPointsPerChunk);
    values.reserve(kMaxPointsPerChunk);
    timestamps.reserve(kMaxPointsPerChunk);
    std::size_t next = 0;
    while (next < rows.size()) {
        const std::uint32_t key = rows[next].key;
        steps.clear();
        values.clear();
        timestamps.clear();
        while (next < rows.size() && rows[next].key == key && steps.size() < kMaxPointsPerChunk) {
            const auto &row = rows[next++];
            steps.push_back(row.step);
            values.push_back(row.value);
            timestamps.push_back(row.hasTs ? row.tsMs : kNoTimestamp);
        }
        if (auto inserted = insertMetricChunk(connection, keyIds[key], steps, values, timestamps); !inserted)
            return inserted;
    }
    return {};
}

} // namespace

MetricIngester::MetricIngester(QString runId, QString runDir, StoreWriter &writer)
    : m_runId(std::move(runId)), m_runDir(std::move(runDir)), m_writer(writer),
      m_keyIds(std::make_shared<QHash<QString, std::int64_t>>()), m_batch(newBatch())
{ }

MetricIngester::~MetricIngester() { (void)waitForWrites(); }

std::unique_ptr<MetricIngester::Batch> MetricIngester::newBatch()
{
    auto batch = std::make_unique<Batch>();
    batch->rows.reserve(4096);
    return batch;
}

Result<void> MetricIngester::resume(const Database &database)
{
    auto connection = database.connect();
    if (!connection)
        return fail(connection.error());
    auto stored = loadIngestProgress(connection.value(), m_runId);
    if (!stored)
        return fail(stored.error());
    QMutexLocker lock(&m_statsMutex);
    for (const IngestProgress &progress : stored.value()) {
        if (progress.file.startsWith(QLatin1String(kTfEventsProgressPrefix)))
            continue; // event files are TensorBoardIngester's
        FileCursor cursor;
        cursor.name = progress.file;
        cursor.rank = rankOfFile(cursor.name);
        cursor.isLog = cursor.name.endsWith(QLatin1String(".log"));
        cursor.isSystem = cursor.name == QLatin1String(kSystemMetricsFileName);
        cursor.offset = progress.byteOffset;
        cursor.lineNumber = progress.lineNumber;
        cursor.points = progress.points;
        cursor.malformed = progress.malformedLines;
        cursor.examples = progress.malformedExamples;
        m_metricsMode = m_metricsMode || cursor.name.startsWith(QLatin1String("metrics."));
        m_stats.points += cursor.points;
        m_stats.malformedLines += cursor.malformed;
        for (const QString &example : cursor.examples) {
            if (m_stats.malformedExamples.size() < kMaxExamples)
                m_stats.malformedExamples << example;
        }
        m_queuedOffsets.insert(cursor.name, cursor.offset);
        m_cursors.emplace(cursor.name, cursor);
    }
    return {};
}

QStringList MetricIngester::currentFiles(bool &metricsMode) const
{
    const QDir dir(m_runDir);
    // System metrics are always read; they do not decide between metrics files and stdout.
    const QStringList system = dir.entryList({QLatin1String(kSystemMetricsFileName)}, QDir::Files);
    QStringList metrics = dir.entryList({QLatin1String(kMetricsFilePattern)}, QDir::Files, QDir::Name);
    if (!metrics.isEmpty() || metricsMode) {
        metricsMode = true;
        return metrics + system;
    }
    // No metrics file: rank 0's output, attempt by attempt.
    QStringList logs = dir.entryList({QStringLiteral("rank0.log"), QStringLiteral("rank0.attempt*.log")}, QDir::Files);
    std::sort(logs.begin(), logs.end(), [](const QString &a, const QString &b) {
        return parseRankLogFileName(a).value_or(RankLogName{}).attempt
            < parseRankLogFileName(b).value_or(RankLogName{}).attempt;
    });
    return logs + system;
}

Result<std::int64_t> MetricIngester::poll(bool final)
{
    std::int64_t queued = 0;
    const QStringList files = currentFiles(m_metricsMode);
    for (const QString &name : files) {
        auto [it, inserted] = m_cursors.try_emplace(name);
        if (inserted) {
            it->second.name = name;
            it->second.rank = rankOfFile(name);
            it->second.isLog = name.endsWith(QLatin1String(".log"));
            it->second.isSystem = name == QLatin1String(kSystemMetricsFileName);
        }
        auto added = ingestFile(it->second, final);
        if (!added)
            return added;
        queued += added.value();
    }
    if (!m_batch->progress.empty()) {
        if (auto submitted = submit(std::exchange(m_batch, newBatch())); !submitted)
            return fail(submitted.error());
    }
    return queued;
}

Result<std::int64_t> MetricIngester::ingestFile(FileCursor &cursor, bool final)
{
    const QString path = m_runDir + QLatin1Char('/') + cursor.name;
    ReadOnlyFile file(path);
    if (file.fd() < 0)
        return std::int64_t(0); // not there (yet)
    const off_t size = ::lseek(file.fd(), 0, SEEK_END);
    if (size < cursor.offset) {
        return fail(QStringLiteral("%1 shrank from %2 to %3 bytes while being ingested; it must only be appended to")
                        .arg(path)
                        .arg(cursor.offset)
                        .arg(qint64(size)));
    }
    std::int64_t queued = 0;
    std::string buffer;
    while (cursor.offset < size) {
        const std::int64_t chunkBase = cursor.offset;
        const std::int64_t want = std::min<std::int64_t>(size - chunkBase, kMaxReadBytes);
        buffer.resize(std::size_t(want) + kJsonPadding);
        const ssize_t got = ::pread(file.fd(), buffer.data(), std::size_t(want), chunkBase);
        if (got < 0)
            return fail(QStringLiteral("cannot read %1: %2").arg(path, QString::fromLocal8Bit(strerror(errno))));
        if (got == 0)
            break;
        std::memset(buffer.data() + got, 0, kJsonPadding);
        const std::string_view data(buffer.data(), std::size_t(got));
        const bool chunkReachesEnd = chunkBase + got >= size;
        std::size_t lineStart = 0;
        while (lineStart < data.size()) {
            std::size_t lineEnd = data.find('\n', lineStart);
            if (lineEnd == std::string_view::npos) {
                // A line without its newline: the rank is still writing it, unless the run is over.
                if (!(final && chunkReachesEnd))
                    break;
                lineEnd = data.size();
            }
            ++cursor.lineNumber;
            const std::size_t rowsBefore = m_batch->rows.size();
            parseLine(cursor, data.substr(lineStart, lineEnd - lineStart), buffer.size() - lineStart, *m_batch);
            queued += std::int64_t(m_batch->rows.size() - rowsBefore);
            lineStart = std::min(lineEnd + 1, data.size());
            if (std::int64_t(m_batch->rows.size()) >= kMaxPointsPerBatch || m_batch->supersede) {
                FileCursor snapshot = cursor;
                snapshot.offset = chunkBase + std::int64_t(lineStart);
                m_batch->recordProgress(snapshot);
                if (auto submitted = submit(std::exchange(m_batch, newBatch())); !submitted)
                    return fail(submitted.error());
            }
        }
        if (lineStart == 0 && std::int64_t(got) < kMaxReadBytes)
            break; // no complete line yet
        if (lineStart == 0) {
            // A line longer than a whole read is no metric line: skip to its end and count it malformed.
            const std::int64_t newline = findNewline(file.fd(), chunkBase + got, size);
            if (newline < 0 && !final)
                break; // still being written: skipped when it ends
            ++cursor.lineNumber;
            const std::int64_t lineBytes = (newline < 0 ? size : newline) - chunkBase;
            countMalformed(cursor,
                           QStringLiteral("%1:%2: line of %3 bytes, over the %4 MiB a metric line may have; skipped")
                               .arg(cursor.name)
                               .arg(cursor.lineNumber)
                               .arg(lineBytes)
                               .arg(kMaxReadBytes >> 20));
            cursor.offset = newline < 0 ? size : newline + 1;
            m_batch->recordProgress(cursor);
            continue;
        }
        cursor.offset = chunkBase + std::int64_t(lineStart);
        m_batch->recordProgress(cursor);
        if (lineStart < data.size() && chunkReachesEnd)
            break; // only an unfinished line is left
    }
    return queued;
}

void MetricIngester::readResumeMarker(FileCursor &cursor, std::string_view line, Batch &batch)
{
    const QJsonObject marker = QJsonDocument::fromJson(QByteArray(line.data(), qsizetype(line.size())))
                                   .object()
                                   .value(QStringLiteral("trainyard_resume"))
                                   .toObject();
    const int attempt = marker.value(QStringLiteral("attempt")).toInt(-1);
    if (attempt < 1) {
        countMalformed(cursor,
                       QStringLiteral("%1:%2: a resume marker without its attempt: %3")
                           .arg(cursor.name)
                           .arg(cursor.lineNumber)
                           .arg(QString::fromUtf8(line.data(), qsizetype(std::min<std::size_t>(line.size(), 120)))));
        return;
    }
    Batch::Supersede supersede;
    supersede.rank = cursor.rank;
    supersede.request.runId = m_runId;
    if (const QJsonValue step = marker.value(QStringLiteral("step")); step.isDouble())
        supersede.request.resumeStep = step.toInteger();
    supersede.request.beforeMs = marker.value(QStringLiteral("at_ms")).toInteger();
    supersede.request.attempt = attempt - 1;
    const int rank = cursor.rank;
    supersede.request.keyFilter = [rank](const QString &key) { return metricKeyOfRank(key, rank); };
    batch.supersede = std::move(supersede);
    if (cursor.rank == 0 && !cursor.isSystem) { // the status line follows the new attempt from here
        QMutexLocker lock(&m_statsMutex);
        m_stats.latestStep = -1;
        m_stats.latestValues.clear();
    }
}

void MetricIngester::countMalformed(FileCursor &cursor, const QString &example)
{
    ++cursor.malformed;
    if (cursor.examples.size() < kMaxExamples)
        cursor.examples << example;
    QMutexLocker lock(&m_statsMutex);
    ++m_stats.malformedLines;
    if (m_stats.malformedExamples.size() < kMaxExamples)
        m_stats.malformedExamples << example;
}

void MetricIngester::parseLine(FileCursor &cursor, std::string_view line, std::size_t capacity, Batch &batch)
{
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
    std::int64_t tsMs = 0;
    bool hasTs = false;
    bool parsed = false;
    if (cursor.isLog) {
        constexpr std::size_t stampLength = kLogStampLength;
        if (line.size() > stampLength + 1 && line[stampLength - 1] == 'Z' && line[stampLength] == ' ') {
            const QDateTime stamp =
                QDateTime::fromString(QString::fromLatin1(line.data(), stampLength), Qt::ISODateWithMs);
            if (stamp.isValid()) {
                tsMs = stamp.toMSecsSinceEpoch();
                hasTs = true;
            }
            line.remove_prefix(stampLength + 1);
        }
        if (line.starts_with(kCutLinePrefix))
            return; // a piece of an over-long output line: never a metric line
        parsed = parseStdoutMetricLine(line, m_line);
        if (!parsed)
            return; // ordinary output, not a metric line
    } else {
        std::size_t leading = 0;
        while (leading < line.size() && (line[leading] == ' ' || line[leading] == '\t'))
            ++leading;
        if (leading == line.size())
            return; // blank lines are not malformed
        if (line.substr(leading).starts_with(kResumeMarkerPrefix)) {
            readResumeMarker(cursor, line.substr(leading), batch);
            return;
        }
        parsed = m_jsonParser.parse(line, capacity, m_line, m_error);
        // A malformed line is counted (with file:line); so is a kept line that had a member dropped.
        if (!parsed || !m_line.rejected.empty()) {
            const QString example =
                QStringLiteral("%1:%2: %3: %4")
                    .arg(cursor.name)
                    .arg(cursor.lineNumber)
                    .arg(QString::fromStdString(parsed ? m_line.rejected : m_error),
                         QString::fromUtf8(line.data(), qsizetype(std::min<std::size_t>(line.size(), 120))));
            countMalformed(cursor, example);
            if (!parsed)
                return;
        }
        if (m_line.hasTimestamp && std::isfinite(m_line.timestampS)) {
            tsMs = std::int64_t(std::llround(m_line.timestampS * 1000.0));
            hasTs = true;
        }
    }
    for (const MetricValue &value : m_line.values) {
        batch.rows.push_back({batch.keyIndex(cursor.rank, value.key), m_line.step, value.value, tsMs, hasTs});
        if (m_observer)
            m_observer(value.key, m_line.step, value.value);
    }
    cursor.points += std::int64_t(m_line.values.size());
    QMutexLocker lock(&m_statsMutex);
    m_stats.points += std::int64_t(m_line.values.size());
    // The status line shows the script's own metrics: the client's step-timing lines (perf/rank<N>/...) are not them.
    const bool timingLine = !m_line.values.empty()
        && std::all_of(m_line.values.cbegin(), m_line.values.cend(),
                       [](const MetricValue &value) { return value.key.substr(0, 5) == "perf/"; });
    if (cursor.rank == 0 && !cursor.isSystem && !timingLine && m_line.step >= m_stats.latestStep) {
        m_stats.latestStep = m_line.step;
        m_stats.latestValues.clear();
        for (const MetricValue &value : m_line.values)
            m_stats.latestValues.append(
                {QString::fromUtf8(value.key.data(), qsizetype(value.key.size())), value.value});
    }
}

std::int64_t MetricIngester::pointsInFiles(const QString &runId, const QString &runDir, StoreWriter &writer,
                                           const Database &database, std::int64_t fallback)
{
    MetricIngester counter(runId, runDir, writer);
    counter.setCountOnly(true);
    if (!counter.resume(database) || !counter.poll(true))
        return fallback;
    return counter.stats().points;
}

Result<void> MetricIngester::rewind(const Database &database)
{
    (void)waitForWrites(); // its error is why we rewind
    m_cursors.clear();
    m_queuedOffsets.clear();
    m_keyIds = std::make_shared<QHash<QString, std::int64_t>>(); // ids made in a rolled-back transaction do not exist
    m_writeFailed = std::make_shared<std::atomic<bool>>(false);
    m_batch = newBatch();
    m_metricsMode = false;
    {
        QMutexLocker lock(&m_statsMutex);
        m_stats = IngestStats();
    }
    return resume(database);
}

Result<void> MetricIngester::submit(std::unique_ptr<Batch> batch)
{
    if (m_countOnly)
        return {};
    // Each file's points continue from where the previous batch left it; the store checks that it did get there.
    batch->continuesFrom.clear();
    for (const FileCursor &cursor : batch->progress) {
        batch->continuesFrom.push_back(m_queuedOffsets.value(cursor.name, 0));
        m_queuedOffsets.insert(cursor.name, cursor.offset);
    }
    std::shared_ptr<Batch> shared(std::move(batch));
    auto keyIds = m_keyIds;
    const QString runId = m_runId;
    auto failed = m_writeFailed;
    m_inFlight.push_back(
        m_writer.submit<void>([shared, keyIds, runId, failed](SqliteConnection &connection) -> Result<void> {
            // After a failed batch none queued behind it may commit: its offsets would skip the failed batch's lines.
            // (The writer runs operations in order on one thread.)
            if (*failed)
                return fail(QStringLiteral("not written: an earlier batch of this run's points failed"));
            const auto failure = [&failed](Error error) {
                *failed = true;
                return error;
            };
            // Key ids: cached across batches; this lambda only ever runs on the writer thread.
            std::vector<std::int64_t> ids(shared->keys.size());
            for (std::size_t i = 0; i < shared->keys.size(); ++i) {
                const QString &key = shared->keys[i];
                auto cached = keyIds->constFind(key);
                if (cached != keyIds->constEnd()) {
                    ids[i] = *cached;
                    continue;
                }
                auto id = metricKeyId(connection, runId, key);
                if (!id)
                    return failure(fail(id.error()));
                ids[i] = id.value();
                keyIds->insert(key, ids[i]);
            }
            if (auto inserted = insertRows(connection, shared->rows, ids); !inserted)
                return failure(fail(inserted.error()));
            if (shared->supersede) {
                auto moved = supersedePoints(connection, shared->supersede->request);
                if (!moved)
                    return failure(fail(moved.error()));
                qCInfo(lcIngest, "run %s: %lld point(s) of rank %d superseded (attempt %d resumed from step %s)",
                       qPrintable(runId), static_cast<long long>(moved.value()), shared->supersede->rank,
                       shared->supersede->request.attempt + 2,
                       shared->supersede->request.resumeStep
                           ? qPrintable(QString::number(*shared->supersede->request.resumeStep))
                           : "none");
            }
            for (std::size_t i = 0; i < shared->progress.size(); ++i) {
                const FileCursor &cursor = shared->progress[i];
                const IngestProgress progress{cursor.name,   cursor.offset,    cursor.lineNumber,
                                              cursor.points, cursor.malformed, cursor.examples};
                if (auto stored = saveIngestProgress(connection, runId, progress, shared->continuesFrom[i]); !stored)
                    return failure(fail(stored.error()));
                qCDebug(lcIngest, "run %s: %s read to byte %lld (line %lld, %lld points)", qPrintable(runId),
                        qPrintable(cursor.name), static_cast<long long>(cursor.offset),
                        static_cast<long long>(cursor.lineNumber), static_cast<long long>(cursor.points));
            }
            qCDebug(lcIngest, "run %s: %zu point(s) stored", qPrintable(runId), shared->rows.size());
            return {};
        }));
    while (m_inFlight.size() > kMaxWritesInFlight) {
        Result<void> written = m_inFlight.front().get();
        m_inFlight.pop_front();
        if (!written)
            return written;
    }
    return {};
}

Result<void> MetricIngester::waitForWrites()
{
    Result<void> outcome;
    while (!m_inFlight.empty()) {
        Result<void> written = m_inFlight.front().get();
        m_inFlight.pop_front();
        if (!written && outcome.ok())
            outcome = written;
    }
    return outcome;
}

IngestStats MetricIngester::stats() const
{
    QMutexLocker lock(&m_statsMutex);
    return m_stats;
}

} // namespace trainyard
