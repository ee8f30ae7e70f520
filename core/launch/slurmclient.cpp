// libcurl easy handles, one per request (a few requests a second at most); the answers are small JSON objects.
#include "launch/slurmclient.h"

#include "controlcharacters.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStringList>

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace trainyard {

namespace {

struct CurlDeleter {
    void operator()(CURL *handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
    void operator()(curl_slist *list) const { curl_slist_free_all(list); }
};

size_t appendToBuffer(char *data, size_t size, size_t count, void *buffer)
{
    static_cast<QByteArray *>(buffer)->append(data, qsizetype(size * count));
    return size * count;
}

QDateTime fromEpochSeconds(const QJsonValue &value)
{
    const qint64 seconds = value.toVariant().toLongLong();
    return seconds > 0 ? QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC) : QDateTime();
}

// slurmrestd reports failures in "errors": [{"error": ..., "description": ..., "error_number"/"error_code": N}].
QString describeErrors(const QJsonArray &errors)
{
    QStringList parts;
    for (const QJsonValue &value : errors) {
        const QJsonObject error = value.toObject();
        const QString text = error.value(QStringLiteral("error")).toString();
        const QString description = error.value(QStringLiteral("description")).toString();
        QString part = description.isEmpty() || description == text ? text
            : text.isEmpty()                                        ? description
                                                                    : text + QStringLiteral(": ") + description;
        if (part.isEmpty())
            part = QString::fromUtf8(QJsonDocument(error).toJson(QJsonDocument::Compact));
        parts << part;
    }
    return parts.join(QStringLiteral("; "));
}

} // namespace

SlurmJobInfo parseSlurmJob(const QJsonObject &job)
{
    SlurmJobInfo info;
    info.jobId = job.value(QStringLiteral("job_id")).toVariant().toLongLong();
    info.state = job.value(QStringLiteral("job_state")).toString();
    info.reason = job.value(QStringLiteral("state_reason")).toString();
    info.nodes = job.value(QStringLiteral("nodes")).toString();
    info.batchHost = job.value(QStringLiteral("batch_host")).toString();
    info.submitTime = fromEpochSeconds(job.value(QStringLiteral("submit_time")));
    info.startTime = fromEpochSeconds(job.value(QStringLiteral("start_time")));
    info.endTime = fromEpochSeconds(job.value(QStringLiteral("end_time")));
    // exit_code is a wait status: the exit code in the high byte, or the terminating signal in the low bits.
    const QJsonValue exit = job.value(QStringLiteral("exit_code"));
    if (exit.isDouble()) {
        const int status = exit.toInt();
        if ((status & 0x7f) == 0)
            info.exitCode = (status >> 8) & 0xff;
        else
            info.exitSignal = status & 0x7f;
    }
    // A job that has not started reports a start time in the future (its expected start) or 0.
    if (info.state == QLatin1String("PENDING"))
        info.startTime = {};
    if (info.state == QLatin1String("PENDING") || info.state == QLatin1String("RUNNING"))
        info.endTime = {};
    return info;
}

SlurmClient::SlurmClient(SlurmEndpoint endpoint) : m_endpoint(std::move(endpoint))
{
    static std::once_flag initialized;
    std::call_once(initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    while (m_endpoint.baseUrl.endsWith(QLatin1Char('/')))
        m_endpoint.baseUrl.chop(1);
}

Result<SlurmClient::Response> SlurmClient::request(const char *method, const QString &path, const QByteArray &payload,
                                                   const QString &what, QJsonObject *answered) const
{
    const QString url = m_endpoint.baseUrl + QStringLiteral("/slurm/") + QLatin1String(kApiVersion) + path;
    std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
    if (!handle)
        return fail(QStringLiteral("cannot %1: libcurl could not start a request").arg(what));
    // A CR or LF in the user or token would start a header of its own.
    if (auto clean = refuseControlCharacters(m_endpoint.user, QStringLiteral("the Slurm user name")); !clean)
        return fail(QStringLiteral("cannot %1: %2").arg(what, clean.error()));
    if (auto clean = refuseControlCharacters(QString::fromUtf8(m_endpoint.token), QStringLiteral("the Slurm token"));
        !clean)
        return fail(QStringLiteral("cannot %1: %2").arg(what, clean.error()));
    std::unique_ptr<curl_slist, HeaderListDeleter> headers;
    const auto addHeader = [&headers](const QByteArray &line) {
        headers.reset(curl_slist_append(headers.release(), line.constData()));
    };
    addHeader("Accept: application/json");
    addHeader("X-SLURM-USER-NAME: " + m_endpoint.user.toUtf8());
    addHeader("X-SLURM-USER-TOKEN: " + m_endpoint.token);
    if (!payload.isEmpty())
        addHeader("Content-Type: application/json");

    const QByteArray urlBytes = url.toUtf8();
    QByteArray answer;
    char curlMessage[CURL_ERROR_SIZE] = {};
    CURL *curl = handle.get();
    curl_easy_setopt(curl, CURLOPT_URL, urlBytes.constData());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (!payload.isEmpty()) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.constData());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, long(payload.size()));
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendToBuffer);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlMessage);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, long(m_endpoint.connectTimeoutMs));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(m_endpoint.timeoutMs));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); // called from worker threads
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

    const CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        const QString detail =
            curlMessage[0] ? QString::fromUtf8(curlMessage) : QString::fromUtf8(curl_easy_strerror(code));
        return fail(
            QStringLiteral("cannot %1: slurmrestd at %2 cannot be reached: %3").arg(what, m_endpoint.baseUrl, detail));
    }
    Response response;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.httpStatus);
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(answer, &parseError);
    if (document.isObject())
        response.body = document.object();
    if (answered)
        *answered = response.body;
    const QString errors = describeErrors(response.body.value(QStringLiteral("errors")).toArray());
    const bool httpOk = response.httpStatus >= 200 && response.httpStatus < 300;
    if (httpOk && errors.isEmpty() && document.isObject())
        return response;

    QString message = QStringLiteral("cannot %1: slurmrestd at %2 answered HTTP %3")
                          .arg(what, m_endpoint.baseUrl)
                          .arg(response.httpStatus);
    if (!errors.isEmpty())
        message += QStringLiteral(": ") + errors;
    else if (!document.isObject())
        message += QStringLiteral(": ") + QString::fromUtf8(answer.left(300)).trimmed();
    // Slurm 22.05 answers a token it does not accept with 401, or with a 500 and an unrelated-looking error.
    if (response.httpStatus == 401 || response.httpStatus == 403 || response.httpStatus == 500)
        message += QStringLiteral(" (if the token is wrong or expired for user '%1', Slurm answers this way: "
                                  "mint a new one with `scontrol token username=%1`)")
                       .arg(m_endpoint.user);
    return fail(message);
}

