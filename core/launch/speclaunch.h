// SpecLaunch: how a run spec (a plain value of core/spec) becomes what launch acts on: the launch of its runs and the
// memory plan's input.
#pragma once

#include "launch/memoryplanner.h"
#include "launch/runsupervisor.h"
#include "spec/runspec.h"

#include <optional>

namespace trainyard {

LocalLaunch localLaunchFor(const RunSpec &spec);
// The memory plan's input (nullopt without a `model:` section).
std::optional<PlanInput> planInputFor(const RunSpec &spec);

} // namespace trainyard
