// The MLflow tracking endpoints: arguments read with simdjson, writes through the workspace's one writer, reads
// on the server's own connection, errors as MLflow's {"error_code", "message"} with its HTTP status.
#include "tracking/trackingserver.h"

#include "logging.h"
#include "store/database.h"
#include "store/metricqueries.h"
#include "store/sqlite.h"
#include "store/storewriter.h"
#include "store/trackingstore.h"
#include "tracking/mlflowfilter.h"
#include "tracking/mlflowjson.h"
#include "tracking/requestfields.h"

#include <QDateTime>
#include <QDir>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QSysInfo>
#include <QTcpSocket>
#include <QUrl>
#include <QUrlQuery>

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

Q_LOGGING_CATEGORY(lcTracking, "trainyard.tracking")

namespace trainyard {

namespace {

using namespace mlflowrequest;
using mlflowjson::JsonWriter;
using Reply = TrackingServer::Reply;

constexpr const char *kApiPrefix = "/api/2.0/mlflow/";
constexpr const char *kAjaxApiPrefix = "/ajax-api/2.0/mlflow/";
constexpr int kDefaultMaxResults = 1000;
constexpr int kMaxSearchResults = 50000;
constexpr int kMaxBulkRuns = 100;
constexpr int kDefaultBulkMaxResults = 320;
constexpr int kMaxBulkMaxResults = 1000;

int httpStatusFor(const QString &code)
{
    if (code == QLatin1String(mlflowcode::kResourceDoesNotExist) || code == QLatin1String("ENDPOINT_NOT_FOUND"))
        return 404;
    if (code == QLatin1String("UNAUTHENTICATED"))
        return 401;
    if (code == QLatin1String("INTERNAL_ERROR"))
        return 500;
    return 400;
}

Reply errorReply(const QString &code, const QString &message)
{
    JsonWriter json;
    json.beginObject().key("error_code").string(code).key("message").string(message).endObject();
    return {httpStatusFor(code), json.take()};
}

// A failed Result's message as a reply: "CODE: message" keeps its code, anything else is an internal error.
Reply errorReply(const QString &failure)
{
    static const QRegularExpression kCoded(QStringLiteral("^([A-Z_]+): (.*)$"),
                                           QRegularExpression::DotMatchesEverythingOption);
    const auto match = kCoded.match(failure);
    if (match.hasMatch())
        return errorReply(match.captured(1), match.captured(2));
    qCWarning(lcTracking, "internal error: %s", qPrintable(failure));
    return errorReply(QStringLiteral("INTERNAL_ERROR"), failure);
}

Reply okReply(JsonWriter &json) { return {200, json.take()}; }

Reply emptyReply() { return {200, QByteArrayLiteral("{}")}; }

std::optional<RunStatus> statusFromMlflow(const QString &status)
{
    if (status == QLatin1String("RUNNING"))
        return RunStatus::Running;
    if (status == QLatin1String("SCHEDULED"))
        return RunStatus::Queued;
    if (status == QLatin1String("FINISHED"))
        return RunStatus::Succeeded;
    if (status == QLatin1String("FAILED"))
        return RunStatus::Failed;
    if (status == QLatin1String("KILLED"))
        return RunStatus::Canceled;
    return std::nullopt;
}

// A run name for a run created without one, as MLflow makes them ("calm-heron-417").
QString generatedRunName()
{
    static const char *const kAdjectives[] = {"amber", "brisk",  "calm",  "deft",  "eager", "fair",   "gentle",
                                              "hardy", "keen",   "lucid", "merry", "noble", "placid", "quick",
                                              "rapid", "steady", "tidy",  "vivid", "witty", "zesty"};
    static const char *const kNouns[] = {"badger", "crane", "dolphin", "falcon", "gecko", "heron", "ibis",
                                         "jackal", "koala", "lynx",    "marten", "newt",  "otter", "panda",
                                         "quail",  "raven", "stork",   "tapir",  "viper", "wren"};
    auto *random = QRandomGenerator::global();
    return QStringLiteral("%1-%2-%3")
        .arg(QLatin1String(kAdjectives[random->bounded(int(std::size(kAdjectives)))]),
             QLatin1String(kNouns[random->bounded(int(std::size(kNouns)))]))
        .arg(random->bounded(1000));
}

// Offsets as page tokens: opaque to the client, which sends back what it got.
Result<qsizetype> offsetOf(const std::optional<QString> &pageToken)
{
    if (!pageToken || pageToken->isEmpty())
        return qsizetype(0);
    bool ok = false;
    const qlonglong offset = pageToken->toLongLong(&ok);
    if (!ok || offset < 0)
        return invalidParameter(QStringLiteral("Invalid page token '%1'").arg(*pageToken));
    return qsizetype(offset);
}

// MLflow's step sampling for charts (get-history-bulk-interval): at most max_results steps spread evenly over
// the steps present in the range, the first and last always kept.
std::set<std::int64_t> sampledSteps(const std::vector<std::int64_t> &sortedSteps, int maxResults)
{
    std::set<std::int64_t> sampled;
    if (sortedSteps.empty())
        return sampled;
    if (int(sortedSteps.size()) <= maxResults)
        return {sortedSteps.begin(), sortedSteps.end()};
    const double stride = double(sortedSteps.size() - 1) / double(std::max(1, maxResults - 1));
    for (int i = 0; i < maxResults; ++i)
        sampled.insert(sortedSteps[std::size_t(std::llround(i * stride))]);
    sampled.insert(sortedSteps.front());
    sampled.insert(sortedSteps.back());
    return sampled;
}

} // namespace

struct TrackingServer::Endpoints {
    explicit Endpoints(TrackingServer &owner) : server(owner) { }
    TrackingServer &server;
    simdjson::dom::parser parser;

