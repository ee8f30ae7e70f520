// The loader's worker: one connection, queries in arrival order, superseded ones skipped.
#include "models/envelopeloader.h"

#include "store/database.h"
#include "store/sqlite.h"

#include <optional>

namespace trainyard {

namespace {
QString slotOf(const QString &key, const QString &runId, EnvelopeLoader::Kind kind)
{
    return key + QChar(0) + runId + QChar(0) + QString::number(int(kind));
}
} // namespace

class EnvelopeLoaderWorker : public QObject {
    Q_OBJECT
public:
    EnvelopeLoaderWorker(QString databasePath, std::shared_ptr<EnvelopeLoader::Shared> shared)
        : m_databasePath(std::move(databasePath)), m_shared(std::move(shared))
    { }

    void load(quint64 ticket, const QString &key, const QString &runId, const EnvelopeRequest &range,
              EnvelopeLoader::Kind kind)
    {
        bool superseded = false;
        {
            QMutexLocker lock(&m_shared->mutex);
            superseded = m_shared->latest.value(slotOf(key, runId, kind)) != ticket;
        }
        if (!superseded) {
            if (!m_connection) {
                auto connection = SqliteConnection::open(m_databasePath, SqliteConnection::Mode::ReadOnly);
                if (!connection) {
                    emit failed(connection.error());
                } else {
                    (void)connection->execute("PRAGMA cache_size = -65536");
                    m_connection.emplace(std::move(connection.value()));
                }
            }
            if (m_connection) {
                auto envelope = metricqueries::envelope(*m_connection, runId, key, range);
                if (envelope)
                    emit loaded(ticket, key, runId, envelope.value(), kind);
                else
                    emit failed(envelope.error());
            }
        }
        bool nowIdle = false;
        {
            QMutexLocker lock(&m_shared->mutex);
            nowIdle = --m_shared->pending == 0;
        }
        if (nowIdle)
            emit idle();
    }

signals:
    void loaded(quint64 ticket, const QString &key, const QString &runId, const trainyard::MetricEnvelope &envelope,
                trainyard::EnvelopeLoader::Kind kind);
    void failed(const QString &message);
    void idle();

private:
    QString m_databasePath;
    std::shared_ptr<EnvelopeLoader::Shared> m_shared;
    std::optional<SqliteConnection> m_connection;
};

EnvelopeLoader::EnvelopeLoader(const QString &databasePath, QObject *parent)
    : QObject(parent), m_worker(nullptr), m_shared(std::make_shared<Shared>())
{
    qRegisterMetaType<MetricEnvelope>();
    qRegisterMetaType<EnvelopeLoader::Kind>();
    m_worker = new EnvelopeLoaderWorker(databasePath, m_shared);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &EnvelopeLoaderWorker::loaded, this, &EnvelopeLoader::loaded);
    connect(m_worker, &EnvelopeLoaderWorker::failed, this, &EnvelopeLoader::failed);
    connect(m_worker, &EnvelopeLoaderWorker::idle, this, &EnvelopeLoader::idle);
    m_thread.setObjectName(QStringLiteral("envelope-loader"));
    m_thread.start();
}

EnvelopeLoader::~EnvelopeLoader()
{
    {
        QMutexLocker lock(&m_shared->mutex);
        m_shared->latest.clear(); // everything still queued is now superseded: skipped without a query
    }
    m_thread.quit();
    m_thread.wait();
}

quint64 EnvelopeLoader::request(const QString &key, const QString &runId, const EnvelopeRequest &range, Kind kind)
{
    const quint64 ticket = m_nextTicket++;
    {
        QMutexLocker lock(&m_shared->mutex);
        m_shared->latest.insert(slotOf(key, runId, kind), ticket);
        ++m_shared->pending;
    }
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker, ticket, key, runId, range, kind] { worker->load(ticket, key, runId, range, kind); },
        Qt::QueuedConnection);
    return ticket;
}

int EnvelopeLoader::pending() const
{
    QMutexLocker lock(&m_shared->mutex);
    return m_shared->pending;
}

} // namespace trainyard

#include "envelopeloader.moc"
