// MLflow's JSON shapes for replies (experiments, runs, metrics), written straight into a byte buffer: a 100,000-point
// metric history is several megabytes, and a QJsonDocument of it costs more than reading it from the store.
#pragma once

#include "store/trackingstore.h"

#include <QByteArray>
#include <QString>

#include <cstdint>

namespace trainyard::mlflowjson {

// A small streaming JSON writer: the caller opens and closes objects and arrays; commas are placed for it.
class JsonWriter {
public:
    JsonWriter &beginObject();
    JsonWriter &endObject();
    JsonWriter &beginArray();
    JsonWriter &endArray();
    JsonWriter &key(const char *name);
    JsonWriter &string(const QString &text);
    JsonWriter &string(const char *text);
    JsonWriter &integer(std::int64_t value);
    // MLflow's wire form of a double: a number, or the strings "NaN", "Infinity" and "-Infinity".
    JsonWriter &number(double value);
    JsonWriter &boolean(bool value);
    QByteArray take() { return std::move(m_buffer); }
    void reserve(qsizetype bytes) { m_buffer.reserve(bytes); }

private:
    void separate();
    void escaped(const char *utf8, qsizetype length);
    QByteArray m_buffer;
    bool m_needComma = false;
};

// MLflow's status name for a Trainyard run status (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED).
const char *mlflowStatus(RunStatus status);

void writeExperiment(JsonWriter &json, const TrackingExperiment &experiment, const QString &defaultArtifactLocation);
void writeRunInfo(JsonWriter &json, const TrackedRun &run, const QString &artifactUri);
void writeRun(JsonWriter &json, const TrackedRun &run, const QString &artifactUri);
void writeMetric(JsonWriter &json, const QString &key, double value, std::int64_t tsMs, std::int64_t step);

} // namespace trainyard::mlflowjson
