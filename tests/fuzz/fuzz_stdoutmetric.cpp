// The stdout metric-line parser ("step 3 loss=0.5 lr: 1e-3"): any bytes.
#include "ingest/metricparser.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    trainyard::ParsedMetricLine line;
    (void)trainyard::parseStdoutMetricLine(std::string_view(reinterpret_cast<const char *>(data), size), line);
    return 0;
}