Result<QString> SlurmClient::ping() const
{
    auto response = request("GET", QStringLiteral("/ping"), {}, QStringLiteral("reach the cluster"));
    if (!response)
        return fail(response.error());
    const QJsonObject slurm =
        response->body.value(QStringLiteral("meta")).toObject().value(QStringLiteral("Slurm")).toObject();
    const QString release = slurm.value(QStringLiteral("release")).toString();
    const QJsonArray pings = response->body.value(QStringLiteral("pings")).toArray();
    QStringList controllers;
    for (const QJsonValue &value : pings) {
        const QJsonObject ping = value.toObject();
        controllers << QStringLiteral("%1 %2").arg(ping.value(QStringLiteral("hostname")).toString(),
                                                   ping.value(QStringLiteral("ping")).toString());
    }
    QString text = QStringLiteral("Slurm %1").arg(release.isEmpty() ? QStringLiteral("(version not given)") : release);
    if (!controllers.isEmpty())
        text += QStringLiteral(", controller ") + controllers.join(QStringLiteral(", "));
    return text;
}

Result<qint64> SlurmClient::submit(const QJsonObject &body) const
{
    QJsonObject answered;
    auto response = request("POST", QStringLiteral("/job/submit"), QJsonDocument(body).toJson(QJsonDocument::Compact),
                            QStringLiteral("submit the job"), &answered);
    if (!response) {
        // Slurm may queue a job it also reports an error for (e.g. more nodes than the partition has: it waits
        // in PENDING forever). A run that failed must not leave such a job behind.
        const qint64 stray = answered.value(QStringLiteral("job_id")).toVariant().toLongLong();
        if (stray > 0) {
            const bool canceled = cancel(stray).ok();
            return fail(
                response.error()
                + (canceled
                       ? QStringLiteral(" (Slurm had queued it as job %1; Trainyard canceled that job)").arg(stray)
                       : QStringLiteral(" (Slurm had queued it as job %1 and it could not be canceled: scancel %1)")
                             .arg(stray)));
        }
        return fail(response.error());
    }
    const qint64 jobId = response->body.value(QStringLiteral("job_id")).toVariant().toLongLong();
    if (jobId <= 0)
        return fail(QStringLiteral("cannot submit the job: slurmrestd at %1 gave no job id").arg(m_endpoint.baseUrl));
    return jobId;
}

Result<SlurmJobInfo> SlurmClient::job(qint64 jobId) const
{
    auto response =
        request("GET", QStringLiteral("/job/%1").arg(jobId), {}, QStringLiteral("read Slurm job %1").arg(jobId));
    if (!response)
        return fail(response.error());
    const QJsonArray jobs = response->body.value(QStringLiteral("jobs")).toArray();
    if (jobs.isEmpty())
        return fail(QStringLiteral("cannot read Slurm job %1: slurmrestd at %2 does not know it")
                        .arg(jobId)
                        .arg(m_endpoint.baseUrl));
    return parseSlurmJob(jobs.first().toObject());
}

Result<void> SlurmClient::cancel(qint64 jobId) const
{
    auto response =
        request("DELETE", QStringLiteral("/job/%1").arg(jobId), {}, QStringLiteral("cancel Slurm job %1").arg(jobId));
    if (!response)
        return fail(response.error());
    return {};
}

} // namespace trainyard
