// MLflow REST request bodies: any bytes through simdjson, then the field readers the tracking server uses for
// log-batch, log-metric, set-tag and the run id.
#include "tracking/requestfields.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    static simdjson::dom::parser parser;
    simdjson::dom::element body;
    if (parser.parse(reinterpret_cast<const char *>(data), size).get(body))
        return 0;
    simdjson::dom::object object;
    if (body.get_object().get(object))
        return 0;
    (void)trainyard::mlflowrequest::runIdOf(object);
    (void)trainyard::mlflowrequest::metricFrom(object, 1764000000000);
    (void)trainyard::mlflowrequest::keyValueFrom(object, "tag", 5000);
    (void)trainyard::mlflowrequest::keyValues(object, "params", "param", 6000);
    (void)trainyard::mlflowrequest::keyValues(object, "tags", "tag", 5000);
    (void)trainyard::mlflowrequest::stringList(object, "experiment_ids");
    if (auto metrics = trainyard::mlflowrequest::optionalArray(object, "metrics")) {
        for (simdjson::dom::element element : metrics.value()) {
            simdjson::dom::object metric;
            if (!element.get_object().get(metric))
                (void)trainyard::mlflowrequest::metricFrom(metric, 1764000000000);
        }
    }
    return 0;
}
