// MetricJournal: where the tracking API puts metric points before they are in the store. A request's points are appended
// to the server's own journal file (one write, as a rank appends to its metrics file) and answered; they are committed
// to the store in larger batches, each commit recording how far into the journal it got. A server that dies leaves its
// journal behind, and the next tracking server of the workspace commits what is missing before it listens.
// Why: one transaction per request touched ~90 pages of the metric pyramid for 1000 points of 10 keys; batching
// requests into one transaction is what lets log-batch reach the store at 10^6 points/s (docs/PERFORMANCE.md).
#pragma once

#include "result.h"
#include "store/trackingstore.h"

#include <QDir>
#include <QFile>
#include <QLockFile>
#include <QString>

#include <memory>
#include <span>
#include <vector>

namespace trainyard {

class StoreWriter;
class Workspace;

struct JournalRecord {
    QString runId;
    std::vector<TrackedMetric> metrics;
};

class MetricJournal {
public:
    // Creates this server's journal under <workspace>/tracking/ and holds its lock while the server lives.
    static Result<std::unique_ptr<MetricJournal>> create(const QString &workspaceRoot);
    ~MetricJournal();

    // Appends one record to the current journal file; returns the file's size after it (the offset a commit of it
    // records under name()).
    Result<qint64> append(const QString &runId, std::span<const TrackedMetric> metrics);
    // Once everything in journal `name` is committed, removes the file; the next append starts a new one.
    void removeIfCommitted(const QString &name, qint64 committedOffset);

    // The current journal file's name (journal-<server>-<generation>.bin).
    const QString &name() const { return m_name; }

    // Commits what journals left by servers that are gone hold beyond their committed offsets, then removes them.
    // Returns the number of points committed.
    static Result<std::int64_t> recoverAbandoned(const Workspace &workspace, StoreWriter &writer);

    // Decodes records from journal bytes starting at `offset`; stops at a record cut short (a write that did not finish).
    static std::vector<std::pair<qint64, JournalRecord>> decode(const QByteArray &bytes, qint64 offset);

private:
    MetricJournal() = default;
    Result<void> openNextFile();
    QDir folder() const;
    QString m_serverId;
    int m_generation = 0;
    QString m_name;
    QFile m_file;
    std::unique_ptr<QLockFile> m_lock;
    qint64 m_size = 0;
};

} // namespace trainyard
