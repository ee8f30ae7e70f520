// TrackingServer: MLflow's REST tracking API 2.0 (/api/2.0/mlflow/...) over a workspace, on QtHttpServer, so scripts
// that log with MLflow (directly, Lightning, Hugging Face, Accelerate) log into Trainyard runs unchanged.
// TrackingService runs one on a thread of its own, bound to 127.0.0.1, behind the workspace's bearer token.
#pragma once

#include "result.h"
#include "store/workspace.h"

#include <QAbstractHttpServer>
#include <QByteArray>
#include <QString>
#include <QThread>

#include <atomic>
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

class TrackingServer : public QAbstractHttpServer {
    Q_OBJECT
public:
    // The reply to one API call: HTTP status and a JSON object.
    struct Reply {
        int status = 200;
        QByteArray body;
    };

    TrackingServer(Workspace workspace, StoreWriter &writer, QByteArray token, QObject *parent = nullptr);
    ~TrackingServer() override;

    // One call, without HTTP: `endpoint` is the part after /api/2.0/mlflow/ ("runs/log-batch"), `arguments` the
    // JSON body of a POST or the query of a GET turned into a JSON object. What handleRequest does after the token.
    Reply call(const QString &endpoint, const QByteArray &arguments);
    // Metric points this server has stored (committed), over every run; safe from any thread.
    std::int64_t pointsStored() const { return m_pointsStored.load(); }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    struct Endpoints;
    Result<SqliteConnection *> reader();

    Workspace m_workspace;
    StoreWriter &m_writer;
    QByteArray m_token;
    std::unique_ptr<SqliteConnection> m_reader; // opened on the server's thread at the first read
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
    static Result<std::unique_ptr<TrackingService>> start(const Workspace &workspace, StoreWriter &writer, quint16 port = 0);
    // Stops the server; requests in progress finish first.
    ~TrackingService();

    quint16 port() const { return m_port; }
    QString uri() const;
    const QByteArray &token() const { return m_token; }
    std::int64_t pointsStored() const { return m_server ? m_server->pointsStored() : 0; }

private:
    TrackingService() = default;
    QThread m_thread;
    TrackingServer *m_server = nullptr; // lives on m_thread, deleted there
    quint16 m_port = 0;
    QByteArray m_token;
};

} // namespace trainyard
