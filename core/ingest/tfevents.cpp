// Event and Summary decoding with the generated protobuf classes (ingest/proto/tensorboard.proto).
#include "ingest/tfevents.h"

#include "ingest/proto/tensorboard.pb.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

namespace trainyard {

namespace {

namespace tb = trainyard::tensorboard;

// IEEE 754 half precision, as TensorBoard's half_val holds it (the bits in an int32).
double halfToDouble(std::uint16_t bits)
{
    const int sign = (bits >> 15) & 1, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
    double value = 0;
    if (exponent == 0)
        value = std::ldexp(mantissa, -24);
    else if (exponent == 31)
        value = mantissa ? std::nan("") : INFINITY;
    else
        value = std::ldexp(mantissa + 1024, exponent - 25);
    return sign ? -value : value;
}

std::int64_t elementCount(const tb::TensorProto &tensor)
{
    std::int64_t count = 1;
    for (const auto &dim : tensor.tensor_shape().dim())
        count *= dim.size();
    return count;
}

// The value of a one-element tensor, when it holds a number.
std::optional<double> scalarOf(const tb::TensorProto &tensor)
{
    if (tensor.tensor_shape().unknown_rank() || elementCount(tensor) != 1)
        return std::nullopt;
    const std::string &content = tensor.tensor_content();
    switch (tensor.dtype()) {
    case tb::DT_FLOAT:
        if (tensor.float_val_size() >= 1)
            return double(tensor.float_val(0));
        if (content.size() == 4) {
            float value;
            std::memcpy(&value, content.data(), 4);
            return double(value);
        }
        break;
    case tb::DT_DOUBLE:
        if (tensor.double_val_size() >= 1)
            return tensor.double_val(0);
        if (content.size() == 8) {
            double value;
            std::memcpy(&value, content.data(), 8);
            return value;
        }
        break;
    case tb::DT_HALF:
    case tb::DT_BFLOAT16:
        if (tensor.half_val_size() >= 1 || content.size() == 2) {
            std::uint16_t bits = 0;
            if (tensor.half_val_size() >= 1)
                bits = std::uint16_t(tensor.half_val(0));
            else
                std::memcpy(&bits, content.data(), 2);
            if (tensor.dtype() == tb::DT_BFLOAT16) {
                const std::uint32_t widened = std::uint32_t(bits) << 16;
                float value;
                std::memcpy(&value, &widened, 4);
                return double(value);
            }
            return halfToDouble(bits);
        }
        break;
    case tb::DT_INT32:
    case tb::DT_INT16:
    case tb::DT_INT8:
    case tb::DT_UINT8:
        if (tensor.int_val_size() >= 1)
            return double(tensor.int_val(0));
        if (content.size() == 4) {
            std::int32_t value;
            std::memcpy(&value, content.data(), 4);
            return double(value);
        }
        break;
    case tb::DT_INT64:
        if (tensor.int64_val_size() >= 1)
            return double(tensor.int64_val(0));
        if (content.size() == 8) {
            std::int64_t value;
            std::memcpy(&value, content.data(), 8);
            return double(value);
        }
        break;
    case tb::DT_BOOL:
        if (tensor.bool_val_size() >= 1)
            return tensor.bool_val(0) ? 1.0 : 0.0;
        break;
    default:
        break;
    }
    return std::nullopt;
}

QString hparamText(const google::protobuf::Value &value)
{
    switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue: {
        char digits[32];
        const auto end = std::to_chars(digits, digits + sizeof digits, value.number_value()).ptr;
        return QString::fromLatin1(digits, end - digits);
    }
    case google::protobuf::Value::kStringValue:
        return QString::fromStdString(value.string_value());
    case google::protobuf::Value::kBoolValue:
        return value.bool_value() ? QStringLiteral("true") : QStringLiteral("false");
    default:
        return {};
    }
}

} // namespace

struct TfEventDecoder::Messages {
    tb::Event event;
    tb::HParamsPluginData hparams;
};

TfEventDecoder::TfEventDecoder() : m_messages(std::make_unique<Messages>()) { }

TfEventDecoder::~TfEventDecoder() = default;

TfEventDecoder::TagInfo &TfEventDecoder::tagInfo(const std::string &tag)
{
    auto found = m_tags.find(tag);
    if (found == m_tags.end())
        found = m_tags.emplace(tag, std::make_unique<TagInfo>(TagInfo{tag, {}})).first;
    return *found->second;
}

Result<void> TfEventDecoder::decode(std::string_view record, TfEventBatch &batch)
{
    tb::Event &event = m_messages->event;
    if (!event.ParseFromArray(record.data(), int(record.size())))
        return fail(QStringLiteral("not a TensorBoard Event message"));
    ++batch.events;
    if (event.wall_time() > 0) {
        if (batch.firstWallTime == 0 || event.wall_time() < batch.firstWallTime)
            batch.firstWallTime = event.wall_time();
        batch.lastWallTime = std::max(batch.lastWallTime, event.wall_time());
    }
    if (!event.has_summary())
        return {};
    for (const tb::Summary::Value &value : event.summary().value()) {
        TagInfo &tag = tagInfo(value.tag());
        if (tag.plugin.isEmpty() && value.has_metadata() && value.metadata().has_plugin_data())
            tag.plugin = QString::fromStdString(value.metadata().plugin_data().plugin_name());
        const QString &plugin = tag.plugin;

        if (plugin == QLatin1String("hparams")) {
            tb::HParamsPluginData &data = m_messages->hparams;
            const std::string &content = value.metadata().plugin_data().content();
            if (data.ParseFromString(content) && data.has_session_start_info()) {
                for (const auto &[name, hparam] : data.session_start_info().hparams())
                    batch.hparams.append({QString::fromStdString(name), hparamText(hparam)});
            }
            continue;
        }
        switch (value.value_case()) {
        case tb::Summary::Value::kSimpleValue:
            batch.scalars.push_back({&tag.name, event.step(), double(value.simple_value()), event.wall_time()});
            break;
        case tb::Summary::Value::kTensor: {
            const bool scalarPlugin = plugin.isEmpty() || plugin == QLatin1String("scalars");
            const auto scalar = scalarPlugin ? scalarOf(value.tensor()) : std::nullopt;
            if (scalar)
                batch.scalars.push_back({&tag.name, event.step(), *scalar, event.wall_time()});
            else if (plugin == QLatin1String("histograms"))
                ++batch.histograms;
            else if (plugin == QLatin1String("images"))
                ++batch.images;
            else if (plugin == QLatin1String("audio"))
                ++batch.audio;
            else
                ++batch.otherTensors;
            break;
        }
        case tb::Summary::Value::kHisto:
        case tb::Summary::Value::kObsoleteOldStyleHistogram:
            ++batch.histograms;
            break;
        case tb::Summary::Value::kImage:
            ++batch.images;
            break;
        case tb::Summary::Value::kAudio:
            ++batch.audio;
            break;
        case tb::Summary::Value::VALUE_NOT_SET:
            break; // metadata only (hparams' experiment and session end)
        }
    }
    return {};
}

} // namespace trainyard
