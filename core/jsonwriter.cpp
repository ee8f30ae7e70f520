// The streaming JSON writer: commas placed by state, strings escaped byte by byte (UTF-8 passes through).
#include "jsonwriter.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace trainyard {

void JsonWriter::separate()
{
    if (m_needComma)
        m_buffer.append(',');
    m_needComma = true;
}

JsonWriter &JsonWriter::beginObject()
{
    separate();
    m_buffer.append('{');
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::endObject()
{
    m_buffer.append('}');
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::beginArray()
{
    separate();
    m_buffer.append('[');
    m_needComma = false;
    return *this;
}

JsonWriter &JsonWriter::endArray()
{
    m_buffer.append(']');
    m_needComma = true;
    return *this;
}

JsonWriter &JsonWriter::key(const char *name)
{
    separate();
    m_buffer.append('"').append(name).append("\":");
    m_needComma = false; // the value follows without a comma
    return *this;
}

void JsonWriter::escaped(const char *utf8, qsizetype length)
{
    m_buffer.append('"');
    for (qsizetype i = 0; i < length; ++i) {
        const unsigned char c = static_cast<unsigned char>(utf8[i]);
        switch (c) {
        case '"':
            m_buffer.append("\\\"");
            break;
        case '\\':
            m_buffer.append("\\\\");
            break;
        case '\n':
            m_buffer.append("\\n");
            break;
        case '\r':
            m_buffer.append("\\r");
            break;
        case '\t':
            m_buffer.append("\\t");
            break;
        default:
            if (c < 0x20) {
                char code[8];
                std::snprintf(code, sizeof code, "\\u%04x", c);
                m_buffer.append(code);
            } else {
                m_buffer.append(char(c));
            }
        }
    }
    m_buffer.append('"');
}

JsonWriter &JsonWriter::string(const QString &text)
{
    separate();
    const QByteArray utf8 = text.toUtf8();
    escaped(utf8.constData(), utf8.size());
    return *this;
}

JsonWriter &JsonWriter::string(const char *text)
{
    separate();
    escaped(text, qsizetype(std::strlen(text)));
    return *this;
}

JsonWriter &JsonWriter::integer(std::int64_t value)
{
    separate();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    m_buffer.append(digits, end - digits);
    return *this;
}

JsonWriter &JsonWriter::number(double value)
{
    if (std::isnan(value))
        return string("NaN");
    if (std::isinf(value))
        return string(value > 0 ? "Infinity" : "-Infinity");
    separate();
    char digits[32];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr; // shortest form that reads back exactly
    m_buffer.append(digits, end - digits);
    return *this;
}

JsonWriter &JsonWriter::boolean(bool value)
{
    separate();
    m_buffer.append(value ? "true" : "false");
    return *this;
}

JsonWriter &JsonWriter::null()
{
    separate();
    m_buffer.append("null");
    return *this;
}

JsonWriter &JsonWriter::raw(const QByteArray &json)
{
    separate();
    m_buffer.append(json);
    return *this;
}

bool isJsonObject(const QByteArray &text)
{
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element element;
    if (parser.parse(text.constData(), std::size_t(text.size()), /*realloc_if_needed=*/true).get(element))
        return false;
    return element.is_object();
}

} // namespace trainyard
