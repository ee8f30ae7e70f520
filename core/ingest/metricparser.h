// Parsers for the metric protocol: JSON lines from the client, and key=value pairs on stdout lines.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace trainyard {

struct MetricValue {
    std::string_view key; // points into the parsed line or the parser's scratch; valid until the next parse
    double value;
};

struct ParsedMetricLine {
    std::int64_t step = 0;
    bool hasTimestamp = false;
    double timestampS = 0; // "ts": wall time in seconds since the epoch
    std::vector<MetricValue> values;
    // Members dropped from a line that was otherwise kept (a number out of a double's range), described with
    // their key and text; empty when every member was read.
    std::string rejected;
};

// Parses {"step": 12, "loss": 0.31, "lr": 3e-4, "ts": 1764000000.5} with simdjson. Numbers become points;
// the strings "nan", "inf" and "-inf" (how the Python client writes non-finite floats) too. Other strings,
// booleans, nulls, arrays and objects are ignored. A line that is not one JSON object, or that has no
// integer "step", is malformed and described in `error`. A member whose number is out of a double's range (1e400)
// is dropped and described in `out.rejected`, and the line's other members are kept; an integer past 64 bits is
// read as the nearest double.
class JsonMetricParser {
public:
    JsonMetricParser();
    ~JsonMetricParser();
    JsonMetricParser(const JsonMetricParser &) = delete;
    JsonMetricParser &operator=(const JsonMetricParser &) = delete;

    // `capacity` is how many bytes after line.data() may be read (simdjson reads up to 64 bytes past the
    // end); when it is less than line.size() + 64 the line is copied into padded scratch first.
    bool parse(std::string_view line, std::size_t capacity, ParsedMetricLine &out, std::string &error);

private:
    bool parseMemberByMember(std::string_view paddedLine, ParsedMetricLine &out, std::string &error);
    struct State;
    std::unique_ptr<State> m_state;
};

// Finds key=value and key: value pairs with numeric values on a line of program output. Returns true only
// when the line carries a step (a key named step, global_step, iter, iteration or it); the other numeric
// pairs become values.
bool parseStdoutMetricLine(std::string_view line, ParsedMetricLine &out);

inline constexpr std::size_t kJsonPadding = 64; // simdjson::SIMDJSON_PADDING

} // namespace trainyard
