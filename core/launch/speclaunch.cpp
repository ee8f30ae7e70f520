#include "launch/speclaunch.h"

namespace trainyard {

LocalLaunch localLaunchFor(const RunSpec &spec)
{
    LocalLaunch launch;
    launch.name = spec.name;
    launch.project = spec.project;
    launch.tags = spec.tags;
    launch.notes = spec.notes;
    launch.alerts = spec.alerts;
    launch.tensorboardDirs = spec.tensorboardDirs;
    for (const RunParam &param : spec.params)
        launch.params.append({param.name, param.value});
    launch.typedParams = spec.params;
    launch.paramPassing = spec.paramPassing;
    launch.strategy = spec.strategy;
    launch.model = spec.model;
    launch.checkpointDir = spec.checkpointDir;
    launch.retention = spec.retention;
    launch.resumeFrom = spec.resumeFrom;
    launch.request.command = spec.command;
    launch.request.useShell = spec.shell;
    launch.request.cwd = spec.cwd;
    launch.request.env = spec.env;
    launch.request.nccl = spec.nccl;
    launch.request.nprocPerNode = spec.ranksPerNode;
    launch.request.gpus = spec.gpus;
    launch.request.maxRestarts = spec.maxRestarts;
    launch.request.hangTimeoutMs = durationMs(spec.hangTimeoutS).value_or(0); // read by the rule: always in range
    launch.request.graceMs = durationMs(spec.graceS).value_or(0);
    launch.request.nnodes = spec.nodes;
    launch.backendName = spec.backend;
    launch.slurmOverrides = spec.slurm;
    return launch;
}

std::optional<PlanInput> planInputFor(const RunSpec &spec)
{
    if (spec.model.isEmpty())
        return std::nullopt;
    PlanInput input;
    input.parameters = spec.model.parameters;
    input.shape = spec.model.shape;
    input.optimizer = spec.model.optimizer;
    input.gpuMemoryBytes = spec.model.gpuMemoryBytes;
    input.activationCheckpointing = spec.model.activationCheckpointing;
    input.precision = spec.strategy.precision;
    input.strategy = spec.strategy.strategy;
    input.offloadOptimizer = spec.strategy.offloadOptimizer;
    input.offloadParameters = spec.strategy.offloadParameters;
    input.ranksPerNode = spec.ranksPerNode;
    input.nodes = spec.nodes;
    return input;
}

} // namespace trainyard
