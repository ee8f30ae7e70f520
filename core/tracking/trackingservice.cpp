// TrackingService: a TrackingServer on a thread of its own, bound to 127.0.0.1, and the workspace's token.
#include "tracking/trackingserver.h"

#include "atomicfile.h"
#include "store/storewriter.h"
#include "tracking/metricjournal.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QTcpServer>

namespace trainyard {

namespace {
constexpr const char *kTokenFileName = "tracking.token";
} // namespace

Result<QByteArray> loadOrCreateTrackingToken(const QString &workspaceRoot)
{
    const QString path = QDir(workspaceRoot).filePath(QLatin1String(kTokenFileName));
    QFile file(path);
    if (file.exists()) {
        if (!file.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("cannot read the tracking token %1: %2").arg(path, file.errorString()));
        const QByteArray token = file.readAll().trimmed();
        if (token.size() < 32)
            return fail(
                QStringLiteral("the tracking token in %1 is too short; delete the file to make a new one").arg(path));
        return token;
    }
    QByteArray random(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(random.data()), random.size() / 4);
    const QByteArray token = random.toHex();
    if (auto written = writeFileAtomically(path, token + '\n'); !written)
        return fail(written.error());
    if (!QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner))
        return fail(QStringLiteral("cannot make the tracking token %1 private (mode 0600)").arg(path));
    return token;
}

Result<std::unique_ptr<TrackingService>> TrackingService::start(const Workspace &workspace, StoreWriter &writer,
                                                                quint16 port)
{
    auto token = loadOrCreateTrackingToken(workspace.root());
    if (!token)
        return fail(token.error());
    std::unique_ptr<TrackingService> service(new TrackingService);
    service->m_token = *token;
    service->m_thread.setObjectName(QStringLiteral("mlflow-api"));
    service->m_thread.start();
    // Points a server that is gone had journaled but not committed go in before this one answers anything.
    if (auto recovered = MetricJournal::recoverAbandoned(workspace, writer); !recovered)
        return fail(recovered.error());
    // The server is made here and moved to its thread; it listens there, so its sockets belong to that thread.
    auto *server = new TrackingServer(workspace, writer, service->m_token);
    server->moveToThread(&service->m_thread);
    service->m_server = server;
    QString error;
    quint16 bound = 0;
    QMetaObject::invokeMethod(
        server,
        [&] {
            auto *tcp = new QTcpServer(server);
            if (!tcp->listen(QHostAddress::LocalHost, port)) {
                error = port ? QStringLiteral("cannot listen on 127.0.0.1:%1: %2").arg(port).arg(tcp->errorString())
                             : QStringLiteral("cannot listen on 127.0.0.1: %1").arg(tcp->errorString());
                return;
            }
            server->bind(tcp);
            bound = tcp->serverPort();
        },
        Qt::BlockingQueuedConnection);
    if (!error.isEmpty())
        return fail(error); // the destructor stops the thread
    service->m_port = bound;
    return service;
}

TrackingService::~TrackingService()
{
    if (m_server) {
        QMetaObject::invokeMethod(
            m_server, [server = m_server] { delete server; }, Qt::BlockingQueuedConnection);
        m_server = nullptr;
    }
    m_thread.quit();
    m_thread.wait();
}

void TrackingService::setMetricObserver(MetricObserver observer)
{
    if (!m_server)
        return;
    TrackingServer *server = m_server;
    QMetaObject::invokeMethod(
        server, [server, observer = std::move(observer)]() mutable { server->setMetricObserver(std::move(observer)); },
        Qt::BlockingQueuedConnection);
}

Result<void> TrackingService::commitJournaled()
{
    if (!m_server)
        return {};
    Result<void> outcome;
    QMetaObject::invokeMethod(
        m_server, [&] { outcome = m_server->commitJournaled(); }, Qt::BlockingQueuedConnection);
    return outcome;
}

QString TrackingService::uri() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }

} // namespace trainyard
