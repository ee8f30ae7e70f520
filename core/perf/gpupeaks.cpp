#include "perf/gpupeaks.h"

#include <QRegularExpression>

namespace trainyard {

std::optional<double> GpuPeak::at(PeakPrecision precision) const
{
    switch (precision) {
    case PeakPrecision::Bf16:
        return bf16;
    case PeakPrecision::Fp16:
        return fp16;
    case PeakPrecision::Tf32:
        return tf32;
    }
    return std::nullopt;
}

namespace gpupeaks {

namespace {

struct Rule {
    QRegularExpression pattern; // matched against the NVML name, case-insensitively
    GpuPeak peak;
};

const QList<Rule> &rules()
{
    const auto rule = [](const char *pattern, GpuPeak peak) {
        return Rule{QRegularExpression(QString::fromLatin1(pattern), QRegularExpression::CaseInsensitiveOption),
                    std::move(peak)};
    };
    const QString hopper = QStringLiteral("NVIDIA H100 Tensor Core GPU datasheet (sparse figures halved)");
    const QString h200 = QStringLiteral("NVIDIA H200 Tensor Core GPU datasheet (sparse figures halved)");
    const QString ampere = QStringLiteral("NVIDIA A100 Tensor Core GPU datasheet");
    const QString ada = QStringLiteral("NVIDIA Ada GPU architecture whitepaper, appendix tables (FP32 accumulate, "
                                       "dense)");
    const QString ga102 = QStringLiteral("NVIDIA Ampere GA102 GPU architecture whitepaper, appendix tables (FP32 "
                                         "accumulate, dense)");
    static const QList<Rule> table = {
        rule("\\bGH200\\b",
             {QStringLiteral("GH200"), 989.5, 989.5, 494.5,
              QStringLiteral("NVIDIA GH200 Grace Hopper Superchip datasheet (sparse figures halved)")}),
        rule("\\bH200\\b.*\\bNVL\\b", {QStringLiteral("H200 NVL"), 835.5, 835.5, 417.5, h200}),
        rule("\\bH200\\b", {QStringLiteral("H200 SXM"), 989.5, 989.5, 494.5, h200}),
        rule("\\bH100\\b.*\\bPCIe\\b", {QStringLiteral("H100 PCIe"), 756.5, 756.5, 378, hopper}),
        rule("\\bH100\\b.*\\bNVL\\b", {QStringLiteral("H100 NVL"), 835.5, 835.5, 417.5, hopper}),
        rule("\\bH100\\b", {QStringLiteral("H100 SXM5"), 989.5, 989.5, 494.5, hopper}),
        rule("\\bA100\\b", {QStringLiteral("A100"), 312, 312, 156, ampere}),
        rule("\\bA30\\b",
             {QStringLiteral("A30"), 165, 165, 82, QStringLiteral("NVIDIA A30 Tensor Core GPU datasheet")}),
        rule("\\bA10\\b",
             {QStringLiteral("A10"), 125, 125, 62.5, QStringLiteral("NVIDIA A10 Tensor Core GPU datasheet")}),
        rule("\\bA40\\b",
             {QStringLiteral("A40"), 149.7, 149.7, 74.8,
              QStringLiteral("NVIDIA A40 datasheet (sparse figures halved)")}),
        rule("\\bL40S\\b",
             {QStringLiteral("L40S"), 362.05, 362.05, 183,
              QStringLiteral("NVIDIA L40S datasheet (sparse figures halved)")}),
        rule("\\bL40\\b",
             {QStringLiteral("L40"), 181.05, 181.05, 90.5,
              QStringLiteral("NVIDIA L40 datasheet (sparse figures halved)")}),
        rule("\\bL4\\b",
             {QStringLiteral("L4"), 121, 121, 60,
              QStringLiteral("NVIDIA L4 Tensor Core GPU datasheet (sparse figures halved)")}),
        rule("\\bV100\\b.*\\bPCIe\\b",
             {QStringLiteral("V100 PCIe"), std::nullopt, 112, std::nullopt,
              QStringLiteral("NVIDIA V100 Tensor Core GPU datasheet")}),
        rule("\\bV100\\b",
             {QStringLiteral("V100 SXM2"), std::nullopt, 125, std::nullopt,
              QStringLiteral("NVIDIA V100 Tensor Core GPU datasheet")}),
        rule("RTX 6000 Ada", {QStringLiteral("RTX 6000 Ada Generation"), 364.2, 364.2, 182.1, ada}),
        rule("RTX A6000",
             {QStringLiteral("RTX A6000"), 154.8, 154.8, 77.4,
              QStringLiteral("NVIDIA RTX A6000 datasheet (sparse figures halved)")}),
        rule("RTX 4090", {QStringLiteral("GeForce RTX 4090"), 165.2, 165.2, 82.6, ada}),
        rule("RTX 3090", {QStringLiteral("GeForce RTX 3090"), 71, 71, 35.6, ga102}),
    };
    return table;
}

} // namespace

const QList<GpuPeak> &table()
{
    static const QList<GpuPeak> peaks = [] {
        QList<GpuPeak> list;
        for (const Rule &rule : rules())
            list << rule.peak;
        return list;
    }();
    return peaks;
}

std::optional<GpuPeak> find(const QString &nvmlName)
{
    for (const Rule &rule : rules())
        if (rule.pattern.match(nvmlName).hasMatch())
            return rule.peak;
    return std::nullopt;
}

std::optional<PeakPrecision> precisionFromString(const QString &text)
{
    const QString lower = text.trimmed().toLower();
    if (lower.isEmpty() || lower == QLatin1String("bf16") || lower == QLatin1String("bfloat16"))
        return PeakPrecision::Bf16;
    if (lower == QLatin1String("fp16") || lower == QLatin1String("float16") || lower == QLatin1String("half"))
        return PeakPrecision::Fp16;
    if (lower == QLatin1String("tf32"))
        return PeakPrecision::Tf32;
    return std::nullopt;
}

QString toString(PeakPrecision precision)
{
    switch (precision) {
    case PeakPrecision::Bf16:
        return QStringLiteral("bf16");
    case PeakPrecision::Fp16:
        return QStringLiteral("fp16");
    case PeakPrecision::Tf32:
        return QStringLiteral("tf32");
    }
    return {};
}

} // namespace gpupeaks
} // namespace trainyard
