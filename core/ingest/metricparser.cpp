// Metric line parsing. The JSON path is the ingestion hot loop: simdjson's on-demand API, no allocation
// per line beyond the values vector the caller reuses.
#include "ingest/metricparser.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace trainyard {

static_assert(kJsonPadding == simdjson::SIMDJSON_PADDING);

struct JsonMetricParser::State {
    simdjson::dom::parser parser;
    simdjson::ondemand::parser memberParser; // the rare line with a number out of range, member by member
    std::string scratch;
};

JsonMetricParser::JsonMetricParser() : m_state(std::make_unique<State>()) { }
JsonMetricParser::~JsonMetricParser() = default;

namespace {

bool nonFiniteFromString(std::string_view text, double &value)
{
    if (text == "nan" || text == "NaN") {
        value = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    if (text == "inf" || text == "Infinity") {
        value = std::numeric_limits<double>::infinity();
        return true;
    }
    if (text == "-inf" || text == "-Infinity") {
        value = -std::numeric_limits<double>::infinity();
        return true;
    }
    return false;
}

constexpr const char *kStepNotAnInteger = "\"step\" is not an integer";
constexpr const char *kNoStep = "no integer \"step\"";

// A member's number, read by either parser: the line's time when its key is "ts", else a point of that key.
void addNumber(ParsedMetricLine &out, std::string_view key, double number)
{
    if (key == "ts") {
        out.hasTimestamp = true;
        out.timestampS = number;
    } else {
        out.values.push_back({key, number});
    }
}

} // namespace

bool JsonMetricParser::parse(std::string_view line, std::size_t capacity, ParsedMetricLine &out, std::string &error)
{
    using namespace simdjson;
    out.values.clear();
    out.hasTimestamp = false;
    out.rejected.clear();
    if (capacity < line.size() + SIMDJSON_PADDING) {
        m_state->scratch.assign(line);
        m_state->scratch.resize(line.size() + SIMDJSON_PADDING, '\0');
        line = std::string_view(m_state->scratch.data(), line.size());
    }
    // The DOM parser picks the fastest kernel for this CPU at run time (the on-demand API would be fixed
    // to what the compiler targets, which for a portable build is the slow fallback).
    dom::element document;
    if (auto code = m_state->parser.parse(line.data(), line.size(), false).get(document); code != SUCCESS) {
        // One number out of range (1e400) or an integer past 64 bits fails the whole document: the line is read
        // again member by member, so that its other members are kept.
        if (code == NUMBER_ERROR)
            return parseMemberByMember(line, out, error);
        error = error_message(code);
        return false;
    }
    dom::object object;
    if (document.get_object().get(object) != SUCCESS) {
        error = "not a JSON object";
        return false;
    }
    bool hasStep = false;
    for (const dom::key_value_pair field : object) {
        const std::string_view key = field.key;
        const dom::element value = field.value;
        if (key == "step") {
            std::int64_t step = 0;
            if (value.get_int64().get(step) != SUCCESS) {
                error = kStepNotAnInteger;
                return false;
            }
            out.step = step;
            hasStep = true;
            continue;
        }
        double number = 0;
        switch (value.type()) {
        case dom::element_type::DOUBLE:
        case dom::element_type::INT64:
        case dom::element_type::UINT64:
            addNumber(out, key, double(value));
            break;
        case dom::element_type::STRING:
            if (nonFiniteFromString(std::string_view(value), number))
                out.values.push_back({key, number});
            break;
        default:
            break; // booleans, nulls, arrays and objects are not metric values
        }
    }
    if (!hasStep) {
        error = kNoStep;
        return false;
    }
    return true;
}

bool JsonMetricParser::parseMemberByMember(std::string_view line, ParsedMetricLine &out, std::string &error)
{
    using namespace simdjson;
    // `line` is padded here: parse() copied it into scratch unless its buffer already had the padding.
    ondemand::document document;
    if (auto code =
            m_state->memberParser.iterate(padded_string_view(line.data(), line.size(), line.size() + SIMDJSON_PADDING))
                .get(document);
        code != SUCCESS) {
        error = error_message(code);
        return false;
    }
    ondemand::object object;
    if (document.get_object().get(object) != SUCCESS) {
        error = "not a JSON object";
        return false;
    }
    bool hasStep = false;
    for (auto field : object) {
        std::string_view key;
        ondemand::value value;
        ondemand::json_type type;
        if (field.unescaped_key().get(key) != SUCCESS || field.value().get(value) != SUCCESS
            || value.type().get(type) != SUCCESS) {
            error = "not a JSON object";
            return false;
        }
        if (key == "step") {
            std::int64_t step = 0;
            if (value.get_int64().get(step) != SUCCESS) {
                error = kStepNotAnInteger;
                return false;
            }
            out.step = step;
            hasStep = true;
            continue;
        }
        double number = 0;
        if (type == ondemand::json_type::number) {
            std::string_view token;
            token = value.raw_json_token();
            if (value.get_double().get(number) != SUCCESS || !std::isfinite(number)) {
                // Out of a double's range: this member is dropped and said so, the others are kept.
                while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\r'))
                    token.remove_suffix(1);
                if (!out.rejected.empty())
                    out.rejected.append("; ");
                out.rejected.append(1, '"').append(key).append("\": ").append(token).append(" is out of range");
                continue;
            }
            addNumber(out, key, number);
        } else if (type == ondemand::json_type::string) {
            std::string_view text;
            if (value.get_string().get(text) == SUCCESS && nonFiniteFromString(text, number))
                out.values.push_back({key, number});
        }
    }
    if (!hasStep) {
        error = kNoStep;
        return false;
    }
    return true;
}

namespace {

bool isKeyStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool isKeyChar(char c) { return isKeyStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '-'; }

bool isStepKey(std::string_view key)
{
    return key == "step" || key == "global_step" || key == "iter" || key == "iteration" || key == "it" || key == "Step"
        || key == "Iteration";
}

// Reads a number at text[pos...]: decimal with optional exponent, or nan/inf; advances pos.
bool readNumber(std::string_view text, std::size_t &pos, double &value)
{
    if (pos >= text.size())
        return false; // "loss=" at the end of a line (found by fuzz_stdoutmetric: it read past the line)
    const std::size_t start = pos;
    std::size_t end = pos;
    if (end < text.size() && (text[end] == '-' || text[end] == '+'))
        ++end;
    const std::string_view rest = text.substr(end);
    for (std::string_view word : {"nan", "inf"}) {
        if (rest.substr(0, word.size()) == word) {
            value = word == "nan" ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
            if (text[start] == '-')
                value = -value;
            pos = end + word.size();
            return true;
        }
    }
    const char *first = text.data() + (text[start] == '+' ? start + 1 : start);
    const auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), value);
    if (ec != std::errc())
        return false;
    pos = std::size_t(ptr - text.data());
    return true;
}

} // namespace

