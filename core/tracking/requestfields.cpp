// Readers of a tracking API request's fields.
#include "tracking/requestfields.h"

#include "tracking/mlflowjson.h"
#include "tracking/trackingserver.h"

#include <cmath>
#include <limits>

namespace trainyard::mlflowrequest {

namespace {
QString textOf(std::string_view view) { return QString::fromUtf8(view.data(), qsizetype(view.size())); }
} // namespace

Error invalidParameter(const QString &message) { return failWithCode(mlflowcode::kInvalidParameterValue, message); }

Error missingParameter(const char *name)
{
    return invalidParameter(QStringLiteral("Missing value for required parameter '%1'.").arg(QLatin1String(name)));
}

// Readers of one field of a request object, each accepting what MLflow's clients send.
Result<std::optional<QString>> optionalString(simdjson::dom::object object, const char *name)
{
    simdjson::dom::element element;
    if (object.at_key(name).get(element))
        return std::optional<QString>();
    if (element.is_null())
        return std::optional<QString>();
    std::string_view text;
    if (!element.get_string().get(text))
        return std::optional<QString>(textOf(text));
    // Numbers where a string is expected (experiment_id: 1) are taken as their text, as the client does.
    std::int64_t integer = 0;
    if (!element.get_int64().get(integer))
        return std::optional<QString>(QString::number(integer));
    return invalidParameter(QStringLiteral("Invalid value %1 for parameter '%2' supplied: expected a string")
                                .arg(QString::fromStdString(simdjson::minify(element)), QLatin1String(name)));
}

Result<QString> requiredString(simdjson::dom::object object, const char *name)
{
    auto value = optionalString(object, name);
    if (!value)
        return fail(value.error());
    if (!value->has_value() || (*value)->isEmpty())
        return missingParameter(name);
    return **value;
}

// int64 fields arrive as JSON numbers (MLflow's client) or as strings (protobuf's JSON form).
Result<std::optional<std::int64_t>> optionalInt64(simdjson::dom::object object, const char *name)
{
    simdjson::dom::element element;
    if (object.at_key(name).get(element) || element.is_null())
        return std::optional<std::int64_t>();
    std::int64_t integer = 0;
    if (!element.get_int64().get(integer))
        return std::optional<std::int64_t>(integer);
    std::uint64_t unsignedInteger = 0;
    if (!element.get_uint64().get(unsignedInteger)
        && unsignedInteger <= std::uint64_t(std::numeric_limits<std::int64_t>::max()))
        return std::optional<std::int64_t>(std::int64_t(unsignedInteger));
    double real = 0;
    if (!element.get_double().get(real) && std::trunc(real) == real && std::abs(real) < 9.2e18)
        return std::optional<std::int64_t>(std::int64_t(real));
    std::string_view text;
    if (!element.get_string().get(text)) {
        bool ok = false;
        const qint64 parsed = textOf(text).toLongLong(&ok);
        if (ok)
            return std::optional<std::int64_t>(parsed);
    }
    return invalidParameter(QStringLiteral("Invalid value %1 for parameter '%2' supplied: expected an integer")
                                .arg(QString::fromStdString(simdjson::minify(element)), QLatin1String(name)));
}

// Doubles arrive as numbers, or as "NaN", "Infinity", "-Infinity" (and numbers in strings from protobuf clients).
Result<std::optional<double>> optionalDouble(simdjson::dom::object object, const char *name)
{
    simdjson::dom::element element;
    if (object.at_key(name).get(element) || element.is_null())
        return std::optional<double>();
    double real = 0;
    if (!element.get_double().get(real))
        return std::optional<double>(real);
    std::int64_t integer = 0;
    if (!element.get_int64().get(integer))
        return std::optional<double>(double(integer));
    std::uint64_t unsignedInteger = 0;
    if (!element.get_uint64().get(unsignedInteger))
        return std::optional<double>(double(unsignedInteger));
    std::string_view text;
    if (!element.get_string().get(text)) {
        if (text == "NaN" || text == "nan")
            return std::optional<double>(std::numeric_limits<double>::quiet_NaN());
        if (text == "Infinity" || text == "inf")
            return std::optional<double>(std::numeric_limits<double>::infinity());
        if (text == "-Infinity" || text == "-inf")
            return std::optional<double>(-std::numeric_limits<double>::infinity());
        bool ok = false;
        const double parsed = textOf(text).toDouble(&ok);
        if (ok)
            return std::optional<double>(parsed);
    }
    return invalidParameter(QStringLiteral("Invalid value %1 for parameter '%2' supplied: expected a number")
                                .arg(QString::fromStdString(simdjson::minify(element)), QLatin1String(name)));
}

// An array field (absent: empty). A single value where a list is expected (one run_ids=... in a query) is a list of one.
Result<std::vector<simdjson::dom::element>> optionalArray(simdjson::dom::object object, const char *name)
{
    simdjson::dom::element element;
    std::vector<simdjson::dom::element> items;
    if (object.at_key(name).get(element) || element.is_null())
        return items;
    simdjson::dom::array array;
    if (element.get_array().get(array)) {
        items.push_back(element);
        return items;
    }
    for (simdjson::dom::element item : array)
        items.push_back(item);
    return items;
}

Result<QStringList> stringList(simdjson::dom::object object, const char *name)
{
    auto items = optionalArray(object, name);
    if (!items)
        return fail(items.error());
    QStringList strings;
    for (simdjson::dom::element item : *items) {
        std::string_view text;
        std::int64_t integer = 0;
        if (!item.get_string().get(text))
            strings.append(textOf(text));
        else if (!item.get_int64().get(integer))
            strings.append(QString::number(integer));
        else
            return invalidParameter(
                QStringLiteral("Invalid value for parameter '%1' supplied: expected a list of strings")
                    .arg(QLatin1String(name)));
    }
    return strings;
}

Result<void> checkKey(const QString &key, const char *what)
{
    if (key.isEmpty())
        return invalidParameter(
            QStringLiteral("Missing value for required parameter 'key' of a %1.").arg(QLatin1String(what)));
    if (key.size() > kMaxKeyLength)
        return invalidParameter(QStringLiteral("%1 key '%2' had length %3, which exceeded length limit of %4")
                                    .arg(QLatin1String(what), key.left(40) + QStringLiteral("..."))
                                    .arg(key.size())
                                    .arg(kMaxKeyLength));
    if (key.startsWith(QLatin1Char('/')) || key.split(QLatin1Char('/')).contains(QStringLiteral("..")))
        return invalidParameter(
            QStringLiteral("Invalid %1 name: '%2'. Names may be treated as files in certain cases, and "
                           "must not resolve to other names when treated as such.")
                .arg(QLatin1String(what), key));
    return {};
}

Result<KeyValue> keyValueFrom(simdjson::dom::object object, const char *what, int maxValueLength)
{
    auto key = requiredString(object, "key");
    if (!key)
        return fail(key.error());
    if (auto checked = checkKey(*key, what); !checked)
        return fail(checked.error());
    auto value = optionalString(object, "value");
    if (!value)
        return fail(value.error());
    if (!value->has_value() && QLatin1String(what) == QLatin1String("param"))
        return missingParameter("value");
    const QString text = value->value_or(QString());
    if (text.size() > maxValueLength)
        return invalidParameter(QStringLiteral("%1 value '%2' had length %3, which exceeded length limit of %4")
                                    .arg(QLatin1String(what), text.left(40) + QStringLiteral("..."))
                                    .arg(text.size())
                                    .arg(maxValueLength));
    return KeyValue{*key, text};
}

Result<QList<KeyValue>> keyValues(simdjson::dom::object object, const char *name, const char *what, int maxValueLength)
{
    auto items = optionalArray(object, name);
    if (!items)
        return fail(items.error());
    QList<KeyValue> pairs;
    for (simdjson::dom::element item : *items) {
        simdjson::dom::object entry;
        if (item.get_object().get(entry))
            return invalidParameter(
                QStringLiteral("Invalid value for parameter '%1' supplied: expected a list of objects")
                    .arg(QLatin1String(name)));
        auto pair = keyValueFrom(entry, what, maxValueLength);
        if (!pair)
            return fail(pair.error());
        pairs.append(*pair);
    }
    return pairs;
}

Result<TrackedMetric> metricFrom(simdjson::dom::object object, std::int64_t nowMs)
{
    auto key = requiredString(object, "key");
    if (!key)
        return fail(key.error());
    if (auto checked = checkKey(*key, "metric"); !checked)
        return fail(checked.error());
    auto value = optionalDouble(object, "value");
    if (!value)
        return fail(value.error());
    if (!value->has_value())
        return missingParameter("value");
    auto timestamp = optionalInt64(object, "timestamp");
    if (!timestamp)
        return fail(timestamp.error());
    auto step = optionalInt64(object, "step");
    if (!step)
        return fail(step.error());
    return TrackedMetric{*key, **value, timestamp->value_or(nowMs), step->value_or(0)};
}

// The run a single-run call names: run_id, or the older run_uuid.
Result<QString> runIdOf(simdjson::dom::object object)
{
    auto runId = optionalString(object, "run_id");
    if (!runId)
        return fail(runId.error());
    if (runId->has_value() && !(*runId)->isEmpty())
        return **runId;
    auto runUuid = optionalString(object, "run_uuid");
    if (!runUuid)
        return fail(runUuid.error());
    if (runUuid->has_value() && !(*runUuid)->isEmpty())
        return **runUuid;
    return missingParameter("run_id");
}

} // namespace trainyard::mlflowrequest

namespace trainyard {

QByteArray queryToJson(const QList<QPair<QString, QString>> &items)
{
    QMap<QString, QStringList> values;
    QStringList order;
    for (const auto &[name, value] : items) {
        if (!values.contains(name))
            order.append(name);
        values[name].append(value);
    }
    mlflowjson::JsonWriter json;
    json.beginObject();
    for (const QString &name : order) {
        const QByteArray key = name.toUtf8();
        json.key(key.constData());
        const QStringList &list = values[name];
        if (list.size() == 1) {
            json.string(list.first());
        } else {
            json.beginArray();
            for (const QString &value : list)
                json.string(value);
            json.endArray();
        }
    }
    json.endObject();
    return json.take();
}

// The endpoints, each a function of the request object; the parser is reused from call to call.
} // namespace trainyard