    QString runArtifactUri(const QString &runId) const
    {
        return QUrl::fromLocalFile(server.m_workspace.runDir(runId) + QStringLiteral("/artifacts")).toString();
    }
    QString defaultArtifactLocation() const { return QUrl::fromLocalFile(server.m_workspace.runsDir()).toString(); }

    template <typename T>
    Result<T> write(std::function<Result<T>(SqliteConnection &)> operation)
    {
        return server.m_writer.submit<T>(std::move(operation)).get();
    }

    Reply experimentReply(const Result<std::optional<TrackingExperiment>> &found, const QString &what)
    {
        if (!found)
            return errorReply(found.error());
        if (!found->has_value())
            return errorReply(QLatin1String(mlflowcode::kResourceDoesNotExist), what);
        JsonWriter json;
        json.beginObject().key("experiment");
        mlflowjson::writeExperiment(json, **found, defaultArtifactLocation());
        json.endObject();
        return okReply(json);
    }

    Reply getExperimentByName(simdjson::dom::object request)
    {
        auto name = requiredString(request, "experiment_name");
        if (!name)
            return errorReply(name.error());
        auto connection = server.reader();
        if (!connection)
            return errorReply(connection.error());
        return experimentReply(trackingstore::experimentByName(**connection, *name),
                               QStringLiteral("Could not find experiment with name '%1'").arg(*name));
    }

    Reply getExperiment(simdjson::dom::object request)
    {
        auto id = requiredString(request, "experiment_id");
        if (!id)
            return errorReply(id.error());
        bool ok = false;
        const qlonglong number = id->toLongLong(&ok);
        const QString missing = QStringLiteral("No Experiment with id=%1 exists").arg(*id);
        if (!ok)
            return errorReply(QLatin1String(mlflowcode::kResourceDoesNotExist), missing);
        auto connection = server.reader();
        if (!connection)
            return errorReply(connection.error());
        return experimentReply(trackingstore::experimentById(**connection, number), missing);
    }

    Reply createExperiment(simdjson::dom::object request)
    {
        auto name = requiredString(request, "name");
        if (!name)
            return errorReply(name.error());
        auto location = optionalString(request, "artifact_location");
        if (!location)
            return errorReply(location.error());
        auto tags = keyValues(request, "tags", "tag", kMaxTagValueLength);
        if (!tags)
            return errorReply(tags.error());
        const QString artifactLocation = location->value_or(QString());
        const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
        auto created = write<std::int64_t>([&](SqliteConnection &connection) {
            return trackingstore::createExperiment(connection, *name, artifactLocation, *tags, now);
        });
        if (!created)
            return errorReply(created.error());
        JsonWriter json;
        json.beginObject().key("experiment_id").string(QString::number(*created)).endObject();
        return okReply(json);
    }

    Reply searchExperiments(simdjson::dom::object request)
    {
        auto filterText = optionalString(request, "filter");
        auto maxResults = optionalInt64(request, "max_results");
        auto pageToken = optionalString(request, "page_token");
        if (!filterText || !maxResults || !pageToken)
            return errorReply(!filterText ? filterText.error() : !maxResults ? maxResults.error() : pageToken.error());
        auto filter = MlflowFilter::parse(filterText->value_or(QString()));
        if (!filter)
            return errorReply(filter.error());
        auto offset = offsetOf(*pageToken);
        if (!offset)
            return errorReply(offset.error());
        const std::int64_t limit = maxResults->value_or(kDefaultMaxResults);
        if (limit < 1 || limit > kMaxSearchResults)
            return errorReply(
                invalidParameter(QStringLiteral("Invalid value %1 for parameter 'max_results' supplied: it must be "
                                                "between 1 and %2")
                                     .arg(limit)
                                     .arg(kMaxSearchResults))
                    .message);
        auto connection = server.reader();
        if (!connection)
            return errorReply(connection.error());
        auto experiments = trackingstore::listExperiments(**connection);
        if (!experiments)
            return errorReply(experiments.error());
        QList<TrackingExperiment> matching;
        for (const TrackingExperiment &experiment : *experiments)
            if (filter->matches(experiment))
                matching.append(experiment);
        JsonWriter json;
        json.beginObject().key("experiments").beginArray();
        const qsizetype end = std::min<qsizetype>(matching.size(), *offset + limit);
        for (qsizetype i = *offset; i < end; ++i)
            mlflowjson::writeExperiment(json, matching[i], defaultArtifactLocation());
        json.endArray();
        if (end < matching.size())
            json.key("next_page_token").string(QString::number(end));
        json.endObject();
        return okReply(json);
    }

