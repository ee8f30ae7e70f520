// The run spec reader (YAML): any bytes are refused with a message or read into a spec; a sweep it accepts expands.
#include "spec/runspec.h"
#include "spec/sweep.h"

#include <QByteArray>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray yaml(reinterpret_cast<const char *>(data), qsizetype(size));
    auto spec = trainyard::parseRunSpec(yaml, QStringLiteral("fuzz.yaml"), QStringLiteral("/tmp"));
    if (spec && spec->sweep.runCount() <= 1000)
        (void)trainyard::expandSweep(spec->params, spec->sweep);
    return 0;
}
