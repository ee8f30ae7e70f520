// The watcher's worker polls PRAGMA data_version (a cheap check); when it changed it reads the run list's change
// sequence, and only the runs stamped after the last one it read.
#include "store/runlistwatcher.h"

#include "store/runqueries.h"
#include "store/sqlite.h"

#include <QSet>
#include <QTimer>

#include <optional>

namespace trainyard {

class RunListReader : public QObject {
    Q_OBJECT
public:
    explicit RunListReader(QString databasePath) : m_databasePath(std::move(databasePath)) { }

public slots:
    void start()
    {
        m_timer = new QTimer(this);
        m_timer->setInterval(RunListWatcher::kPollIntervalMs);
        connect(m_timer, &QTimer::timeout, this, &RunListReader::poll);
        m_timer->start();
        poll(); // the first read, remembering the version it read
    }

    void poll()
    {
        if (!ensureConnection())
            return;
        auto version = runqueries::dataVersion(*m_connection);
        if (!version) {
            emit readFailed(version.error());
            return;
        }
        if (m_lastVersion && *m_lastVersion == version.value())
            return;
        // Remembered only once read: a read that failed (a busy database) is tried again at the next poll.
        if (readNow())
            m_lastVersion = version.value();
    }

    bool readNow()
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
    void readFailed(const QString &message);
    void loadingProgress(qsizetype runsFound);

private:
    bool ensureConnection()
    {
        if (m_connection)
            return true;
        auto connection = SqliteConnection::open(m_databasePath, SqliteConnection::Mode::ReadWrite);
        if (!connection) {
            emit readFailed(connection.error());
            return false;
        }
        m_connection = std::move(connection.value());
        return true;
    }

    QString m_databasePath;
    QTimer *m_timer = nullptr;
    std::optional<SqliteConnection> m_connection;
    std::optional<std::int64_t> m_lastVersion;
    std::optional<std::int64_t> m_runListSequence; // none until the first (complete) list is read
    bool m_firstPageSent = false;
    QSet<QString> m_firstPageIds; // the first page's runs, until the whole list says which are gone
};

RunListWatcher::RunListWatcher(const QString &databasePath, QObject *parent)
    : QObject(parent), m_reader(new RunListReader(databasePath))
{
    qRegisterMetaType<trainyard::RunListChange>();
    m_reader->moveToThread(&m_thread);
    connect(&m_thread, &QThread::started, m_reader, &RunListReader::start);
    connect(&m_thread, &QThread::finished, m_reader, &QObject::deleteLater);
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
    m_thread.setObjectName(QStringLiteral("run-list-watcher"));
}

RunListWatcher::~RunListWatcher()
{
    if (!m_thread.isRunning()) { // never started: the reader's deleteLater would never run
        delete m_reader;
        return;
    }
    m_thread.quit();
    m_thread.wait();
}

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

void RunListWatcher::start()
{
    if (!m_thread.isRunning())
        m_thread.start();
}

void RunListWatcher::refresh() { QMetaObject::invokeMethod(m_reader, &RunListReader::readNow, Qt::QueuedConnection); }

} // namespace trainyard

#include "runlistwatcher.moc"
