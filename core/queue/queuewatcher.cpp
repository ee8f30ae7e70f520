// The watcher's worker polls PRAGMA data_version (a cheap check); when it changed it reads the queue's change
// sequence, and the queue itself only when that moved.
#include "queue/queuewatcher.h"

#include "store/pollingreader.h"
#include "store/runqueries.h"

#include <optional>

namespace trainyard {

class QueueReader : public PollingReader {
    Q_OBJECT
public:
    explicit QueueReader(QString databasePath) : PollingReader(std::move(databasePath), QueueWatcher::kPollIntervalMs)
    { }

    bool readNow() override
    {
        if (!ensureConnection())
            return false;
        // The queue changes without the runs changing (a move, a pause): it has its own sequence.
        auto sequence = runqueries::changeSequence(*m_connection, ChangeSequence::Queue);
        if (!sequence) {
            emit readFailed(sequence.error());
            return false;
        }
        if (m_sequence && *m_sequence == sequence.value())
            return true;
        auto queue = runqueue::list(*m_connection);
        if (!queue) {
            emit readFailed(queue.error());
            return false;
        }
        // The sequence is read before the queue: a change in between is read again at the next poll.
        m_sequence = sequence.value();
        emit queueRead(queue.value());
        return true;
    }

signals:
    void queueRead(const QList<trainyard::QueuedRun> &queue);

private:
    std::optional<std::int64_t> m_sequence;
};

QueueWatcher::QueueWatcher(const QString &databasePath, QObject *parent)
    : QObject(parent), m_reader(new QueueReader(databasePath)),
      m_readerThread(std::make_unique<ReaderThread>(m_reader, QStringLiteral("queue-watcher")))
{
    qRegisterMetaType<QList<trainyard::QueuedRun>>();
    connect(m_reader, &QueueReader::queueRead, this, &QueueWatcher::queueChanged);
    connect(m_reader, &QueueReader::readFailed, this, &QueueWatcher::readFailed);
}

QueueWatcher::~QueueWatcher() = default;

void QueueWatcher::start() { m_readerThread->start(); }

void QueueWatcher::refresh() { m_readerThread->refresh(); }

} // namespace trainyard

#include "queuewatcher.moc"
