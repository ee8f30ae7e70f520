// RankEnvironment: the torchrun environment contract plus Trainyard's own variables, for one rank.
#pragma once

#include "runfolder/runfolder.h"

#include <QProcessEnvironment>
#include <QList>
#include <QString>

#include <optional>

namespace trainyard {

struct LaunchRequest;

struct RankPlacement {
    int localRank = 0;
    int restartCount = 0;
    int masterPort = 0;
};

// The environment of one rank: the parent's, the request's env, then the contract, which wins.
// OMP_NUM_THREADS=1 and PYTHONUNBUFFERED=1 are set only when neither the parent nor the request sets them.
QProcessEnvironment rankEnvironment(const QProcessEnvironment &parent, const LaunchRequest &request,
                                    const RankPlacement &placement);

// "0,2" -> {0, 2}: distinct non-negative GPU indices, as --gpus and the New local run form take them. An empty
// text gives an empty list; anything else that is not such a list gives nullopt.
std::optional<QList<int>> parseGpuList(const QString &text);

int globalRank(const LaunchRequest &request, int localRank);
int worldSize(const LaunchRequest &request);
// The folder holding the Python client (trainyard_log.py) the ranks get on their PYTHONPATH; empty when none is found.
QString pythonClientDir();

} // namespace trainyard
