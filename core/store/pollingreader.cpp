#include "store/pollingreader.h"

#include "store/runqueries.h"

#include <QTimer>

namespace trainyard {

PollingReader::PollingReader(QString databasePath, int pollIntervalMs)
    : m_databasePath(std::move(databasePath)), m_pollIntervalMs(pollIntervalMs)
{ }

void PollingReader::start()
{
    auto *timer = new QTimer(this);
    timer->setInterval(m_pollIntervalMs);
    connect(timer, &QTimer::timeout, this, &PollingReader::poll);
    timer->start();
    poll(); // the first read, remembering the version it read
}

void PollingReader::poll()
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

bool PollingReader::ensureConnection()
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

ReaderThread::ReaderThread(PollingReader *reader, const QString &name) : m_reader(reader)
{
    m_reader->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::started, m_reader, &PollingReader::start);
    QObject::connect(&m_thread, &QThread::finished, m_reader, &QObject::deleteLater);
    m_thread.setObjectName(name);
}

ReaderThread::~ReaderThread()
{
    if (!m_thread.isRunning()) { // never started: the reader's deleteLater would never run
        delete m_reader;
        return;
    }
    m_thread.quit();
    m_thread.wait();
}

void ReaderThread::start()
{
    if (!m_thread.isRunning())
        m_thread.start();
}

void ReaderThread::refresh() { QMetaObject::invokeMethod(m_reader, &PollingReader::readNow, Qt::QueuedConnection); }

} // namespace trainyard
