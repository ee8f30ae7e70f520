// JsonWriter: JSON written straight into a byte buffer, for output too large or too hot for a QJsonDocument (an
// MLflow metric history of 100,000 points, `trainyard ls --json` over 100,000 runs).
#pragma once

#include <QByteArray>
#include <QString>

#include <cstdint>

namespace trainyard {

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
    JsonWriter &null();
    // JSON text written as it is (the caller vouches that it is one whole JSON value).
    JsonWriter &raw(const QByteArray &json);
    QByteArray take() { return std::move(m_buffer); }
    const QByteArray &buffer() const { return m_buffer; }
    void clear()
    {
        m_buffer.clear();
        m_needComma = false;
    }
    void reserve(qsizetype bytes) { m_buffer.reserve(bytes); }

private:
    void separate();
    void escaped(const char *utf8, qsizetype length);
    QByteArray m_buffer;
    bool m_needComma = false;
};

// Whether text is one JSON object (checked by simdjson): stored JSON is vouched for before raw() writes it.
bool isJsonObject(const QByteArray &text);

} // namespace trainyard
