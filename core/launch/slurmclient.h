// SlurmClient: slurmrestd's REST API (openapi/v0.0.38) over libcurl: ping, submit, job state, cancel.
// Calls block for at most the endpoint's timeout; callers keep them off the UI thread.
#pragma once

#include "result.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace trainyard {

struct SlurmEndpoint {
    QString baseUrl;  // http://host:6820, no trailing path
    QString user;     // X-SLURM-USER-NAME
    QByteArray token; // X-SLURM-USER-TOKEN; never logged or put in a message
    int connectTimeoutMs = 5000;
    int timeoutMs = 15000;
};

// One job as slurmrestd describes it.
struct SlurmJobInfo {
    qint64 jobId = 0;
    QString state;  // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY...
    QString reason; // state_reason: why it waits or ended (e.g. Resources, Priority, None)
    QString nodes;  // e.g. n[1-2]
    QString batchHost;
    std::optional<int> exitCode;   // when it ended with an exit status
    std::optional<int> exitSignal; // when it ended by a signal
    QDateTime submitTime;
    QDateTime startTime; // invalid until it starts
    QDateTime endTime;   // invalid until it ends
};

SlurmJobInfo parseSlurmJob(const QJsonObject &job);

class SlurmClient {
public:
    static constexpr const char *kApiVersion = "v0.0.38";

    explicit SlurmClient(SlurmEndpoint endpoint);

    // "Slurm 22.05.8" when slurmrestd answers and accepts the token.
    Result<QString> ping() const;
    // POST /job/submit with {"script": ..., "job": {...}}; the job id.
    Result<qint64> submit(const QJsonObject &body) const;
    Result<SlurmJobInfo> job(qint64 jobId) const;
    Result<void> cancel(qint64 jobId) const;

    const SlurmEndpoint &endpoint() const { return m_endpoint; }

private:
    struct Response {
        long httpStatus = 0;
        QJsonObject body;
    };
    // A reply whose transport, HTTP status and "errors" were all fine; otherwise a message for `what`.
    // `answered` receives the reply's body even when the call failed (a refused submission may still name a job).
    Result<Response> request(const char *method, const QString &path, const QByteArray &payload, const QString &what,
                             QJsonObject *answered = nullptr) const;

    SlurmEndpoint m_endpoint;
};

} // namespace trainyard
