// The variable names are those Accelerate's launcher (accelerate launch) exports, so scripts written for
// Accelerate or reading its variables work unchanged; DeepSpeed reads its JSON config.
#include "launch/strategyenvironment.h"

#include "atomicfile.h"
#include "runfolder/runfolder.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace trainyard {

namespace {

void setDefault(QMap<QString, QString> &env, const char *name, const QString &value)
{
    if (!env.contains(QLatin1String(name)))
        env.insert(QLatin1String(name), value);
}

QString mixedPrecisionName(Precision precision)
{
    switch (precision) {
    case Precision::Fp32:
        return QStringLiteral("no");
    case Precision::Bf16Mixed:
        return QStringLiteral("bf16");
    case Precision::Fp16Mixed:
        return QStringLiteral("fp16");
    }
    return QStringLiteral("no");
}

int zeroStage(ShardingStrategy strategy)
{
    switch (strategy) {
    case ShardingStrategy::Zero1:
        return 1;
    case ShardingStrategy::Zero2:
        return 2;
    case ShardingStrategy::Zero3:
        return 3;
    default:
        return 0;
    }
}

QString fsdpShardingStrategy(ShardingStrategy strategy)
{
    switch (strategy) {
    case ShardingStrategy::FsdpFullShard:
        return QStringLiteral("FULL_SHARD");
    case ShardingStrategy::FsdpShardGradOp:
        return QStringLiteral("SHARD_GRAD_OP");
    case ShardingStrategy::FsdpHybridShard:
        return QStringLiteral("HYBRID_SHARD");
    default:
        return {};
    }
}

} // namespace

Result<void> applyStrategy(const StrategyChoice &choice, const QString &runDir, QMap<QString, QString> &env)
{
    const auto boolean = [](bool value) { return value ? QStringLiteral("true") : QStringLiteral("false"); };
    setDefault(env, "TRAINYARD_STRATEGY", strategyName(choice.strategy));
    setDefault(env, "ACCELERATE_MIXED_PRECISION", mixedPrecisionName(choice.precision));

    if (const QString fsdp = fsdpShardingStrategy(choice.strategy); !fsdp.isEmpty()) {
        setDefault(env, "ACCELERATE_USE_FSDP", QStringLiteral("true"));
        setDefault(env, "FSDP_SHARDING_STRATEGY", fsdp);
        setDefault(env, "FSDP_OFFLOAD_PARAMS", boolean(choice.offloadParameters || choice.offloadOptimizer));
        setDefault(env, "FSDP_BACKWARD_PREFETCH", QStringLiteral("BACKWARD_PRE"));
        setDefault(env, "FSDP_STATE_DICT_TYPE", QStringLiteral("FULL_STATE_DICT"));
        setDefault(env, "FSDP_USE_ORIG_PARAMS", QStringLiteral("true"));
        setDefault(env, "FSDP_SYNC_MODULE_STATES", QStringLiteral("true"));
        return {};
    }
    const int stage = zeroStage(choice.strategy);
    if (stage == 0)
        return {}; // DDP: torch.distributed and the contract's variables are all it needs

    const auto offloadTo = [](bool offload) {
        return QJsonObject{{QStringLiteral("device"), offload ? QStringLiteral("cpu") : QStringLiteral("none")},
                           {QStringLiteral("pin_memory"), offload}};
    };
    QJsonObject zero{{QStringLiteral("stage"), stage},
                     {QStringLiteral("overlap_comm"), true},
                     {QStringLiteral("contiguous_gradients"), true},
                     {QStringLiteral("offload_optimizer"), offloadTo(choice.offloadOptimizer)}};
    if (stage == 3) {
        zero.insert(QStringLiteral("offload_param"), offloadTo(choice.offloadParameters));
        zero.insert(QStringLiteral("stage3_gather_16bit_weights_on_model_save"), true);
    }
    // "auto" lets DeepSpeed (or Accelerate/Transformers) fill batch sizes and clipping from the script.
    const QJsonObject config{
        {QStringLiteral("train_micro_batch_size_per_gpu"), QStringLiteral("auto")},
        {QStringLiteral("gradient_accumulation_steps"), QStringLiteral("auto")},
        {QStringLiteral("gradient_clipping"), QStringLiteral("auto")},
        {QStringLiteral("bf16"), QJsonObject{{QStringLiteral("enabled"), choice.precision == Precision::Bf16Mixed}}},
        {QStringLiteral("fp16"), QJsonObject{{QStringLiteral("enabled"), choice.precision == Precision::Fp16Mixed}}},
        {QStringLiteral("zero_optimization"), zero},
    };
    const QString path = runDir + QLatin1Char('/') + QLatin1String(kDeepSpeedConfigFileName);
    if (auto written = writeFileAtomically(path, QJsonDocument(config).toJson(QJsonDocument::Indented)); !written)
        return written;
    setDefault(env, "ACCELERATE_USE_DEEPSPEED", QStringLiteral("true"));
    setDefault(env, "ACCELERATE_DEEPSPEED_ZERO_STAGE", QString::number(stage));
    setDefault(env, "ACCELERATE_DEEPSPEED_CONFIG_FILE", path);
    setDefault(env, "TRAINYARD_DEEPSPEED_CONFIG", path);
    return {};
}

} // namespace trainyard
