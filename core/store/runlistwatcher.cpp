// The watcher's worker polls PRAGMA data_version (a cheap check) and reads the runs only when it changed.
#include "store/runlistwatcher.h"

#include "queue/runqueue.h"
#include "store/runqueries.h"
#include "store/sqlite.h"

#include <QTimer>

#include <optional>

namespace trainyard {

class RunListReader : public QObject {
    Q_OBJECT
public:
    explicit RunListReader(QString databasePath) : m_databasePath(std::move(databasePath)) {}

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
        const bool first = !m_lastRuns;
        auto runs = runqueries::listRuns(*m_connection, [this, first](qsizetype found) {
            if (first)
                emit loadingProgress(found);
        });
        if (!runs) {
            emit readFailed(runs.error());
            return false;
        }
        if (!m_lastRuns || !(*m_lastRuns == runs.value())) {
            m_lastRuns = runs.value();
            emit runsRead(runs.value());
        }
        // The queue changes without the runs changing (a move, a pause): read it too.
        auto queue = runqueue::list(*m_connection);
        if (!queue) {
            emit readFailed(queue.error());
            return false;
        }
        if (!m_lastQueue || !(*m_lastQueue == queue.value())) {
            m_lastQueue = queue.value();
            emit queueRead(queue.value());
        }
        return true;
    }

signals:
    void runsRead(const QList<trainyard::RunRecord> &runs);
    void queueRead(const QList<trainyard::QueuedRun> &queue);
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
    std::optional<QList<RunRecord>> m_lastRuns;
    std::optional<QList<QueuedRun>> m_lastQueue;
};

RunListWatcher::RunListWatcher(const QString &databasePath, QObject *parent)
    : QObject(parent), m_reader(new RunListReader(databasePath))
{
    qRegisterMetaType<QList<trainyard::RunRecord>>();
    qRegisterMetaType<QList<trainyard::QueuedRun>>();
    m_reader->moveToThread(&m_thread);
    connect(&m_thread, &QThread::started, m_reader, &RunListReader::start);
    connect(&m_thread, &QThread::finished, m_reader, &QObject::deleteLater);
    connect(m_reader, &RunListReader::runsRead, this, [this](const QList<RunRecord> &runs) {
        m_runs = runs;
        m_hasRuns = true;
        emit runsChanged(m_runs);
    });
    connect(m_reader, &RunListReader::queueRead, this, [this](const QList<QueuedRun> &queue) {
        m_queue = queue;
        m_hasQueue = true;
        emit queueChanged(m_queue);
    });
    connect(m_reader, &RunListReader::readFailed, this, &RunListWatcher::readFailed);
    connect(m_reader, &RunListReader::loadingProgress, this, &RunListWatcher::loadingProgress);
    m_thread.setObjectName(QStringLiteral("run-list-watcher"));
    m_thread.start();
}

RunListWatcher::~RunListWatcher()
{
    m_thread.quit();
    m_thread.wait();
}

void RunListWatcher::refresh() { QMetaObject::invokeMethod(m_reader, &RunListReader::readNow, Qt::QueuedConnection); }

} // namespace trainyard

#include "runlistwatcher.moc"