    Reply createRun(simdjson::dom::object request)
    {
        auto experimentId = optionalString(request, "experiment_id");
        auto user = optionalString(request, "user_id");
        auto runName = optionalString(request, "run_name");
        auto startTime = optionalInt64(request, "start_time");
        auto tags = keyValues(request, "tags", "tag", kMaxTagValueLength);
        if (!experimentId || !user || !runName || !startTime || !tags)
            return errorReply(!experimentId    ? experimentId.error()
                                  : !user      ? user.error()
                                  : !runName   ? runName.error()
                                  : !startTime ? startTime.error()
                                               : tags.error());
        const QString experiment = experimentId->value_or(QStringLiteral("0"));
        bool ok = false;
        const qlonglong experimentNumber = experiment.toLongLong(&ok);
        auto connection = server.reader();
        if (!connection)
            return errorReply(connection.error());
        auto found = ok ? trackingstore::experimentById(**connection, experimentNumber)
                        : Result<std::optional<TrackingExperiment>>(std::nullopt);
        if (!found)
            return errorReply(found.error());
        if (!found->has_value())
            return errorReply(QLatin1String(mlflowcode::kResourceDoesNotExist),
                              QStringLiteral("No Experiment with id=%1 exists").arg(experiment));
        NewRun run;
        run.name = runName->value_or(QString());
        for (const KeyValue &tag : *tags) {
            if (run.name.isEmpty() && tag.key == QLatin1String("mlflow.runName"))
                run.name = tag.value;
            if (tag.key == QLatin1String("mlflow.source.name"))
                run.command = QStringList{tag.value};
        }
        if (run.name.isEmpty())
            run.name = generatedRunName();
        QList<KeyValue> allTags = *tags;
        if (std::none_of(allTags.begin(), allTags.end(),
                         [](const KeyValue &tag) { return tag.key == QLatin1String("mlflow.runName"); }))
            allTags.append({QStringLiteral("mlflow.runName"), run.name});
        run.backend = QLatin1String(kMlflowBackend);
        run.host = QSysInfo::machineHostName();
        run.user = user->value_or(QString());
        run.project = (*found)->name;
        run.initialStatus = RunStatus::Running;
        run.createdAt = startTime->has_value() ? QDateTime::fromMSecsSinceEpoch(**startTime, Qt::UTC)
                                               : QDateTime::currentDateTimeUtc();
        auto created = write<QString>([&](SqliteConnection &writerConnection) {
            return trackingstore::createTrackedRun(writerConnection, run, allTags);
        });
        if (!created)
            return errorReply(created.error());
        QDir().mkpath(server.m_workspace.runDir(*created) + QStringLiteral("/artifacts"));
        return runReply(*created, "run");
    }

    Reply runReply(const QString &runId, const char *field, bool infoOnly = false)
    {
        auto connection = server.reader();
        if (!connection)
            return errorReply(connection.error());
        auto run = trackingstore::findTrackedRun(**connection, runId);
        if (!run)
            return errorReply(run.error());
        if (!run->has_value())
            return errorReply(QLatin1String(mlflowcode::kResourceDoesNotExist),
                              QStringLiteral("Run '%1' not found").arg(runId));
        JsonWriter json;
        json.beginObject().key(field);
        if (infoOnly)
            mlflowjson::writeRunInfo(json, **run, runArtifactUri(runId));
        else
            mlflowjson::writeRun(json, **run, runArtifactUri(runId));
        json.endObject();
        return okReply(json);
    }

    Reply getRun(simdjson::dom::object request)
    {
        if (auto committed = commitBeforeRead(); !committed)
            return errorReply(committed.error());
        auto runId = runIdOf(request);
        if (!runId)
            return errorReply(runId.error());
        return runReply(*runId, "run");
    }