bool parseStdoutMetricLine(std::string_view line, ParsedMetricLine &out)
{
    out.values.clear();
    out.hasTimestamp = false;
    bool hasStep = false;
    std::size_t pos = 0;
    while (pos < line.size()) {
        if (!isKeyStart(line[pos]) || (pos > 0 && isKeyChar(line[pos - 1]))) {
            ++pos;
            continue;
        }
        const std::size_t keyStart = pos;
        while (pos < line.size() && isKeyChar(line[pos]))
            ++pos;
        std::string_view key = line.substr(keyStart, pos - keyStart);
        std::size_t cursor = pos;
        while (cursor < line.size() && line[cursor] == ' ')
            ++cursor;
        if (cursor >= line.size() || (line[cursor] != '=' && line[cursor] != ':'))
            continue;
        ++cursor;
        while (cursor < line.size() && line[cursor] == ' ')
            ++cursor;
        double value = 0;
        std::size_t afterNumber = cursor;
        if (!readNumber(line, afterNumber, value))
            continue;
        // "step: 3/100" counts as step 3; a number glued to letters ("12ms") is not a value.
        if (afterNumber < line.size() && isKeyStart(line[afterNumber]))
            continue;
        pos = afterNumber;
        if (isStepKey(key)) {
            // An integer a 64-bit step holds (2^63 itself does not: converting it would be undefined; found by
            // fuzz_stdoutmetric, kept in tests/fuzz/crashes/).
            constexpr double kStepLimit = 9223372036854775808.0; // 2^63
            if (!std::isfinite(value) || value != std::floor(value) || value >= kStepLimit || value < -kStepLimit)
                continue;
            out.step = std::int64_t(value);
            hasStep = true;
        } else {
            out.values.push_back({key, value});
        }
    }
    return hasStep && !out.values.empty();
}

} // namespace trainyard
