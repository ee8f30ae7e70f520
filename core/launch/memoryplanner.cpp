// The planner's arithmetic. Everything is bytes per GPU; see docs/MEMORY_PLANNER.md for each formula.
#include "launch/memoryplanner.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <array>
#include <cmath>

namespace trainyard {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// CUDA context, cuBLAS/cuDNN workspaces and NCCL buffers: about a GiB per process in practice.
constexpr double kFixedOverheadBytes = 1.0 * kGiB;
// The caching allocator's fragmentation, as a share of everything else.
constexpr double kFragmentationShare = 0.05;
// ZeRO-3 / FSDP gather a layer's full parameters to use them, and prefetch the next one.
constexpr int kGatheredLayers = 2;

struct StateBytes {
    double parameter; // per parameter, as kept for compute (2 for mixed precision, 4 for fp32)
    double gradient;  // per parameter
    double optimizer; // per parameter: the ZeRO paper's K
};

// ZeRO paper, section 3.1: mixed-precision Adam keeps fp16 parameters and gradients (2 + 2 bytes) and
// K = 12 bytes of optimizer state (fp32 master copy, momentum, variance).
StateBytes stateBytes(Precision precision, OptimizerKind optimizer)
{
    const bool mixed = precision != Precision::Fp32;
    const double master = mixed ? 4 : 0; // fp32 master weights exist only next to low-precision ones
    double moments = 0;
    switch (optimizer) {
    case OptimizerKind::Adam:
    case OptimizerKind::AdamW:
        moments = 8;
        break; // momentum + variance, fp32
    case OptimizerKind::SgdMomentum:
        moments = 4;
        break; // momentum, fp32
    case OptimizerKind::Sgd:
        moments = 0;
        break;
    }
    return mixed ? StateBytes{2, 2, master + moments} : StateBytes{4, 4, moments};
}

struct ShardingOf {
    bool optimizer = false;
    bool gradients = false;
    bool parameters = false;
    bool withinNodeOnly = false; // HYBRID_SHARD: shard inside a node, replicate across nodes
};

ShardingOf shardingOf(ShardingStrategy strategy)
{
    switch (strategy) {
    case ShardingStrategy::Ddp:
        return {};
    case ShardingStrategy::Zero1:
        return {true, false, false, false};
    case ShardingStrategy::Zero2:
    case ShardingStrategy::FsdpShardGradOp:
        return {true, true, false, false};
    case ShardingStrategy::Zero3:
    case ShardingStrategy::FsdpFullShard:
        return {true, true, true, false};
    case ShardingStrategy::FsdpHybridShard:
        return {true, true, true, true};
    }
    return {};
}

// Korthikanti et al. 2022, equation 1 (no tensor or sequence parallelism): s·b·h·(34 + 5·a·s/h) bytes per
// layer with 16-bit activations. Full recomputation keeps only each layer's input, 2·s·b·h bytes, plus one
// layer's activations while it is recomputed. The output logits (fp32 for the loss) add 4·s·b·V.
void estimateActivations(const TransformerShape &shape, Precision precision, double &without, double &with)
{
    const double s = shape.seqLen, b = shape.microBatch, h = shape.hidden, a = shape.heads, L = shape.layers,
                 V = shape.vocab;
    const double widen = precision == Precision::Fp32 ? 2.0 : 1.0; // 4-byte instead of 2-byte activations
    const double perLayer = s * b * h * (34.0 + 5.0 * a * s / h) * widen;
    const double logits = 4.0 * s * b * V;
    without = L * perLayer + logits;
    with = L * 2.0 * s * b * h * widen + perLayer + logits;
}

// The strategies from least to most sharded, for "the least-sharded strategy that fits".
struct Candidate {
    ShardingStrategy strategy;
    bool offloadOptimizer;
    bool offloadParameters;
};
constexpr std::array kCandidates = {
    Candidate{ShardingStrategy::Ddp, false, false},   Candidate{ShardingStrategy::Zero1, false, false},
    Candidate{ShardingStrategy::Zero2, false, false}, Candidate{ShardingStrategy::FsdpHybridShard, false, false},
    Candidate{ShardingStrategy::Zero3, false, false}, Candidate{ShardingStrategy::Zero3, true, false},
    Candidate{ShardingStrategy::Zero3, true, true},
};

MemoryPlan planOne(const PlanInput &input)
{
    MemoryPlan plan;
    plan.parameterCount = input.shape ? input.shape->parameterCount() : input.parameters.value_or(0);
    plan.worldSize = std::max(1, input.ranksPerNode) * std::max(1, input.nodes);
    const ShardingOf sharding = shardingOf(input.strategy);
    plan.shardingDegree = sharding.withinNodeOnly ? std::max(1, input.ranksPerNode) : plan.worldSize;
    const double psi = plan.parameterCount;
    const double n = plan.shardingDegree;
    const StateBytes bytes = stateBytes(input.precision, input.optimizer);

    // Model states, exactly as the ZeRO paper counts them (its Figure 1 compares these three terms).
    plan.optimizerState = input.offloadOptimizer ? 0 : bytes.optimizer * psi / (sharding.optimizer ? n : 1);
    plan.gradients = bytes.gradient * psi / (sharding.gradients ? n : 1);
    const bool parametersOffloaded = input.offloadParameters && sharding.parameters;
    plan.parameters = parametersOffloaded ? 0 : bytes.parameter * psi / (sharding.parameters ? n : 1);
    if (input.shape) {
        estimateActivations(*input.shape, input.precision, plan.activationsWithoutCheckpointing,
                            plan.activationsWithCheckpointing);
        plan.activationsEstimated = true;
        plan.activations =
            input.activationCheckpointing ? plan.activationsWithCheckpointing : plan.activationsWithoutCheckpointing;
    }
    // Overhead: the CUDA context and communication buffers, the full parameters of the layers a sharded
    // model gathers at a time, and the allocator's fragmentation.
    double gathered = 0;
    if (sharding.parameters && (n > 1 || parametersOffloaded)) {
        const double layerParameters =
            input.shape ? 12.0 * input.shape->hidden * double(input.shape->hidden) : psi / 24.0;
        gathered = std::min(psi, kGatheredLayers * layerParameters) * bytes.parameter;
    }
    const double states = plan.parameters + plan.gradients + plan.optimizerState + plan.activations;
    plan.overhead = kFixedOverheadBytes + gathered + kFragmentationShare * states;
    plan.total = states + plan.overhead;
    plan.capacity = input.gpuMemoryBytes;
    plan.fits = plan.capacity > 0 && plan.total <= plan.capacity;
    return plan;
}

} // namespace

