// TensorBoard event files: the TFRecord framing (lengths, CRCs) over any bytes, then each record that checks out
// through the Event decoder.
#include "ingest/tfevents.h"
#include "ingest/tfrecord.h"

#include <google/protobuf/stubs/logging.h>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    // protobuf logs each invalid UTF-8 string it meets: thousands of lines a second here.
    static const bool quiet =
        (google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char *, int, const std::string &) {}),
         true);
    (void)quiet;
    static trainyard::TfEventDecoder decoder;
    const auto *bytes = reinterpret_cast<const char *>(data);
    for (bool atEnd : {false, true}) {
        const trainyard::TfRecordScan scan = trainyard::scanTfRecords(bytes, size, 0, atEnd);
        for (const trainyard::TfRecord &record : scan.records) {
            trainyard::TfEventBatch batch;
            (void)decoder.decode(record.data, batch);
        }
    }
    // The bytes as one record's data too: framing aside, the decoder meets any protobuf.
    trainyard::TfEventBatch batch;
    (void)decoder.decode(std::string_view(bytes, size), batch);
    return 0;
}