    Reply updateRun(simdjson::dom::object request)
    {
        if (auto committed = commitBeforeRead(); !committed)
            return errorReply(committed.error());
        auto runId = runIdOf(request);
        auto status = optionalString(request, "status");
        auto endTime = optionalInt64(request, "end_time");
        auto runName = optionalString(request, "run_name");
        if (!runId || !status || !endTime || !runName)
            return errorReply(!runId         ? runId.error()
                                  : !status  ? status.error()
                                  : !endTime ? endTime.error()
                                             : runName.error());
        std::optional<RunStatus> newStatus;
        if (status->has_value()) {
            newStatus = statusFromMlflow(**status);
            if (!newStatus)
                return errorReply(
                    invalidParameter(
                        QStringLiteral("Invalid value '%1' for parameter 'status' supplied: expected one of "
                                       "RUNNING, SCHEDULED, FINISHED, FAILED, KILLED")
                            .arg(**status))
                        .message);
        }
        const std::int64_t atMs = endTime->value_or(QDateTime::currentMSecsSinceEpoch());
        const QString name = runName->value_or(QString());
        auto updated = write<void>([&](SqliteConnection &connection) -> Result<void> {
            auto backend = trackingstore::requireRun(connection, *runId);
            if (!backend)
                return fail(backend.error());
            if (!name.isEmpty()) {
                if (auto renamed =
                        trackingstore::setTags(connection, *runId, {{QStringLiteral("mlflow.runName"), name}});
                    !renamed)
                    return renamed;
            }
            // A launched run's status is its supervisor's; only a run the API created takes it from the client.
            if (!newStatus || *backend != QLatin1String(kMlflowBackend))
                return {};
            return trackingstore::changeRunStatus(connection, *runId, *newStatus, atMs);
        });
        if (!updated)
            return errorReply(updated.error());
        return runReply(*runId, "run_info", true);
    }

    // A run the API may log to: checked once on the reader's connection, then remembered. Only an ended run can be
    // deleted (trainyard rm); points a client still logs to it after that are dropped when the journal commits them.
    QSet<QString> knownRuns;
    Result<void> requireKnownRun(const QString &runId)
    {
        if (knownRuns.contains(runId))
            return {};
        auto connection = server.reader();
        if (!connection)
            return fail(connection.error());
        if (auto exists = trackingstore::requireRun(**connection, runId); !exists)
            return fail(exists.error());
        knownRuns.insert(runId);
        return {};
    }

    // Reads see every point answered before them: what is journaled is committed first.
    Result<void> commitBeforeRead() { return server.commitJournaled(); }

    // A write to one existing run, answered with {}.
    Reply writeToRun(const QString &runId, std::function<Result<void>(SqliteConnection &)> operation)
    {
        auto written = write<void>([&](SqliteConnection &connection) -> Result<void> {
            if (auto backend = trackingstore::requireRun(connection, runId); !backend)
                return fail(backend.error());
            return operation(connection);
        });
        return written ? emptyReply() : errorReply(written.error());
    }

    Reply logMetric(simdjson::dom::object request)
    {
        auto runId = runIdOf(request);
        if (!runId)
            return errorReply(runId.error());
        auto metric = metricFrom(request, QDateTime::currentMSecsSinceEpoch());
        if (!metric)
            return errorReply(metric.error());
        if (auto exists = requireKnownRun(*runId); !exists)
            return errorReply(exists.error());
        if (auto journaled = server.journal(*runId, {std::move(metric).value()}); !journaled)
            return errorReply(journaled.error());
        return emptyReply();
    }

    Reply logParameter(simdjson::dom::object request)
    {
        auto runId = runIdOf(request);
        if (!runId)
            return errorReply(runId.error());
        auto param = keyValueFrom(request, "param", kMaxParamValueLength);
        if (!param)
            return errorReply(param.error());
        return writeToRun(*runId, [&](SqliteConnection &connection) {
            return trackingstore::logParams(connection, *runId, {*param});
        });
    }

    Reply setTag(simdjson::dom::object request)
    {
        auto runId = runIdOf(request);
        if (!runId)
            return errorReply(runId.error());
        auto tag = keyValueFrom(request, "tag", kMaxTagValueLength);
        if (!tag)
            return errorReply(tag.error());
        return writeToRun(
            *runId, [&](SqliteConnection &connection) { return trackingstore::setTags(connection, *runId, {*tag}); });
    }

    Reply deleteTag(simdjson::dom::object request)
    {
        auto runId = runIdOf(request);
        auto key = requiredString(request, "key");
        if (!runId || !key)
            return errorReply(!runId ? runId.error() : key.error());
        return writeToRun(
            *runId, [&](SqliteConnection &connection) { return trackingstore::deleteTag(connection, *runId, *key); });
    }

