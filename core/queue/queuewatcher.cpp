// The watcher's worker polls PRAGMA data_version (a cheap check); when it changed it reads the queue's change
// sequence, and the queue itself only when that moved.
#include "queue/queuewatcher.h"

#include "store/runqueries.h"
#include "store/sqlite.h"

#include <QTimer>

#include <optional>

namespace trainyard {

class QueueReader : public QObject {
    Q_OBJECT
public:
    explicit QueueReader(QString databasePath) : m_databasePath(std::move(databasePath)) { }

public slots:
    void start()
    {
        auto *timer = new QTimer(this);
        timer->setInterval(QueueWatcher::kPollIntervalMs);
        connect(timer, &QTimer::timeout, this, &QueueReader::poll);
        timer->start();
        poll();
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
    void readFailed(const QString &message);

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
    std::optional<SqliteConnection> m_connection;
    std::optional<std::int64_t> m_lastVersion;
    std::optional<std::int64_t> m_sequence;
};

QueueWatcher::QueueWatcher(const QString &databasePath, QObject *parent)
    : QObject(parent), m_reader(new QueueReader(databasePath))
{
    qRegisterMetaType<QList<trainyard::QueuedRun>>();
    m_reader->moveToThread(&m_thread);
    connect(&m_thread, &QThread::started, m_reader, &QueueReader::start);
    connect(&m_thread, &QThread::finished, m_reader, &QObject::deleteLater);
    connect(m_reader, &QueueReader::queueRead, this, &QueueWatcher::queueChanged);
    connect(m_reader, &QueueReader::readFailed, this, &QueueWatcher::readFailed);
    m_thread.setObjectName(QStringLiteral("queue-watcher"));
}

QueueWatcher::~QueueWatcher()
{
    if (!m_thread.isRunning()) { // never started: the reader's deleteLater would never run
        delete m_reader;
        return;
    }
    m_thread.quit();
    m_thread.wait();
}

void QueueWatcher::start()
{
    if (!m_thread.isRunning())
        m_thread.start();
}

void QueueWatcher::refresh() { QMetaObject::invokeMethod(m_reader, &QueueReader::readNow, Qt::QueuedConnection); }

} // namespace trainyard

#include "queuewatcher.moc"
