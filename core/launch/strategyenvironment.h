// StrategyEnvironment: how a run's sharding strategy reaches the program, in the forms launchers use:
// Accelerate's FSDP environment, a DeepSpeed config JSON for ZeRO stages, plain torch.distributed for DDP.
#pragma once

#include "launch/memoryplanner.h"
#include "result.h"

#include <QMap>
#include <QString>

namespace trainyard {

// Adds the strategy's variables to env (TRAINYARD_STRATEGY always) and, for ZeRO stages, writes
// <runDir>/deepspeed.json. Variables the user set already are left as they are.
Result<void> applyStrategy(const StrategyChoice &choice, const QString &runDir, QMap<QString, QString> &env);

} // namespace trainyard
