// TrackingServer: MLflow's REST tracking API 2.0 (/api/2.0/mlflow/...) over a workspace, on QtHttpServer, so scripts
// that log with MLflow (directly, Lightning, Hugging Face, Accelerate) log into Trainyard runs unchanged.
// TrackingService runs one on a thread of its own, bound to 127.0.0.1, behind the workspace's bearer token.
#pragma once

#include "result.h"
#include "store/trackingstore.h"
#include "store/workspace.h"
#include "tracking/metricjournal.h"

#include <QAbstractHttpServer>
#include <QHash>
#include <QTimer>
#include <QByteArray>
#include <QString>
#include <QThread>

#include <atomic>
#include <deque>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>

class QHttpServerRequest;
class QTcpSocket;

namespace trainyard {

class SqliteConnection;
class StoreWriter;

// MLflow's log-batch limits (mlflow/utils/validation.py), enforced with its error code.
inline constexpr int kMaxBatchMetrics = 1000;
inline constexpr int kMaxBatchParams = 100;
inline constexpr int kMaxBatchTags = 100;
inline constexpr int kMaxBatchEntities = 1000;
inline constexpr qsizetype kMaxBatchRequestBytes = 1000000;
inline constexpr int kMaxKeyLength = 250;
inline constexpr int kMaxParamValueLength = 6000;
inline constexpr int kMaxTagValueLength = 5000;
// Journaled points are committed this long after the first of them arrived, or at once past kCommitBatchPoints.
inline constexpr int kCommitDelayMs = 20;
inline constexpr std::int64_t kCommitBatchPoints = 100000;

class TrackingServer : public QAbstractHttpServer {
    Q_OBJECT
public:
    // The reply to one API call: HTTP status and a JSON object.
    struct Reply {
        int status = 200;
        QByteArray body;
    };

    TrackingServer(Workspace workspace, StoreWriter &writer, QByteArray token, QObject *parent = nullptr);
    void setMetricObserver(std::function<void(const QString &, const QString &, std::int64_t, double)> observer)
    {
        m_metricObserver = std::move(observer);
    }
    ~TrackingServer() override;

    // One call, without HTTP: `endpoint` is the part after /api/2.0/mlflow/ ("runs/log-batch"), `arguments` the
    // JSON body of a POST or the query of a GET turned into a JSON object. What handleRequest does after the token.
    Reply call(const QString &endpoint, const QByteArray &arguments);
    // Metric points this server has stored (committed), over every run; safe from any thread.
    std::int64_t pointsStored() const { return m_pointsStored.load(); }
    // Commits every journaled point and waits for it; the first commit error, if any. On the server's thread.
    Result<void> commitJournaled();

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    struct Endpoints;
    Result<SqliteConnection *> reader();

    Workspace m_workspace;
    StoreWriter &m_writer;
    std::function<void(const QString &, const QString &, std::int64_t, double)> m_metricObserver;
    QByteArray m_token;
    std::unique_ptr<SqliteConnection> m_reader; // opened on the server's thread at the first read
    // Journaled metric points (metricjournal.h): appended and answered at once, committed in batches.
    struct CommitInFlight;
    Result<void> journal(const QString &runId, std::vector<TrackedMetric> metrics);
    void submitPending();
    Result<void> collectCommits(bool wait);
    std::unique_ptr<MetricJournal> m_journal;
    QHash<QString, std::vector<TrackedMetric>> m_pending; // by run, in the order they arrived
    std::int64_t m_pendingPoints = 0;
    qint64 m_pendingOffset = 0;
    std::deque<std::unique_ptr<CommitInFlight>> m_inFlight;
    QTimer *m_commitTimer = nullptr;

    std::unique_ptr<Endpoints> m_endpoints;
    std::atomic<std::int64_t> m_pointsStored{0};
};

// A GET request's query as the JSON object the endpoints read: {"run_id": "...", "run_ids": ["a", "b"]}; a
// repeated name becomes an array.
QByteArray queryToJson(const QList<QPair<QString, QString>> &items);

// The workspace's tracking token (<workspace>/tracking.token, mode 0600), created with 32 random bytes when absent.
Result<QByteArray> loadOrCreateTrackingToken(const QString &workspaceRoot);

class TrackingService {
public:
    // Starts a server for the workspace on 127.0.0.1:port (0: a free port) on its own thread. A port in use is an
    // error naming the port.
    static Result<std::unique_ptr<TrackingService>> start(const Workspace &workspace, StoreWriter &writer,
                                                          quint16 port = 0);
    // Stops the server; requests in progress finish first.
    ~TrackingService();

    quint16 port() const { return m_port; }
    QString uri() const;
    const QByteArray &token() const { return m_token; }
    std::int64_t pointsStored() const { return m_server ? m_server->pointsStored() : 0; }
    // Commits what the server journaled and waits for it (a launched run calls this before its summary).
    Result<void> commitJournaled();
    // Called on the server's thread with every metric point a client logs, before it is answered (a launched run's
    // alert rules). Set before clients connect.
    using MetricObserver =
        std::function<void(const QString &runId, const QString &key, std::int64_t step, double value)>;
    void setMetricObserver(MetricObserver observer);

private:
    TrackingService() = default;
    QThread m_thread;
    TrackingServer *m_server = nullptr; // lives on m_thread, deleted there
    quint16 m_port = 0;
    QByteArray m_token;
};

} // namespace trainyard
