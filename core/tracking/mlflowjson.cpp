// MLflow's reply shapes, written with a streaming writer.
#include "tracking/mlflowjson.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <cmath>

namespace trainyard::mlflowjson {

const char *mlflowStatus(RunStatus status)
{
    switch (status) {
    case RunStatus::Queued:
        return "SCHEDULED";
    case RunStatus::Starting:
    case RunStatus::Running:
    case RunStatus::Restarting:
        return "RUNNING";
    case RunStatus::Succeeded:
        return "FINISHED";
    case RunStatus::Failed:
    case RunStatus::Lost:
        return "FAILED";
    case RunStatus::Canceled:
    case RunStatus::StoppedEarly: // MLflow has no such status; the run's own status says which
        return "KILLED";
    }
    return "FAILED";
}

namespace {

void writePairs(JsonWriter &json, const QList<KeyValue> &pairs)
{
    json.beginArray();
    for (const KeyValue &pair : pairs)
        json.beginObject().key("key").string(pair.key).key("value").string(pair.value).endObject();
    json.endArray();
}

} // namespace

void writeExperiment(JsonWriter &json, const TrackingExperiment &experiment, const QString &defaultArtifactLocation)
{
    json.beginObject()
        .key("experiment_id")
        .string(QString::number(experiment.id))
        .key("name")
        .string(experiment.name)
        .key("artifact_location")
        .string(experiment.artifactLocation.isEmpty() ? defaultArtifactLocation : experiment.artifactLocation)
        .key("lifecycle_stage")
        .string(experiment.lifecycleStage)
        .key("creation_time")
        .integer(experiment.createdMs)
        .key("last_update_time")
        .integer(experiment.updatedMs)
        .key("tags");
    writePairs(json, experiment.tags);
    json.endObject();
}

void writeRunInfo(JsonWriter &json, const TrackedRun &run, const QString &artifactUri)
{
    json.beginObject()
        .key("run_id")
        .string(run.id)
        .key("run_uuid")
        .string(run.id)
        .key("run_name")
        .string(run.name)
        .key("experiment_id")
        .string(QString::number(run.experimentId))
        .key("user_id")
        .string(run.user)
        .key("status")
        .string(mlflowStatus(run.status))
        .key("start_time")
        .integer(run.startMs);
    if (run.endMs)
        json.key("end_time").integer(*run.endMs);
    json.key("artifact_uri").string(artifactUri).key("lifecycle_stage").string("active").endObject();
}

void writeMetric(JsonWriter &json, const QString &key, double value, std::int64_t tsMs, std::int64_t step)
{
    json.beginObject()
        .key("key")
        .string(key)
        .key("value")
        .number(value)
        .key("timestamp")
        .integer(tsMs)
        .key("step")
        .integer(step)
        .endObject();
}

void writeRun(JsonWriter &json, const TrackedRun &run, const QString &artifactUri)
{
    json.beginObject().key("info");
    writeRunInfo(json, run, artifactUri);
    json.key("data").beginObject().key("metrics").beginArray();
    for (const TrackedMetric &metric : run.metrics)
        writeMetric(json, metric.key, metric.value, metric.tsMs, metric.step);
    json.endArray().key("params");
    writePairs(json, run.params);
    json.key("tags");
    writePairs(json, run.tags);
    json.endObject().key("inputs").beginObject().endObject().endObject();
}

} // namespace trainyard::mlflowjson
