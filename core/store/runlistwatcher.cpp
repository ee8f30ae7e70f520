// The watcher's worker polls PRAGMA data_version (a cheap check); when it changed it reads the run list's change
// sequence, and only the runs stamped after the last one it read.
#include "store/runlistwatcher.h"

#include "store/pollingreader.h"
#include "store/runqueries.h"

#include <QSet>
#include <QTimer>

#include <optional>

namespace trainyard {

class RunListReader : public PollingReader {
    Q_OBJECT
public:
    explicit RunListReader(QString databasePath)
        : PollingReader(std::move(databasePath), RunListWatcher::kPollIntervalMs)
    { }

    bool readNow() override
    {
        if (!ensureConnection())
            return false;
        const bool first = !m_runListSequence;
        if (first && !m_firstPageSent) {
            // A screenful of the newest runs first, so a big workspace shows rows at once; then the whole list.
            auto page = runqueries::readRunListChanges(*m_connection, std::nullopt, {}, RunListWatcher::kFirstPageRuns);
            if (page && !page->upserted.isEmpty()) {
                for (const RunRecord &run : std::as_const(page->upserted))
                    m_firstPageIds.insert(run.id);
                emit runsRead(page.value());
            }
            m_firstPageSent = true;
        }
        auto change = runqueries::readRunListChanges(*m_connection, m_runListSequence, [this, first](qsizetype found) {
            if (first)
                emit loadingProgress(found);
        });
        if (!change) {
            emit readFailed(change.error());
            return false;
        }
        m_runListSequence = change->sequence;
        if (first) {
            emitInChunks(std::move(change.value()));
            // Later reads are a few runs: the pages the whole read cached (up to 64 MiB) go back.
            (void)m_connection->execute("PRAGMA cache_size = -4096; PRAGMA shrink_memory;");
        } else if (!change->isEmpty())
            emit runsRead(change.value());

        return true;
    }

    // The first whole list goes out in chunks, so that no one of them holds the UI thread long; the last one says
    // the list is complete and names the runs of the first page that are gone since.
    void emitInChunks(RunListChange whole)
    {
        for (const RunRecord &run : std::as_const(whole.upserted))
            m_firstPageIds.remove(run.id);
        const qsizetype total = whole.upserted.size();
        for (qsizetype start = 0; start < total || start == 0; start += RunListWatcher::kChunkRuns) {
            RunListChange chunk;
            chunk.sequence = whole.sequence;
            chunk.upserted = whole.upserted.mid(start, RunListWatcher::kChunkRuns);
            chunk.complete = start + RunListWatcher::kChunkRuns >= total;
            if (chunk.complete)
                chunk.removed = QStringList(m_firstPageIds.cbegin(), m_firstPageIds.cend());
            emit runsRead(chunk);
            if (chunk.complete)
                break;
        }
        m_firstPageIds.clear();
    }

signals:
    void runsRead(const trainyard::RunListChange &change);
    void loadingProgress(qsizetype runsFound);

private:
    std::optional<std::int64_t> m_runListSequence; // none until the first (complete) list is read
    bool m_firstPageSent = false;
    QSet<QString> m_firstPageIds; // the first page's runs, until the whole list says which are gone
};

RunListWatcher::RunListWatcher(const QString &databasePath, QObject *parent)
    : QObject(parent), m_reader(new RunListReader(databasePath)),
      m_readerThread(std::make_unique<ReaderThread>(m_reader, QStringLiteral("run-list-watcher")))
{
    qRegisterMetaType<trainyard::RunListChange>();
    // Changes are handed on one per turn of the event loop: chunks that the reader queued back to back would otherwise
    // all be delivered in one go (Qt sends every posted event before it looks at timers or paints).
    connect(m_reader, &RunListReader::runsRead, this, [this](const RunListChange &change) {
        m_pending.enqueue(change);
        if (m_pending.size() == 1)
            QTimer::singleShot(0, this, &RunListWatcher::deliverNext);
    });
    connect(m_reader, &RunListReader::readFailed, this, &RunListWatcher::readFailed);
    connect(m_reader, &RunListReader::loadingProgress, this, [this](qsizetype runsFound) {
        if (!m_hasRuns)
            emit loadingProgress(runsFound);
    });
}

RunListWatcher::~RunListWatcher() = default;

void RunListWatcher::deliverNext()
{
    if (m_pending.isEmpty())
        return;
    const RunListChange change = m_pending.dequeue();
    if (!m_pending.isEmpty())
        QTimer::singleShot(0, this, &RunListWatcher::deliverNext);
    m_hasRuns = m_hasRuns || change.complete;
    emit runsChanged(change);
}

void RunListWatcher::start() { m_readerThread->start(); }

void RunListWatcher::refresh() { m_readerThread->refresh(); }

} // namespace trainyard

#include "runlistwatcher.moc"