    Reply logBatch(simdjson::dom::object request, qsizetype requestBytes)
    {
        if (requestBytes > kMaxBatchRequestBytes)
            return errorReply(
                invalidParameter(
                    QStringLiteral("Batched logging API requests must be at most %1 bytes, got a request of "
                                   "%2 bytes")
                        .arg(kMaxBatchRequestBytes)
                        .arg(requestBytes))
                    .message);
        auto runId = runIdOf(request);
        if (!runId)
            return errorReply(runId.error());
        auto metricItems = optionalArray(request, "metrics");
        auto params = keyValues(request, "params", "param", kMaxParamValueLength);
        auto tags = keyValues(request, "tags", "tag", kMaxTagValueLength);
        if (!metricItems || !params || !tags)
            return errorReply(!metricItems ? metricItems.error() : !params ? params.error() : tags.error());
        const auto tooMany = [](qsizetype count, int limit, const char *what) {
            return errorReply(
                invalidParameter(QStringLiteral("A batch logging request can contain at most %1 %2. Got %3 %2. Please "
                                                "split up %2 across multiple requests and try again.")
                                     .arg(limit)
                                     .arg(QLatin1String(what))
                                     .arg(count))
                    .message);
        };
        if (qsizetype(metricItems->size()) > kMaxBatchMetrics)
            return tooMany(qsizetype(metricItems->size()), kMaxBatchMetrics, "metrics");
        if (params->size() > kMaxBatchParams)
            return tooMany(params->size(), kMaxBatchParams, "params");
        if (tags->size() > kMaxBatchTags)
            return tooMany(tags->size(), kMaxBatchTags, "tags");
        const qsizetype entities = qsizetype(metricItems->size()) + params->size() + tags->size();
        if (entities > kMaxBatchEntities)
            return tooMany(entities, kMaxBatchEntities, "metrics, params, and tags in total");
        std::vector<TrackedMetric> metrics;
        metrics.reserve(metricItems->size());
        const std::int64_t now = QDateTime::currentMSecsSinceEpoch();
        for (simdjson::dom::element item : *metricItems) {
            simdjson::dom::object entry;
            if (item.get_object().get(entry))
                return errorReply(
                    invalidParameter(
                        QStringLiteral("Invalid value for parameter 'metrics' supplied: expected a list of objects"))
                        .message);
            auto metric = metricFrom(entry, now);
            if (!metric)
                return errorReply(metric.error());
            metrics.push_back(std::move(metric).value());
        }
        // Params and tags first, committed: a changed param refuses the whole batch before any of its points is kept.
        if (!params->isEmpty() || !tags->isEmpty()) {
            Reply reply = writeToRun(*runId, [&](SqliteConnection &connection) -> Result<void> {
                if (auto logged = trackingstore::logParams(connection, *runId, *params); !logged)
                    return logged;
                return trackingstore::setTags(connection, *runId, *tags);
            });
            if (reply.status != 200)
                return reply;
        } else if (auto exists = requireKnownRun(*runId); !exists) {
            return errorReply(exists.error());
        }
        if (!metrics.empty()) {
            if (auto journaled = server.journal(*runId, std::move(metrics)); !journaled)
                return errorReply(journaled.error());
        }
        return emptyReply();
    }

    Result<QList<TrackedRun>> searchableRuns(simdjson::dom::object request, QList<MlflowOrder> &order,
                                             MlflowFilter &filter)
    {
        auto experimentIds = stringList(request, "experiment_ids");
        auto filterText = optionalString(request, "filter");
        auto orderBy = stringList(request, "order_by");
        if (!experimentIds || !filterText || !orderBy)
            return fail(!experimentIds ? experimentIds.error() : !filterText ? filterText.error() : orderBy.error());
        auto parsedFilter = MlflowFilter::parse(filterText->value_or(QString()));
        if (!parsedFilter)
            return fail(parsedFilter.error());
        filter = *parsedFilter;
        auto parsedOrder = parseMlflowOrderBy(*orderBy);
        if (!parsedOrder)
            return fail(parsedOrder.error());
        order = *parsedOrder;
        std::vector<std::int64_t> ids;
        for (const QString &id : *experimentIds) {
            bool ok = false;
            const qlonglong number = id.toLongLong(&ok);
            if (!ok)
                return invalidParameter(QStringLiteral("Invalid experiment id '%1' in 'experiment_ids'").arg(id));
            ids.push_back(number);
        }
        auto connection = server.reader();
        if (!connection)
            return fail(connection.error());
        return trackingstore::runsOfExperiments(**connection, ids);
    }

    Reply searchRuns(simdjson::dom::object request)
    {
        if (auto committed = commitBeforeRead(); !committed)
            return errorReply(committed.error());
        auto maxResults = optionalInt64(request, "max_results");
        auto pageToken = optionalString(request, "page_token");
        if (!maxResults || !pageToken)
            return errorReply(!maxResults ? maxResults.error() : pageToken.error());
        const std::int64_t limit = maxResults->value_or(kDefaultMaxResults);
        if (limit < 1 || limit > kMaxSearchResults)
            return errorReply(
                invalidParameter(QStringLiteral("Invalid value %1 for parameter 'max_results' supplied: it must be "
                                                "between 1 and %2")
                                     .arg(limit)
                                     .arg(kMaxSearchResults))
                    .message);
        auto offset = offsetOf(*pageToken);
        if (!offset)
            return errorReply(offset.error());
        QList<MlflowOrder> order;
        MlflowFilter filter;
        auto runs = searchableRuns(request, order, filter);
        if (!runs)
            return errorReply(runs.error());
        QList<TrackedRun> matching;
        for (const TrackedRun &run : *runs)
            if (filter.matches(run, runArtifactUri(run.id)))
                matching.append(run);
        sortTrackedRuns(matching, order);
        JsonWriter json;
        json.beginObject().key("runs").beginArray();
        const qsizetype end = std::min<qsizetype>(matching.size(), *offset + limit);
        for (qsizetype i = *offset; i < end; ++i)
            mlflowjson::writeRun(json, matching[i], runArtifactUri(matching[i].id));
        json.endArray();
        if (end < matching.size())
            json.key("next_page_token").string(QString::number(end));
        json.endObject();
        return okReply(json);
    }

