// The journal's records: [u32 payload bytes][u16 run id bytes][run id][u32 points] then per point
// [u16 key bytes][key][f64 value][i64 timestamp ms][i64 step], little-endian, written with one write per request.
#include "tracking/metricjournal.h"

#include "store/database.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/workspace.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRandomGenerator>

#include <cstring>

Q_DECLARE_LOGGING_CATEGORY(lcTracking)

namespace trainyard {

namespace {

constexpr const char *kJournalFolder = "tracking";
constexpr const char *kJournalPattern = "journal-*.bin";

template <typename T>
void put(QByteArray &out, T value)
{
    out.append(reinterpret_cast<const char *>(&value), sizeof value);
}

template <typename T>
bool take(const char *&at, const char *end, T &value)
{
    if (end - at < qsizetype(sizeof value))
        return false;
    std::memcpy(&value, at, sizeof value);
    at += sizeof value;
    return true;
}

} // namespace

Result<std::unique_ptr<MetricJournal>> MetricJournal::create(const QString &workspaceRoot)
{
    const QDir folder(QDir(workspaceRoot).filePath(QLatin1String(kJournalFolder)));
    if (!QDir().mkpath(folder.path()))
        return fail(QStringLiteral("cannot create %1").arg(folder.path()));
    std::unique_ptr<MetricJournal> journal(new MetricJournal);
    journal->m_serverId = QStringLiteral("%1-%2")
                              .arg(QCoreApplication::applicationPid())
                              .arg(QRandomGenerator::system()->generate(), 8, 16, QLatin1Char('0'));
    journal->m_lock =
        std::make_unique<QLockFile>(folder.filePath(QStringLiteral("journal-%1.lock").arg(journal->m_serverId)));
    if (!journal->m_lock->tryLock(0))
        return fail(QStringLiteral("cannot lock %1").arg(journal->m_lock->fileName()));
    journal->m_file.setFileName(folder.filePath(QStringLiteral("unused")));
    return journal;
}

QDir MetricJournal::folder() const { return QFileInfo(m_lock->fileName()).dir(); }

Result<void> MetricJournal::openNextFile()
{
    m_name = QStringLiteral("journal-%1-%2.bin").arg(m_serverId).arg(++m_generation);
    m_file.setFileName(folder().filePath(m_name));
    m_size = 0;
    // Unbuffered: each record reaches the file in the write that appends it.
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Unbuffered))
        return fail(QStringLiteral("cannot write %1: %2").arg(m_file.fileName(), m_file.errorString()));
    return {};
}

MetricJournal::~MetricJournal()
{
    m_file.close();
    if (m_lock)
        m_lock->unlock();
}

Result<qint64> MetricJournal::append(const QString &runId, std::span<const TrackedMetric> metrics)
{
    if (!m_file.isOpen()) {
        if (auto opened = openNextFile(); !opened)
            return fail(opened.error());
    }
    QByteArray record;
    record.reserve(qsizetype(16 + metrics.size() * 40));
    put(record, quint32(0)); // payload size, filled in below
    const QByteArray run = runId.toUtf8();
    put(record, quint16(run.size()));
    record.append(run);
    put(record, quint32(metrics.size()));
    for (const TrackedMetric &metric : metrics) {
        const QByteArray key = metric.key.toUtf8();
        put(record, quint16(key.size()));
        record.append(key);
        put(record, metric.value);
        put(record, std::int64_t(metric.tsMs));
        put(record, std::int64_t(metric.step));
    }
    const quint32 payload = quint32(record.size() - 4);
    std::memcpy(record.data(), &payload, 4);
    if (m_file.write(record) != record.size())
        return fail(QStringLiteral("cannot append to the tracking journal %1: %2")
                        .arg(m_file.fileName(), m_file.errorString()));
    m_size += record.size();
    return m_size;
}

void MetricJournal::removeIfCommitted(const QString &name, qint64 committedOffset)
{
    if (name == m_name && m_file.isOpen() && committedOffset >= m_size) {
        m_file.close();
        QFile::remove(m_file.fileName());
    }
}

