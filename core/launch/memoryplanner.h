// MemoryPlanner: bytes per GPU of a training run under DDP, FSDP or ZeRO, before any GPU-hour is spent.
// Formulas and sources: docs/MEMORY_PLANNER.md (ZeRO paper for model states, Megatron activation paper).
#pragma once

#include "result.h"
#include "spec/launchoptions.h"

#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <optional>

namespace trainyard {

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

QString formatBytes(double bytes);

} // namespace trainyard
