// The follower's worker remembers the last metric rowid and log offsets it delivered.
#include "store/runfollower.h"

#include "runfolder/provenancefile.h"
#include "runfolder/runfolder.h"
#include "store/runqueries.h"
#include "store/sqlite.h"

#include <QDir>
#include <QFile>
#include <QTimer>

#include <limits>
#include <optional>

namespace trainyard {

class RunFollowerWorker : public QObject {
    Q_OBJECT
public:
    RunFollowerWorker(QString databasePath, QString runId, QString runDir)
        : m_databasePath(std::move(databasePath)), m_runId(std::move(runId)), m_runDir(std::move(runDir))
    { }

public slots:
    void start()
    {
        m_timer = new QTimer(this);
        connect(m_timer, &QTimer::timeout, this, &RunFollowerWorker::poll);
        m_timer->start(RunFollower::kPollIntervalMs);
        if (const auto provenance = loadProvenance(m_runDir))
            emit provenanceRead(QStringLiteral("git %1 on %2%3")
                                    .arg(provenance->commit.left(12), provenance->branch,
                                         provenance->dirty ? QStringLiteral(", dirty") : QStringLiteral(", clean")),
                                provenance->diff);
        poll();
    }

    void poll()
    {
        if (!m_connection) {
            auto connection = SqliteConnection::open(m_databasePath, SqliteConnection::Mode::ReadWrite);
            if (!connection) {
                emit readFailed(connection.error());
                return;
            }
            m_connection = std::move(connection.value());
        }
        if (auto run = runqueries::findRun(*m_connection, m_runId); run) {
            if (!m_lastRun || !(*m_lastRun == run.value())) {
                m_lastRun = run.value();
                emit runChanged(run.value());
            }
        } else if (isGone()) {
            // Deleted (by `trainyard rm` or another window): said once, and nothing more is read.
            m_timer->stop();
            emit runRemoved();
            return;
        } else {
            emit readFailed(run.error());
        }
        readLogs();
    }

signals:
    void runChanged(const trainyard::RunRecord &run);
    void logLinesAppended(const QList<trainyard::RankLogLine> &lines);
    void provenanceRead(const QString &summary, const QString &diff);
    void readFailed(const QString &message);
    void runRemoved();

private:
    // No row has the run's id any more (a failed read for any other reason is not that).
    bool isGone()
    {
        auto select = m_connection->prepare("SELECT count(*) FROM runs WHERE id = ?");
        if (!select)
            return false;
        select->bind(1, m_runId);
        auto row = select->step();
        return row && row.value() && select->columnInt(0) == 0;
    }

    void readLogs()
    {
        // Rank output (with receive stamps) and NCCL debug files (NCCL writes them itself, without stamps).
        const QString readAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
        QList<RankLogLine> lines;
        const QStringList names = QDir(m_runDir).entryList(
            {QStringLiteral("rank*.log"), QStringLiteral("nccl.rank*.log")}, QDir::Files, QDir::Name);
        for (const QString &name : names) {
            const auto parsed = parseRankLogFileName(name);
            if (!parsed)
                continue;
            const bool nccl = parsed->nccl;
            QFile file(m_runDir + QLatin1Char('/') + name);
            qint64 &offset = m_logOffsets[name];
            if (!file.open(QIODevice::ReadOnly) || file.size() <= offset || !file.seek(offset))
                continue;
            const QByteArray data = file.readAll();
            const qsizetype end = data.lastIndexOf('\n');
            if (end < 0)
                continue;
            offset += end + 1;
            for (const QByteArray &raw : data.left(end).split('\n')) {
                const QString line = QString::fromUtf8(raw);
                RankLogLine entry{parsed->rank, parsed->attempt, line.left(kLogStampLength),
                                  line.mid(kLogStampLength + 1), nccl};
                if (nccl) {
                    entry.stamp = readAt;
                    entry.text = line;
                }
                lines << entry;
            }
        }
        if (lines.isEmpty())
            return;
        std::stable_sort(lines.begin(), lines.end(), [](const RankLogLine &a, const RankLogLine &b) {
            return std::tie(a.attempt, a.stamp) < std::tie(b.attempt, b.stamp);
        });
        emit logLinesAppended(lines);
    }

    QString m_databasePath;
    QString m_runId;
    QString m_runDir;
    std::optional<SqliteConnection> m_connection;
    std::optional<RunRecord> m_lastRun;
    QHash<QString, qint64> m_logOffsets;
    QTimer *m_timer = nullptr;
};

RunFollower::RunFollower(const QString &databasePath, const QString &runId, const QString &runDir, QObject *parent)
    : QObject(parent), m_worker(new RunFollowerWorker(databasePath, runId, runDir))
{
    qRegisterMetaType<trainyard::RunRecord>();
    qRegisterMetaType<QList<trainyard::RankLogLine>>();
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::started, m_worker, &RunFollowerWorker::start);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &RunFollowerWorker::runChanged, this, &RunFollower::runChanged);
    connect(m_worker, &RunFollowerWorker::logLinesAppended, this, &RunFollower::logLinesAppended);
    connect(m_worker, &RunFollowerWorker::readFailed, this, &RunFollower::readFailed);
    connect(m_worker, &RunFollowerWorker::runRemoved, this, &RunFollower::runRemoved);
    connect(m_worker, &RunFollowerWorker::provenanceRead, this, &RunFollower::provenanceRead);
    m_thread.setObjectName(QStringLiteral("run-follower"));
    m_thread.start();
}

RunFollower::~RunFollower()
{
    m_thread.quit();
    m_thread.wait();
}

} // namespace trainyard

#include "runfollower.moc"