std::vector<std::pair<qint64, JournalRecord>> MetricJournal::decode(const QByteArray &bytes, qint64 offset)
{
    std::vector<std::pair<qint64, JournalRecord>> records;
    const char *at = bytes.constData() + offset;
    const char *end = bytes.constData() + bytes.size();
    while (at < end) {
        quint32 payload = 0;
        if (!take(at, end, payload) || end - at < qsizetype(payload))
            break; // cut short: the write that appended it did not finish
        const char *recordEnd = at + payload;
        JournalRecord record;
        quint16 runBytes = 0;
        quint32 count = 0;
        if (!take(at, recordEnd, runBytes) || recordEnd - at < runBytes)
            break;
        record.runId = QString::fromUtf8(at, runBytes);
        at += runBytes;
        if (!take(at, recordEnd, count))
            break;
        bool whole = true;
        for (quint32 i = 0; i < count && whole; ++i) {
            quint16 keyBytes = 0;
            TrackedMetric metric;
            whole = take(at, recordEnd, keyBytes) && recordEnd - at >= keyBytes;
            if (!whole)
                break;
            metric.key = QString::fromUtf8(at, keyBytes);
            at += keyBytes;
            std::int64_t ts = 0, step = 0;
            whole = take(at, recordEnd, metric.value) && take(at, recordEnd, ts) && take(at, recordEnd, step);
            metric.tsMs = ts;
            metric.step = step;
            record.metrics.push_back(std::move(metric));
        }
        if (!whole)
            break;
        at = recordEnd;
        records.emplace_back(qint64(at - bytes.constData()), std::move(record));
    }
    return records;
}

Result<std::int64_t> MetricJournal::recoverAbandoned(const Workspace &workspace, StoreWriter &writer)
{
    const QDir folder(QDir(workspace.root()).filePath(QLatin1String(kJournalFolder)));
    std::int64_t recovered = 0;
    for (const QString &name : folder.entryList({QLatin1String(kJournalPattern)}, QDir::Files, QDir::Name)) {
        const QString serverId =
            name.mid(8, name.lastIndexOf(QLatin1Char('-')) - 8); // journal-<server>-<generation>.bin
        QLockFile lock(folder.filePath(QStringLiteral("journal-%1.lock").arg(serverId)));
        if (!lock.tryLock(0))
            continue; // its server is alive (a stale lock of a dead process is taken over)
        QFile file(folder.filePath(name));
        if (!file.open(QIODevice::ReadOnly))
            return fail(
                QStringLiteral("cannot read the tracking journal %1: %2").arg(file.fileName(), file.errorString()));
        const QByteArray bytes = file.readAll();
        auto committed =
            writer
                .submit<std::int64_t>([&](SqliteConnection &connection) -> Result<std::int64_t> {
                    auto offset = trackingstore::journalOffset(connection, name);
                    if (!offset)
                        return offset;
                    std::int64_t points = 0;
                    for (auto &[recordEnd, record] : decode(bytes, std::min<qint64>(*offset, bytes.size()))) {
                        // A run deleted since is skipped; every other failure keeps the journal for a later try.
                        if (!trackingstore::requireRun(connection, record.runId))
                            continue;
                        if (auto logged = trackingstore::logMetrics(connection, record.runId, record.metrics); !logged)
                            return fail(logged.error());
                        points += std::int64_t(record.metrics.size());
                    }
                    if (auto forgotten = trackingstore::forgetJournal(connection, name); !forgotten)
                        return fail(forgotten.error());
                    return points;
                })
                .get();
        if (!committed)
            return fail(
                QStringLiteral("cannot commit the tracking journal %1: %2").arg(file.fileName(), committed.error()));
        file.close();
        QFile::remove(file.fileName());
        lock.unlock();
        recovered += *committed;
        if (*committed > 0)
            qCInfo(lcTracking, "committed %lld points a stopped tracking server had journaled (%s)",
                   (long long)*committed, qPrintable(name));
    }
    return recovered;
}

} // namespace trainyard
