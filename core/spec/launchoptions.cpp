// The names specs and the command line give strategies, precisions and optimizers, and the sizes they write.
#include "spec/launchoptions.h"

#include <QRegularExpression>

#include <cmath>

namespace trainyard {

double TransformerShape::parameterCount() const
{
    const double L = layers, h = hidden;
    return 12.0 * L * h * h + 13.0 * L * h + (double(vocab) + double(seqLen)) * h;
}

namespace {

// Each value with the name specs and the command line write it in; parsing is the table read backwards.
template <typename Enum>
struct Named {
    Enum value;
    const char *name;
};

constexpr Named<ShardingStrategy> kStrategyNames[] = {
    {ShardingStrategy::Ddp, "ddp"},
    {ShardingStrategy::Zero1, "zero1"},
    {ShardingStrategy::Zero2, "zero2"},
    {ShardingStrategy::Zero3, "zero3"},
    {ShardingStrategy::FsdpFullShard, "fsdp-full-shard"},
    {ShardingStrategy::FsdpShardGradOp, "fsdp-shard-grad-op"},
    {ShardingStrategy::FsdpHybridShard, "fsdp-hybrid-shard"},
    // Accelerate's names for the FSDP strategies, accepted as well.
    {ShardingStrategy::FsdpFullShard, "full-shard"},
    {ShardingStrategy::FsdpShardGradOp, "shard-grad-op"},
    {ShardingStrategy::FsdpHybridShard, "hybrid-shard"},
};
constexpr Named<Precision> kPrecisionNames[] = {
    {Precision::Fp32, "fp32"},
    {Precision::Bf16Mixed, "bf16-mixed"},
    {Precision::Fp16Mixed, "fp16-mixed"},
};
constexpr Named<OptimizerKind> kOptimizerNames[] = {
    {OptimizerKind::Adam, "adam"},
    {OptimizerKind::AdamW, "adamw"},
    {OptimizerKind::SgdMomentum, "sgd-momentum"},
    {OptimizerKind::Sgd, "sgd"},
};

// The first name of `value` in the table (its own name: aliases come after it).
template <typename Enum, std::size_t N>
QString nameOf(const Named<Enum> (&table)[N], Enum value)
{
    for (const Named<Enum> &entry : table)
        if (entry.value == value)
            return QLatin1String(entry.name);
    return {};
}

template <typename Enum, std::size_t N>
std::optional<Enum> valueNamed(const Named<Enum> (&table)[N], const QString &name)
{
    for (const Named<Enum> &entry : table)
        if (name == QLatin1String(entry.name))
            return entry.value;
    return std::nullopt;
}

} // namespace

QString strategyName(ShardingStrategy strategy) { return nameOf(kStrategyNames, strategy); }

std::optional<ShardingStrategy> parseStrategy(const QString &text)
{
    return valueNamed(kStrategyNames, text.toLower().replace(QLatin1Char('_'), QLatin1Char('-')));
}

QString precisionName(Precision precision) { return nameOf(kPrecisionNames, precision); }

std::optional<Precision> parsePrecision(const QString &text) { return valueNamed(kPrecisionNames, text.toLower()); }

QString optimizerName(OptimizerKind optimizer) { return nameOf(kOptimizerNames, optimizer); }

std::optional<OptimizerKind> parseOptimizer(const QString &text) { return valueNamed(kOptimizerNames, text.toLower()); }

std::optional<double> parseByteSize(const QString &text)
{
    static const QRegularExpression pattern(
        QStringLiteral("^\\s*([0-9]*\\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\\s*([KMGT]i?B|B)?\\s*$"),
        QRegularExpression::CaseInsensitiveOption);
    const auto match = pattern.match(text);
    if (!match.hasMatch())
        return std::nullopt;
    const double number = match.captured(1).toDouble();
    const QString unit = match.captured(2).toUpper();
    double scale = 1;
    if (!unit.isEmpty() && unit != QLatin1String("B")) {
        const bool binary = unit.contains(QLatin1Char('I'));
        const int power = int(QStringLiteral("KMGT").indexOf(unit.at(0))) + 1;
        scale = std::pow(binary ? 1024.0 : 1000.0, power);
    }
    const double bytes = number * scale;
    return std::isfinite(bytes) && bytes > 0 ? std::optional<double>(bytes) : std::nullopt;
}

std::optional<double> parseCount(const QString &text)
{
    static const QRegularExpression pattern(
        QStringLiteral("^\\s*([0-9]*\\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\\s*([KMBT])?\\s*$"),
        QRegularExpression::CaseInsensitiveOption);
    const auto match = pattern.match(text);
    if (!match.hasMatch())
        return std::nullopt;
    const double number = match.captured(1).toDouble();
    const QString unit = match.captured(2).toUpper();
    const double scale = unit.isEmpty() ? 1 : std::pow(1000.0, int(QStringLiteral("KMBT").indexOf(unit)) + 1);
    const double count = number * scale;
    return std::isfinite(count) && count >= 1 && count <= kMaxParameterCount ? std::optional<double>(count)
                                                                             : std::nullopt;
}

} // namespace trainyard
