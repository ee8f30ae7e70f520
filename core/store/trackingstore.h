// The MLflow tracking API's reads and writes over a workspace: an experiment is a Trainyard project (runs.project
// holds its name), an MLflow run is a Trainyard run, its params are the run's params, its tags are key-value
// run_tags (plain ones also mirrored as the run's tags), its metrics go into the same chunks and pyramid.
#pragma once

#include "result.h"
#include "store/runrecord.h"

#include <QList>
#include <QString>

#include <cstdint>
#include <optional>
#include <span>

namespace trainyard {

class SqliteConnection;

// MLflow's error codes. A tracking call that fails for a reason the client must be told starts its message with
// one of them and ": " (errorCodeOf splits it off); any other message is an internal error.
namespace mlflowcode {
inline constexpr const char *kInvalidParameterValue = "INVALID_PARAMETER_VALUE";
inline constexpr const char *kResourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST";
inline constexpr const char *kResourceAlreadyExists = "RESOURCE_ALREADY_EXISTS";
} // namespace mlflowcode

Error failWithCode(const char *code, const QString &message);

struct KeyValue {
    QString key;
    QString value;
    bool operator==(const KeyValue &) const = default;
};

struct TrackingExperiment {
    std::int64_t id = 0;
    QString name;
    QString artifactLocation; // empty: the workspace's runs folder
    QString lifecycleStage = QStringLiteral("active");
    std::int64_t createdMs = 0;
    std::int64_t updatedMs = 0;
    QList<KeyValue> tags;
};

struct TrackedMetric {
    QString key;
    double value = 0;
    std::int64_t tsMs = 0;
    std::int64_t step = 0;
};

struct TrackedRun {
    QString id;
    QString name;
    RunStatus status = RunStatus::Running;
    QString backend;
    QString user;
    std::int64_t experimentId = 0;
    std::int64_t startMs = 0;
    std::optional<std::int64_t> endMs;
    QList<KeyValue> params;
    QList<KeyValue> tags;         // MLflow's key-value tags, system (mlflow.*) ones included
    QList<TrackedMetric> metrics; // the latest point of each key (highest step; of those, the last written)
};

// Where a run with this backend takes its status from the tracking API's runs/update (an MLflow run started by a
// script); a launched run's status belongs to its supervisor, so runs/update leaves it alone.
inline constexpr const char *kMlflowBackend = "mlflow";

namespace trackingstore {

// Reads, on a reader's connection.
Result<std::optional<TrackingExperiment>> experimentByName(SqliteConnection &connection, const QString &name);
Result<std::optional<TrackingExperiment>> experimentById(SqliteConnection &connection, std::int64_t id);
Result<QList<TrackingExperiment>> listExperiments(SqliteConnection &connection);
Result<std::optional<TrackedRun>> findTrackedRun(SqliteConnection &connection, const QString &runId);
// Every run of the given experiments, newest first.
Result<QList<TrackedRun>> runsOfExperiments(SqliteConnection &connection, std::span<const std::int64_t> experimentIds);
// The run imported from `source` (runs.source), if any.
Result<std::optional<QString>> runIdForSource(SqliteConnection &connection, const QString &source);

// Writes, on the writer's connection.
// The experiment of a project, created when it does not exist yet.
Result<std::int64_t> ensureExperiment(SqliteConnection &connection, const QString &name, std::int64_t nowMs);
Result<std::int64_t> createExperiment(SqliteConnection &connection, const QString &name,
                                      const QString &artifactLocation, const QList<KeyValue> &tags, std::int64_t nowMs);
// A run created through the API, with its MLflow tags; run.project names its experiment.
Result<QString> createTrackedRun(SqliteConnection &connection, const NewRun &run, const QList<KeyValue> &tags);
// The run's backend; RESOURCE_DOES_NOT_EXIST when there is no such run.
Result<QString> requireRun(SqliteConnection &connection, const QString &runId);
// Params are write-once: the same value again is accepted, another value is INVALID_PARAMETER_VALUE.
Result<void> logParams(SqliteConnection &connection, const QString &runId, const QList<KeyValue> &params);
// Params as an import finds them (TensorBoard's hparams, an MLflow store): the latest read wins.
Result<void> replaceParams(SqliteConnection &connection, const QString &runId, const QList<KeyValue> &params);
// Sets MLflow tags (mlflow.runName also renames the run); plain tags are mirrored as "key=value" run tags.
Result<void> setTags(SqliteConnection &connection, const QString &runId, const QList<KeyValue> &tags);
// Deletes a key-value tag (and its mirrored plain tag); RESOURCE_DOES_NOT_EXIST when the run has no such tag.
Result<void> deleteTag(SqliteConnection &connection, const QString &runId, const QString &key);
// Records a status the API gave, at atMs, unless the run has it already (a client sends RUNNING again on resume).
Result<void> changeRunStatus(SqliteConnection &connection, const QString &runId, RunStatus status, std::int64_t atMs);
// Points in the order given, grouped by key into chunks of at most 8192 points.
Result<void> logMetrics(SqliteConnection &connection, const QString &runId, std::span<const TrackedMetric> metrics);
Result<void> renameRun(SqliteConnection &connection, const QString &runId, const QString &name);

// How far a tracking server's metric journal is committed (0 when never), kept with the points it committed.
Result<std::int64_t> journalOffset(SqliteConnection &connection, const QString &journal);
Result<void> saveJournalOffset(SqliteConnection &connection, const QString &journal, std::int64_t offset);
Result<void> forgetJournal(SqliteConnection &connection, const QString &journal);

} // namespace trackingstore
} // namespace trainyard
