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

QString strategyName(ShardingStrategy strategy)
{
    switch (strategy) {
    case ShardingStrategy::Ddp:
        return QStringLiteral("ddp");
    case ShardingStrategy::Zero1:
        return QStringLiteral("zero1");
    case ShardingStrategy::Zero2:
        return QStringLiteral("zero2");
    case ShardingStrategy::Zero3:
        return QStringLiteral("zero3");
    case ShardingStrategy::FsdpFullShard:
        return QStringLiteral("fsdp-full-shard");
    case ShardingStrategy::FsdpShardGradOp:
        return QStringLiteral("fsdp-shard-grad-op");
    case ShardingStrategy::FsdpHybridShard:
        return QStringLiteral("fsdp-hybrid-shard");
    }
    return {};
}

std::optional<ShardingStrategy> parseStrategy(const QString &text)
{
    const QString key = text.toLower().replace(QLatin1Char('_'), QLatin1Char('-'));
    for (ShardingStrategy strategy :
         {ShardingStrategy::Ddp, ShardingStrategy::Zero1, ShardingStrategy::Zero2, ShardingStrategy::Zero3,
          ShardingStrategy::FsdpFullShard, ShardingStrategy::FsdpShardGradOp, ShardingStrategy::FsdpHybridShard}) {
        if (key == strategyName(strategy))
            return strategy;
    }
    if (key == QLatin1String("full-shard"))
        return ShardingStrategy::FsdpFullShard;
    if (key == QLatin1String("shard-grad-op"))
        return ShardingStrategy::FsdpShardGradOp;
    if (key == QLatin1String("hybrid-shard"))
        return ShardingStrategy::FsdpHybridShard;
    return std::nullopt;
}

QString precisionName(Precision precision)
{
    switch (precision) {
    case Precision::Fp32:
        return QStringLiteral("fp32");
    case Precision::Bf16Mixed:
        return QStringLiteral("bf16-mixed");
    case Precision::Fp16Mixed:
        return QStringLiteral("fp16-mixed");
    }
    return {};
}

std::optional<Precision> parsePrecision(const QString &text)
{
    for (Precision precision : {Precision::Fp32, Precision::Bf16Mixed, Precision::Fp16Mixed}) {
        if (text.toLower() == precisionName(precision))
            return precision;
    }
    return std::nullopt;
}

QString optimizerName(OptimizerKind optimizer)
{
    switch (optimizer) {
    case OptimizerKind::Adam:
        return QStringLiteral("adam");
    case OptimizerKind::AdamW:
        return QStringLiteral("adamw");
    case OptimizerKind::SgdMomentum:
        return QStringLiteral("sgd-momentum");
    case OptimizerKind::Sgd:
        return QStringLiteral("sgd");
    }
    return {};
}

std::optional<OptimizerKind> parseOptimizer(const QString &text)
{
    for (OptimizerKind optimizer :
         {OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::SgdMomentum, OptimizerKind::Sgd}) {
        if (text.toLower() == optimizerName(optimizer))
            return optimizer;
    }
    return std::nullopt;
}

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
