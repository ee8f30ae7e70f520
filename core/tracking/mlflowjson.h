// MLflow's JSON shapes for replies (experiments, runs, metrics), written straight into a byte buffer: a 100,000-point
// metric history is several megabytes, and a QJsonDocument of it costs more than reading it from the store.
#pragma once

#include "jsonwriter.h"
#include "store/trackingstore.h"

#include <QByteArray>
#include <QString>

#include <cstdint>

namespace trainyard::mlflowjson {

using JsonWriter = trainyard::JsonWriter;

// MLflow's status name for a Trainyard run status (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED).
const char *mlflowStatus(RunStatus status);

void writeExperiment(JsonWriter &json, const TrackingExperiment &experiment, const QString &defaultArtifactLocation);
void writeRunInfo(JsonWriter &json, const TrackedRun &run, const QString &artifactUri);
void writeRun(JsonWriter &json, const TrackedRun &run, const QString &artifactUri);
void writeMetric(JsonWriter &json, const QString &key, double value, std::int64_t tsMs, std::int64_t step);

} // namespace trainyard::mlflowjson
