// The worker owns a StoreWriter and one RunSupervisor per active run, all on the host thread.
#include "launch/launchhost.h"

#include "launch/runrecovery.h"
#include "store/storewriter.h"

#include <QAtomicInt>
#include <QEventLoop>

namespace trainyard {

class LaunchHost::Worker : public QObject {
    Q_OBJECT
public:
    explicit Worker(Workspace workspace) : m_workspace(std::move(workspace)) { }

    QAtomicInt active{0};

public slots:
    void start()
    {
        auto writer = StoreWriter::start(m_workspace.database());
        if (!writer) {
            m_startError = writer.error();
            return;
        }
        m_writer = std::move(writer.value());
        (void)recoverAbandonedRuns(m_workspace, *m_writer);
        (void)repairIncompleteRuns(m_workspace, *m_writer); // metrics a store error kept out, from committed progress
    }

    void launch(const trainyard::LocalLaunch &launch)
    {
        if (!m_writer) {
            emit launchFailed(m_startError);
            return;
        }
        auto supervisor = RunSupervisor::launch(m_workspace, *m_writer, launch, nullptr);
        if (!supervisor) {
            emit launchFailed(supervisor.error());
            return;
        }
        RunSupervisor *raw = supervisor.value().release();
        raw->setParent(this);
        const QString runId = raw->runId();
        m_supervisors.insert(runId, raw);
        active.ref();
        connect(raw, &RunSupervisor::finished, this, [this, raw, runId](const RunOutcome &outcome) {
            m_supervisors.remove(runId);
            active.deref();
            emit runFinished(runId, outcome.status);
            raw->deleteLater();
        });
        emit launched(runId);
    }

    void cancel(const QString &runId)
    {
        if (RunSupervisor *supervisor = m_supervisors.value(runId))
            supervisor->cancel();
    }

    // Cancels everything and returns when every run has ended (its summary committed).
    void shutdown()
    {
        if (m_supervisors.isEmpty())
            return;
        QEventLoop loop;
        connect(this, &Worker::runFinished, &loop, [this, &loop] {
            if (m_supervisors.isEmpty())
                loop.quit();
        });
        for (RunSupervisor *supervisor : std::as_const(m_supervisors))
            supervisor->cancel();
        loop.exec();
    }

signals:
    void launched(const QString &runId);
    void launchFailed(const QString &message);
    void runFinished(const QString &runId, trainyard::RunStatus status);

private:
    Workspace m_workspace;
    std::unique_ptr<StoreWriter> m_writer;
    QString m_startError;
    QHash<QString, RunSupervisor *> m_supervisors;
};

LaunchHost::LaunchHost(const Workspace &workspace, QObject *parent) : QObject(parent), m_worker(new Worker(workspace))
{
    qRegisterMetaType<trainyard::LocalLaunch>();
    qRegisterMetaType<trainyard::RunStatus>();
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::started, m_worker, &Worker::start);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &Worker::launched, this, &LaunchHost::launched);
    connect(m_worker, &Worker::launchFailed, this, &LaunchHost::launchFailed);
    connect(m_worker, &Worker::runFinished, this, &LaunchHost::runFinished);
    m_thread.setObjectName(QStringLiteral("launch-host"));
    m_thread.start();
}

LaunchHost::~LaunchHost()
{
    QMetaObject::invokeMethod(m_worker, &Worker::shutdown, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

void LaunchHost::launch(const LocalLaunch &launch)
{
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, launch] { worker->launch(launch); }, Qt::QueuedConnection);
}

void LaunchHost::cancel(const QString &runId)
{
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, runId] { worker->cancel(runId); }, Qt::QueuedConnection);
}

int LaunchHost::activeRuns() const { return m_worker->active.loadRelaxed(); }

} // namespace trainyard

#include "launchhost.moc"