    Reply getMetricHistory(simdjson::dom::object request)
    {
        if (auto committed = commitBeforeRead(); !committed)
            return errorReply(committed.error());
        auto runId = runIdOf(request);
        auto key = requiredString(request, "metric_key");
        auto maxResults = optionalInt64(request, "max_results");
        auto pageToken = optionalString(request, "page_token");
        if (!runId || !key || !maxResults || !pageToken)
            return errorReply(!runId            ? runId.error()
                                  : !key        ? key.error()
                                  : !maxResults ? maxResults.error()
                                                : pageToken.error());
        auto offset = offsetOf(*pageToken);
        if (!offset)
            return errorReply(offset.error());
        auto connection = server.reader();
        if (!connection)
            return errorReply(connection.error());
        if (auto exists = trackingstore::requireRun(**connection, *runId); !exists)
            return errorReply(exists.error());
        auto points = metricqueries::series(**connection, *runId, *key);
        if (!points)
            return errorReply(points.error());
        const qsizetype limit = maxResults->has_value() && **maxResults > 0 ? qsizetype(**maxResults) : points->size();
        const qsizetype end = std::min<qsizetype>(points->size(), *offset + limit);
        JsonWriter json;
        json.reserve((end - *offset) * (64 + key->size()));
        json.beginObject().key("metrics").beginArray();
        for (qsizetype i = *offset; i < end; ++i) {
            const MetricPoint &point = points->at(i);
            mlflowjson::writeMetric(json, *key, point.value, point.tsMs.value_or(0), point.step);
        }
        json.endArray();
        if (end < points->size())
            json.key("next_page_token").string(QString::number(end));
        json.endObject();
        return okReply(json);
    }

