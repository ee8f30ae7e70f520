// MemoryPlanner: bytes per GPU of a training run under DDP, FSDP or ZeRO, before any GPU-hour is spent.
// Formulas and sources: docs/MEMORY_PLANNER.md (ZeRO paper for model states, Megatron activation paper).
#pragma once

#include "result.h"

#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <optional>

namespace trainyard {

enum class Precision { Fp32, Bf16Mixed, Fp16Mixed };
enum class OptimizerKind { Adam, AdamW, SgdMomentum, Sgd };
enum class ShardingStrategy { Ddp, Zero1, Zero2, Zero3, FsdpFullShard, FsdpShardGradOp, FsdpHybridShard };

struct TransformerShape {
    int layers = 0;
    int hidden = 0;
    int heads = 0;
    int vocab = 0;
    int seqLen = 0;
    int microBatch = 0;

    // Megatron's count: 12·L·h² + 13·L·h + (V + s)·h (attention and MLP weights and biases, layer norms,
    // token and position embeddings).
    double parameterCount() const;
};

struct PlanInput {
    std::optional<double> parameters;      // either this...
    std::optional<TransformerShape> shape; // ...or this (which also gives activations)
    Precision precision = Precision::Bf16Mixed;
    OptimizerKind optimizer = OptimizerKind::Adam;
    ShardingStrategy strategy = ShardingStrategy::Ddp;
    bool offloadOptimizer = false;
    bool offloadParameters = false;
    bool activationCheckpointing = false;
    int ranksPerNode = 1;
    int nodes = 1;
    double gpuMemoryBytes = 0;
};

struct MemoryPlan {
    double parameterCount = 0;
    int worldSize = 1;
    int shardingDegree = 1; // how many ranks share one copy of the sharded states
    double parameters = 0;
    double gradients = 0;
    double optimizerState = 0;
    double activations = 0; // the one counted in the total (per activationCheckpointing)
    double activationsWithCheckpointing = 0;
    double activationsWithoutCheckpointing = 0;
    bool activationsEstimated = false; // false when only a parameter count was given
    double overhead = 0;
    double total = 0;
    double capacity = 0;
    bool fits = false;
    std::optional<QString> leastShardedFit; // strategy name (with offload when needed), if any fits

    QJsonObject toJson(const PlanInput &input) const;
};

MemoryPlan planMemory(const PlanInput &input);

QString strategyName(ShardingStrategy strategy);
std::optional<ShardingStrategy> parseStrategy(const QString &text);
std::optional<Precision> parsePrecision(const QString &text);
std::optional<OptimizerKind> parseOptimizer(const QString &text);
QString precisionName(Precision precision);
QString optimizerName(OptimizerKind optimizer);
// "80GiB", "80 GB", "81920MiB", "8e10" (bytes).
std::optional<double> parseByteSize(const QString &text);
// "1.5e9", "7.5B", "350M", "70000000".
// The largest parameter count a plan takes (a quadrillion; the largest models are a thousandth of it): beyond it,
// byte counts stop being exact numbers.
inline constexpr double kMaxParameterCount = 1e15;
std::optional<double> parseCount(const QString &text);
QString formatBytes(double bytes);

} // namespace trainyard