MemoryPlan planMemory(const PlanInput &input)
{
    MemoryPlan plan = planOne(input);
    for (const Candidate &candidate : kCandidates) {
        if (candidate.strategy == ShardingStrategy::FsdpHybridShard && input.nodes <= 1)
            continue; // on one node it is FULL_SHARD
        PlanInput alternative = input;
        alternative.strategy = candidate.strategy;
        alternative.offloadOptimizer = candidate.offloadOptimizer;
        alternative.offloadParameters = candidate.offloadParameters;
        if (planOne(alternative).fits) {
            QString name = strategyName(candidate.strategy);
            if (candidate.offloadParameters)
                name += QStringLiteral(" + offload optimizer and parameters");
            else if (candidate.offloadOptimizer)
                name += QStringLiteral(" + offload optimizer");
            plan.leastShardedFit = name;
            break;
        }
    }
    return plan;
}

QString formatBytes(double bytes) { return QStringLiteral("%1 GiB").arg(bytes / kGiB, 0, 'f', 2); }

QJsonObject MemoryPlan::toJson(const PlanInput &input) const
{
    // Whole bytes while a double holds them exactly; beyond 2^53 (absurd shapes) as a number, never a wrapped integer.
    const auto integer = [](double value) {
        return std::abs(value) < 9007199254740992.0 ? QJsonValue(qint64(std::llround(value))) : QJsonValue(value);
    };
    QJsonObject perGpu{
        {QStringLiteral("parameters"), integer(parameters)},
        {QStringLiteral("gradients"), integer(gradients)},
        {QStringLiteral("optimizer_state"), integer(optimizerState)},
        {QStringLiteral("activations"), activationsEstimated ? integer(activations) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("overhead"), integer(overhead)}};
    QJsonObject object{
        {QStringLiteral("parameter_count"), integer(parameterCount)},
        {QStringLiteral("strategy"), strategyName(input.strategy)},
        {QStringLiteral("precision"), precisionName(input.precision)},
        {QStringLiteral("optimizer"), optimizerName(input.optimizer)},
        {QStringLiteral("offload_optimizer"), input.offloadOptimizer},
        {QStringLiteral("offload_parameters"), input.offloadParameters},
        {QStringLiteral("activation_checkpointing"), input.activationCheckpointing},
        {QStringLiteral("world_size"), worldSize},
        {QStringLiteral("sharding_degree"), shardingDegree},
        {QStringLiteral("bytes_per_gpu"), perGpu},
        {QStringLiteral("activations"),
         activationsEstimated ? QJsonValue(
             QJsonObject{{QStringLiteral("with_checkpointing"), integer(activationsWithCheckpointing)},
                         {QStringLiteral("without_checkpointing"), integer(activationsWithoutCheckpointing)}})
                              : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("total_bytes"), integer(total)},
        {QStringLiteral("capacity_bytes"), integer(capacity)},
        {QStringLiteral("fits"), fits},
        {QStringLiteral("least_sharded_fit"),
         leastShardedFit ? QJsonValue(*leastShardedFit) : QJsonValue(QJsonValue::Null)},
    };
    return object;
}

} // namespace trainyard
