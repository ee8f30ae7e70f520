// The fields of a tracking API request, read with simdjson as MLflow's clients send them: int64 as numbers or strings,
// doubles as numbers or "NaN"/"Infinity"/"-Infinity", a single value where a list is expected; each error is
// INVALID_PARAMETER_VALUE naming the field.
#pragma once

#include "result.h"
#include "store/trackingstore.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace trainyard::mlflowrequest {

Error invalidParameter(const QString &message);
Error missingParameter(const char *name);

Result<std::optional<QString>> optionalString(simdjson::dom::object object, const char *name);
Result<QString> requiredString(simdjson::dom::object object, const char *name);
Result<std::optional<std::int64_t>> optionalInt64(simdjson::dom::object object, const char *name);
Result<std::optional<double>> optionalDouble(simdjson::dom::object object, const char *name);
Result<std::vector<simdjson::dom::element>> optionalArray(simdjson::dom::object object, const char *name);
Result<QStringList> stringList(simdjson::dom::object object, const char *name);
// Keys of metrics, params and tags: at most kMaxKeyLength characters, no leading '/' and no '..' part.
Result<void> checkKey(const QString &key, const char *what);
Result<KeyValue> keyValueFrom(simdjson::dom::object object, const char *what, int maxValueLength);
Result<QList<KeyValue>> keyValues(simdjson::dom::object object, const char *name, const char *what, int maxValueLength);
// A metric of log-metric or log-batch; a missing timestamp is now, a missing step 0.
Result<TrackedMetric> metricFrom(simdjson::dom::object object, std::int64_t nowMs);
// The run a single-run call names: run_id, or the older run_uuid.
Result<QString> runIdOf(simdjson::dom::object object);

} // namespace trainyard::mlflowrequest
