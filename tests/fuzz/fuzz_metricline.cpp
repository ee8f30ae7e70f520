// The metrics-file line parser (JSON lines): any bytes, read with simdjson's padding as the ingester gives it.
#include "ingest/metricparser.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static trainyard::JsonMetricParser parser;
    trainyard::ParsedMetricLine line;
    std::string error;
    std::string padded(reinterpret_cast<const char *>(data), size);
    padded.resize(size + 64, '\0');
    (void)parser.parse(std::string_view(padded.data(), size), padded.size(), line, error);
    return 0;
}
