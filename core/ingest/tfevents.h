// TfEventDecoder: one TensorBoard Event record (protobuf) to scalars. A scalar comes as simple_value, as a one-element
// tensor in float_val / double_val / half_val / int_val / int64_val, or in tensor_content (4 or 8 bytes); the plugin
// name ("scalars") may be on a tag's first value only. The hparams plugin's session start gives the run's params;
// histograms, images, audio and other tensors are counted and skipped.
#pragma once

#include "result.h"
#include "store/trackingstore.h"

#include <QHash>
#include <QString>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace trainyard {

struct TfScalar {
    const std::string *tag = nullptr; // owned by the decoder, the same pointer for the same tag as long as it lives
    std::int64_t step = 0;
    double value = 0;    // a float32 value widened exactly
    double wallTime = 0; // seconds since the epoch
};

struct TfEventBatch {
    std::vector<TfScalar> scalars;
    QList<KeyValue> hparams;
    std::int64_t histograms = 0;
    std::int64_t images = 0;
    std::int64_t audio = 0;
    std::int64_t otherTensors = 0; // text, non-scalar tensors, and values of plugins Trainyard does not read
    std::int64_t events = 0;
    double firstWallTime = 0; // 0 until an event with a wall time was decoded
    double lastWallTime = 0;
};

class TfEventDecoder {
public:
    TfEventDecoder();
    ~TfEventDecoder();
    // Decodes one record into the batch; an error when the record is not an Event message.
    Result<void> decode(std::string_view record, TfEventBatch &batch);

private:
    struct Messages;
    struct TagInfo {
        std::string name;
        QString plugin; // named on the tag's first value (later values may leave it out)
    };
    TagInfo &tagInfo(const std::string &tag);
    std::unique_ptr<Messages> m_messages; // reused: a parse reuses the message's memory
    std::unordered_map<std::string, std::unique_ptr<TagInfo>> m_tags;
};

} // namespace trainyard