    Reply getMetricHistoryBulkInterval(simdjson::dom::object request)
    {
        if (auto committed = commitBeforeRead(); !committed)
            return errorReply(committed.error());
        auto runIds = stringList(request, "run_ids");
        auto key = requiredString(request, "metric_key");
        auto startStep = optionalInt64(request, "start_step");
        auto endStep = optionalInt64(request, "end_step");
        auto maxResults = optionalInt64(request, "max_results");
        if (!runIds || !key || !startStep || !endStep || !maxResults)
            return errorReply(!runIds          ? runIds.error()
                                  : !key       ? key.error()
                                  : !startStep ? startStep.error()
                                  : !endStep   ? endStep.error()
                                               : maxResults.error());
        if (runIds->isEmpty())
            return errorReply(missingParameter("run_ids").message);
        if (runIds->size() > kMaxBulkRuns)
            return errorReply(
                invalidParameter(QStringLiteral("GetMetricHistoryBulkInterval request must specify at most %1 run_ids. "
                                                "Received %2 run_ids.")
                                     .arg(kMaxBulkRuns)
                                     .arg(runIds->size()))
                    .message);
        if (startStep->has_value() != endStep->has_value())
            return errorReply(
                invalidParameter(
                    QStringLiteral("If either start step or end step are specified, both must be specified."))
                    .message);
        if (startStep->has_value() && **startStep > **endStep)
            return errorReply(
                invalidParameter(
                    QStringLiteral("end_step must be greater than start_step. Found start_step=%1 and end_step=%2.")
                        .arg(**startStep)
                        .arg(**endStep))
                    .message);
        const std::int64_t limit = maxResults->value_or(kDefaultBulkMaxResults);
        if (limit < 1 || limit > kMaxBulkMaxResults)
            return errorReply(
                invalidParameter(QStringLiteral("max_results must be between 1 and %1.").arg(kMaxBulkMaxResults))
                    .message);
        auto connection = server.reader();
        if (!connection)
            return errorReply(connection.error());
        JsonWriter json;
        json.beginObject().key("metrics").beginArray();
        for (const QString &runId : *runIds) {
            if (auto exists = trackingstore::requireRun(**connection, runId); !exists)
                return errorReply(exists.error());
            auto points = metricqueries::series(**connection, runId, *key);
            if (!points)
                return errorReply(points.error());
            std::vector<std::int64_t> steps;
            for (const MetricPoint &point : *points)
                if (!startStep->has_value() || (point.step >= **startStep && point.step <= **endStep))
                    steps.push_back(point.step);
            steps.erase(std::unique(steps.begin(), steps.end()), steps.end()); // points come in step order
            const std::set<std::int64_t> kept = sampledSteps(steps, int(limit));
            for (const MetricPoint &point : *points) {
                if (!kept.count(point.step))
                    continue;
                json.beginObject()
                    .key("key")
                    .string(*key)
                    .key("value")
                    .number(point.value)
                    .key("timestamp")
                    .integer(point.tsMs.value_or(0))
                    .key("step")
                    .integer(point.step)
                    .key("run_id")
                    .string(runId)
                    .endObject();
            }
        }
        json.endArray().endObject();
        return okReply(json);
    }
};

TrackingServer::TrackingServer(Workspace workspace, StoreWriter &writer, QByteArray token, QObject *parent)
    : QAbstractHttpServer(parent), m_workspace(std::move(workspace)), m_writer(writer), m_token(std::move(token)),
      m_commitTimer(new QTimer(this)), m_endpoints(std::make_unique<Endpoints>(*this))
{
    m_commitTimer->setSingleShot(true);
    connect(m_commitTimer, &QTimer::timeout, this, [this] {
        submitPending();
        (void)collectCommits(false);
    });
    if (auto journal = MetricJournal::create(m_workspace.root()); journal)
        m_journal = std::move(journal).value();
    else
        qCWarning(lcTracking, "no metric journal, every request commits before it is answered: %s",
                  qPrintable(journal.error()));
}

// One batch of journaled points on its way into the store.
struct TrackingServer::CommitInFlight {
    std::future<Result<void>> committed;
    std::int64_t points = 0;
    QString journal;
    qint64 offset = 0;
};

TrackingServer::~TrackingServer()
{
    if (auto committed = commitJournaled(); !committed)
        qCWarning(lcTracking, "points stay in the tracking journal for the next server: %s",
                  qPrintable(committed.error()));
}

Result<void> TrackingServer::journal(const QString &runId, std::vector<TrackedMetric> metrics)
{
    if (m_metricObserver)
        for (const TrackedMetric &metric : metrics)
            m_metricObserver(runId, metric.key, metric.step, metric.value);
    if (!m_journal) {
        // No journal (its folder could not be written): commit now, as the request waits.
        const std::int64_t count = std::int64_t(metrics.size());
        auto written = m_writer
                           .submit<void>([runId, metrics = std::move(metrics)](SqliteConnection &connection) {
                               return trackingstore::logMetrics(connection, runId, metrics);
                           })
                           .get();
        if (written)
            m_pointsStored += count;
        return written;
    }
    auto offset = m_journal->append(runId, metrics);
    if (!offset)
        return fail(offset.error());
    m_pendingOffset = *offset;
    m_pendingPoints += std::int64_t(metrics.size());
    std::vector<TrackedMetric> &pending = m_pending[runId];
    if (pending.empty())
        pending = std::move(metrics);
    else
        pending.insert(pending.end(), std::make_move_iterator(metrics.begin()), std::make_move_iterator(metrics.end()));
    if (m_pendingPoints >= kCommitBatchPoints)
        submitPending();
    else if (!m_commitTimer->isActive())
        m_commitTimer->start(kCommitDelayMs);
    (void)collectCommits(false); // account for the batches already committed
    return {};
}

void TrackingServer::submitPending()
{
    m_commitTimer->stop();
    if (m_pending.isEmpty())
        return;
    auto batch = std::make_unique<CommitInFlight>();
    batch->points = m_pendingPoints;
    batch->journal = m_journal->name();
    batch->offset = m_pendingOffset;
    batch->committed = m_writer.submit<void>([pending = std::move(m_pending), journal = batch->journal,
                                              offset = batch->offset](SqliteConnection &connection) -> Result<void> {
        for (auto it = pending.constBegin(); it != pending.constEnd(); ++it)
            if (auto logged = trackingstore::logMetrics(connection, it.key(), it.value()); !logged)
                return logged;
        return trackingstore::saveJournalOffset(connection, journal, offset);
    });
    m_pending.clear();
    m_pendingPoints = 0;
    m_inFlight.push_back(std::move(batch));
}

Result<void> TrackingServer::collectCommits(bool wait)
{
    Result<void> outcome;
    while (!m_inFlight.empty()) {
        CommitInFlight &batch = *m_inFlight.front();
        if (!wait && batch.committed.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
            break;
        if (auto committed = batch.committed.get(); !committed) {
            // The points stay in the journal: the next server of the workspace commits them (recoverAbandoned).
            qCWarning(lcTracking, "cannot commit %lld journaled points: %s", (long long)batch.points,
                      qPrintable(committed.error()));
            if (outcome)
                outcome = fail(committed.error());
        } else {
            m_pointsStored += batch.points;
            if (m_inFlight.size() == 1 && m_pending.isEmpty())
                m_journal->removeIfCommitted(batch.journal, batch.offset);
        }
        m_inFlight.pop_front();
    }
    return outcome;
}

Result<void> TrackingServer::commitJournaled()
{
    if (!m_journal)
        return {};
    submitPending();
    return collectCommits(true);
}

Result<SqliteConnection *> TrackingServer::reader()
{
    if (!m_reader) {
        auto connection = m_workspace.database().connect();
        if (!connection)
            return fail(connection.error());
        m_reader = std::make_unique<SqliteConnection>(std::move(connection).value());
    }
    return m_reader.get();
}

TrackingServer::Reply TrackingServer::call(const QString &endpoint, const QByteArray &arguments)
{
    simdjson::padded_string padded(arguments.constData(), std::size_t(arguments.size()));
    simdjson::dom::element root;
    if (const auto error = m_endpoints->parser.parse(padded).get(root))
        return errorReply(QStringLiteral("MALFORMED_REQUEST"),
                          QStringLiteral("The request body is not valid JSON: %1")
                              .arg(QLatin1String(simdjson::error_message(error))));
    simdjson::dom::object request;
    if (root.get_object().get(request))
        return errorReply(QStringLiteral("MALFORMED_REQUEST"),
                          QStringLiteral("The request body must be a JSON object"));
    Endpoints &e = *m_endpoints;
    if (endpoint == QLatin1String("runs/log-batch"))
        return e.logBatch(request, arguments.size());
    if (endpoint == QLatin1String("runs/log-metric"))
        return e.logMetric(request);
    if (endpoint == QLatin1String("runs/log-parameter"))
        return e.logParameter(request);
    if (endpoint == QLatin1String("runs/set-tag"))
        return e.setTag(request);
    if (endpoint == QLatin1String("runs/delete-tag"))
        return e.deleteTag(request);
    if (endpoint == QLatin1String("runs/create"))
        return e.createRun(request);
    if (endpoint == QLatin1String("runs/update"))
        return e.updateRun(request);
    if (endpoint == QLatin1String("runs/get"))
        return e.getRun(request);
    if (endpoint == QLatin1String("runs/search"))
        return e.searchRuns(request);
    if (endpoint == QLatin1String("metrics/get-history"))
        return e.getMetricHistory(request);
    if (endpoint == QLatin1String("metrics/get-history-bulk-interval"))
        return e.getMetricHistoryBulkInterval(request);
    if (endpoint == QLatin1String("experiments/get-by-name"))
        return e.getExperimentByName(request);
    if (endpoint == QLatin1String("experiments/get"))
        return e.getExperiment(request);
    if (endpoint == QLatin1String("experiments/create"))
        return e.createExperiment(request);
    if (endpoint == QLatin1String("experiments/search"))
        return e.searchExperiments(request);
    return errorReply(QStringLiteral("ENDPOINT_NOT_FOUND"),
                      QStringLiteral("No API endpoint %1 in Trainyard's MLflow API").arg(endpoint));
}

bool TrackingServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    // Headers and body may leave in two writes: without this, a keep-alive client waits ~40 ms on each reply.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    QHttpServerResponder responder = makeResponder(request, socket);
    const auto respond = [&](const Reply &reply) {
        qCDebug(lcTracking, "%s %s -> %d", request.method() == QHttpServerRequest::Method::Get ? "GET" : "POST",
                qPrintable(request.url().path()), reply.status);
        responder.write(reply.body, QByteArrayLiteral("application/json"),
                        QHttpServerResponder::StatusCode(reply.status));
    };
    QByteArray authorization;
    for (const auto &[name, value] : request.headers())
        if (name.compare("authorization", Qt::CaseInsensitive) == 0)
            authorization = value;
    const QByteArray expected = QByteArrayLiteral("Bearer ") + m_token;
    // Compared in constant time: the token is the only guard of the workspace.
    bool authorized = authorization.size() == expected.size();
    unsigned char difference = 0;
    for (qsizetype i = 0; authorized && i < expected.size(); ++i)
        difference |= static_cast<unsigned char>(authorization[i] ^ expected[i]);
    if (!authorized || difference != 0) {
        respond(errorReply(
            QStringLiteral("UNAUTHENTICATED"),
            QStringLiteral(
                "Missing or wrong bearer token: set MLFLOW_TRACKING_TOKEN to the token `trainyard serve` printed")));
        return true;
    }
    const QString path = request.url().path();
    QString endpoint;
    for (const char *prefix : {kApiPrefix, kAjaxApiPrefix})
        if (path.startsWith(QLatin1String(prefix)))
            endpoint = path.mid(qsizetype(std::strlen(prefix)));
    if (endpoint.isEmpty()) {
        respond(errorReply(QStringLiteral("ENDPOINT_NOT_FOUND"), QStringLiteral("No API endpoint at %1").arg(path)));
        return true;
    }
    if (request.method() == QHttpServerRequest::Method::Get)
        respond(call(endpoint, queryToJson(request.query().queryItems(QUrl::FullyDecoded))));
    else
        respond(call(endpoint, request.body().isEmpty() ? QByteArrayLiteral("{}") : request.body()));
    return true;
}

void TrackingServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    makeResponder(request, socket)
        .write(errorReply(QStringLiteral("ENDPOINT_NOT_FOUND"), QStringLiteral("No API endpoint")).body,
               QByteArrayLiteral("application/json"), QHttpServerResponder::StatusCode::NotFound);
}

} // namespace trainyard
